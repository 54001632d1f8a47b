/**
 * The crash test's HTTP client: one request, and "until answered": the same request (same
 * Idempotency-Key, same body) again and again while the server is down, restarting, or answers
 * that the key is still held by a request that died (409) — as Stripe's SDKs retry.
 */

export interface Answer {
  status: number;
  body: any;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  /** Bearer token or secret key. */
  token?: string;
  json?: unknown;
  form?: Record<string, string>;
  idempotencyKey?: string;
  /** X-Forwarded-For (the crash test's server trusts loopback as its proxy). */
  forwardedFor?: string;
}

export async function request(baseUrl: string, spec: RequestSpec, timeoutMs = 15_000): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (spec.token !== undefined) headers.authorization = `Bearer ${spec.token}`;
  if (spec.idempotencyKey !== undefined) headers['idempotency-key'] = spec.idempotencyKey;
  if (spec.forwardedFor !== undefined) headers['x-forwarded-for'] = spec.forwardedFor;
  let body: string | undefined;
  if (spec.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(spec.json);
  } else if (spec.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(spec.form).toString();
  }
  const response = await fetch(`${baseUrl}${spec.path}`, {
    method: spec.method,
    headers,
    signal: AbortSignal.timeout(timeoutMs),
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // Not JSON (a proxy page, say): kept as text.
  }
  return { status: response.status, body: parsed };
}

/** Whether an answer is final: not a 5xx, not a rate limit, not "the key is still in use". */
export function isFinal(answer: Answer): boolean {
  if (answer.status >= 500 || answer.status === 429) return false;
  if (answer.status === 409 && answer.body?.error?.code === 'idempotency_key_in_use') return false;
  return true;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends the request until it is answered (isFinal). Network errors (the server was killed or is
 * starting) and non-final answers are retried with capped backoff; `attempts` counts the sends.
 */
export async function untilAnswered(
  baseUrl: () => string,
  spec: RequestSpec,
  options: { deadlineMs: number; onRetry?: () => void } = { deadlineMs: 300_000 },
): Promise<Answer & { attempts: number }> {
  const started = Date.now();
  let attempts = 0;
  let backoffMs = 50;
  for (;;) {
    attempts += 1;
    try {
      const answer = await request(baseUrl(), spec);
      if (isFinal(answer)) return { ...answer, attempts };
    } catch {
      // Connection refused or reset: the server is down. Same key, same body, again.
    }
    if (Date.now() - started > options.deadlineMs) {
      throw new Error(`no answer to ${spec.method} ${spec.path} within ${options.deadlineMs} ms`);
    }
    options.onRetry?.();
    await sleep(backoffMs + Math.floor(Math.random() * backoffMs));
    backoffMs = Math.min(1_000, backoffMs * 2);
  }
}

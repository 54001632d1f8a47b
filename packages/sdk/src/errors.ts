/**
 * Typed errors. A server refusal is a YunpayApiError carrying the server's stable code; a request
 * that never got an answer is a YunpayNetworkError or YunpayTimeoutError; a request the caller
 * aborted is a YunpayAbortError. Messages never contain tokens, keys or query strings.
 *
 * Two envelopes are understood:
 * - /wallet/v1 and /admin/v1: `{error: {code, message, param?, details?, request_id}}`
 * - /v1 (Stripe's): `{error: {type, code?, message, param?, decline_code?, payment_intent?, charge?}}`
 */

export type YunpayErrorKind = 'api' | 'network' | 'timeout' | 'aborted' | 'invalid_response';

export interface YunpayErrorInit {
  kind: YunpayErrorKind;
  message: string;
  status?: number | null;
  code?: string | null;
  type?: string | null;
  param?: string | null;
  declineCode?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown> | null;
  raw?: unknown;
  method?: string;
  path?: string;
  idempotencyKey?: string | null;
  cause?: unknown;
}

export class YunpayError extends Error {
  override readonly name: string = 'YunpayError';
  readonly kind: YunpayErrorKind;
  /** HTTP status, null when no response arrived. */
  readonly status: number | null;
  /** The server's stable code (`insufficient_funds`, `token_invalid`) or Stripe's (`card_declined`). */
  readonly code: string | null;
  /** Stripe's error type on /v1 (`card_error`, `invalid_request_error` …); null elsewhere. */
  readonly type: string | null;
  readonly param: string | null;
  /** Stripe's decline_code on card errors (`generic_decline`, `insufficient_funds` …). */
  readonly declineCode: string | null;
  /** The server's request id (the `request_id` field or the `request-id` / `x-request-id` header). */
  readonly requestId: string | null;
  /** Extra facts the server gave (`details` on /wallet/v1; `payment_intent` and `charge` on /v1). */
  readonly details: Record<string, unknown> | null;
  /** The parsed error body as received (or its first bytes when it was not JSON). */
  readonly raw: unknown;
  readonly method: string | null;
  /** The request path without its query string. */
  readonly path: string | null;
  /** The Idempotency-Key the request carried, to retry it later with the same key. */
  readonly idempotencyKey: string | null;

  constructor(init: YunpayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.status = init.status ?? null;
    this.code = init.code ?? null;
    this.type = init.type ?? null;
    this.param = init.param ?? null;
    this.declineCode = init.declineCode ?? null;
    this.requestId = init.requestId ?? null;
    this.details = init.details ?? null;
    this.raw = init.raw;
    this.method = init.method ?? null;
    this.path = init.path ?? null;
    this.idempotencyKey = init.idempotencyKey ?? null;
  }

  /** Stripe's `statusCode` name, for code ported from stripe-node. */
  get statusCode(): number | null {
    return this.status;
  }
}

/** The server answered with an error status. */
export class YunpayApiError extends YunpayError {
  override readonly name: string = 'YunpayApiError';
}

/** The connection failed before a response arrived (DNS, refused, reset, offline). */
export class YunpayNetworkError extends YunpayError {
  override readonly name: string = 'YunpayNetworkError';
}

/** An attempt took longer than the client's timeoutMs. */
export class YunpayTimeoutError extends YunpayError {
  override readonly name: string = 'YunpayTimeoutError';
}

/** The caller's AbortSignal fired. Never retried. */
export class YunpayAbortError extends YunpayError {
  override readonly name: string = 'YunpayAbortError';
}

export function isYunpayError(error: unknown): error is YunpayError {
  return error instanceof YunpayError;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export interface ErrorResponseInfo {
  status: number;
  /** The response body, parsed when it was JSON, else its text (truncated). */
  body: unknown;
  headerRequestId: string | null;
  method: string;
  path: string;
  idempotencyKey: string | null;
}

/** Builds a YunpayApiError from either envelope (or from a body that is neither). */
export function errorFromResponse(info: ErrorResponseInfo): YunpayApiError {
  const envelope = isRecord(info.body) && isRecord(info.body.error) ? info.body.error : null;
  const base = {
    kind: 'api' as const,
    status: info.status,
    raw: info.body,
    method: info.method,
    path: info.path,
    idempotencyKey: info.idempotencyKey,
  };
  if (envelope === null) {
    return new YunpayApiError({
      ...base,
      message: `${info.method} ${info.path} failed with HTTP ${info.status}.`,
      requestId: info.headerRequestId,
    });
  }
  const message = stringOrNull(envelope.message) ?? `${info.method} ${info.path} failed with HTTP ${info.status}.`;
  const requestId = stringOrNull(envelope.request_id) ?? info.headerRequestId;
  if (typeof envelope.type === 'string') {
    // Stripe's envelope (/v1).
    const details: Record<string, unknown> = {};
    if (envelope.payment_intent !== undefined) details.payment_intent = envelope.payment_intent;
    if (typeof envelope.charge === 'string') details.charge = envelope.charge;
    if (typeof envelope.doc_url === 'string') details.doc_url = envelope.doc_url;
    return new YunpayApiError({
      ...base,
      message,
      type: envelope.type,
      code: stringOrNull(envelope.code),
      param: stringOrNull(envelope.param),
      declineCode: stringOrNull(envelope.decline_code),
      requestId,
      details: Object.keys(details).length === 0 ? null : details,
    });
  }
  // Yunpay's envelope (/wallet/v1, /admin/v1, operations).
  const details = isRecord(envelope.details) ? envelope.details : null;
  return new YunpayApiError({
    ...base,
    message,
    code: stringOrNull(envelope.code),
    param: stringOrNull(envelope.param),
    declineCode: details === null ? null : stringOrNull(details.decline_code),
    requestId,
    details,
  });
}

import { toForm } from '../form.js';
import { YunpayApiError } from '../errors.js';
import type { HttpTransport, RequestSpec } from '../http.js';
import { newIdempotencyKey } from '../ids.js';
import { listPromise, type List, type ListPromise } from '../pagination.js';

/** Per-call options of every method. */
export interface CallOptions {
  /** Reuse a key to make a retry after a crash or a lost answer safe; default: a new UUID per call. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/;

/** Checks a caller's key (the server takes 1–255 printable ASCII characters) or makes one. */
export function idempotencyKeyFor(options: CallOptions | undefined): string {
  const key = options?.idempotencyKey ?? newIdempotencyKey();
  if (!idempotencyKeyPattern.test(key)) {
    throw new TypeError('idempotencyKey must be 1–255 printable ASCII characters without spaces');
  }
  return key;
}

/**
 * A merchant session instead of a key (browsers on Yunpay's origin): no Authorization header; the
 * httpOnly session cookie goes with `credentials: 'same-origin'` and the CSRF token as X-CSRF-Token.
 */
export interface V1SessionAuth {
  /** The current session's CSRF token (null: not signed in; the server then refuses the call). */
  csrfToken(): string | null;
  /** Called with a 401: the session is over. */
  ended(error: YunpayApiError): void;
}

/**
 * /v1 calls: form-encoded bodies and query strings (Stripe's bracket notation), the API key as
 * bearer (or a merchant session), an Idempotency-Key on every POST (fixed before the first
 * attempt, reused on retries).
 */
export class V1Requester {
  readonly #transport: HttpTransport;
  readonly #apiKey: string | null;
  readonly #session: V1SessionAuth | null;

  constructor(transport: HttpTransport, auth: string | V1SessionAuth) {
    this.#transport = transport;
    if (typeof auth === 'object' && auth !== null) {
      this.#apiKey = null;
      this.#session = auth;
      return;
    }
    if (typeof auth !== 'string' || !/^(sk|pk|rk)_(test|live)_/.test(auth)) {
      // The message never repeats the key.
      throw new TypeError('apiKey must be a Yunpay API key (sk_test_…, pk_test_…, rk_test_… or live)');
    }
    this.#apiKey = auth;
    this.#session = null;
  }

  /** The request's credentials: the key as bearer, or the session's cookie and CSRF token. */
  #auth(): Pick<RequestSpec, 'bearer' | 'headers' | 'credentials'> {
    if (this.#session === null) return { bearer: this.#apiKey };
    const csrfToken = this.#session.csrfToken();
    return {
      credentials: 'same-origin',
      ...(csrfToken === null ? {} : { headers: { 'x-csrf-token': csrfToken } }),
    };
  }

  async #request<T>(spec: RequestSpec): Promise<T> {
    try {
      return await this.#transport.request<T>(spec);
    } catch (error) {
      if (this.#session !== null && error instanceof YunpayApiError && error.status === 401) this.#session.ended(error);
      throw error;
    }
  }

  get<T>(path: string, params: object = {}, options: CallOptions = {}): Promise<T> {
    return this.#request<T>({
      method: 'GET',
      path: `/v1${path}`,
      query: toForm(params as Record<string, unknown>),
      ...this.#auth(),
      retry: 'idempotent',
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  post<T>(path: string, params: object = {}, options: CallOptions = {}): Promise<T> {
    return this.#request<T>({
      method: 'POST',
      path: `/v1${path}`,
      body: { kind: 'form', value: toForm(params as Record<string, unknown>) },
      ...this.#auth(),
      idempotencyKey: idempotencyKeyFor(options),
      retry: 'idempotent',
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  /** DELETE is retried too: a retry of a delete that went through answers resource_missing. */
  delete<T>(path: string, options: CallOptions = {}): Promise<T> {
    return this.#request<T>({
      method: 'DELETE',
      path: `/v1${path}`,
      ...this.#auth(),
      retry: 'idempotent',
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  list<T extends { id: string }>(path: string, params: object = {}, options: CallOptions = {}): ListPromise<T> {
    const base = { ...(params as Record<string, unknown>) };
    const backwards = base.ending_before !== undefined;
    return listPromise<T>(
      (cursor) => {
        const query = { ...base };
        if (cursor.startingAfter !== undefined) query.starting_after = cursor.startingAfter;
        if (cursor.endingBefore !== undefined) query.ending_before = cursor.endingBefore;
        return this.get<List<T>>(path, query, options);
      },
      { backwards },
    );
  }
}

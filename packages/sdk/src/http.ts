import {
  YunpayAbortError,
  YunpayError,
  YunpayNetworkError,
  YunpayTimeoutError,
  errorFromResponse,
  type YunpayApiError,
} from './errors.js';
import { checkIntegerOption, sdkLimits } from './limits.js';

/**
 * The transport every client shares: one fetch per attempt with a timeout, the Idempotency-Key
 * fixed before the first attempt and sent unchanged on every retry, retries with full-jitter
 * exponential backoff, and errors parsed from either envelope.
 */

/** The part of a fetch Response the SDK reads (globalThis.fetch's Response satisfies it). */
export interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  readonly body?: ByteStream | null;
}

/** A ReadableStream<Uint8Array> as far as the notification stream reads it. */
export interface ByteStream {
  getReader(): {
    read(): Promise<{ done: boolean; value?: Uint8Array }>;
    cancel(reason?: unknown): Promise<void>;
    releaseLock(): void;
  };
}

/** Whether a browser sends cookies: `same-origin` for the web apps' cookie sessions. */
export type FetchCredentials = 'omit' | 'same-origin' | 'include';

export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Present only for cookie sessions; absent: the fetch's default. */
  credentials?: FetchCredentials;
}

export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponse>;

export interface RetryOptions {
  /** Retries after the first attempt (0–5, default 2). */
  maxRetries: number;
  /** Upper bound of the first retry's random wait (default 250 ms); doubles per retry. */
  baseDelayMs: number;
  /** Upper bound of any wait (default 8 s, at most 60 s). */
  maxDelayMs: number;
}

export interface RequestEvent {
  method: string;
  /** The path without its query string (which may hold a client secret). */
  path: string;
  /** 0 for the first attempt, 1 for the first retry … */
  attempt: number;
  idempotencyKey: string | null;
}

export interface ResponseEvent extends RequestEvent {
  /** HTTP status, or null when the attempt failed without a response. */
  status: number | null;
  requestId: string | null;
  elapsedMs: number;
}

export interface ClientOptions {
  /** Where the server is, e.g. `https://pay.example.com` or `http://127.0.0.1:4000` (no trailing path). */
  baseUrl: string;
  /** Defaults to globalThis.fetch (browsers, Node 20). */
  fetch?: FetchLike;
  retries?: Partial<RetryOptions>;
  /** Each attempt's time limit (default 30 s). */
  timeoutMs?: number;
  /** Called before every attempt (for logging; it sees no headers, so no tokens). */
  onRequest?: (event: RequestEvent) => void;
  /** Called after every attempt. */
  onResponse?: (event: ResponseEvent) => void;
  /** Waits between retries; tests replace it. Must reject when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1) for the backoff jitter; tests replace it. */
  random?: () => number;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * How a request may be retried:
 * - `idempotent`: reads, deletes, and mutations that carry an Idempotency-Key the server honours;
 *   retried on network errors, timeouts, 409 idempotency_key_in_use, 429 and 5xx.
 * - `unsafe`: mutations the server cannot deduplicate (sign-up, refresh-token rotation, saving a
 *   card, approving with a PIN …); retried only on 429, which the server answers before doing anything.
 */
export type RetryClass = 'idempotent' | 'unsafe';

export type RequestBody = { kind: 'json'; value: unknown } | { kind: 'form'; value: string };

export interface RequestSpec {
  method: HttpMethod;
  /** Path from the base URL, starting with `/`. */
  path: string;
  /** An encoded query string without `?` (empty or absent: none). */
  query?: string;
  body?: RequestBody;
  /** The bearer credential (access token, API key or admin token). */
  bearer?: string | null;
  /** Sent as Idempotency-Key on every attempt. */
  idempotencyKey?: string | null;
  retry: RetryClass;
  /** How to read a 2xx body (default json; 204 is always undefined). */
  responseType?: 'json' | 'text';
  signal?: AbortSignal;
  /** Extra request headers (e.g. Last-Event-ID). */
  headers?: Record<string, string>;
  /** Cookie sessions: `same-origin` (browsers then send and keep the session's httpOnly cookie). */
  credentials?: FetchCredentials;
}

export interface ResolvedRetryOptions extends RetryOptions {
  retryAfterMsMax: number;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abortError = (): Error =>
      signal?.reason instanceof Error ? signal.reason : new Error('the wait was aborted');
    if (signal?.aborted === true) {
      reject(abortError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1_000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - nowMs);
}

/** Full jitter: a random wait in [0, min(max, base × 2^retryIndex)). */
export function backoffDelayMs(options: RetryOptions, retryIndex: number, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(retryIndex, 30));
  const delay = Math.floor(random() * ceiling);
  if (!(delay >= 0 && delay <= options.maxDelayMs)) throw new Error('assertion failed: backoff within bounds');
  return delay;
}

function headerRequestId(response: FetchResponse): string | null {
  return response.headers.get('request-id') ?? response.headers.get('x-request-id');
}

export interface OpenResponse {
  response: FetchResponse;
  close(): void;
}

interface Attempt {
  response: FetchResponse;
  /** Clears the attempt's timer and listener; called once the body is read. */
  finish(): void;
  /** Clears only the timer (a stream outlives it). */
  clearTimer(): void;
  /** finish(), and aborts the connection. */
  close(): void;
  /** Rejects with the attempt's own error when its timer fired or the caller aborted. */
  failure(error: unknown): YunpayError;
}

export class HttpTransport {
  readonly baseUrl: string;
  readonly retries: ResolvedRetryOptions;
  readonly timeoutMs: number;
  readonly #fetch: FetchLike;
  readonly #onRequest: ((event: RequestEvent) => void) | undefined;
  readonly #onResponse: ((event: ResponseEvent) => void) | undefined;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;

  constructor(options: ClientOptions) {
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(options.baseUrl)) {
      throw new TypeError('baseUrl must be an http(s) URL without a query or fragment');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const fetchImpl = options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
    if (typeof fetchImpl !== 'function') throw new TypeError('no fetch: pass options.fetch');
    // Called through a wrapper: a browser's fetch throws "Illegal invocation" when not called on window.
    this.#fetch = options.fetch ?? ((url, init) => fetchImpl(url, init));
    const retries = options.retries ?? {};
    const maxDelayMs = checkIntegerOption(
      'retries.maxDelayMs',
      retries.maxDelayMs ?? sdkLimits.retryMaxDelayMsDefault,
      0,
      sdkLimits.retryDelayMsMax,
    );
    this.retries = {
      maxRetries: checkIntegerOption(
        'retries.maxRetries',
        retries.maxRetries ?? sdkLimits.retryCountDefault,
        0,
        sdkLimits.retryCountMax,
      ),
      baseDelayMs: checkIntegerOption(
        'retries.baseDelayMs',
        retries.baseDelayMs ?? sdkLimits.retryBaseDelayMsDefault,
        0,
        maxDelayMs,
      ),
      maxDelayMs,
      retryAfterMsMax: sdkLimits.retryAfterMsMax,
    };
    this.timeoutMs = checkIntegerOption(
      'timeoutMs',
      options.timeoutMs ?? sdkLimits.timeoutMsDefault,
      1,
      sdkLimits.timeoutMsMax,
    );
    this.#onRequest = options.onRequest;
    this.#onResponse = options.onResponse;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
  }

  /** One call, with retries; resolves to the parsed 2xx body (undefined for 204). */
  async request<T>(spec: RequestSpec): Promise<T> {
    const response = await this.#run(spec, async (attempt) => {
      try {
        if (attempt.response.status === 204) return undefined;
        const text = await attempt.response.text();
        if (spec.responseType === 'text') return text;
        if (text === '') return undefined;
        try {
          return JSON.parse(text) as unknown;
        } catch (error) {
          throw new YunpayError({
            kind: 'invalid_response',
            message: `${spec.method} ${spec.path}: the response is not JSON.`,
            status: attempt.response.status,
            requestId: headerRequestId(attempt.response),
            method: spec.method,
            path: spec.path,
            raw: text.slice(0, sdkLimits.rawErrorTextMax),
            cause: error,
          });
        }
      } catch (error) {
        throw error instanceof YunpayError ? error : attempt.failure(error);
      } finally {
        attempt.finish();
      }
    });
    return response as T;
  }

  /**
   * One call whose 2xx response body the caller reads itself (a stream): the attempt's timeout
   * covers only the wait for the response headers; the caller's signal still ends the body.
   * Call close() when done: it ends the connection and lets go of the signal.
   */
  async open(spec: RequestSpec): Promise<OpenResponse> {
    return this.#run(spec, async (attempt) => {
      attempt.clearTimer();
      return { response: attempt.response, close: () => attempt.close() };
    });
  }

  async #run<R>(spec: RequestSpec, onSuccess: (attempt: Attempt) => Promise<R>): Promise<R> {
    if (!spec.path.startsWith('/')) throw new Error('assertion failed: a request path starts with /');
    const url = `${this.baseUrl}${spec.path}${spec.query === undefined || spec.query === '' ? '' : `?${spec.query}`}`;
    const headers: Record<string, string> = { accept: 'application/json', ...spec.headers };
    let body: string | undefined;
    if (spec.body?.kind === 'json') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.body.value);
    } else if (spec.body?.kind === 'form') {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = spec.body.value;
    }
    if (spec.bearer !== undefined && spec.bearer !== null) headers.authorization = `Bearer ${spec.bearer}`;
    const idempotencyKey = spec.idempotencyKey ?? null;
    if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;

    const { maxRetries } = this.retries;
    for (let attemptIndex = 0; ; attemptIndex += 1) {
      if (attemptIndex > maxRetries) throw new Error('assertion failed: the retry loop is bounded');
      const event: RequestEvent = { method: spec.method, path: spec.path, attempt: attemptIndex, idempotencyKey };
      this.#onRequest?.(event);
      const startedMs = Date.now();
      let attempt: Attempt;
      try {
        attempt = await this.#attempt(
          url,
          {
            method: spec.method,
            headers,
            ...(body === undefined ? {} : { body }),
            ...(spec.credentials === undefined ? {} : { credentials: spec.credentials }),
          },
          spec,
        );
      } catch (error) {
        const failure = error as YunpayError;
        this.#onResponse?.({ ...event, status: null, requestId: null, elapsedMs: Date.now() - startedMs });
        const retryable = failure.kind === 'network' || failure.kind === 'timeout';
        if (retryable && spec.retry === 'idempotent' && attemptIndex < maxRetries) {
          await this.#wait(backoffDelayMs(this.retries, attemptIndex, this.#random), spec);
          continue;
        }
        throw failure;
      }
      const { response } = attempt;
      this.#onResponse?.({
        ...event,
        status: response.status,
        requestId: headerRequestId(response),
        elapsedMs: Date.now() - startedMs,
      });
      if (response.status >= 200 && response.status < 300) return onSuccess(attempt);

      const error = await this.#readError(attempt, spec, idempotencyKey);
      const delayMs = this.#retryDelayMs(error, response, spec, attemptIndex);
      if (delayMs === null) throw error;
      await this.#wait(delayMs, spec);
    }
  }

  /** How long to wait before retrying after an error response; null: do not retry. */
  #retryDelayMs(error: YunpayApiError, response: FetchResponse, spec: RequestSpec, attemptIndex: number) {
    if (attemptIndex >= this.retries.maxRetries) return null;
    const status = response.status;
    const backoff = backoffDelayMs(this.retries, attemptIndex, this.#random);
    if (status === 429) {
      // The server refuses before doing anything: safe for every request. Honour Retry-After.
      const after = retryAfterMs(response.headers.get('retry-after'), Date.now());
      if (after === null) return backoff;
      return after > this.retries.retryAfterMsMax ? null : after;
    }
    if (spec.retry !== 'idempotent') return null;
    // Only the in-flight duplicate is worth retrying; other 409s (login_taken, qr_already_paid …) are final.
    if (status === 409) return error.code === 'idempotency_key_in_use' ? backoff : null;
    if (status >= 500) return backoff;
    return null;
  }

  async #wait(ms: number, spec: RequestSpec): Promise<void> {
    try {
      await this.#sleep(ms, spec.signal);
    } catch (error) {
      throw new YunpayAbortError({
        kind: 'aborted',
        message: `${spec.method} ${spec.path} was aborted.`,
        method: spec.method,
        path: spec.path,
        idempotencyKey: spec.idempotencyKey ?? null,
        cause: error,
      });
    }
  }

  async #readError(attempt: Attempt, spec: RequestSpec, idempotencyKey: string | null): Promise<YunpayApiError> {
    let text: string;
    try {
      text = await attempt.response.text();
    } catch {
      text = '';
    } finally {
      attempt.finish();
    }
    let body: unknown = text.slice(0, sdkLimits.rawErrorTextMax);
    try {
      if (text !== '') body = JSON.parse(text) as unknown;
    } catch {
      // Not JSON (a proxy's page): kept as text.
    }
    return errorFromResponse({
      status: attempt.response.status,
      body,
      headerRequestId: headerRequestId(attempt.response),
      method: spec.method,
      path: spec.path,
      idempotencyKey,
    });
  }

  async #attempt(url: string, init: FetchInit, spec: RequestSpec): Promise<Attempt> {
    const controller = new AbortController();
    let timedOut = false;
    const callerSignal = spec.signal;
    const onCallerAbort = (): void => controller.abort(callerSignal?.reason);
    if (callerSignal?.aborted === true) controller.abort(callerSignal.reason);
    else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    };
    const common = {
      method: spec.method,
      path: spec.path,
      idempotencyKey: spec.idempotencyKey ?? null,
    };
    const failure = (error: unknown): YunpayError => {
      if (callerSignal?.aborted === true) {
        return new YunpayAbortError({
          ...common,
          kind: 'aborted',
          message: `${spec.method} ${spec.path} was aborted.`,
          cause: error,
        });
      }
      if (timedOut) {
        return new YunpayTimeoutError({
          ...common,
          kind: 'timeout',
          message: `${spec.method} ${spec.path} timed out after ${this.timeoutMs} ms.`,
          cause: error,
        });
      }
      return new YunpayNetworkError({
        ...common,
        kind: 'network',
        message: `${spec.method} ${spec.path} failed: no response from the server.`,
        cause: error,
      });
    };
    try {
      const response = await this.#fetch(url, { ...init, signal: controller.signal });
      const close = (): void => {
        finish();
        controller.abort();
      };
      return { response, finish, failure, clearTimer: () => clearTimeout(timer), close };
    } catch (error) {
      finish();
      throw failure(error);
    }
  }
}

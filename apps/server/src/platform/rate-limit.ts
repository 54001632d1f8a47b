import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, assert } from './errors.js';

export interface RateLimiterOptions {
  /** Requests allowed per key in one window. */
  requestsMax: number;
  windowMs: number;
  /** Keys remembered at once; past it the oldest window is forgotten (memory stays bounded). */
  keysMax: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterS: number };

interface Window {
  startMs: number;
  count: number;
}

/**
 * A per-node fixed-window counter keyed by a string (an IP, a login, a user id). It is a brake, not
 * an exact quota: each node counts alone, so N nodes allow up to N times the limit.
 *
 * Memory is bounded by keysMax. A Map keeps insertion order and a key is re-inserted when its
 * window restarts, so the first entry is always the one whose window began longest ago: evicting it
 * when full forgets the key closest to being forgotten anyway.
 */
export class RateLimiter {
  readonly #requestsMax: number;
  readonly #windowMs: number;
  readonly #keysMax: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();

  constructor(options: RateLimiterOptions) {
    assert(Number.isSafeInteger(options.requestsMax) && options.requestsMax > 0, 'requestsMax must be positive');
    assert(Number.isSafeInteger(options.windowMs) && options.windowMs > 0, 'windowMs must be positive');
    assert(Number.isSafeInteger(options.keysMax) && options.keysMax > 0, 'keysMax must be positive');
    this.#requestsMax = options.requestsMax;
    this.#windowMs = options.windowMs;
    this.#keysMax = options.keysMax;
    this.#now = options.now ?? Date.now;
  }

  /** Counts one request for key and says whether it may proceed. */
  take(key: string): RateLimitDecision {
    const nowMs = this.#now();
    let window = this.#windows.get(key);
    if (window === undefined || nowMs - window.startMs >= this.#windowMs || nowMs < window.startMs) {
      if (window !== undefined) this.#windows.delete(key);
      this.#evictIfFull(nowMs);
      window = { startMs: nowMs, count: 0 };
      this.#windows.set(key, window);
    }
    if (window.count >= this.#requestsMax) {
      const retryAfterS = Math.max(1, Math.ceil((window.startMs + this.#windowMs - nowMs) / 1_000));
      return { allowed: false, retryAfterS };
    }
    window.count += 1;
    assert(this.#windows.size <= this.#keysMax, 'rate limiter holds more keys than keysMax');
    return { allowed: true };
  }

  /**
   * Counts one request and throws rate_limited (429) when it is over the limit; the error carries
   * details.retry_after_s, which retryAfterOnError turns into the Retry-After header.
   */
  consume(key: string): void {
    const decision = this.take(key);
    if (!decision.allowed) throw rateLimitedError(decision.retryAfterS);
  }

  /** Keys currently remembered (for tests and metrics). */
  get size(): number {
    return this.#windows.size;
  }

  #evictIfFull(nowMs: number): void {
    if (this.#windows.size < this.#keysMax) return;
    // Expired windows sit at the front; drop them, and live ones too until there is room.
    for (const [key, window] of this.#windows) {
      const expired = nowMs - window.startMs >= this.#windowMs;
      if (!expired && this.#windows.size < this.#keysMax) break;
      this.#windows.delete(key);
    }
  }
}

export function rateLimitedError(retryAfterS: number): AppError {
  return new AppError('rate_limited', {
    message: `Too many requests. Retry in ${retryAfterS} s.`,
    details: { retry_after_s: retryAfterS },
  });
}

/** The Retry-After value (seconds) carried by a rate_limited error, if it is one. */
export function retryAfterSeconds(error: unknown): number | undefined {
  if (!(error instanceof AppError) || error.code !== 'rate_limited') return undefined;
  const value = error.details?.retry_after_s;
  return typeof value === 'number' ? value : undefined;
}

/**
 * An onError hook that sets Retry-After on 429 answers. Fastify keeps headers set before the error
 * handler runs, so registering this in a plugin (or app-wide) is enough.
 */
export async function retryAfterOnError(_request: FastifyRequest, reply: FastifyReply, error: unknown): Promise<void> {
  const seconds = retryAfterSeconds(error);
  if (seconds !== undefined) void reply.header('retry-after', String(seconds));
}

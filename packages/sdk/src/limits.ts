/**
 * Every bound the SDK applies, in one place (STYLE: limits on everything). Options that callers may
 * set are checked against these when a client is created; a value out of range is a programmer
 * error and throws a RangeError at once.
 */
export const sdkLimits = {
  /** Retries after the first attempt: default and most a caller may ask for. */
  retryCountDefault: 2,
  retryCountMax: 5,
  /** Full-jitter exponential backoff: the first retry waits up to base, then 2×, 4× … up to max. */
  retryBaseDelayMsDefault: 250,
  retryMaxDelayMsDefault: 8_000,
  retryDelayMsMax: 60_000,
  /** A Retry-After longer than this is not waited for: the 429 is returned to the caller. */
  retryAfterMsMax: 60_000,
  /** Each attempt's time limit (the whole call may take (retries + 1) × this plus the waits). */
  timeoutMsDefault: 30_000,
  timeoutMsMax: 600_000,
  /** Auto-pagination stops after this many items unless the caller asks for fewer (or up to the max). */
  autoPaginateItemsDefault: 10_000,
  autoPaginateItemsMax: 1_000_000,
  /** Page size the iterators ask for (the server allows 1–100). */
  pageSizeDefault: 100,
  pageSizeMax: 100,
  /** Bytes of an error body kept in YunpayError.raw when it is not JSON. */
  rawErrorTextMax: 2_048,
  /** Characters of amount text parseAmount reads. */
  amountTextLengthMax: 64,
  /** Notification stream: consecutive failed reconnects before the iterator gives up, and their wait. */
  streamReconnectFailuresMax: 10,
  streamReconnectDelayMsDefault: 3_000,
  /** One SSE event (field lines together) may be at most this long; a longer one ends the stream. */
  streamEventBytesMax: 1_048_576,
  /** Days a merchant session's daily balance summary may span (the server allows 1–90). */
  dailySummaryDaysMax: 90,
  /** Webhook signatures older or newer than this are refused by default. */
  webhookToleranceSDefault: 300,
} as const;

/** Throws a RangeError unless value is an integer in [min, max]; for option checks at construction. */
export function checkIntegerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * The one clock of a process: the composition root makes it and hands it to every context, so
 * "now" means the same everywhere. Tests make their own (a value they move) and pass it instead.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
  now(): Date;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  now: () => new Date(),
};

/** A clock reading milliseconds from `nowMs` (a test's movable clock). */
export function clockFrom(nowMs: () => number): Clock {
  return { nowMs, now: () => new Date(nowMs()) };
}

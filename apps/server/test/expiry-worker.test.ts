import { describe, expect, it } from 'vitest';
import { startExpiryWorker } from '../src/expiry-worker.js';
import { limits } from '../src/platform/limits.js';
import { createLogger } from '../src/platform/logger.js';
import { LogCapture } from './support/app.js';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until the condition holds, so a slow machine does not make the test flaky. */
async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('expiry worker', () => {
  it('sweeps every interval with a bounded limit, drains a backlog in bounded steps, and stops cleanly', async () => {
    const calls: number[] = [];
    let backlog = 25;
    const logs = new LogCapture();
    const worker = startExpiryWorker({
      ledger: {
        async expirePendingTransfers(limit = 1000) {
          calls.push(limit);
          const voided = Math.min(backlog, limit);
          backlog -= voided;
          return voided;
        },
      },
      logger: createLogger({ level: 'info', destination: logs }),
      intervalMs: 10,
      batchMax: 10,
    });
    // The first tick drains 10 + 10 + 5; the ticks after it find nothing.
    await eventually(() => calls.length >= 5);
    await worker.stop();
    const callCountAtStop = calls.length;
    await sleep(50);
    expect(calls.length).toBe(callCountAtStop); // nothing runs after stop
    expect(backlog).toBe(0);
    expect(calls.every((limit) => limit === 10)).toBe(true);
    expect(logs.lines.filter((line) => line.msg === 'voided expired pending transfers')).toHaveLength(3);
  });

  it('makes at most ledgerExpiryCallsPerTickMax calls in one tick, however big the backlog', async () => {
    let callCount = 0;
    const worker = startExpiryWorker({
      ledger: {
        async expirePendingTransfers(limit = 1000) {
          callCount += 1;
          return limit; // always a full batch: an endless backlog
        },
      },
      logger: createLogger({ level: 'silent', destination: new LogCapture() }),
      intervalMs: 500,
      batchMax: 10,
    });
    await eventually(() => callCount >= limits.ledgerExpiryCallsPerTickMax);
    // The next tick is 500 ms away, so the first one has stopped at the bound.
    await sleep(50);
    expect(callCount).toBe(limits.ledgerExpiryCallsPerTickMax);
    await worker.stop();
  });

  it('keeps going after a failed sweep', async () => {
    let callCount = 0;
    const logs = new LogCapture();
    const worker = startExpiryWorker({
      ledger: {
        async expirePendingTransfers() {
          callCount += 1;
          if (callCount === 1) throw new Error('connection reset');
          return 0;
        },
      },
      logger: createLogger({ level: 'info', destination: logs }),
      intervalMs: 10,
    });
    await eventually(() => callCount >= 2);
    await worker.stop();
    expect(logs.lines.some((line) => line.msg === 'expiry sweep failed; retrying next tick')).toBe(true);
  });

  it('refuses a batch above the ledger limit', () => {
    const logger = createLogger({ level: 'silent', destination: new LogCapture() });
    expect(() =>
      startExpiryWorker({
        ledger: { expirePendingTransfers: async () => 0 },
        logger,
        batchMax: limits.ledgerExpiryBatchMax + 1,
      }),
    ).toThrow(/expiry batch/);
  });
});

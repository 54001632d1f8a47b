import type { Ledger } from './modules/ledger/index.js';
import { assert } from './platform/errors.js';
import { limits } from './platform/limits.js';
import type { Logger } from './platform/logger.js';
import { startPeriodicTask } from './periodic.js';

export interface ExpiryWorker {
  /** Stops scheduling and waits for a sweep under way to finish. */
  stop(): Promise<void>;
}

export interface ExpiryWorkerOptions {
  ledger: Pick<Ledger, 'expirePendingTransfers'>;
  logger: Logger;
  intervalMs?: number;
  batchMax?: number;
}

/**
 * The worker role's loop: every interval, voids pending transfers past their timeout. Each call
 * is bounded (batchMax), and a tick makes at most ledgerExpiryCallsPerTickMax calls, so a backlog
 * drains steadily without starving anything else. A failed sweep is logged and retried next tick.
 */
export function startExpiryWorker(options: ExpiryWorkerOptions): ExpiryWorker {
  const intervalMs = options.intervalMs ?? limits.ledgerExpiryIntervalMs;
  const batchMax = options.batchMax ?? limits.ledgerExpiryBatchMax;
  assert(Number.isSafeInteger(intervalMs) && intervalMs > 0, 'expiry interval must be a positive integer');
  assert(batchMax >= 1 && batchMax <= limits.ledgerExpiryBatchMax, 'expiry batch within limits');
  const logger = options.logger.child({ component: 'expiry-worker' });
  let stopped = false;

  async function sweepOnce(): Promise<void> {
    for (let call = 0; call < limits.ledgerExpiryCallsPerTickMax && !stopped; call += 1) {
      const voidedCount = await options.ledger.expirePendingTransfers(batchMax);
      if (voidedCount > 0) logger.info({ voided_count: voidedCount }, 'voided expired pending transfers');
      if (voidedCount < batchMax) return;
    }
  }

  const task = startPeriodicTask({
    name: 'expiry-worker',
    intervalMs,
    logger: options.logger,
    run: sweepOnce,
    failureMessage: 'expiry sweep failed; retrying next tick',
  });
  return {
    async stop() {
      stopped = true;
      await task.stop();
    },
  };
}

import type { Ledger } from './modules/ledger/index.js';
import { assert } from './platform/errors.js';
import { limits } from './platform/limits.js';
import type { Logger } from './platform/logger.js';

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
  let timer: NodeJS.Timeout | null = null;
  let sweep: Promise<void> | null = null;

  async function sweepOnce(): Promise<void> {
    for (let call = 0; call < limits.ledgerExpiryCallsPerTickMax && !stopped; call += 1) {
      const voidedCount = await options.ledger.expirePendingTransfers(batchMax);
      if (voidedCount > 0) logger.info({ voided_count: voidedCount }, 'voided expired pending transfers');
      if (voidedCount < batchMax) return;
    }
  }

  function schedule(): void {
    timer = setTimeout(() => {
      timer = null;
      sweep = sweepOnce()
        .catch((error: unknown) => logger.error({ err: error }, 'expiry sweep failed; retrying next tick'))
        .finally(() => {
          sweep = null;
          if (!stopped) schedule();
        });
    }, intervalMs);
  }

  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await sweep;
    },
  };
}

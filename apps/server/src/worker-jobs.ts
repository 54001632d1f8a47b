import { startExpiryWorker } from './expiry-worker.js';
import type { ExtraVerifyCheck, Ledger } from './modules/ledger/index.js';
import { paymentVerifyChecks } from './modules/payments/index.js';
import { walletVerifyChecks } from './modules/wallets/index.js';
import { assert } from './platform/errors.js';
import { limits } from './platform/limits.js';
import type { Logger } from './platform/logger.js';
import { startPeriodicTask, type PeriodicTask } from './periodic.js';
import type { Services } from './services.js';

/**
 * The worker role's jobs (also run by role all): ledger expiry, housekeeping, approvals, webhook
 * delivery, and the recovery sweep that finishes every money movement a crash left half done
 * (docs/crash-safety.md). Each job runs one run at a time, on its own interval.
 */

export interface WorkerJobs {
  /** What the banner says about them. */
  describe(): string[];
  /** Stops every job and waits for runs under way. */
  stop(): Promise<void>;
}

/**
 * How old a middle state must be before the sweep takes it: older than any request that could
 * still be working on it (a card authorization's timeout, its reversal, the gateway's lease).
 */
export function recoveryAfterMs(cardNetworkRequestTimeoutMs: number): number {
  return Math.max(limits.recoveryAfterMsMin, 3 * cardNetworkRequestTimeoutMs);
}

/**
 * The documented bound: a middle state older than this is a defect (`ledger verify` reports it).
 * The sweep takes it after recoveryAfterMs, runs every recoverySweepIntervalMs, and a card send
 * still under way at the network is reversed once its lease (2 × the timeout) runs out.
 */
export function recoveryBoundMs(cardNetworkRequestTimeoutMs: number): number {
  return (
    2 * recoveryAfterMs(cardNetworkRequestTimeoutMs) + 4 * cardNetworkRequestTimeoutMs + limits.recoverySweepIntervalMs
  );
}

/** Every context's checks that `ledger verify` adds to the ledger's own. */
export function moneyVerifyChecks(cardNetworkRequestTimeoutMs: number): ExtraVerifyCheck[] {
  const bound = { recoveryBoundMs: recoveryBoundMs(cardNetworkRequestTimeoutMs) };
  return [...paymentVerifyChecks(bound), ...walletVerifyChecks(bound)];
}

export function startWorkerJobs(options: {
  services: Services;
  ledger: Ledger;
  logger: Logger;
  cardNetworkRequestTimeoutMs: number;
}): WorkerJobs {
  const { services, ledger, logger } = options;
  const expiry = startExpiryWorker({ ledger, logger });
  const tasks: PeriodicTask[] = [];
  tasks.push(
    startPeriodicTask({
      name: 'housekeeping',
      intervalMs: limits.housekeepingIntervalMs,
      logger,
      run: async () => {
        const keys = await services.idempotency.purgeExpired();
        const resealed = await services.idempotency.resealLegacy();
        const tokens = await services.identity.deleteExpiredRefreshTokens();
        const offlineAttempts = await services.codes.deleteExpiredAttempts();
        if (keys + tokens + resealed + offlineAttempts > 0) {
          logger.info(
            {
              idempotency_keys: keys,
              resealed_responses: resealed,
              refresh_tokens: tokens,
              offline_code_attempt_windows: offlineAttempts,
            },
            'purged expired records',
          );
        }
      },
    }),
    startPeriodicTask({
      name: 'payment-approvals',
      intervalMs: limits.paymentApprovalSweepIntervalMs,
      logger,
      run: async () => {
        const expired = await services.walletMethod.expireApprovals();
        if (expired > 0) logger.info({ expired }, 'canceled payments whose approval did not come in time');
      },
    }),
    startPeriodicTask({
      name: 'webhook-delivery',
      intervalMs: limits.webhookDeliveryIntervalMs,
      logger,
      run: async () => {
        const report = await services.webhooks.deliverDue(limits.webhookDeliveryBatchDefault);
        if (report.attempts > 0 || report.canceled > 0) logger.info({ ...report }, 'webhook deliveries attempted');
      },
    }),
    startRecovery({ services, logger, olderThanMs: recoveryAfterMs(options.cardNetworkRequestTimeoutMs) }),
  );
  return {
    describe: () => [
      `  Worker         voiding expired pending transfers every ${limits.ledgerExpiryIntervalMs} ms`,
      `                 recovering interrupted payments every ${limits.recoverySweepIntervalMs} ms (after ${recoveryAfterMs(options.cardNetworkRequestTimeoutMs)} ms)`,
    ],
    async stop() {
      await expiry.stop();
      for (const task of tasks) await task.stop();
    },
  };
}

/**
 * The recovery sweep: the card gateway's own sweep first (reversals not yet confirmed, advices
 * not yet delivered, sends whose process died), then payments (charges, captures, cancels,
 * refunds), approvals the payer gave but nobody paid, and wallet transfers and top-ups.
 */
function startRecovery(options: { services: Services; logger: Logger; olderThanMs: number }): PeriodicTask {
  const { services, logger, olderThanMs } = options;
  assert(olderThanMs > 0, 'recovery waits before it takes a middle state');
  const batchSizeMax = limits.recoveryBatchSizeMax;
  const onError = (error: unknown, id: string) => logger.error({ err: error, id }, 'recovery of a payment failed');
  return startPeriodicTask({
    name: 'recovery',
    intervalMs: limits.recoverySweepIntervalMs,
    logger,
    run: async () => {
      const gateway = services.cards === null ? null : await services.cards.gateway.sweep({ batchSizeMax });
      const payments = await services.payments.recover({ olderThanMs, batchSizeMax, onError });
      const approvals = await services.walletMethod.recoverApprovals({ olderThanMs, batchSizeMax });
      const wallets = await services.wallets.recover({ olderThanMs, batchSizeMax, onError });
      const finished =
        payments.charges +
        payments.captures +
        payments.cancels +
        payments.refunds +
        approvals +
        wallets.transfers +
        wallets.topups;
      if (finished > 0 || (gateway?.claimedCount ?? 0) > 0 || payments.errors + wallets.errors > 0) {
        logger.info({ gateway, payments, approvals, wallets }, 'recovery sweep finished interrupted money movements');
      }
    },
  });
}

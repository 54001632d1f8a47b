import { startExpiryWorker } from './expiry-worker.js';
import type { ExtraVerifyCheck, Ledger } from './modules/ledger/index.js';
import { paymentVerifyChecks } from './modules/payments/index.js';
import { walletVerifyChecks } from './modules/wallets/index.js';
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

export function startWorkerJobs(options: { services: Services; ledger: Ledger; logger: Logger }): WorkerJobs {
  const { services, ledger, logger } = options;
  const expiry = startExpiryWorker({ ledger, logger });
  const tasks: PeriodicTask[] = services.jobs.map((job) =>
    startPeriodicTask({
      name: job.name,
      intervalMs: job.intervalMs,
      logger,
      run: () => job.run(logger.child({ component: job.name })),
    }),
  );
  return {
    describe: () => [
      `  Worker         voiding expired pending transfers every ${limits.ledgerExpiryIntervalMs} ms`,
      ...services.jobs.flatMap((job) => (job.describe === undefined ? [] : [`                 ${job.describe}`])),
    ],
    async stop() {
      await expiry.stop();
      for (const task of tasks) await task.stop();
    },
  };
}

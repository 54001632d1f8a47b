import type { Clock } from '../../platform/clock.js';
import type { WorkerJob } from '../../platform/jobs.js';
import { limits } from '../../platform/limits.js';
import type { WalletsCoreDeps } from './core.js';
import { createWalletService, type WalletService } from './service.js';
import { defaultWalletLimits, parseWalletLimits } from './tiers.js';

/** The wallets context: wallets for people, and the recovery of their interrupted transfers and top-ups. */
export interface WalletsContext {
  wallets: WalletService;
  jobs: WorkerJob[];
}

export interface WalletsContextDeps extends Omit<WalletsCoreDeps, 'limits' | 'now'> {
  clock: Clock;
  /** YUNPAY_WALLET_LIMITS (JSON); null: the defaults. */
  limitsJson: string | null;
  /** How old a pending row must be before the recovery sweep takes it. */
  recoveryAfterMs: number;
}

export function createWalletsContext(deps: WalletsContextDeps): WalletsContext {
  const { clock, limitsJson, recoveryAfterMs, ...rest } = deps;
  const wallets = createWalletService({
    ...rest,
    limits: limitsJson === null ? defaultWalletLimits : parseWalletLimits(limitsJson),
    now: () => clock.now(),
  });
  return {
    wallets,
    jobs: [
      {
        name: 'wallet-recovery',
        intervalMs: limits.recoverySweepIntervalMs,
        async run(logger) {
          const onError = (error: unknown, id: string) =>
            logger.error({ err: error, id }, 'recovery of a wallet transfer or top-up failed');
          const report = await wallets.recover({
            olderThanMs: recoveryAfterMs,
            batchSizeMax: limits.recoveryBatchSizeMax,
            onError,
          });
          if (report.transfers + report.topups + report.errors > 0) {
            logger.info({ ...report }, 'recovery finished interrupted wallet transfers and top-ups');
          }
        },
      },
    ],
  };
}

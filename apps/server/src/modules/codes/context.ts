import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import type { WorkerJob } from '../../platform/jobs.js';
import { limits } from '../../platform/limits.js';
import type { NotificationWriter } from '../events/index.js';
import { parseOfflineCaps } from './caps.js';
import { createCodeService, type CodeService, type CodeServiceDeps } from './service.js';

/** The codes context: payment codes and merchant QR; its job purges used codes and ended attempt windows. */
export interface CodesContext {
  codes: CodeService;
  jobs: WorkerJob[];
}

export function createCodesContext(deps: {
  db: Db;
  clock: Clock;
  identity: CodeServiceDeps['identity'];
  notifications: NotificationWriter;
  /** YUNPAY_… offline code caps (JSON); null: the defaults. */
  offlineCapsJson: string | null;
}): CodesContext {
  const codes = createCodeService({
    db: deps.db,
    identity: deps.identity,
    notifications: deps.notifications,
    now: () => deps.clock.nowMs(),
    ...(deps.offlineCapsJson === null ? {} : { offlineCaps: parseOfflineCaps(deps.offlineCapsJson) }),
  });
  return {
    codes,
    jobs: [
      {
        name: 'codes-housekeeping',
        intervalMs: limits.housekeepingIntervalMs,
        async run(logger) {
          const expiredCodes = await codes.deleteExpiredCodes();
          const attemptWindows = await codes.deleteExpiredAttempts();
          if (expiredCodes + attemptWindows > 0) {
            logger.info({ online_codes: expiredCodes, offline_code_attempt_windows: attemptWindows }, 'purged codes');
          }
        },
      },
    ],
  };
}

import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import type { WorkerJob } from '../../platform/jobs.js';
import { limits } from '../../platform/limits.js';
import type { NotificationWriter } from '../events/index.js';
import { createIdentity, type IdentityDependencies } from './service.js';
import type { Identity } from './types.js';

/** The identity context: people, sessions, devices and PINs; its job purges expired refresh tokens. */
export interface IdentityContext {
  identity: Identity;
  jobs: WorkerJob[];
}

export function createIdentityContext(deps: {
  db: Db;
  clock: Clock;
  notifications: NotificationWriter;
  onDeviceRevoked: IdentityDependencies['onDeviceRevoked'];
  rateLimits?: IdentityDependencies['rateLimits'];
  /** YUNPAY_PHONE_REGION: the region national phone numbers are read in (default CN). */
  phoneRegion?: string;
}): IdentityContext {
  const identity = createIdentity({
    db: deps.db,
    notifications: deps.notifications,
    onDeviceRevoked: deps.onDeviceRevoked,
    now: () => deps.clock.nowMs(),
    ...(deps.rateLimits === undefined ? {} : { rateLimits: deps.rateLimits }),
    ...(deps.phoneRegion === undefined ? {} : { phoneRegion: deps.phoneRegion }),
  });
  return {
    identity,
    jobs: [
      {
        name: 'identity-housekeeping',
        intervalMs: limits.housekeepingIntervalMs,
        async run(logger) {
          const tokens = await identity.deleteExpiredRefreshTokens();
          if (tokens > 0) logger.info({ refresh_tokens: tokens }, 'purged expired refresh tokens');
        },
      },
    ],
  };
}

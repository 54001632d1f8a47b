import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import { createMerchantSessions, type MerchantSessions, type MerchantSessionsDependencies } from './service.js';

/** The merchant sessions context: POS and dashboard sign-in (cookie + CSRF token). */
export interface MerchantSessionsContext {
  merchantSessions: MerchantSessions;
}

export function createMerchantSessionsContext(deps: {
  db: Db;
  clock: Clock;
  merchants: MerchantSessionsDependencies['merchants'];
  idempotency: MerchantSessionsDependencies['idempotency'];
  signInFailures?: MerchantSessionsDependencies['signInFailures'];
}): MerchantSessionsContext {
  return {
    merchantSessions: createMerchantSessions({
      db: deps.db,
      merchants: deps.merchants,
      idempotency: deps.idempotency,
      now: () => deps.clock.nowMs(),
      ...(deps.signInFailures === undefined ? {} : { signInFailures: deps.signInFailures }),
    }),
  };
}

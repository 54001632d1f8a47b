import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import { createMerchants, type Merchants, type MerchantsConfig } from './service.js';

/** The merchants context: merchant accounts, API keys and pricing. */
export interface MerchantsContext {
  merchants: Merchants;
}

export function createMerchantsContext(deps: { db: Db; clock: Clock; pricing: MerchantsConfig }): MerchantsContext {
  return { merchants: createMerchants({ db: deps.db, config: deps.pricing, now: () => deps.clock.nowMs() }) };
}

import { cardGatewayLimits, checkCardsLimits } from './modules/cards/index.js';
import { checkCodesLimits } from './modules/codes/index.js';
import { checkMerchantSessionLimits } from './modules/merchant-sessions/index.js';
import { checkPaymentsLimits, paymentLimits } from './modules/payments/index.js';
import { checkWalletLimits, walletLimits } from './modules/wallets/index.js';
import { checkWebhookLimits } from './modules/events/index.js';
import { assert } from './platform/errors.js';
import { checkIdempotencyLimits } from './platform/idempotency.js';
import { checkInstanceLimits } from './platform/instances.js';
import { checkLimits, limits } from './platform/limits.js';

/**
 * Every table of bounds in the server, checked together: platform/limits.ts, then each context's
 * own table. Called once at start-up (main.ts, before the configuration is read) and by the tests;
 * a bad edit crashes here before the server takes traffic. Tables derived wholly from
 * platform/limits.ts (ledgerLimits, identity's rate limits, codes' offline attempts) need no check
 * of their own.
 */
export function checkAllLimits(): void {
  checkLimits();
  checkInstanceLimits();
  checkIdempotencyLimits();
  checkCardsLimits();
  checkCodesLimits();
  checkMerchantSessionLimits();
  checkPaymentsLimits();
  checkWalletLimits();
  checkWebhookLimits();
  checkWorkerBatchLimits();
}

/** The recovery worker asks each context for limits.recoveryBatchSizeMax rows; each must allow that many. */
function checkWorkerBatchLimits(): void {
  const batchSizeMax = limits.recoveryBatchSizeMax;
  assert(batchSizeMax <= cardGatewayLimits.sweepBatchSizeMax, 'recoveryBatchSizeMax exceeds the card gateway sweep');
  assert(batchSizeMax <= paymentLimits.recoveryBatchSizeMax, 'recoveryBatchSizeMax exceeds the payments recovery');
  assert(batchSizeMax <= walletLimits.recoveryBatchSizeMax, 'recoveryBatchSizeMax exceeds the wallets recovery');
}

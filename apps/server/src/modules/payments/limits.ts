import { assert } from '../../platform/errors.js';
import { checkLimitTable, limits } from '../../platform/limits.js';
import { cardChallengeLimits } from './card-challenge.js';
import { paymentLimits } from './model.js';
import { qrLimits } from './qr.js';
import { summaryLimits } from './summary.js';
import { walletMethodLimits } from './wallet-method.js';

/** Every table of bounds of the payments context. Run at start-up by checkAllLimits (and by the tests). */
export function checkPaymentsLimits(): void {
  checkLimitTable('paymentLimits', paymentLimits);
  checkLimitTable('walletMethodLimits', walletMethodLimits);
  checkLimitTable('cardChallengeLimits', cardChallengeLimits);
  checkLimitTable('qrLimits', qrLimits);
  checkLimitTable('summaryLimits', summaryLimits);
  assert(
    limits.paymentApprovalSweepIntervalMs < walletMethodLimits.approvalTtlMs,
    'paymentApprovalSweepIntervalMs must be shorter than an approval lasts',
  );
}

/**
 * Payments: payment intents, charges, refunds, merchant balances and balance transactions, with
 * fees posted in the same linked ledger chain as the payment.
 */
import type { Migration } from '../../platform/migrations.js';
import { cardChallengeMigrations } from './card-challenge.js';
import { paymentMigrations as tableMigrations } from './schema.js';

export const paymentMigrations: readonly Migration[] = [...tableMigrations, ...cardChallengeMigrations];
export {
  cardChallengeLimits,
  cardChallengeRoutes,
  createCardChallenges,
  type CardChallenges,
  type CardChallengePorts,
} from './card-challenge.js';
export { paymentFee, refundedFee, type Pricing } from './fees.js';
export {
  createPaymentService,
  createPaymentAccounts,
  paymentAccountCodes,
  paymentLimits,
  paymentTransferCodes,
  type BalanceTransaction,
  type Charge,
  type IntentStatus,
  type MerchantContext,
  type Payer,
  type PaymentEventSink,
  type PaymentEventType,
  type CardForPayment,
  type CardOutcome,
  type WalletPayerPort,
  type RecoveryReport,
  type CardNetworkPort,
  type PaymentIntent,
  type PaymentService,
  type PaymentServiceDeps,
  type Refund,
} from './service.js';
export {
  createWalletMethod,
  walletMethodLimits,
  type PaymentApproval,
  type RedeemedCode,
  type WalletMethod,
  type WalletMethodPorts,
} from './wallet-method.js';
export { paymentApprovalRoutes, type PaymentApprovalRoutesOptions } from './wallet-routes.js';
export {
  paymentRoutes,
  intentDto,
  chargeDto,
  refundDto,
  balanceTransactionDto,
  type PaymentRoutesOptions,
} from './v1-routes.js';
export { paymentEventSink } from './events.js';
export { createMerchantQr, qrLimits, type MerchantQr, type QrPreview } from './qr.js';
// Daily volume and fees for the merchant dashboard's chart (merchant-sessions routes).
export { dailyBalanceSummary, summaryLimits, type DailyBalanceSummary } from './summary.js';
export { checkPaymentsLimits } from './limits.js';
export { paymentVerifyChecks } from './verify.js';
export { createPaymentsContext, type PaymentsContext, type PaymentsContextDeps } from './context.js';

import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import type { IdempotencyStore } from '../../platform/idempotency.js';
import type { WorkerJob } from '../../platform/jobs.js';
import { limits } from '../../platform/limits.js';
import type { ExpandRegistry } from '../../v1/index.js';
import type { CardsContext } from '../cards/index.js';
import type { NotificationWriter } from '../events/index.js';
import type { Ledger } from '../ledger/index.js';
import type { Merchant } from '../merchants/index.js';
import { createCardChallenges, type CardChallenges } from './card-challenge.js';
import { paymentEventSink } from './events.js';
import type { Pricing } from './fees.js';
import type { CardForPayment, MerchantContext, WalletPayerPort } from './model.js';
import { createMerchantQr, type MerchantQr } from './qr.js';
import { createPaymentService, type PaymentService } from './service.js';
import { createWalletMethod, type WalletMethod, type WalletMethodPorts } from './wallet-method.js';
import { balanceTransactionDto, chargeDto, intentDto } from './wire.js';

/**
 * The payments context: the payment service, the wallet payment method (codes, approvals), the
 * merchant QR, 3-D Secure challenges, the card PaymentMethods as a payment needs them, and its
 * worker jobs (approvals that time out; the recovery of interrupted payments).
 */
export interface PaymentsContext {
  payments: PaymentService;
  walletMethod: WalletMethod;
  merchantQr: MerchantQr;
  cardChallenges: CardChallenges | null;
  /** A card PaymentMethod (pm_… or a test token) as a payment needs it (throws without cards). */
  cardForPayment: (scope: MerchantContext, idOrToken: string) => Promise<CardForPayment>;
  jobs: WorkerJob[];
}

export interface PaymentsContextDeps {
  db: Db;
  ledger: Ledger;
  clock: Clock;
  merchants: { getMerchant: (accountId: string) => Promise<Merchant & { pricing: Pricing }> };
  recordEvent: Parameters<typeof paymentEventSink>[0];
  wallets: WalletPayerPort & WalletMethodPorts['wallets'];
  redeemPaymentCode: WalletMethodPorts['redeemPaymentCode'];
  verifyPaymentPin: (userId: string, pin: string) => Promise<void>;
  notifications: NotificationWriter;
  idempotency: Pick<IdempotencyStore, 'recordPoint'>;
  cards: CardsContext | null;
  /** What expand[] on /v1 reaches: payments registers its objects. */
  v1Expand: ExpandRegistry;
  /** How old a middle state must be before the recovery sweep takes it (worker-jobs.ts recoveryAfterMs). */
  recoveryAfterMs: number;
}

export function createPaymentsContext(deps: PaymentsContextDeps): PaymentsContext {
  const { db, cards } = deps;
  const now = () => deps.clock.now();
  const merchantName = async (accountId: string) => (await deps.merchants.getMerchant(accountId)).name;
  const payments = createPaymentService({
    db,
    ledger: deps.ledger,
    pricingOf: async (accountId) => (await deps.merchants.getMerchant(accountId)).pricing,
    merchantName,
    events: paymentEventSink(deps.recordEvent),
    walletPayer: deps.wallets,
    recovery: deps.idempotency,
    now,
    ...(cards === null ? {} : { cards: cards.paymentsPort }),
  });
  const walletMethod = createWalletMethod({
    db,
    payments,
    notifications: deps.notifications,
    now,
    ports: {
      redeemPaymentCode: deps.redeemPaymentCode,
      wallets: deps.wallets,
      verifyPaymentPin: deps.verifyPaymentPin,
      merchantName,
    },
  });
  const merchantQr = createMerchantQr({ payments, walletMethod, getMerchant: deps.merchants.getMerchant, now });
  const cardForPayment = cardForPaymentOf(cards);
  const cardChallenges =
    cards === null ? null : createCardChallenges({ db, payments, now, ports: { cardForPayment, merchantName } });
  registerExpand(deps.v1Expand, payments, cards);
  return {
    payments,
    walletMethod,
    merchantQr,
    cardChallenges,
    cardForPayment,
    jobs: paymentJobs({ payments, walletMethod, olderThanMs: deps.recoveryAfterMs }),
  };
}

function cardForPaymentOf(cards: CardsContext | null): PaymentsContext['cardForPayment'] {
  return async (scope, idOrToken) => {
    if (cards === null) throw new Error('assertion failed: card payments are configured');
    const { paymentMethod } = await cards.paymentMethods.resolve(scope, idOrToken);
    const card = await cards.paymentMethods.cardOf(scope, paymentMethod.id);
    return {
      paymentMethodId: paymentMethod.id,
      details: { ...paymentMethod.card, network: card.brand },
      reference: `${card.brand} •••• ${card.last4}`,
    };
  };
}

/** Payments' objects and their expandable fields in /v1 (cards add payment methods). */
function registerExpand(v1Expand: ExpandRegistry, payments: PaymentService, cards: CardsContext | null): void {
  v1Expand.registerLoader('payment_intent', async (scope, id) =>
    intentDto(await payments.retrieveIntent(scope, id), { includeClientSecret: true }),
  );
  v1Expand.registerLoader('charge', async (scope, id) =>
    chargeDto(await payments.retrieveCharge(scope, id), await payments.refundsOf(scope, id)),
  );
  v1Expand.registerLoader('balance_transaction', async (scope, id) =>
    balanceTransactionDto(await payments.balanceTransaction(scope, id)),
  );
  v1Expand.registerFields('payment_intent', { customer: 'customer', latest_charge: 'charge' });
  v1Expand.registerFields('charge', { payment_intent: 'payment_intent', balance_transaction: 'balance_transaction' });
  v1Expand.registerFields('refund', {
    charge: 'charge',
    payment_intent: 'payment_intent',
    balance_transaction: 'balance_transaction',
  });
  if (cards === null) return;
  v1Expand.registerLoader(
    'payment_method',
    (scope, id) => cards.paymentMethods.find(scope, id) as unknown as Promise<Record<string, unknown> | null>,
  );
  v1Expand.registerFields('payment_intent', { payment_method: 'payment_method' });
  v1Expand.registerFields('charge', { payment_method: 'payment_method' });
  v1Expand.registerFields('payment_method', { customer: 'customer' });
}

/** Approvals not given in time are canceled; interrupted payments are finished (docs/crash-safety.md). */
function paymentJobs(options: {
  payments: PaymentService;
  walletMethod: WalletMethod;
  olderThanMs: number;
}): WorkerJob[] {
  const { payments, walletMethod, olderThanMs } = options;
  const batchSizeMax = limits.recoveryBatchSizeMax;
  return [
    {
      name: 'payment-approvals',
      intervalMs: limits.paymentApprovalSweepIntervalMs,
      async run(logger) {
        const expired = await walletMethod.expireApprovals();
        if (expired > 0) logger.info({ expired }, 'canceled payments whose approval did not come in time');
      },
    },
    {
      name: 'payment-recovery',
      intervalMs: limits.recoverySweepIntervalMs,
      describe: `recovering interrupted payments every ${limits.recoverySweepIntervalMs} ms (after ${olderThanMs} ms)`,
      async run(logger) {
        const onError = (error: unknown, id: string) =>
          logger.error({ err: error, id }, 'recovery of a payment failed');
        const report = await payments.recover({ olderThanMs, batchSizeMax, onError });
        const approvals = await walletMethod.recoverApprovals({ olderThanMs, batchSizeMax });
        const finished = report.charges + report.captures + report.cancels + report.refunds + approvals;
        if (finished > 0 || report.errors > 0) {
          logger.info({ ...report, approvals }, 'recovery finished interrupted payments');
        }
      },
    },
  ];
}

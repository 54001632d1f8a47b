import type { Db, SqlExecutor } from '../../platform/db.js';
import { assert } from '../../platform/errors.js';
import type { IdempotentAttempt, IdempotentCall } from '../../platform/idempotency.js';
import type { PageRequest } from '../../v1/index.js';
import type { Ledger } from '../ledger/index.js';
import { createPaymentAccounts, type PaymentsCore } from './core.js';
import type { Pricing } from './fees.js';
import {
  type BalanceTransaction,
  type CardForPayment,
  type CardNetworkPort,
  type Charge,
  type MerchantContext,
  type Payer,
  type PaymentEventSink,
  type PaymentIntent,
  type RecoveryPointRecorder,
  type Refund,
  type WalletPayerPort,
} from './model.js';
import * as repo from './repository.js';
import { cancel } from './workflows/cancel.js';
import { capture } from './workflows/capture.js';
import { confirm, resumeConfirmation, type ConfirmOptions } from './workflows/confirm.js';
import {
  createIntent,
  failAuthentication,
  requireAction,
  setPaymentMethod,
  updateIntent,
  type CreateIntentInput,
} from './workflows/intents.js';
import { recoverPayments, type RecoveryReport } from './workflows/recovery.js';
import { refund, type RefundInput, type RefundOptions } from './workflows/refund.js';

export * from './model.js';
export { chargeFromRow, intentFromRow, refundFromRow, balanceTransactionFromRow } from './repository.js';
export { createPaymentAccounts, type PaymentAccounts } from './core.js';
export type { ConfirmOptions, CreateIntentInput, RecoveryReport, RefundInput, RefundOptions };

export interface PaymentServiceDeps {
  db: Db;
  ledger: Ledger;
  /** The merchant's pricing (the merchants context). */
  pricingOf: (accountId: string) => Promise<Pricing>;
  /** The merchant's name (shown in a wallet payer's history). Absent: the account id. */
  merchantName?: (accountId: string) => Promise<string>;
  events?: PaymentEventSink;
  /** The card network (the cards context); without it, card payments are refused. */
  cards?: CardNetworkPort;
  /** The wallets context's side of live wallet payments. */
  walletPayer?: WalletPayerPort;
  /** Recovery points on idempotency keys (platform/idempotency.ts). */
  recovery?: RecoveryPointRecorder;
  now?: () => Date;
}

/** The payments context's service: what routes, other contexts and the worker may call. */
export interface PaymentService {
  /** Creates an intent; with options.id (derived from an idempotency key) a second create returns the first. */
  createIntent(ctx: MerchantContext, input: CreateIntentInput, options?: { id?: string }): Promise<PaymentIntent>;
  retrieveIntent(ctx: MerchantContext, id: string): Promise<PaymentIntent>;
  /** An intent by id alone (for a payer who scanned its QR); null when there is none. */
  findIntentForPayer(id: string): Promise<PaymentIntent | null>;
  updateIntent(
    ctx: MerchantContext,
    id: string,
    input: {
      amountMinor?: bigint;
      description?: string | null;
      metadata?: Record<string, string>;
      customerId?: string | null;
    },
  ): Promise<PaymentIntent>;
  /** Puts a confirmable intent in requires_action (the customer must act first, e.g. approve in the app). */
  requireAction(
    ctx: MerchantContext,
    id: string,
    nextAction: Record<string, unknown>,
    paymentMethodType: string,
    options?: { tx?: SqlExecutor },
  ): Promise<PaymentIntent>;
  /** The cardholder failed (or abandoned) 3-D Secure: the intent goes back to the customer. */
  failAuthentication(ctx: MerchantContext, id: string): Promise<PaymentIntent>;
  /** Sets the PaymentMethod an unconfirmed intent will be confirmed with (it then requires confirmation). */
  setPaymentMethod(ctx: MerchantContext, id: string, paymentMethodId: string, type: string): Promise<PaymentIntent>;
  /** Confirms with a payer whose funds the ledger can move (a wallet, or test mode's stand-in). */
  confirmWithPayer(
    ctx: MerchantContext,
    id: string,
    payer: Payer,
    paymentMethodType: string,
    options?: ConfirmOptions,
  ): Promise<PaymentIntent>;
  /** Confirms with a card PaymentMethod: the network is asked between the claim and the ledger. */
  confirmWithCard(
    ctx: MerchantContext,
    id: string,
    card: CardForPayment,
    options?: ConfirmOptions & { authenticated?: boolean },
  ): Promise<PaymentIntent>;
  /** A retry's charge (its key's): continued or answered; null when the first attempt claimed none. */
  resumeConfirmation(ctx: MerchantContext, intentId: string, chargeId: string): Promise<PaymentIntent | null>;
  capture(
    ctx: MerchantContext,
    id: string,
    amountToCaptureMinor?: bigint,
    attempt?: IdempotentAttempt | null,
  ): Promise<PaymentIntent>;
  cancel(
    ctx: MerchantContext,
    id: string,
    reason: string | null,
    attempt?: IdempotentAttempt | null,
  ): Promise<PaymentIntent>;
  refund(ctx: MerchantContext, input: RefundInput, options?: RefundOptions): Promise<Refund>;
  /** Finishes the middle states a crash left (the worker calls it). */
  recover(options: {
    olderThanMs: number;
    batchSizeMax: number;
    onError?: (error: unknown, id: string) => void;
  }): Promise<RecoveryReport>;
  /** The card part of recover(), for callers that count card charges: how many it finished. */
  recoverCardCharges(options: { olderThanMs: number; batchSizeMax: number }): Promise<number>;
  retrieveCharge(ctx: MerchantContext, id: string): Promise<Charge>;
  retrieveRefund(ctx: MerchantContext, id: string): Promise<Refund>;
  refundsOf(ctx: MerchantContext, chargeId: string): Promise<Refund[]>;
  balanceTransaction(ctx: MerchantContext, id: string): Promise<BalanceTransaction>;
  /** Pending and available per currency, from the balance transactions (the ledger agrees: see tests). */
  balance(ctx: MerchantContext): Promise<{ currency: string; availableMinor: bigint; pendingMinor: bigint }[]>;
  /** The merchant's ledger balance in a currency (credits − debits). */
  ledgerBalance(ctx: MerchantContext, currency: string): Promise<bigint>;
  /** The ledger account card money comes in through (credited to merchants, to wallets on top-ups). */
  cardClearingAccount(livemode: boolean, currency: string): Promise<string>;
  /** Test mode's stand-in payer account: test payments never move a wallet's money. */
  testPayerAccount(currency: string): Promise<string>;
  list<T>(
    ctx: MerchantContext,
    table: repo.PaymentTable,
    page: PageRequest,
    filters: repo.PaymentListFilters,
  ): Promise<{ data: T[]; hasMore: boolean }>;
}

function coreOf(deps: PaymentServiceDeps): PaymentsCore {
  return {
    db: deps.db,
    ledger: deps.ledger,
    pricingOf: deps.pricingOf,
    merchantName: deps.merchantName ?? (async (accountId) => accountId),
    cards: deps.cards ?? null,
    walletPayer: deps.walletPayer ?? null,
    recovery: deps.recovery ?? null,
    now: deps.now ?? (() => new Date()),
    async recordEvent(tx, ctx, type, objectId, snapshot) {
      await deps.events?.record(tx, {
        accountId: ctx.accountId,
        livemode: ctx.livemode,
        type,
        objectId,
        ...(snapshot === undefined ? {} : { snapshot }),
      });
    },
    accounts: createPaymentAccounts(deps.ledger),
  };
}

export function createPaymentService(deps: PaymentServiceDeps): PaymentService {
  const core = coreOf(deps);
  const { db, ledger } = core;

  return {
    createIntent: (ctx, input, options = {}) => createIntent(core, ctx, input, options),
    retrieveIntent: (ctx, id) => repo.findIntent(db, ctx, id),
    findIntentForPayer: (id) => repo.intentById(db, id),
    updateIntent: (ctx, id, input) => updateIntent(core, ctx, id, input),
    requireAction: (ctx, id, nextAction, paymentMethodType, options = {}) =>
      requireAction(core, ctx, id, { nextAction, paymentMethodType, ...options }),
    failAuthentication: (ctx, id) => failAuthentication(core, ctx, id),
    setPaymentMethod: (ctx, id, paymentMethodId, type) => setPaymentMethod(core, ctx, id, paymentMethodId, type),
    confirmWithPayer: (ctx, id, payer, paymentMethodType, options = {}) =>
      confirm(core, ctx, id, { kind: 'payer', payer, paymentMethodType }, options),

    confirmWithCard: (ctx, id, card, options = {}) =>
      confirm(core, ctx, id, { kind: 'card', card, authenticated: options.authenticated === true }, options),

    resumeConfirmation: (ctx, intentId, chargeId) => resumeConfirmation(core, ctx, intentId, chargeId),

    capture: (ctx, id, amount, attempt = null) => capture(core, ctx, id, amount, attempt),
    cancel: (ctx, id, reason, attempt = null) => cancel(core, ctx, id, reason, attempt),
    refund: (ctx, input, options = {}) => refund(core, ctx, input, options),

    recover: (options) => recoverPayments(core, options),
    async recoverCardCharges(options) {
      const report = await recoverPayments(core, options);
      return report.charges;
    },

    retrieveCharge: (ctx, id) => repo.findCharge(db, ctx, id),
    retrieveRefund: (ctx, id) => repo.findRefund(db, ctx, id),
    refundsOf: (ctx, chargeId) => repo.refundsOfCharge(db, ctx, chargeId),
    balanceTransaction: (ctx, id) => repo.findBalanceTransaction(db, ctx, id),
    balance: (ctx) => repo.balanceByCurrency(db, ctx, core.now()),

    async ledgerBalance(ctx, currency) {
      const [account] = await ledger.lookupAccounts([await core.accounts.merchant(ctx, currency)]);
      assert(account !== undefined, 'the merchant account exists');
      return account.creditsPostedMinor - account.debitsPostedMinor;
    },

    cardClearingAccount: (livemode, currency) => core.accounts.cardClearing(livemode, currency),
    testPayerAccount: (currency) => core.accounts.testPayer(currency),
    list: (ctx, table, page, filters) => repo.listPage(db, ctx, table, page, filters),
  };
}

export type { IdempotentCall };

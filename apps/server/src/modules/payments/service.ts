import { randomBytes } from 'node:crypto';
import { newObjectId } from '../../platform/ids.js';
import type { Db, SqlExecutor } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import { isKnownCurrency } from '../../platform/money.js';
import { fetchPage, type PageRequest } from '../../v1/index.js';
import { transferIdFrom, type Ledger, type TransferResultCode } from '../ledger/index.js';
import { paymentFee, type Pricing } from './fees.js';

/** Whose request this is: a merchant account, in test or live mode. */
export interface MerchantContext {
  accountId: string;
  livemode: boolean;
}

/** Where a payment's money comes from: a ledger account the payments context may debit. */
export interface Payer {
  ledgerAccountId: string;
  /** Shown on the charge (e.g. the wallet user id, or a masked code). */
  reference: string;
  /** payment_method_details of the charge, e.g. {type: 'wallet', wallet: {...}}. */
  details: Record<string, unknown>;
}

/** What the card network answered for a charge, a capture or a refund. */
export type CardNetworkOutcome =
  { approved: true } | { approved: false; code: string; declineCode: string | null; message: string };

/**
 * The card side of payments, implemented by the cards context: each call goes to the card network,
 * so none is made inside a database transaction. Calls are idempotent by charge or refund id.
 */
export interface CardNetworkPort {
  /** 0200 sale (automatic capture) or 0100 authorization (manual capture) of a charge. */
  authorize(input: {
    ctx: MerchantContext;
    chargeId: string;
    paymentMethodId: string;
    amountMinor: bigint;
    currency: string;
    captureMethod: 'automatic' | 'manual';
    /** The cardholder passed 3-D Secure for this payment. */
    authenticated?: boolean;
  }): Promise<CardNetworkOutcome>;
  /** 0220 completion of a charge's authorization for the captured amount. */
  capture(input: { ctx: MerchantContext; chargeId: string; amountMinor: bigint }): Promise<CardNetworkOutcome>;
  /** 0400 reversal of a charge's uncaptured authorization (it is sure to go out, now or by the sweep). */
  void(input: { ctx: MerchantContext; chargeId: string }): Promise<void>;
  /** A credit to the card. */
  refund(input: {
    ctx: MerchantContext;
    refundId: string;
    paymentMethodId: string;
    amountMinor: bigint;
    currency: string;
  }): Promise<CardNetworkOutcome>;
  /** The final outcome of a charge's authorization; null while the network has not settled it (or never saw it). */
  outcomeOf(chargeId: string): Promise<CardNetworkOutcome | null>;
}

/** A card PaymentMethod as the payments context needs it. */
export interface CardForPayment {
  paymentMethodId: string;
  /** payment_method_details.card of the charge (brand, last4, exp, fingerprint, funding…; never the number). */
  details: Record<string, unknown>;
  /** Shown as the payer reference, e.g. `visa •••• 4242`. */
  reference: string;
}

/** Something that records state changes as events in the caller's transaction (the outbox). */
export interface PaymentEventSink {
  record(
    tx: SqlExecutor,
    event: { accountId: string; livemode: boolean; type: string; objectId: string },
  ): Promise<void>;
}

export const paymentAccountCodes = { merchantBalance: 200, feeRevenue: 201, cardNetworkClearing: 204 } as const;
export const paymentTransferCodes = { charge: 2001, fee: 2002, refund: 2003, feeRefund: 2004 } as const;

export const paymentLimits = {
  descriptionLengthMax: 1000,
  /** Manual-capture reservations expire (and are voided) after this long, as card authorizations do. */
  authorizationHoldS: 7 * 24 * 60 * 60,
  /** Charges become available to pay out after this long (settlement moves them). */
  availableAfterMs: 24 * 60 * 60 * 1000,
  pageSizeMax: 100,
} as const;

export type IntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'succeeded'
  | 'canceled';

export interface PaymentIntent {
  id: string;
  accountId: string;
  livemode: boolean;
  amountMinor: bigint;
  currency: string;
  status: IntentStatus;
  captureMethod: 'automatic' | 'manual';
  amountCapturableMinor: bigint;
  amountReceivedMinor: bigint;
  customerId: string | null;
  description: string | null;
  metadata: Record<string, string>;
  clientSecret: string;
  paymentMethodType: string | null;
  paymentMethodId: string | null;
  latestChargeId: string | null;
  lastPaymentError: Record<string, unknown> | null;
  nextAction: Record<string, unknown> | null;
  canceledAt: Date | null;
  cancellationReason: string | null;
  createdAt: Date;
}

export interface Charge {
  id: string;
  accountId: string;
  livemode: boolean;
  paymentIntentId: string;
  amountMinor: bigint;
  amountCapturedMinor: bigint;
  amountRefundedMinor: bigint;
  currency: string;
  feeMinor: bigint;
  status: 'pending' | 'succeeded' | 'failed';
  captured: boolean;
  paymentMethodDetails: Record<string, unknown>;
  paymentMethodId: string | null;
  payerLedgerAccountId: string;
  balanceTransactionId: string | null;
  failureCode: string | null;
  /** Stripe's decline_code of a failed card charge (e.g. insufficient_funds), else null. */
  failureDeclineCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
}

export interface Refund {
  id: string;
  accountId: string;
  livemode: boolean;
  chargeId: string;
  paymentIntentId: string;
  amountMinor: bigint;
  feeRefundedMinor: bigint;
  currency: string;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled';
  reason: string | null;
  /** Why a card refund failed (Stripe's failure_reason), else null. */
  failureReason: string | null;
  metadata: Record<string, string>;
  balanceTransactionId: string | null;
  createdAt: Date;
}

export interface BalanceTransaction {
  id: string;
  accountId: string;
  livemode: boolean;
  type: 'charge' | 'refund';
  amountMinor: bigint;
  feeMinor: bigint;
  netMinor: bigint;
  currency: string;
  sourceId: string;
  status: 'pending' | 'available';
  availableOn: Date;
  createdAt: Date;
}

/**
 * A prefixed id with 22 base62 characters (at least 128 random bits): `pi_` ids are 25 characters,
 * the most an EMVCo QR reference label (tag 62/05) holds.
 */
export function newId(prefix: string): string {
  return newObjectId(prefix);
}

type Row = Record<string, unknown>;

function intentFromRow(row: Row): PaymentIntent {
  return {
    id: row.id as string,
    accountId: row.account_id as string,
    livemode: row.livemode as boolean,
    amountMinor: row.amount as bigint,
    currency: row.currency as string,
    status: row.status as IntentStatus,
    captureMethod: row.capture_method as 'automatic' | 'manual',
    amountCapturableMinor: row.amount_capturable as bigint,
    amountReceivedMinor: row.amount_received as bigint,
    customerId: row.customer_id as string | null,
    description: row.description as string | null,
    metadata: row.metadata as Record<string, string>,
    clientSecret: row.client_secret as string,
    paymentMethodType: row.payment_method_type as string | null,
    paymentMethodId: (row.payment_method_id as string | null | undefined) ?? null,
    latestChargeId: row.latest_charge_id as string | null,
    lastPaymentError: row.last_payment_error as Record<string, unknown> | null,
    nextAction: row.next_action as Record<string, unknown> | null,
    canceledAt: row.canceled_at as Date | null,
    cancellationReason: row.cancellation_reason as string | null,
    createdAt: row.created_at as Date,
  };
}

function chargeFromRow(row: Row): Charge {
  return {
    id: row.id as string,
    accountId: row.account_id as string,
    livemode: row.livemode as boolean,
    paymentIntentId: row.payment_intent_id as string,
    amountMinor: row.amount as bigint,
    amountCapturedMinor: row.amount_captured as bigint,
    amountRefundedMinor: row.amount_refunded as bigint,
    currency: row.currency as string,
    feeMinor: row.fee as bigint,
    status: row.status as Charge['status'],
    captured: row.captured as boolean,
    paymentMethodDetails: row.payment_method_details as Record<string, unknown>,
    paymentMethodId: (row.payment_method_id as string | null | undefined) ?? null,
    payerLedgerAccountId: row.payer_ledger_account_id as string,
    balanceTransactionId: row.balance_transaction_id as string | null,
    failureCode: row.failure_code as string | null,
    failureDeclineCode: (row.failure_decline_code as string | null | undefined) ?? null,
    failureMessage: row.failure_message as string | null,
    createdAt: row.created_at as Date,
  };
}

function refundFromRow(row: Row): Refund {
  return {
    id: row.id as string,
    accountId: row.account_id as string,
    livemode: row.livemode as boolean,
    chargeId: row.charge_id as string,
    paymentIntentId: row.payment_intent_id as string,
    amountMinor: row.amount as bigint,
    feeRefundedMinor: row.fee_refunded as bigint,
    currency: row.currency as string,
    status: row.status as Refund['status'],
    reason: row.reason as string | null,
    failureReason: (row.failure_reason as string | null | undefined) ?? null,
    metadata: row.metadata as Record<string, string>,
    balanceTransactionId: row.balance_transaction_id as string | null,
    createdAt: row.created_at as Date,
  };
}

function balanceTransactionFromRow(row: Row): BalanceTransaction {
  return {
    id: row.id as string,
    accountId: row.account_id as string,
    livemode: row.livemode as boolean,
    type: row.type as 'charge' | 'refund',
    amountMinor: row.amount as bigint,
    feeMinor: row.fee as bigint,
    netMinor: row.net as bigint,
    currency: row.currency as string,
    sourceId: row.source_id as string,
    status: row.status as 'pending' | 'available',
    availableOn: row.available_on as Date,
    createdAt: row.created_at as Date,
  };
}

/** The fee leg of a charge's linked chain (merchant → fee revenue); none when the fee is zero. */
function feeTransfers(
  chargeId: string,
  leg: { merchantId: string; feeRevenueId: string; fee: bigint; currency: string },
) {
  if (leg.fee <= 0n) return [];
  return [
    {
      id: transferIdFrom('payments.fee', chargeId),
      debitAccountId: leg.merchantId,
      creditAccountId: leg.feeRevenueId,
      amountMinor: leg.fee,
      currency: leg.currency,
      code: paymentTransferCodes.fee,
      metadata: { charge: chargeId },
    },
  ];
}

export interface PaymentServiceDeps {
  db: Db;
  ledger: Ledger;
  /** The merchant's pricing (the merchants context). */
  pricingOf: (accountId: string) => Promise<Pricing>;
  events?: PaymentEventSink;
  /** The card network (the cards context); without it, card payments are refused. */
  cards?: CardNetworkPort;
  now?: () => Date;
}

export type PaymentService = ReturnType<typeof createPaymentService>;

export function createPaymentService(deps: PaymentServiceDeps) {
  const { db, ledger } = deps;
  const now = deps.now ?? (() => new Date());

  async function recordEvent(tx: SqlExecutor, ctx: MerchantContext, type: string, objectId: string) {
    await deps.events?.record(tx, { accountId: ctx.accountId, livemode: ctx.livemode, type, objectId });
  }

  /** The merchant's balance account in a currency (merchant balances may go negative, as Stripe's do). */
  async function merchantAccount(ctx: MerchantContext, currency: string): Promise<string> {
    const id = transferIdFrom('payments.merchant', `${ctx.accountId}:${ctx.livemode}:${currency}`);
    const [result] = await ledger.createAccounts([
      {
        id,
        currency,
        code: paymentAccountCodes.merchantBalance,
        metadata: { account_id: ctx.accountId, livemode: ctx.livemode },
      },
    ]);
    assert(result?.result === 'ok' || result?.result === 'exists', `merchant ledger account: ${result?.result}`);
    return id;
  }

  async function feeRevenueAccount(livemode: boolean, currency: string): Promise<string> {
    const id = transferIdFrom('payments.system', `${livemode}:${currency}:fee_revenue`);
    const [result] = await ledger.createAccounts([
      { id, currency, code: paymentAccountCodes.feeRevenue, metadata: { purpose: 'fee_revenue', livemode } },
    ]);
    assert(result?.result === 'ok' || result?.result === 'exists', `fee revenue account: ${result?.result}`);
    return id;
  }

  async function findIntent(executor: SqlExecutor, ctx: MerchantContext, id: string): Promise<PaymentIntent> {
    const rows = await executor.query<Row>(
      'select * from payments_intents where id = $1 and account_id = $2 and livemode = $3',
      [id, ctx.accountId, ctx.livemode],
    );
    if (rows[0] === undefined)
      throw new AppError('not_found', { message: `No such payment_intent: '${id}'`, param: 'intent' });
    return intentFromRow(rows[0]);
  }

  async function findCharge(executor: SqlExecutor, ctx: MerchantContext, id: string): Promise<Charge> {
    const rows = await executor.query<Row>(
      'select * from payments_charges where id = $1 and account_id = $2 and livemode = $3',
      [id, ctx.accountId, ctx.livemode],
    );
    if (rows[0] === undefined) throw new AppError('not_found', { message: `No such charge: '${id}'`, param: 'charge' });
    return chargeFromRow(rows[0]);
  }

  /** Moves an intent from one of `from` to `to` in one conditional statement; false if another got there first. */
  async function transition(
    executor: SqlExecutor,
    ctx: MerchantContext,
    id: string,
    from: readonly IntentStatus[],
    to: IntentStatus,
  ): Promise<boolean> {
    const rows = await executor.query<Row>(
      `update payments_intents set status = $5, updated_at = now()
        where id = $1 and account_id = $2 and livemode = $3 and status = any($4::text[]) returning id`,
      [id, ctx.accountId, ctx.livemode, `{${from.join(',')}}`, to],
    );
    return rows.length === 1;
  }

  function unexpectedState(intent: PaymentIntent, action: string): AppError {
    return new AppError('payment_intent_unexpected_state', {
      message: `You cannot ${action} this PaymentIntent because it has a status of ${intent.status}.`,
      param: 'intent',
      details: { payment_intent: intent.id, status: intent.status },
    });
  }

  async function insertBalanceTransaction(
    tx: SqlExecutor,
    ctx: MerchantContext,
    entry: {
      type: 'charge' | 'refund';
      amount: bigint;
      fee: bigint;
      currency: string;
      sourceId: string;
      ledgerTransferId: string;
    },
  ): Promise<string> {
    const id = newId('txn');
    const createdAt = now();
    await tx.query(
      `insert into payments_balance_transactions
         (id, account_id, livemode, type, amount, fee, net, currency, source_id, status, available_on, ledger_transfer_id, created_at)
       values ($1, $2, $3, $4, $5::bigint, $6::bigint, $7::bigint, $8, $9, 'pending', $10, $11, $12)`,
      [
        id,
        ctx.accountId,
        ctx.livemode,
        entry.type,
        entry.amount,
        entry.fee,
        entry.amount - entry.fee,
        entry.currency,
        entry.sourceId,
        new Date(createdAt.getTime() + paymentLimits.availableAfterMs),
        entry.ledgerTransferId,
        createdAt,
      ],
    );
    return id;
  }

  function paymentFailure(code: TransferResultCode): { code: string; message: string } {
    switch (code) {
      case 'exceeds_credits':
        return { code: 'insufficient_funds', message: 'The wallet balance is too low for this payment.' };
      case 'account_closed':
        return { code: 'wallet_closed', message: 'The wallet is closed.' };
      default:
        throw new Error(`unexpected ledger result ${code}`);
    }
  }

  async function cardClearingAccount(livemode: boolean, currency: string): Promise<string> {
    const id = transferIdFrom('payments.system', `${livemode}:${currency}:card_network_clearing`);
    const [result] = await ledger.createAccounts([
      {
        id,
        currency,
        code: paymentAccountCodes.cardNetworkClearing,
        metadata: { purpose: 'card_network_clearing', livemode },
      },
    ]);
    assert(result?.result === 'ok' || result?.result === 'exists', `card clearing account: ${result?.result}`);
    return id;
  }

  interface ChargeClaim {
    intent: PaymentIntent;
    chargeId: string;
    fee: bigint;
    payerLedgerAccountId: string;
  }

  /** Claims a confirmable intent (no second confirmation can run) and records its charge as pending. */
  async function claimCharge(
    ctx: MerchantContext,
    intentId: string,
    payer: Payer,
    paymentMethod: { type: string; id: string | null },
  ): Promise<ChargeClaim> {
    const intent = await findIntent(db, ctx, intentId);
    const confirmable: IntentStatus[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];
    if (!confirmable.includes(intent.status)) throw unexpectedState(intent, 'confirm');
    const chargeId = newId('ch');
    const fee = paymentFee(intent.amountMinor, intent.currency, await deps.pricingOf(ctx.accountId));
    const claimed = await db.transaction(async (tx) => {
      if (!(await transition(tx, ctx, intentId, confirmable, 'processing'))) return false;
      await tx.query(
        `insert into payments_charges (id, account_id, livemode, payment_intent_id, amount, currency, fee, status,
           payment_method_details, payment_method_id, payer_ledger_account_id, created_at)
         values ($1, $2, $3, $4, $5::bigint, $6, $7::bigint, 'pending', $8::text::jsonb, $9, $10, $11)`,
        [
          chargeId,
          ctx.accountId,
          ctx.livemode,
          intentId,
          intent.amountMinor,
          intent.currency,
          fee,
          JSON.stringify(payer.details),
          paymentMethod.id,
          payer.ledgerAccountId,
          now(),
        ],
      );
      await tx.query(
        `update payments_intents set latest_charge_id = $2, payment_method_type = $3, payer_reference = $4,
           payment_method_id = $5, last_payment_error = null, next_action = null where id = $1`,
        [intentId, chargeId, paymentMethod.type, payer.reference, paymentMethod.id],
      );
      return true;
    });
    if (!claimed) throw unexpectedState(await findIntent(db, ctx, intentId), 'confirm');
    return { intent, chargeId, fee, payerLedgerAccountId: payer.ledgerAccountId };
  }

  /** Records a charge as failed and gives the intent back to the customer with Stripe's last_payment_error. */
  async function failCharge(
    ctx: MerchantContext,
    chargeId: string,
    intentId: string,
    failure: { code: string; declineCode: string | null; message: string },
  ): Promise<PaymentIntent> {
    return db.transaction(async (tx) => {
      await tx.query(
        `update payments_charges set status = 'failed', failure_code = $2, failure_message = $3, failure_decline_code = $4
          where id = $1 and status = 'pending'`,
        [chargeId, failure.code, failure.message, failure.declineCode],
      );
      const intent = await findIntent(tx, ctx, intentId);
      const lastPaymentError: Record<string, unknown> = {
        type: 'card_error',
        code: failure.code,
        ...(failure.declineCode === null ? {} : { decline_code: failure.declineCode }),
        message: failure.message,
        charge: chargeId,
        ...(intent.paymentMethodId === null ? {} : { payment_method: { id: intent.paymentMethodId } }),
      };
      await tx.query(
        `update payments_intents set status = 'requires_payment_method', last_payment_error = $2::text::jsonb,
           updated_at = now() where id = $1`,
        [intentId, JSON.stringify(lastPaymentError)],
      );
      await recordEvent(tx, ctx, 'charge.failed', chargeId);
      await recordEvent(tx, ctx, 'payment_intent.payment_failed', intentId);
      return findIntent(tx, ctx, intentId);
    });
  }

  /**
   * Moves a claimed charge's money: automatic capture posts payer → merchant and merchant → fee
   * revenue as one linked chain; manual capture reserves the amount (a pending transfer) until
   * capture or cancel. Transfer ids derive from the charge id, so posting twice posts once.
   */
  async function postCharge(ctx: MerchantContext, claim: ChargeClaim): Promise<PaymentIntent> {
    const { intent, chargeId, fee } = claim;
    const intentId = intent.id;
    const [merchantId, feeRevenueId] = await Promise.all([
      merchantAccount(ctx, intent.currency),
      feeRevenueAccount(ctx.livemode, intent.currency),
    ]);
    const chargeTransferId = transferIdFrom('payments.charge', chargeId);
    const results =
      intent.captureMethod === 'automatic'
        ? await ledger.submitTransfers([
            {
              id: chargeTransferId,
              debitAccountId: claim.payerLedgerAccountId,
              creditAccountId: merchantId,
              amountMinor: intent.amountMinor,
              currency: intent.currency,
              code: paymentTransferCodes.charge,
              linked: fee > 0n,
              metadata: { charge: chargeId },
            },
            ...feeTransfers(chargeId, { merchantId, feeRevenueId, fee, currency: intent.currency }),
          ])
        : await ledger.submitTransfers([
            {
              id: chargeTransferId,
              debitAccountId: claim.payerLedgerAccountId,
              creditAccountId: merchantId,
              amountMinor: intent.amountMinor,
              currency: intent.currency,
              code: paymentTransferCodes.charge,
              phase: 'pending',
              timeoutS: paymentLimits.authorizationHoldS,
              metadata: { charge: chargeId, capture: 'manual' },
            },
          ]);
    const failed = results.find(
      (result) => result.result !== 'ok' && result.result !== 'exists' && result.result !== 'linked_event_failed',
    );
    if (failed !== undefined) {
      const failure = paymentFailure(failed.result);
      return failCharge(ctx, chargeId, intentId, { code: failure.code, declineCode: null, message: failure.message });
    }
    return db.transaction(async (tx) => {
      if (intent.captureMethod === 'automatic') {
        const balanceTransactionId = await insertBalanceTransaction(tx, ctx, {
          type: 'charge',
          amount: intent.amountMinor,
          fee,
          currency: intent.currency,
          sourceId: chargeId,
          ledgerTransferId: chargeTransferId,
        });
        await tx.query(
          `update payments_charges set status = 'succeeded', captured = true, amount_captured = amount,
             balance_transaction_id = $2 where id = $1`,
          [chargeId, balanceTransactionId],
        );
        await tx.query(
          `update payments_intents set status = 'succeeded', amount_received = amount, updated_at = now() where id = $1`,
          [intentId],
        );
        await recordEvent(tx, ctx, 'charge.succeeded', chargeId);
        await recordEvent(tx, ctx, 'payment_intent.succeeded', intentId);
      } else {
        await tx.query(`update payments_charges set status = 'succeeded' where id = $1`, [chargeId]);
        await tx.query(
          `update payments_intents set status = 'requires_capture', amount_capturable = amount,
             reservation_transfer_id = $2, updated_at = now() where id = $1`,
          [intentId, chargeTransferId],
        );
        await recordEvent(tx, ctx, 'charge.succeeded', chargeId);
        await recordEvent(tx, ctx, 'payment_intent.amount_capturable_updated', intentId);
      }
      return findIntent(tx, ctx, intentId);
    });
  }

  /** A card refund the network did not take: the refund fails and the charge is refundable again. */
  async function failRefund(
    ctx: MerchantContext,
    chargeId: string,
    refundId: string,
    amount: bigint,
    feePart: bigint,
    failure: { code: string; declineCode: string | null; message: string },
  ): Promise<Refund> {
    return db.transaction(async (tx) => {
      await tx.query(
        `update payments_charges set amount_refunded = amount_refunded - $2::bigint, fee_refunded = fee_refunded - $3::bigint
          where id = $1`,
        [chargeId, amount, feePart],
      );
      // Stripe's failure_reason values: declined, expired_or_canceled_card, lost_or_stolen_card, unknown.
      const reason =
        failure.declineCode === 'expired_card'
          ? 'expired_or_canceled_card'
          : failure.declineCode === 'lost_card' || failure.declineCode === 'stolen_card'
            ? 'lost_or_stolen_card'
            : failure.code === 'processing_error'
              ? 'unknown'
              : 'declined';
      await tx.query(`update payments_refunds set status = 'failed', failure_reason = $2 where id = $1`, [
        refundId,
        reason,
      ]);
      await recordEvent(tx, ctx, 'refund.failed', refundId);
      const rows = await tx.query<Row>('select * from payments_refunds where id = $1', [refundId]);
      return refundFromRow(rows[0]!);
    });
  }

  return {
    async createIntent(
      ctx: MerchantContext,
      input: {
        amountMinor: bigint;
        currency: string;
        captureMethod?: 'automatic' | 'manual';
        customerId?: string | null;
        description?: string | null;
        metadata?: Record<string, string>;
      },
    ): Promise<PaymentIntent> {
      if (!isKnownCurrency(input.currency)) throw new AppError('currency_unsupported', { param: 'currency' });
      if (input.amountMinor <= 0n)
        throw new AppError('invalid_request', { message: 'amount must be positive', param: 'amount' });
      const id = newId('pi');
      const clientSecret = `${id}_secret_${randomBytes(16).toString('hex')}`;
      return db.transaction(async (tx) => {
        const rows = await tx.query<Row>(
          `insert into payments_intents (id, account_id, livemode, amount, currency, status, capture_method, customer_id,
             description, metadata, client_secret, created_at)
           values ($1, $2, $3, $4::bigint, $5, 'requires_payment_method', $6, $7, $8, $9::text::jsonb, $10, $11)
           returning *`,
          [
            id,
            ctx.accountId,
            ctx.livemode,
            input.amountMinor,
            input.currency,
            input.captureMethod ?? 'automatic',
            input.customerId ?? null,
            input.description ?? null,
            JSON.stringify(input.metadata ?? {}),
            clientSecret,
            now(),
          ],
        );
        await recordEvent(tx, ctx, 'payment_intent.created', id);
        return intentFromRow(rows[0]!);
      });
    },

    retrieveIntent: (ctx: MerchantContext, id: string) => findIntent(db, ctx, id),

    /** The ledger account card money comes in through (credited to merchants, to wallets on top-ups). */
    cardClearingAccount: (livemode: boolean, currency: string) => cardClearingAccount(livemode, currency),

    /** An intent by id alone (for a payer who scanned its QR); null when there is none. */
    async findIntentForPayer(id: string): Promise<PaymentIntent | null> {
      const rows = await db.query<Row>('select * from payments_intents where id = $1', [id]);
      return rows[0] === undefined ? null : intentFromRow(rows[0]);
    },

    /** Puts a confirmable intent in requires_action (the customer must act first, e.g. approve in the app). */
    async requireAction(
      ctx: MerchantContext,
      intentId: string,
      nextAction: Record<string, unknown>,
      paymentMethodType: string,
    ): Promise<PaymentIntent> {
      return db.transaction(async (tx) => {
        const confirmable: IntentStatus[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];
        if (!(await transition(tx, ctx, intentId, confirmable, 'requires_action'))) {
          throw unexpectedState(await findIntent(tx, ctx, intentId), 'confirm');
        }
        await tx.query(
          `update payments_intents set next_action = $2::text::jsonb, payment_method_type = $3, last_payment_error = null,
             updated_at = now() where id = $1`,
          [intentId, JSON.stringify(nextAction), paymentMethodType],
        );
        await recordEvent(tx, ctx, 'payment_intent.requires_action', intentId);
        return findIntent(tx, ctx, intentId);
      });
    },
    retrieveCharge: (ctx: MerchantContext, id: string) => findCharge(db, ctx, id),

    /** The cardholder failed (or abandoned) 3-D Secure: the intent goes back to the customer. */
    async failAuthentication(ctx: MerchantContext, intentId: string): Promise<PaymentIntent> {
      return db.transaction(async (tx) => {
        if (!(await transition(tx, ctx, intentId, ['requires_action'], 'requires_payment_method'))) {
          throw unexpectedState(await findIntent(tx, ctx, intentId), 'authenticate');
        }
        const intent = await findIntent(tx, ctx, intentId);
        const error = {
          type: 'invalid_request_error',
          code: 'payment_intent_authentication_failure',
          message:
            'The provided PaymentMethod has failed authentication. Provide a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
          ...(intent.paymentMethodId === null ? {} : { payment_method: { id: intent.paymentMethodId } }),
        };
        await tx.query(
          `update payments_intents set last_payment_error = $2::text::jsonb, next_action = null, updated_at = now()
            where id = $1`,
          [intentId, JSON.stringify(error)],
        );
        await recordEvent(tx, ctx, 'payment_intent.payment_failed', intentId);
        return findIntent(tx, ctx, intentId);
      });
    },

    /** Sets the PaymentMethod an unconfirmed intent will be confirmed with (it then requires confirmation). */
    async setPaymentMethod(
      ctx: MerchantContext,
      intentId: string,
      paymentMethodId: string,
      paymentMethodType: string,
    ): Promise<PaymentIntent> {
      return db.transaction(async (tx) => {
        const settable: IntentStatus[] = ['requires_payment_method', 'requires_confirmation'];
        if (!(await transition(tx, ctx, intentId, settable, 'requires_confirmation'))) {
          throw unexpectedState(await findIntent(tx, ctx, intentId), 'update');
        }
        await tx.query(
          `update payments_intents set payment_method_id = $2, payment_method_type = $3, updated_at = now() where id = $1`,
          [intentId, paymentMethodId, paymentMethodType],
        );
        return findIntent(tx, ctx, intentId);
      });
    },

    /**
     * Confirms an intent with a payer whose funds the ledger can move: automatic capture posts
     * payer → merchant and merchant → fee revenue as one linked chain; manual capture reserves the
     * amount (a pending transfer) until capture or cancel.
     */
    async confirmWithPayer(
      ctx: MerchantContext,
      intentId: string,
      payer: Payer,
      paymentMethodType: string,
    ): Promise<PaymentIntent> {
      const claim = await claimCharge(ctx, intentId, payer, { type: paymentMethodType, id: null });
      return postCharge(ctx, claim);
    },

    /**
     * Confirms an intent with a card PaymentMethod: the charge is recorded as pending first, then
     * the card network is asked (outside any transaction), then the answer is recorded. An approval
     * credits the merchant from the card network clearing account; a decline leaves the intent in
     * requires_payment_method with Stripe's last_payment_error.
     */
    async confirmWithCard(
      ctx: MerchantContext,
      intentId: string,
      card: CardForPayment,
      options: { authenticated?: boolean } = {},
    ): Promise<PaymentIntent> {
      const network = deps.cards;
      if (network === undefined) {
        throw new AppError('processing_error', { message: 'Card payments are not enabled on this platform.' });
      }
      const intent = await findIntent(db, ctx, intentId);
      const payer: Payer = {
        ledgerAccountId: await cardClearingAccount(ctx.livemode, intent.currency),
        reference: card.reference,
        details: { type: 'card', card: card.details },
      };
      const claim = await claimCharge(ctx, intentId, payer, { type: 'card', id: card.paymentMethodId });
      let outcome: CardNetworkOutcome;
      try {
        outcome = await network.authorize({
          ctx,
          chargeId: claim.chargeId,
          paymentMethodId: card.paymentMethodId,
          amountMinor: claim.intent.amountMinor,
          currency: claim.intent.currency,
          captureMethod: claim.intent.captureMethod,
          authenticated: options.authenticated === true,
        });
      } catch (error) {
        // The gateway records every attempt before it sends: an error here means it could not even
        // record one (e.g. the card could not be read). Nothing reached the network.
        await failCharge(ctx, claim.chargeId, intentId, {
          code: 'processing_error',
          declineCode: null,
          message: 'An error occurred while processing the card.',
        });
        throw error;
      }
      if (!outcome.approved) return failCharge(ctx, claim.chargeId, intentId, outcome);
      return postCharge(ctx, claim);
    },

    /**
     * Finishes card charges a crash left pending (the worker calls this): approved ones are posted,
     * failed ones recorded; those whose network outcome is not settled yet are left for the next run.
     */
    async recoverCardCharges(options: { olderThanMs: number; batchSizeMax: number }): Promise<number> {
      const network = deps.cards;
      if (network === undefined) return 0;
      const rows = await db.query<Row>(
        `select * from payments_charges
          where status = 'pending' and payment_method_details->>'type' = 'card' and created_at < $1
          order by created_at limit $2`,
        [new Date(now().getTime() - options.olderThanMs), options.batchSizeMax],
      );
      let recovered = 0;
      for (const row of rows) {
        const charge = chargeFromRow(row);
        const ctx = { accountId: charge.accountId, livemode: charge.livemode };
        const outcome = await network.outcomeOf(charge.id);
        if (outcome === null) continue;
        const intent = await findIntent(db, ctx, charge.paymentIntentId);
        if (intent.status !== 'processing' || intent.latestChargeId !== charge.id) continue;
        if (outcome.approved) {
          await postCharge(ctx, {
            intent,
            chargeId: charge.id,
            fee: charge.feeMinor,
            payerLedgerAccountId: charge.payerLedgerAccountId,
          });
        } else {
          await failCharge(ctx, charge.id, intent.id, outcome);
        }
        recovered += 1;
      }
      return recovered;
    },

    /** Captures all or part of a reserved amount; the rest is released to the payer. */
    async capture(ctx: MerchantContext, intentId: string, amountToCaptureMinor?: bigint): Promise<PaymentIntent> {
      const intent = await findIntent(db, ctx, intentId);
      if (intent.status !== 'requires_capture') throw unexpectedState(intent, 'capture');
      const amount = amountToCaptureMinor ?? intent.amountCapturableMinor;
      if (amount <= 0n || amount > intent.amountCapturableMinor) {
        throw new AppError('invalid_request', {
          message: `amount_to_capture must be from 1 to ${intent.amountCapturableMinor}.`,
          param: 'amount_to_capture',
        });
      }
      if (!(await transition(db, ctx, intentId, ['requires_capture'], 'processing'))) {
        throw unexpectedState(await findIntent(db, ctx, intentId), 'capture');
      }
      const chargeId = intent.latestChargeId;
      assert(chargeId !== null, 'a capturable intent has a charge');
      if (intent.paymentMethodType === 'card') {
        assert(deps.cards !== undefined, 'a card intent implies a card network');
        const outcome = await deps.cards
          .capture({ ctx, chargeId, amountMinor: amount })
          .catch(async (error: unknown) => {
            await transition(db, ctx, intentId, ['processing'], 'requires_capture');
            throw error;
          });
        if (!outcome.approved) {
          await transition(db, ctx, intentId, ['processing'], 'requires_capture');
          throw new AppError('card_declined', {
            message: `The card network refused the capture: ${outcome.message}`,
            details: { decline_code: outcome.declineCode ?? outcome.code, charge: chargeId },
          });
        }
      }
      const [merchantId, feeRevenueId, pricing] = await Promise.all([
        merchantAccount(ctx, intent.currency),
        feeRevenueAccount(ctx.livemode, intent.currency),
        deps.pricingOf(ctx.accountId),
      ]);
      const fee = paymentFee(amount, intent.currency, pricing);
      const reservationId = transferIdFrom('payments.charge', chargeId);
      const captureTransferId = transferIdFrom('payments.capture', chargeId);
      const results = await ledger.submitTransfers([
        {
          id: captureTransferId,
          phase: 'post_pending',
          pendingId: reservationId,
          amountMinor: amount,
          code: paymentTransferCodes.charge,
          linked: fee > 0n,
          metadata: { charge: chargeId },
        },
        ...feeTransfers(chargeId, { merchantId, feeRevenueId, fee, currency: intent.currency }),
      ]);
      const failed = results.find((result) => result.result !== 'ok' && result.result !== 'exists');
      if (failed !== undefined) {
        if (failed.result === 'pending_transfer_expired' || failed.result === 'linked_event_failed') {
          await db.transaction(async (tx) => {
            await tx.query(
              `update payments_intents set status = 'canceled', canceled_at = now(), cancellation_reason = 'automatic',
                 amount_capturable = 0 where id = $1`,
              [intentId],
            );
            await recordEvent(tx, ctx, 'payment_intent.canceled', intentId);
          });
          throw new AppError('payment_intent_unexpected_state', {
            message: 'The authorization expired before capture.',
            param: 'intent',
          });
        }
        throw new Error(`unexpected ledger result on capture: ${failed.result}`);
      }
      return db.transaction(async (tx) => {
        const balanceTransactionId = await insertBalanceTransaction(tx, ctx, {
          type: 'charge',
          amount,
          fee,
          currency: intent.currency,
          sourceId: chargeId,
          ledgerTransferId: captureTransferId,
        });
        await tx.query(
          `update payments_charges set captured = true, amount_captured = $2::bigint, fee = $3::bigint,
             balance_transaction_id = $4 where id = $1`,
          [chargeId, amount, fee, balanceTransactionId],
        );
        await tx.query(
          `update payments_intents set status = 'succeeded', amount_received = $2::bigint, amount_capturable = 0,
             updated_at = now() where id = $1`,
          [intentId, amount],
        );
        await recordEvent(tx, ctx, 'charge.captured', chargeId);
        await recordEvent(tx, ctx, 'payment_intent.succeeded', intentId);
        return findIntent(tx, ctx, intentId);
      });
    },

    /** Cancels an intent that has not succeeded; a reservation is released to the payer. */
    async cancel(ctx: MerchantContext, intentId: string, reason: string | null): Promise<PaymentIntent> {
      const intent = await findIntent(db, ctx, intentId);
      const cancelable: IntentStatus[] = [
        'requires_payment_method',
        'requires_confirmation',
        'requires_action',
        'requires_capture',
      ];
      if (!(await transition(db, ctx, intentId, cancelable, 'processing'))) throw unexpectedState(intent, 'cancel');
      if (
        intent.status === 'requires_capture' &&
        intent.latestChargeId !== null &&
        intent.paymentMethodType === 'card'
      ) {
        assert(deps.cards !== undefined, 'a card intent implies a card network');
        // The gateway records the reversal before sending it and repeats it until the network confirms.
        await deps.cards.void({ ctx, chargeId: intent.latestChargeId });
      }
      if (intent.status === 'requires_capture' && intent.latestChargeId !== null) {
        const [result] = await ledger.submitTransfers([
          {
            id: transferIdFrom('payments.void', intent.latestChargeId),
            phase: 'void_pending',
            pendingId: transferIdFrom('payments.charge', intent.latestChargeId),
            code: paymentTransferCodes.charge,
          },
        ]);
        assert(
          result?.result === 'ok' || result?.result === 'exists' || result?.result === 'pending_transfer_expired',
          `void on cancel: ${result?.result}`,
        );
      }
      return db.transaction(async (tx) => {
        await tx.query(
          `update payments_intents set status = 'canceled', canceled_at = $2, cancellation_reason = $3, amount_capturable = 0,
             updated_at = now() where id = $1`,
          [intentId, now(), reason],
        );
        await recordEvent(tx, ctx, 'payment_intent.canceled', intentId);
        return findIntent(tx, ctx, intentId);
      });
    },

    /**
     * Refunds all or part of a captured charge. The refundable amount is reserved with one
     * conditional UPDATE, so concurrent refunds can never together pass what was captured; the fee
     * is given back in proportion, computed on the running total (see fees.ts).
     */
    async refund(
      ctx: MerchantContext,
      input: { chargeId: string; amountMinor?: bigint; reason?: string | null; metadata?: Record<string, string> },
    ): Promise<Refund> {
      const charge = await findCharge(db, ctx, input.chargeId);
      if (!charge.captured || charge.status !== 'succeeded') {
        throw new AppError('charge_not_refundable', { param: 'charge', message: 'This charge has not been captured.' });
      }
      const amount = input.amountMinor ?? charge.amountCapturedMinor - charge.amountRefundedMinor;
      if (amount <= 0n) {
        throw new AppError('charge_already_refunded', {
          param: 'charge',
          message: 'This charge has been refunded in full.',
        });
      }
      const reserved = await db.query<{ refunded_before: bigint; fee_part: string }>(
        `update payments_charges
            set amount_refunded = amount_refunded + $4::bigint,
                fee_refunded = floor(fee::numeric * (amount_refunded + $4::bigint) / amount_captured)::bigint
          where id = $1 and account_id = $2 and livemode = $3 and amount_refunded + $4::bigint <= amount_captured
          returning amount_refunded - $4::bigint as refunded_before,
                    (fee_refunded - floor(fee::numeric * (amount_refunded - $4::bigint) / amount_captured))::text as fee_part`,
        [charge.id, ctx.accountId, ctx.livemode, amount],
      );
      if (reserved.length === 0) {
        const current = await findCharge(db, ctx, charge.id);
        throw new AppError('amount_too_large', {
          param: 'amount',
          message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${current.amountCapturedMinor - current.amountRefundedMinor}).`,
        });
      }
      const feePart = BigInt(reserved[0]!.fee_part);
      const refundId = newId('re');
      const payer = charge.payerLedgerAccountId;
      const [merchantId, feeRevenueId] = await Promise.all([
        merchantAccount(ctx, charge.currency),
        feeRevenueAccount(ctx.livemode, charge.currency),
      ]);
      await db.query(
        `insert into payments_refunds (id, account_id, livemode, charge_id, payment_intent_id, amount, fee_refunded, currency,
           status, reason, metadata, created_at)
         values ($1, $2, $3, $4, $5, $6::bigint, $7::bigint, $8, 'pending', $9, $10::text::jsonb, $11)`,
        [
          refundId,
          ctx.accountId,
          ctx.livemode,
          charge.id,
          charge.paymentIntentId,
          amount,
          feePart,
          charge.currency,
          input.reason ?? null,
          JSON.stringify(input.metadata ?? {}),
          now(),
        ],
      );
      if (charge.paymentMethodDetails.type === 'card') {
        assert(deps.cards !== undefined && charge.paymentMethodId !== null, 'a card charge implies a card network');
        const outcome = await deps.cards
          .refund({
            ctx,
            refundId,
            paymentMethodId: charge.paymentMethodId,
            amountMinor: amount,
            currency: charge.currency,
          })
          .catch((error: unknown): CardNetworkOutcome => {
            // Only a fault before anything was sent lands here (network trouble is an outcome).
            if (!(error instanceof AppError)) throw error;
            return { approved: false, code: 'processing_error', declineCode: null, message: error.message };
          });
        if (!outcome.approved) return failRefund(ctx, charge.id, refundId, amount, feePart, outcome);
      }
      const refundTransferId = transferIdFrom('payments.refund', refundId);
      const results = await ledger.submitTransfers([
        {
          id: refundTransferId,
          debitAccountId: merchantId,
          creditAccountId: payer,
          amountMinor: amount,
          currency: charge.currency,
          code: paymentTransferCodes.refund,
          linked: feePart > 0n,
          metadata: { refund: refundId },
        },
        ...(feePart > 0n
          ? [
              {
                id: transferIdFrom('payments.fee_refund', refundId),
                debitAccountId: feeRevenueId,
                creditAccountId: merchantId,
                amountMinor: feePart,
                currency: charge.currency,
                code: paymentTransferCodes.feeRefund,
                metadata: { refund: refundId },
              },
            ]
          : []),
      ]);
      // Merchant balances may go negative, so a refund can fail only through a bug: crash loudly.
      assert(
        results.every((result) => result.result === 'ok' || result.result === 'exists'),
        `refund transfers: ${results.map((result) => result.result).join(', ')}`,
      );
      return db.transaction(async (tx) => {
        const balanceTransactionId = await insertBalanceTransaction(tx, ctx, {
          type: 'refund',
          amount: -amount,
          fee: -feePart,
          currency: charge.currency,
          sourceId: refundId,
          ledgerTransferId: refundTransferId,
        });
        await tx.query(`update payments_refunds set status = 'succeeded', balance_transaction_id = $2 where id = $1`, [
          refundId,
          balanceTransactionId,
        ]);
        await recordEvent(tx, ctx, 'charge.refunded', charge.id);
        await recordEvent(tx, ctx, 'refund.created', refundId);
        const rows = await tx.query<Row>('select * from payments_refunds where id = $1', [refundId]);
        return refundFromRow(rows[0]!);
      });
    },

    async balanceTransaction(ctx: MerchantContext, id: string): Promise<BalanceTransaction> {
      const rows = await db.query<Row>(
        'select * from payments_balance_transactions where id = $1 and account_id = $2 and livemode = $3',
        [id, ctx.accountId, ctx.livemode],
      );
      if (rows[0] === undefined)
        throw new AppError('not_found', { message: `No such balance transaction: '${id}'`, param: 'id' });
      return balanceTransactionFromRow(rows[0]);
    },

    /** Pending and available per currency, from the balance transactions (the ledger agrees: see tests). */
    async balance(ctx: MerchantContext): Promise<{ currency: string; availableMinor: bigint; pendingMinor: bigint }[]> {
      const rows = await db.query<{ currency: string; available: bigint; pending: bigint }>(
        `select currency,
                coalesce(sum(net) filter (where available_on <= $3), 0)::bigint as available,
                coalesce(sum(net) filter (where available_on > $3), 0)::bigint as pending
           from payments_balance_transactions where account_id = $1 and livemode = $2
          group by currency order by currency`,
        [ctx.accountId, ctx.livemode, now()],
      );
      return rows.map((row) => ({ currency: row.currency, availableMinor: row.available, pendingMinor: row.pending }));
    },

    /** The merchant's ledger balance in a currency (credits − debits). */
    async ledgerBalance(ctx: MerchantContext, currency: string): Promise<bigint> {
      const [account] = await ledger.lookupAccounts([await merchantAccount(ctx, currency)]);
      assert(account !== undefined, 'the merchant account exists');
      return account.creditsPostedMinor - account.debitsPostedMinor;
    },

    async updateIntent(
      ctx: MerchantContext,
      intentId: string,
      input: {
        amountMinor?: bigint;
        description?: string | null;
        metadata?: Record<string, string>;
        customerId?: string | null;
      },
    ): Promise<PaymentIntent> {
      return db.transaction(async (tx) => {
        const intent = await findIntent(tx, ctx, intentId);
        const amountChangeable = ['requires_payment_method', 'requires_confirmation'].includes(intent.status);
        if (input.amountMinor !== undefined && !amountChangeable) throw unexpectedState(intent, 'update the amount of');
        if (input.amountMinor !== undefined && input.amountMinor <= 0n) {
          throw new AppError('invalid_request', { message: 'amount must be positive', param: 'amount' });
        }
        await tx.query(
          `update payments_intents set
             amount = coalesce($4::bigint, amount),
             description = case when $5::boolean then $6 else description end,
             metadata = coalesce($7::text::jsonb, metadata),
             customer_id = case when $8::boolean then $9 else customer_id end,
             updated_at = now()
           where id = $1 and account_id = $2 and livemode = $3`,
          [
            intentId,
            ctx.accountId,
            ctx.livemode,
            input.amountMinor ?? null,
            input.description !== undefined,
            input.description ?? null,
            input.metadata === undefined ? null : JSON.stringify(input.metadata),
            input.customerId !== undefined,
            input.customerId ?? null,
          ],
        );
        await recordEvent(tx, ctx, 'payment_intent.updated', intentId);
        return findIntent(tx, ctx, intentId);
      });
    },

    async retrieveRefund(ctx: MerchantContext, id: string): Promise<Refund> {
      const rows = await db.query<Row>(
        'select * from payments_refunds where id = $1 and account_id = $2 and livemode = $3',
        [id, ctx.accountId, ctx.livemode],
      );
      if (rows[0] === undefined) throw new AppError('not_found', { message: `No such refund: '${id}'`, param: 'id' });
      return refundFromRow(rows[0]);
    },

    /** A page of a payments table, newest first, with optional equality filters (column → value). */
    async list<T>(
      ctx: MerchantContext,
      table: 'intents' | 'charges' | 'refunds' | 'balance_transactions',
      page: PageRequest,
      filters: Partial<Record<'customer_id' | 'payment_intent_id' | 'charge_id' | 'type' | 'source_id', string>>,
    ): Promise<{ data: T[]; hasMore: boolean }> {
      const mappers = {
        intents: intentFromRow,
        charges: chargeFromRow,
        refunds: refundFromRow,
        balance_transactions: balanceTransactionFromRow,
      } as const;
      const objectNames = {
        intents: 'payment_intent',
        charges: 'charge',
        refunds: 'refund',
        balance_transactions: 'balance_transaction',
      } as const;
      const result = await fetchPage<Row>(db, {
        table: `payments_${table}`,
        columns: '*',
        accountId: ctx.accountId,
        livemode: ctx.livemode,
        page,
        where: Object.entries(filters)
          .filter(([, value]) => value !== undefined)
          .map(([column, value]) => ({ sql: `${column} = ?`, params: [value] })),
        objectName: objectNames[table],
      });
      return { data: result.rows.map((row) => mappers[table](row) as T), hasMore: result.hasMore };
    },

    async refundsOf(ctx: MerchantContext, chargeId: string): Promise<Refund[]> {
      const rows = await db.query<Row>(
        `select * from payments_refunds where charge_id = $1 and account_id = $2 and livemode = $3 order by created_at desc, id desc`,
        [chargeId, ctx.accountId, ctx.livemode],
      );
      return rows.map(refundFromRow);
    },
  };
}

export { chargeFromRow, intentFromRow, refundFromRow, balanceTransactionFromRow };

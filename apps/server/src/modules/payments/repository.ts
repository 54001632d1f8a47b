import type { Db, SqlExecutor } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import { fetchPage, type PageRequest } from '../../v1/index.js';
import {
  newId,
  paymentLimits,
  type BalanceTransaction,
  type Charge,
  type IntentStatus,
  type MerchantContext,
  type PaymentIntent,
  type Refund,
} from './model.js';

/**
 * The payments context's SQL: row mappers (one style: a typed row interface and a function from it
 * to the domain object), reads, and the inserts and field updates that are not status changes
 * (those are in state-machine.ts). No rules here: the workflows decide.
 */

export interface IntentRow {
  id: string;
  account_id: string;
  livemode: boolean;
  amount: bigint;
  currency: string;
  status: IntentStatus;
  capture_method: 'automatic' | 'manual';
  amount_capturable: bigint;
  amount_received: bigint;
  customer_id: string | null;
  description: string | null;
  metadata: Record<string, string>;
  client_secret: string;
  payment_method_type: string | null;
  payment_method_id: string | null;
  latest_charge_id: string | null;
  last_payment_error: Record<string, unknown> | null;
  next_action: Record<string, unknown> | null;
  canceled_at: Date | null;
  cancellation_reason: string | null;
  pending_action: 'capture' | 'cancel' | null;
  pending_amount: bigint | null;
  pending_reason: string | null;
  pending_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface ChargeRow {
  id: string;
  account_id: string;
  livemode: boolean;
  payment_intent_id: string;
  amount: bigint;
  amount_captured: bigint;
  amount_refunded: bigint;
  currency: string;
  fee: bigint;
  fee_refunded: bigint;
  status: Charge['status'];
  captured: boolean;
  payment_method_details: Record<string, unknown>;
  payment_method_id: string | null;
  payer_ledger_account_id: string;
  payer_hold_id: string | null;
  balance_transaction_id: string | null;
  failure_code: string | null;
  failure_decline_code: string | null;
  failure_message: string | null;
  created_at: Date;
}

interface RefundRow {
  id: string;
  account_id: string;
  livemode: boolean;
  charge_id: string;
  payment_intent_id: string;
  amount: bigint;
  fee_refunded: bigint;
  currency: string;
  status: Refund['status'];
  reason: string | null;
  failure_reason: string | null;
  metadata: Record<string, string>;
  balance_transaction_id: string | null;
  created_at: Date;
}

interface BalanceTransactionRow {
  id: string;
  account_id: string;
  livemode: boolean;
  type: 'charge' | 'refund';
  amount: bigint;
  fee: bigint;
  net: bigint;
  currency: string;
  source_id: string;
  status: 'pending' | 'available';
  available_on: Date;
  created_at: Date;
}

export function intentFromRow(row: IntentRow): PaymentIntent {
  return {
    id: row.id,
    accountId: row.account_id,
    livemode: row.livemode,
    amountMinor: row.amount,
    currency: row.currency,
    status: row.status,
    captureMethod: row.capture_method,
    amountCapturableMinor: row.amount_capturable,
    amountReceivedMinor: row.amount_received,
    customerId: row.customer_id,
    description: row.description,
    metadata: row.metadata,
    clientSecret: row.client_secret,
    paymentMethodType: row.payment_method_type,
    paymentMethodId: row.payment_method_id ?? null,
    latestChargeId: row.latest_charge_id,
    lastPaymentError: row.last_payment_error,
    nextAction: row.next_action,
    canceledAt: row.canceled_at,
    cancellationReason: row.cancellation_reason,
    pendingAction:
      row.pending_action === null || row.pending_since === null
        ? null
        : {
            action: row.pending_action,
            amountMinor: row.pending_amount,
            reason: row.pending_reason,
            since: row.pending_since,
          },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function chargeFromRow(row: ChargeRow): Charge {
  return {
    id: row.id,
    accountId: row.account_id,
    livemode: row.livemode,
    paymentIntentId: row.payment_intent_id,
    amountMinor: row.amount,
    amountCapturedMinor: row.amount_captured,
    amountRefundedMinor: row.amount_refunded,
    currency: row.currency,
    feeMinor: row.fee,
    feeRefundedMinor: row.fee_refunded,
    status: row.status,
    captured: row.captured,
    paymentMethodDetails: row.payment_method_details,
    paymentMethodId: row.payment_method_id ?? null,
    payerLedgerAccountId: row.payer_ledger_account_id,
    payerHoldId: row.payer_hold_id ?? null,
    balanceTransactionId: row.balance_transaction_id,
    failureCode: row.failure_code,
    failureDeclineCode: row.failure_decline_code ?? null,
    failureMessage: row.failure_message,
    createdAt: row.created_at,
  };
}

export function refundFromRow(row: RefundRow): Refund {
  return {
    id: row.id,
    accountId: row.account_id,
    livemode: row.livemode,
    chargeId: row.charge_id,
    paymentIntentId: row.payment_intent_id,
    amountMinor: row.amount,
    feeRefundedMinor: row.fee_refunded,
    currency: row.currency,
    status: row.status,
    reason: row.reason,
    failureReason: row.failure_reason ?? null,
    metadata: row.metadata,
    balanceTransactionId: row.balance_transaction_id,
    createdAt: row.created_at,
  };
}

export function balanceTransactionFromRow(row: BalanceTransactionRow): BalanceTransaction {
  return {
    id: row.id,
    accountId: row.account_id,
    livemode: row.livemode,
    type: row.type,
    amountMinor: row.amount,
    feeMinor: row.fee,
    netMinor: row.net,
    currency: row.currency,
    sourceId: row.source_id,
    status: row.status,
    availableOn: row.available_on,
    createdAt: row.created_at,
  };
}

const scoped = 'id = $1 and account_id = $2 and livemode = $3';

function notFound(object: string, id: string, param: string): AppError {
  return new AppError('not_found', { message: `No such ${object}: '${id}'`, param });
}

// --- intents ------------------------------------------------------------------------------

export async function findIntent(executor: SqlExecutor, ctx: MerchantContext, id: string): Promise<PaymentIntent> {
  const rows = await executor.query<IntentRow>(`select * from payments_intents where ${scoped}`, [
    id,
    ctx.accountId,
    ctx.livemode,
  ]);
  if (rows[0] === undefined) throw notFound('payment_intent', id, 'intent');
  return intentFromRow(rows[0]);
}

/** An intent by id alone (a payer who scanned its QR, the recovery sweep); null when there is none. */
export async function intentById(executor: SqlExecutor, id: string): Promise<PaymentIntent | null> {
  const rows = await executor.query<IntentRow>('select * from payments_intents where id = $1', [id]);
  return rows[0] === undefined ? null : intentFromRow(rows[0]);
}

export async function insertIntent(
  executor: SqlExecutor,
  ctx: MerchantContext,
  intent: {
    id: string;
    amountMinor: bigint;
    currency: string;
    captureMethod: 'automatic' | 'manual';
    customerId: string | null;
    description: string | null;
    metadata: Record<string, string>;
    clientSecret: string;
    createdAt: Date;
  },
): Promise<PaymentIntent | null> {
  const rows = await executor.query<IntentRow>(
    `insert into payments_intents (id, account_id, livemode, amount, currency, status, capture_method, customer_id,
       description, metadata, client_secret, created_at)
     values ($1, $2, $3, $4::bigint, $5, 'requires_payment_method', $6, $7, $8, $9::text::jsonb, $10, $11)
     on conflict (id) do nothing
     returning *`,
    [
      intent.id,
      ctx.accountId,
      ctx.livemode,
      intent.amountMinor,
      intent.currency,
      intent.captureMethod,
      intent.customerId,
      intent.description,
      JSON.stringify(intent.metadata),
      intent.clientSecret,
      intent.createdAt,
    ],
  );
  return rows[0] === undefined ? null : intentFromRow(rows[0]);
}

/** The merchant's own fields of an intent (not its status): amount, description, metadata, customer. */
export async function updateIntentFields(
  executor: SqlExecutor,
  ctx: MerchantContext,
  id: string,
  input: {
    amountMinor?: bigint;
    description?: string | null;
    metadata?: Record<string, string>;
    customerId?: string | null;
  },
): Promise<void> {
  await executor.query(
    `update payments_intents set
       amount = coalesce($4::bigint, amount),
       description = case when $5::boolean then $6 else description end,
       metadata = coalesce($7::text::jsonb, metadata),
       customer_id = case when $8::boolean then $9 else customer_id end,
       updated_at = now()
     where ${scoped}`,
    [
      id,
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
}

// --- charges ------------------------------------------------------------------------------

export async function findCharge(executor: SqlExecutor, ctx: MerchantContext, id: string): Promise<Charge> {
  const rows = await executor.query<ChargeRow>(`select * from payments_charges where ${scoped}`, [
    id,
    ctx.accountId,
    ctx.livemode,
  ]);
  if (rows[0] === undefined) throw notFound('charge', id, 'charge');
  return chargeFromRow(rows[0]);
}

export async function chargeById(executor: SqlExecutor, id: string): Promise<Charge | null> {
  const rows = await executor.query<ChargeRow>('select * from payments_charges where id = $1', [id]);
  return rows[0] === undefined ? null : chargeFromRow(rows[0]);
}

export async function insertCharge(
  executor: SqlExecutor,
  ctx: MerchantContext,
  charge: {
    id: string;
    intentId: string;
    amountMinor: bigint;
    currency: string;
    feeMinor: bigint;
    paymentMethodDetails: Record<string, unknown>;
    paymentMethodId: string | null;
    payerLedgerAccountId: string;
    payerHoldId: string | null;
    createdAt: Date;
  },
): Promise<void> {
  await executor.query(
    `insert into payments_charges (id, account_id, livemode, payment_intent_id, amount, currency, fee, status,
       payment_method_details, payment_method_id, payer_ledger_account_id, payer_hold_id, created_at)
     values ($1, $2, $3, $4, $5::bigint, $6, $7::bigint, 'pending', $8::text::jsonb, $9, $10, $11, $12)`,
    [
      charge.id,
      ctx.accountId,
      ctx.livemode,
      charge.intentId,
      charge.amountMinor,
      charge.currency,
      charge.feeMinor,
      JSON.stringify(charge.paymentMethodDetails),
      charge.paymentMethodId,
      charge.payerLedgerAccountId,
      charge.payerHoldId,
      charge.createdAt,
    ],
  );
}

/** A captured amount and its fee on a charge that was authorized (manual capture). */
export async function recordCapture(
  executor: SqlExecutor,
  chargeId: string,
  capture: { amountMinor: bigint; feeMinor: bigint; balanceTransactionId: string },
): Promise<boolean> {
  const rows = await executor.query(
    `update payments_charges set captured = true, amount_captured = $2::bigint, fee = $3::bigint,
       balance_transaction_id = $4
      where id = $1 and status = 'succeeded' and not captured returning id`,
    [chargeId, capture.amountMinor, capture.feeMinor, capture.balanceTransactionId],
  );
  return rows.length === 1;
}

/**
 * Reserves `amount` of a charge's captured amount for a refund, with one conditional statement:
 * concurrent refunds can never together pass what was captured. The fee share given back is
 * computed on the running total (fees.ts refundedFee). null when the amount is not there.
 */
export async function reserveRefund(
  executor: SqlExecutor,
  ctx: MerchantContext,
  chargeId: string,
  amountMinor: bigint,
): Promise<{ feePartMinor: bigint } | null> {
  const rows = await executor.query<{ fee_part: string }>(
    `update payments_charges
        set amount_refunded = amount_refunded + $4::bigint,
            fee_refunded = floor(fee::numeric * (amount_refunded + $4::bigint) / amount_captured)::bigint
      where ${scoped} and amount_refunded + $4::bigint <= amount_captured
      returning (fee_refunded - floor(fee::numeric * (amount_refunded - $4::bigint) / amount_captured))::text as fee_part`,
    [chargeId, ctx.accountId, ctx.livemode, amountMinor],
  );
  return rows[0] === undefined ? null : { feePartMinor: BigInt(rows[0].fee_part) };
}

/** Gives a failed refund's reservation back to the charge. */
export async function unreserveRefund(
  executor: SqlExecutor,
  chargeId: string,
  amounts: { amountMinor: bigint; feePartMinor: bigint },
): Promise<void> {
  await executor.query(
    `update payments_charges set amount_refunded = amount_refunded - $2::bigint, fee_refunded = fee_refunded - $3::bigint
      where id = $1`,
    [chargeId, amounts.amountMinor, amounts.feePartMinor],
  );
}

// --- refunds ------------------------------------------------------------------------------

export async function findRefund(executor: SqlExecutor, ctx: MerchantContext, id: string): Promise<Refund> {
  const rows = await executor.query<RefundRow>(`select * from payments_refunds where ${scoped}`, [
    id,
    ctx.accountId,
    ctx.livemode,
  ]);
  if (rows[0] === undefined) throw notFound('refund', id, 'id');
  return refundFromRow(rows[0]);
}

export async function refundById(executor: SqlExecutor, id: string): Promise<Refund | null> {
  const rows = await executor.query<RefundRow>('select * from payments_refunds where id = $1', [id]);
  return rows[0] === undefined ? null : refundFromRow(rows[0]);
}

export async function insertRefund(
  executor: SqlExecutor,
  ctx: MerchantContext,
  refund: {
    id: string;
    chargeId: string;
    intentId: string;
    amountMinor: bigint;
    feeRefundedMinor: bigint;
    currency: string;
    reason: string | null;
    metadata: Record<string, string>;
    createdAt: Date;
  },
): Promise<void> {
  await executor.query(
    `insert into payments_refunds (id, account_id, livemode, charge_id, payment_intent_id, amount, fee_refunded, currency,
       status, reason, metadata, created_at)
     values ($1, $2, $3, $4, $5, $6::bigint, $7::bigint, $8, 'pending', $9, $10::text::jsonb, $11)`,
    [
      refund.id,
      ctx.accountId,
      ctx.livemode,
      refund.chargeId,
      refund.intentId,
      refund.amountMinor,
      refund.feeRefundedMinor,
      refund.currency,
      refund.reason,
      JSON.stringify(refund.metadata),
      refund.createdAt,
    ],
  );
}

export async function refundsOfCharge(executor: SqlExecutor, ctx: MerchantContext, chargeId: string) {
  const rows = await executor.query<RefundRow>(
    `select * from payments_refunds where charge_id = $1 and account_id = $2 and livemode = $3
      order by created_at desc, id desc`,
    [chargeId, ctx.accountId, ctx.livemode],
  );
  return rows.map(refundFromRow);
}

// --- balance transactions -----------------------------------------------------------------

export async function insertBalanceTransaction(
  executor: SqlExecutor,
  ctx: MerchantContext,
  entry: {
    type: 'charge' | 'refund';
    amountMinor: bigint;
    feeMinor: bigint;
    currency: string;
    sourceId: string;
    ledgerTransferId: string;
    createdAt: Date;
  },
): Promise<string> {
  const id = newId('txn');
  await executor.query(
    `insert into payments_balance_transactions
       (id, account_id, livemode, type, amount, fee, net, currency, source_id, status, available_on, ledger_transfer_id, created_at)
     values ($1, $2, $3, $4, $5::bigint, $6::bigint, $7::bigint, $8, $9, 'pending', $10, $11, $12)`,
    [
      id,
      ctx.accountId,
      ctx.livemode,
      entry.type,
      entry.amountMinor,
      entry.feeMinor,
      entry.amountMinor - entry.feeMinor,
      entry.currency,
      entry.sourceId,
      new Date(entry.createdAt.getTime() + paymentLimits.availableAfterMs),
      entry.ledgerTransferId,
      entry.createdAt,
    ],
  );
  return id;
}

export async function findBalanceTransaction(
  executor: SqlExecutor,
  ctx: MerchantContext,
  id: string,
): Promise<BalanceTransaction> {
  const rows = await executor.query<BalanceTransactionRow>(
    `select * from payments_balance_transactions where ${scoped}`,
    [id, ctx.accountId, ctx.livemode],
  );
  if (rows[0] === undefined) throw notFound('balance transaction', id, 'id');
  return balanceTransactionFromRow(rows[0]);
}

/** Pending and available per currency, from the balance transactions. */
export async function balanceByCurrency(executor: SqlExecutor, ctx: MerchantContext, at: Date) {
  const rows = await executor.query<{ currency: string; available: bigint; pending: bigint }>(
    `select currency,
            coalesce(sum(net) filter (where available_on <= $3), 0)::bigint as available,
            coalesce(sum(net) filter (where available_on > $3), 0)::bigint as pending
       from payments_balance_transactions where account_id = $1 and livemode = $2
      group by currency order by currency`,
    [ctx.accountId, ctx.livemode, at],
  );
  return rows.map((row) => ({ currency: row.currency, availableMinor: row.available, pendingMinor: row.pending }));
}

// --- lists --------------------------------------------------------------------------------

export type PaymentTable = 'intents' | 'charges' | 'refunds' | 'balance_transactions';
export type PaymentListFilters = Partial<
  Record<'customer_id' | 'payment_intent_id' | 'charge_id' | 'type' | 'source_id', string>
>;

const listMappers = {
  intents: (row: unknown) => intentFromRow(row as IntentRow),
  charges: (row: unknown) => chargeFromRow(row as ChargeRow),
  refunds: (row: unknown) => refundFromRow(row as RefundRow),
  balance_transactions: (row: unknown) => balanceTransactionFromRow(row as BalanceTransactionRow),
} as const;

const listObjectNames = {
  intents: 'payment_intent',
  charges: 'charge',
  refunds: 'refund',
  balance_transactions: 'balance_transaction',
} as const;

/** A page of a payments table, newest first, with optional equality filters (column → value). */
export async function listPage<T>(
  db: Db,
  ctx: MerchantContext,
  table: PaymentTable,
  page: PageRequest,
  filters: PaymentListFilters,
): Promise<{ data: T[]; hasMore: boolean }> {
  const result = await fetchPage<Record<string, unknown>>(db, {
    table: `payments_${table}`,
    columns: '*',
    accountId: ctx.accountId,
    livemode: ctx.livemode,
    page,
    where: Object.entries(filters)
      .filter(([, value]) => value !== undefined)
      .map(([column, value]) => ({ sql: `${column} = ?`, params: [value] })),
    objectName: listObjectNames[table],
  });
  return { data: result.rows.map((row) => listMappers[table](row) as T), hasMore: result.hasMore };
}

// --- recovery work lists ------------------------------------------------------------------

/** Charges still pending that were created before `before`, oldest first. */
export async function pendingChargesBefore(executor: SqlExecutor, before: Date, limit: number): Promise<Charge[]> {
  assert(limit > 0 && limit <= paymentLimits.recoveryBatchSizeMax, 'recovery batch size in range');
  const rows = await executor.query<ChargeRow>(
    `select * from payments_charges where status = 'pending' and created_at < $1 order by created_at limit $2`,
    [before, limit],
  );
  return rows.map(chargeFromRow);
}

/** Intents whose capture or cancel began before `before` and is not finished, oldest first. */
export async function pendingActionsBefore(
  executor: SqlExecutor,
  before: Date,
  limit: number,
): Promise<PaymentIntent[]> {
  assert(limit > 0 && limit <= paymentLimits.recoveryBatchSizeMax, 'recovery batch size in range');
  const rows = await executor.query<IntentRow>(
    `select * from payments_intents where pending_action is not null and pending_since < $1
      order by pending_since limit $2`,
    [before, limit],
  );
  return rows.map(intentFromRow);
}

export async function pendingRefundsBefore(executor: SqlExecutor, before: Date, limit: number): Promise<Refund[]> {
  assert(limit > 0 && limit <= paymentLimits.recoveryBatchSizeMax, 'recovery batch size in range');
  const rows = await executor.query<RefundRow>(
    `select * from payments_refunds where status = 'pending' and created_at < $1 order by created_at limit $2`,
    [before, limit],
  );
  return rows.map(refundFromRow);
}

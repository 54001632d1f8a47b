import type { SqlExecutor, SqlParam } from '../../platform/db.js';
import { assert } from '../../platform/errors.js';
import type { Charge, ChargeStatus, IntentStatus, MerchantContext, PaymentIntent, RefundStatus } from './model.js';
import { chargeFromRow, intentFromRow, type ChargeRow, type IntentRow } from './repository.js';

/**
 * The payments context's state machines: PaymentIntent, Charge, Refund, the payer's approval and
 * the 3-D Secure challenge. Every status change in the context goes through the transition
 * functions below, each one conditional UPDATE (`where status = any(from)`): of two racing
 * writers, exactly one moves the row, and the other learns it lost (false) and re-reads.
 *
 * PaymentIntent (Stripe's lifecycle, with processing as the middle state of every workflow):
 *
 *   requires_payment_method ─┬─ set_payment_method ─► requires_confirmation
 *   requires_confirmation   ─┤
 *   requires_action         ─┴─ confirm ─► processing ─┬─ succeed ─► succeeded
 *                              require_action ─► requires_action        ├─ authorize ─► requires_capture
 *   requires_action ─ fail_authentication ─► requires_payment_method    └─ fail_payment ─► requires_payment_method
 *   requires_capture ─ begin_capture ─► processing ─┬─ succeed ─► succeeded
 *                                                   ├─ capture_declined ─► requires_capture
 *                                                   └─ expire_authorization ─► canceled
 *   (any unfinished) ─ begin_cancel ─► processing ─ finish_cancel ─► canceled
 */

const confirmable = ['requires_payment_method', 'requires_confirmation', 'requires_action'] as const;

export const intentTransitions = {
  set_payment_method: { from: ['requires_payment_method', 'requires_confirmation'], to: 'requires_confirmation' },
  require_action: { from: confirmable, to: 'requires_action' },
  fail_authentication: { from: ['requires_action'], to: 'requires_payment_method' },
  confirm: { from: confirmable, to: 'processing' },
  succeed: { from: ['processing'], to: 'succeeded' },
  authorize: { from: ['processing'], to: 'requires_capture' },
  fail_payment: { from: ['processing'], to: 'requires_payment_method' },
  begin_capture: { from: ['requires_capture'], to: 'processing' },
  capture_declined: { from: ['processing'], to: 'requires_capture' },
  expire_authorization: { from: ['processing'], to: 'canceled' },
  begin_cancel: { from: [...confirmable, 'requires_capture'], to: 'processing' },
  finish_cancel: { from: ['processing'], to: 'canceled' },
} as const satisfies Record<string, { from: readonly IntentStatus[]; to: IntentStatus }>;
export type IntentAction = keyof typeof intentTransitions;

export const chargeTransitions = {
  succeed: { from: ['pending'], to: 'succeeded' },
  fail: { from: ['pending'], to: 'failed' },
} as const satisfies Record<string, { from: readonly ChargeStatus[]; to: ChargeStatus }>;
export type ChargeAction = keyof typeof chargeTransitions;

export const refundTransitions = {
  succeed: { from: ['pending'], to: 'succeeded' },
  fail: { from: ['pending'], to: 'failed' },
} as const satisfies Record<string, { from: readonly RefundStatus[]; to: RefundStatus }>;
export type RefundAction = keyof typeof refundTransitions;

export type ApprovalStatus = 'pending' | 'approved' | 'expired' | 'canceled';
export const approvalTransitions = {
  approve: { from: ['pending'], to: 'approved' },
  expire: { from: ['pending'], to: 'expired' },
} as const satisfies Record<string, { from: readonly ApprovalStatus[]; to: ApprovalStatus }>;
export type ApprovalAction = keyof typeof approvalTransitions;

export type ChallengeStatus = 'pending' | 'completed' | 'failed';
export const challengeTransitions = {
  complete: { from: ['pending'], to: 'completed' },
  fail: { from: ['pending'], to: 'failed' },
} as const satisfies Record<string, { from: readonly ChallengeStatus[]; to: ChallengeStatus }>;
export type ChallengeAction = keyof typeof challengeTransitions;

/** The status `action` leads to from `status`, or null when the action is not allowed there. */
export function nextIntentStatus(status: IntentStatus, action: IntentAction): IntentStatus | null {
  const transition = intentTransitions[action];
  return (transition.from as readonly IntentStatus[]).includes(status) ? transition.to : null;
}

export function nextChargeStatus(status: ChargeStatus, action: ChargeAction): ChargeStatus | null {
  const transition = chargeTransitions[action];
  return (transition.from as readonly ChargeStatus[]).includes(status) ? transition.to : null;
}

export function nextRefundStatus(status: RefundStatus, action: RefundAction): RefundStatus | null {
  const transition = refundTransitions[action];
  return (transition.from as readonly RefundStatus[]).includes(status) ? transition.to : null;
}

/** A column an intent transition may set alongside its status, and how its value is sent. */
interface ColumnSpec {
  column: string;
  cast: string;
  json?: true;
}

const intentColumns = {
  latestChargeId: { column: 'latest_charge_id', cast: 'text' },
  paymentMethodType: { column: 'payment_method_type', cast: 'text' },
  paymentMethodId: { column: 'payment_method_id', cast: 'text' },
  payerReference: { column: 'payer_reference', cast: 'text' },
  lastPaymentError: { column: 'last_payment_error', cast: 'jsonb', json: true },
  nextAction: { column: 'next_action', cast: 'jsonb', json: true },
  amountReceived: { column: 'amount_received', cast: 'bigint' },
  amountCapturable: { column: 'amount_capturable', cast: 'bigint' },
  reservationTransferId: { column: 'reservation_transfer_id', cast: 'uuid' },
  canceledAt: { column: 'canceled_at', cast: 'timestamptz' },
  cancellationReason: { column: 'cancellation_reason', cast: 'text' },
  pendingAction: { column: 'pending_action', cast: 'text' },
  pendingAmount: { column: 'pending_amount', cast: 'bigint' },
  pendingReason: { column: 'pending_reason', cast: 'text' },
  pendingSince: { column: 'pending_since', cast: 'timestamptz' },
} as const satisfies Record<string, ColumnSpec>;

export type IntentChanges = Partial<{
  latestChargeId: string | null;
  paymentMethodType: string | null;
  paymentMethodId: string | null;
  payerReference: string | null;
  lastPaymentError: Record<string, unknown> | null;
  nextAction: Record<string, unknown> | null;
  amountReceived: bigint;
  amountCapturable: bigint;
  reservationTransferId: string | null;
  canceledAt: Date | null;
  cancellationReason: string | null;
  pendingAction: 'capture' | 'cancel' | null;
  pendingAmount: bigint | null;
  pendingReason: string | null;
  pendingSince: Date | null;
}>;

const chargeColumns = {
  captured: { column: 'captured', cast: 'boolean' },
  amountCaptured: { column: 'amount_captured', cast: 'bigint' },
  balanceTransactionId: { column: 'balance_transaction_id', cast: 'text' },
  failureCode: { column: 'failure_code', cast: 'text' },
  failureMessage: { column: 'failure_message', cast: 'text' },
  failureDeclineCode: { column: 'failure_decline_code', cast: 'text' },
} as const satisfies Record<string, ColumnSpec>;

export type ChargeChanges = Partial<{
  captured: boolean;
  amountCaptured: bigint;
  balanceTransactionId: string;
  failureCode: string;
  failureMessage: string;
  failureDeclineCode: string | null;
}>;

const refundColumns = {
  balanceTransactionId: { column: 'balance_transaction_id', cast: 'text' },
  failureReason: { column: 'failure_reason', cast: 'text' },
} as const satisfies Record<string, ColumnSpec>;

export type RefundChanges = Partial<{ balanceTransactionId: string; failureReason: string }>;

/** `set status = …, col = $n, …` with the parameters appended to params. */
function setClause(
  to: string,
  changes: Record<string, unknown>,
  specs: Record<string, ColumnSpec>,
  params: SqlParam[],
): string {
  params.push(to);
  const parts = [`status = $${params.length}`];
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    const spec = specs[name];
    assert(spec !== undefined, `no column for ${name}`);
    params.push(spec.json === true && value !== null ? JSON.stringify(value) : (value as SqlParam));
    parts.push(`${spec.column} = $${params.length}::${spec.json === true ? 'text::jsonb' : spec.cast}`);
  }
  return parts.join(', ');
}

const statusArray = (statuses: readonly string[]) => `{${statuses.join(',')}}`;

/**
 * Moves an intent by `action` (from one of its allowed statuses), setting `changes` with it, in
 * one conditional statement. False when the intent was not in a status the action allows.
 */
export async function transitionIntent(
  executor: SqlExecutor,
  ctx: MerchantContext,
  id: string,
  action: IntentAction,
  changes: IntentChanges = {},
): Promise<boolean> {
  return (await updateIntent(executor, ctx, id, action, changes, 'id')) !== null;
}

/** transitionIntent, answering with the intent as the update left it (null: not moved): no re-read. */
export async function moveIntent(
  executor: SqlExecutor,
  ctx: MerchantContext,
  id: string,
  action: IntentAction,
  changes: IntentChanges = {},
): Promise<PaymentIntent | null> {
  const row = await updateIntent(executor, ctx, id, action, changes, '*');
  return row === null ? null : intentFromRow(row as unknown as IntentRow);
}

async function updateIntent(
  executor: SqlExecutor,
  ctx: MerchantContext,
  id: string,
  action: IntentAction,
  changes: IntentChanges,
  returning: 'id' | '*',
): Promise<Record<string, unknown> | null> {
  const transition = intentTransitions[action];
  const params: SqlParam[] = [id, ctx.accountId, ctx.livemode, statusArray(transition.from)];
  const set = setClause(transition.to, changes, intentColumns, params);
  const rows = await executor.query<Record<string, unknown>>(
    `update payments_intents set ${set}, updated_at = now()
      where id = $1 and account_id = $2 and livemode = $3 and status = any($4::text[]) returning ${returning}`,
    params,
  );
  return rows[0] ?? null;
}

export async function transitionCharge(
  executor: SqlExecutor,
  id: string,
  action: ChargeAction,
  changes: ChargeChanges = {},
): Promise<boolean> {
  return (await updateCharge(executor, id, action, changes, 'id')) !== null;
}

/** transitionCharge, answering with the charge as the update left it (null: not moved): no re-read. */
export async function moveCharge(
  executor: SqlExecutor,
  id: string,
  action: ChargeAction,
  changes: ChargeChanges = {},
): Promise<Charge | null> {
  const row = await updateCharge(executor, id, action, changes, '*');
  return row === null ? null : chargeFromRow(row as unknown as ChargeRow);
}

async function updateCharge(
  executor: SqlExecutor,
  id: string,
  action: ChargeAction,
  changes: ChargeChanges,
  returning: 'id' | '*',
): Promise<Record<string, unknown> | null> {
  const transition = chargeTransitions[action];
  const params: SqlParam[] = [id, statusArray(transition.from)];
  const set = setClause(transition.to, changes, chargeColumns, params);
  const rows = await executor.query<Record<string, unknown>>(
    `update payments_charges set ${set} where id = $1 and status = any($2::text[]) returning ${returning}`,
    params,
  );
  return rows[0] ?? null;
}

export async function transitionRefund(
  executor: SqlExecutor,
  id: string,
  action: RefundAction,
  changes: RefundChanges = {},
): Promise<boolean> {
  const transition = refundTransitions[action];
  const params: SqlParam[] = [id, statusArray(transition.from)];
  const set = setClause(transition.to, changes, refundColumns, params);
  const rows = await executor.query(
    `update payments_refunds set ${set} where id = $1 and status = any($2::text[]) returning id`,
    params,
  );
  return rows.length === 1;
}

/** Approvals: `extra` narrows the rows further (e.g. not expired yet), with its own parameters after ours. */
export async function transitionApprovals(
  executor: SqlExecutor,
  action: ApprovalAction,
  where: { sql: string; params: readonly SqlParam[] },
): Promise<Record<string, unknown>[]> {
  const transition = approvalTransitions[action];
  const params: SqlParam[] = [transition.to, statusArray(transition.from), ...where.params];
  return executor.query<Record<string, unknown>>(
    `update payments_approvals set status = $1
      where status = any($2::text[]) and (${where.sql.replace(/\$(\d+)/g, (_match, n: string) => `$${Number(n) + 2}`)})
      returning *`,
    params,
  );
}

export async function transitionChallenge(
  executor: SqlExecutor,
  id: string,
  action: ChallengeAction,
  notExpiredAt: Date,
): Promise<Record<string, unknown> | null> {
  const transition = challengeTransitions[action];
  const rows = await executor.query<Record<string, unknown>>(
    `update payments_card_challenges set status = $2
      where id = $1 and status = any($3::text[]) and expires_at > $4 returning *`,
    [id, transition.to, statusArray(transition.from), notExpiredAt],
  );
  return rows[0] ?? null;
}

import { createHash } from 'node:crypto';
import type { SqlExecutor } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import type { KycTier, TierLimits } from './tiers.js';

/**
 * The wallets context's SQL: history rows, profiles and limit usage. History rows are the
 * wallets' record of every money movement; a row is written pending before the money moves, with
 * what a retry or the recovery sweep needs to finish it (its planned ledger transfer id and the
 * limit periods it reserved), and finished by one conditional transition.
 */

export type TransactionType = 'topup' | 'p2p_sent' | 'p2p_received' | 'payment' | 'refund';
export type TransactionStatus = 'pending' | 'succeeded' | 'failed';

export interface WalletTransaction {
  id: string;
  userId: string;
  type: TransactionType;
  status: TransactionStatus;
  amountMinor: bigint;
  currency: string;
  feeMinor: bigint;
  counterpartyUserId: string | null;
  counterpartyName: string | null;
  note: string | null;
  source: string | null;
  failureCode: string | null;
  reference: string;
  /** The ledger transfer that moves (or moved) the money; planned before it is submitted. */
  ledgerTransferId: string | null;
  /** The limit periods this row's amount was counted in (outgoing money); null when none. */
  limitPeriods: LimitPeriods | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface LimitPeriods {
  day: string;
  month: string;
}

interface TransactionRow {
  id: string;
  user_id: string;
  type: TransactionType;
  status: TransactionStatus;
  amount: bigint;
  currency: string;
  fee: bigint;
  counterparty_user_id: string | null;
  counterparty_name: string | null;
  note: string | null;
  source: string | null;
  failure_code: string | null;
  reference: string;
  ledger_transfer_id: string | null;
  limit_day: string | null;
  limit_month: string | null;
  created_at: Date;
  updated_at: Date;
}

export const transactionColumns =
  'id, user_id, type, status, amount, currency, fee, counterparty_user_id, counterparty_name, note, source, ' +
  'failure_code, reference, ledger_transfer_id::text, limit_day::text, limit_month::text, created_at, updated_at';

export function transactionFromRow(row: TransactionRow): WalletTransaction {
  return {
    id: row.id,
    userId: row.user_id,
    type: row.type,
    status: row.status,
    amountMinor: row.amount,
    currency: row.currency,
    feeMinor: row.fee,
    counterpartyUserId: row.counterparty_user_id,
    counterpartyName: row.counterparty_name,
    note: row.note,
    source: row.source,
    failureCode: row.failure_code,
    reference: row.reference,
    ledgerTransferId: row.ledger_transfer_id,
    limitPeriods:
      row.limit_day === null || row.limit_month === null ? null : { day: row.limit_day, month: row.limit_month },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A stable id from parts: history rows are named after what they record, so a retry finds them. */
export function digestId(prefix: string, ...parts: string[]): string {
  return `${prefix}_${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)}`;
}

export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function utcMonthStart(date: Date): string {
  return `${date.toISOString().slice(0, 7)}-01`;
}

export type NewTransaction = Pick<
  WalletTransaction,
  'id' | 'userId' | 'type' | 'status' | 'amountMinor' | 'currency' | 'reference' | 'createdAt'
> &
  Partial<
    Pick<
      WalletTransaction,
      | 'feeMinor'
      | 'counterpartyUserId'
      | 'counterpartyName'
      | 'note'
      | 'source'
      | 'failureCode'
      | 'ledgerTransferId'
      | 'limitPeriods'
    >
  >;

/** Inserts a history row (what it does not name is empty); false when the id exists already. */
export async function insertTransaction(tx: SqlExecutor, row: NewTransaction): Promise<boolean> {
  const rows = await tx.query(
    `insert into wallets_transactions (id, user_id, type, status, amount, currency, fee, counterparty_user_id,
       counterparty_name, note, source, failure_code, reference, ledger_transfer_id, limit_day, limit_month, created_at)
     values ($1, $2, $3, $4, $5::bigint, $6, $7::bigint, $8, $9, $10, $11, $12, $13, $14::uuid, $15::date, $16::date, $17)
     on conflict (id) do nothing returning id`,
    [
      row.id,
      row.userId,
      row.type,
      row.status,
      row.amountMinor,
      row.currency,
      row.feeMinor ?? 0n,
      row.counterpartyUserId ?? null,
      row.counterpartyName ?? null,
      row.note ?? null,
      row.source ?? null,
      row.failureCode ?? null,
      row.reference,
      row.ledgerTransferId ?? null,
      row.limitPeriods?.day ?? null,
      row.limitPeriods?.month ?? null,
      row.createdAt,
    ],
  );
  return rows.length === 1;
}

/**
 * The one status transition of a history row: pending → succeeded or failed. Returns the row as
 * it was finished, or null when it was not pending (another finisher got there first).
 */
export async function finishTransaction(
  tx: SqlExecutor,
  id: string,
  outcome: { status: 'succeeded' | 'failed'; failureCode: string | null },
): Promise<WalletTransaction | null> {
  const rows = await tx.query<TransactionRow>(
    `update wallets_transactions set status = $2, failure_code = $3, updated_at = now()
      where id = $1 and status = 'pending' returning ${transactionColumns}`,
    [id, outcome.status, outcome.failureCode],
  );
  return rows[0] === undefined ? null : transactionFromRow(rows[0]);
}

export async function transactionById(executor: SqlExecutor, id: string): Promise<WalletTransaction | null> {
  const rows = await executor.query<TransactionRow>(
    `select ${transactionColumns} from wallets_transactions where id = $1`,
    [id],
  );
  return rows[0] === undefined ? null : transactionFromRow(rows[0]);
}

export async function transactionOf(
  executor: SqlExecutor,
  userId: string,
  id: string,
): Promise<WalletTransaction | null> {
  const rows = await executor.query<TransactionRow>(
    `select ${transactionColumns} from wallets_transactions where id = $1 and user_id = $2`,
    [id, userId],
  );
  return rows[0] === undefined ? null : transactionFromRow(rows[0]);
}

/** Pending rows of these types created before `before`, oldest first (the recovery sweep's list). */
export async function pendingTransactionsBefore(
  executor: SqlExecutor,
  types: readonly TransactionType[],
  before: Date,
  limit: number,
): Promise<WalletTransaction[]> {
  const rows = await executor.query<TransactionRow>(
    `select ${transactionColumns} from wallets_transactions
      where status = 'pending' and type = any($1::text[]) and created_at < $2 order by created_at limit $3`,
    [`{${types.join(',')}}`, before, limit],
  );
  return rows.map(transactionFromRow);
}

export interface HistoryQuery {
  userId: string;
  limit: number;
  type?: TransactionType;
  status?: TransactionStatus;
  createdFrom?: Date;
  createdTo?: Date;
  after?: { createdAt: Date; id: string };
}

export async function historyPage(executor: SqlExecutor, query: HistoryQuery) {
  const conditions = ['user_id = $1'];
  const params: (string | number | Date)[] = [query.userId];
  const add = (condition: string, value: string | number | Date) => {
    params.push(value);
    conditions.push(condition.replace('?', `$${params.length}`));
  };
  if (query.type !== undefined) add('type = ?', query.type);
  if (query.status !== undefined) add('status = ?', query.status);
  if (query.createdFrom !== undefined) add('created_at >= ?', query.createdFrom);
  if (query.createdTo !== undefined) add('created_at <= ?', query.createdTo);
  if (query.after !== undefined) {
    params.push(query.after.createdAt, query.after.id);
    conditions.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  params.push(query.limit + 1);
  const rows = await executor.query<TransactionRow>(
    `select ${transactionColumns} from wallets_transactions where ${conditions.join(' and ')}
      order by created_at desc, id desc limit $${params.length}`,
    params,
  );
  return { data: rows.slice(0, query.limit).map(transactionFromRow), hasMore: rows.length > query.limit };
}

// --- profiles -----------------------------------------------------------------------------

export interface WalletProfile {
  userId: string;
  kycTier: KycTier;
  frozen: boolean;
}

export async function profileOf(executor: SqlExecutor, userId: string): Promise<WalletProfile> {
  // One round trip: the profile, created on first use. The select cannot see a row that a
  // concurrent first use committed after this statement began, so that rare case reads again.
  let rows = await executor.query<{ kyc_tier: number; frozen: boolean }>(
    `with created as (
       insert into wallets_profiles (user_id) values ($1) on conflict (user_id) do nothing returning kyc_tier, frozen)
     select kyc_tier, frozen from created
     union all
     select kyc_tier, frozen from wallets_profiles where user_id = $1`,
    [userId],
  );
  if (rows.length === 0) {
    rows = await executor.query('select kyc_tier, frozen from wallets_profiles where user_id = $1', [userId]);
  }
  const row = rows[0];
  assert(row !== undefined, 'a profile exists after its upsert');
  return { userId, kycTier: row.kyc_tier as KycTier, frozen: row.frozen };
}

// --- limits -------------------------------------------------------------------------------

/**
 * Counts an outgoing amount against the daily and monthly limits, with conditional increments:
 * of two concurrent payments that together pass a limit, one fails (limit_exceeded, which rolls
 * the caller's transaction back).
 */
export async function reserveLimits(
  tx: SqlExecutor,
  input: { userId: string; currency: string; amountMinor: bigint; limits: TierLimits; periods: LimitPeriods },
): Promise<void> {
  const { limits, periods } = input;
  if (input.amountMinor > limits.perPaymentMax) {
    throw new AppError('limit_exceeded', {
      message: 'This payment is over the per-payment limit of your verification tier.',
      details: { limit: 'per_payment', limit_amount: Number(limits.perPaymentMax) },
    });
  }
  // Both periods in one statement (one round trip); a period over its limit counts nothing, and
  // the error rolls back the caller's transaction, the other period's count with it.
  const counted = await tx.query<{ day: number; month: number }>(
    `with day as (${limitUpsertSql(1)}), month as (${limitUpsertSql(5)})
     select (select count(*) from day)::int as day, (select count(*) from month)::int as month`,
    [
      input.userId,
      input.currency,
      'day',
      periods.day,
      input.amountMinor,
      limits.dailyMax,
      'month',
      periods.month,
      limits.monthlyMax,
    ],
  );
  for (const [period, max] of [
    ['day', limits.dailyMax],
    ['month', limits.monthlyMax],
  ] as const) {
    if (counted[0]![period] === 0) {
      throw new AppError('limit_exceeded', {
        message: `This payment is over the ${period === 'day' ? 'daily' : 'monthly'} limit of your verification tier.`,
        details: { limit: period === 'day' ? 'daily' : 'monthly', limit_amount: Number(max) },
      });
    }
  }
}

/**
 * The conditional increment of one period's usage; `$1` user, `$2` currency and `$5` amount are
 * shared, the period's name, start and max are the parameters from `first`.
 */
function limitUpsertSql(first: 1 | 5): string {
  const [period, start, max] = first === 1 ? ['$3', '$4', '$6'] : ['$7', '$8', '$9'];
  return `insert into wallets_limit_usage (user_id, currency, period, period_start, used)
       select $1, $2, ${period}, ${start}::date, $5::bigint where $5::bigint <= ${max}::bigint
       on conflict (user_id, currency, period, period_start)
         do update set used = wallets_limit_usage.used + excluded.used
         where wallets_limit_usage.used + excluded.used <= ${max}::bigint
       returning used`;
}

/** Gives back what reserveLimits counted (a payment that failed). */
export async function releaseLimits(
  executor: SqlExecutor,
  input: { userId: string; currency: string; amountMinor: bigint; periods: LimitPeriods },
): Promise<void> {
  await executor.query(
    `update wallets_limit_usage set used = greatest(used - $3::bigint, 0)
      where user_id = $1 and currency = $2
        and ((period = 'day' and period_start = $4::date) or (period = 'month' and period_start = $5::date))`,
    [input.userId, input.currency, input.amountMinor, input.periods.day, input.periods.month],
  );
}

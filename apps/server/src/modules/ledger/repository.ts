import type { SqlExecutor } from '../../platform/db.js';
import {
  accountFlagBits,
  phaseFromFlags,
  transferFlags,
  type AccountState,
  type BatchWrites,
  type PendingState,
  type PendingStatus,
} from './apply.js';
import type { Account, Entry, Transfer, TransferResultCode } from './types.js';

/**
 * SQL for the ledger. Batches travel as PostgreSQL array literals in text parameters
 * (`$1::uuid[]` then `unnest`), which both drivers pass through untouched: one statement per
 * table per batch, whatever the batch size.
 */

/** Array literal of values that need no quoting (uuids, integers, booleans): validated upstream. */
function plainArray(values: readonly (string | number | bigint)[]): string {
  return `{${values.join(',')}}`;
}

function quoteArrayElement(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Array literal of arbitrary text (or NULL) elements. */
function textArray(values: readonly (string | null)[]): string {
  return `{${values.map((value) => (value === null ? 'NULL' : quoteArrayElement(value))).join(',')}}`;
}

interface TransferRow {
  id: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: bigint;
  currency: string;
  code: number;
  flags: number;
  pending_id: string | null;
  timeout_s: number;
  metadata: Record<string, unknown> | null;
  created_at: Date;
}

const transferColumns =
  'id, debit_account_id, credit_account_id, amount, currency, code, flags, pending_id, timeout_s, metadata, created_at';

function transferFromRow(row: TransferRow): Transfer {
  return {
    id: row.id,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amountMinor: row.amount,
    currency: row.currency,
    code: row.code,
    linked: (row.flags & 1) !== 0,
    phase: phaseFromFlags(row.flags),
    timeoutS: row.timeout_s,
    pendingId: row.pending_id,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

interface AccountRow {
  id: string;
  currency: string;
  code: number;
  flags: number;
  debits_posted: bigint;
  credits_posted: bigint;
  debits_pending: bigint;
  credits_pending: bigint;
  last_entry_seq: bigint | null;
  metadata: Record<string, unknown> | null;
  created_at: Date;
}

export function accountFromRow(row: AccountRow): Account {
  return {
    id: row.id,
    currency: row.currency,
    code: row.code,
    flags: {
      debitsMustNotExceedCredits: (row.flags & accountFlagBits.debitsMustNotExceedCredits) !== 0,
      creditsMustNotExceedDebits: (row.flags & accountFlagBits.creditsMustNotExceedDebits) !== 0,
      closed: (row.flags & accountFlagBits.closed) !== 0,
    },
    debitsPostedMinor: row.debits_posted,
    creditsPostedMinor: row.credits_posted,
    debitsPendingMinor: row.debits_pending,
    creditsPendingMinor: row.credits_pending,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

/** Locks the accounts in id order (the order every batch uses, so batches never deadlock). */
export async function lockAccounts(tx: SqlExecutor, ids: readonly string[]): Promise<Map<string, AccountState>> {
  const rows = await tx.query<AccountRow>(
    `select id, currency, flags, debits_posted, credits_posted, debits_pending, credits_pending, last_entry_seq
       from ledger_accounts where id = any($1::uuid[]) order by id for update`,
    [plainArray(ids)],
  );
  const accounts = new Map<string, AccountState>();
  for (const row of rows) {
    accounts.set(row.id, {
      id: row.id,
      currency: row.currency,
      flags: row.flags,
      debitsPosted: row.debits_posted,
      creditsPosted: row.credits_posted,
      debitsPending: row.debits_pending,
      creditsPending: row.credits_pending,
      lastEntrySeq: row.last_entry_seq,
    });
  }
  return accounts;
}

export async function selectTransfers(tx: SqlExecutor, ids: readonly string[]): Promise<Map<string, Transfer>> {
  const transfers = new Map<string, Transfer>();
  if (ids.length === 0) return transfers;
  const rows = await tx.query<TransferRow>(
    `select ${transferColumns} from ledger_transfers where id = any($1::uuid[])`,
    [plainArray(ids)],
  );
  for (const row of rows) transfers.set(row.id, transferFromRow(row));
  return transfers;
}

/**
 * The stored transfers among ids (and among extraIds, the pending transfers a batch resolves), and
 * which of ids already failed: one statement, one round trip.
 */
export async function selectTransfersAndFailures(
  tx: SqlExecutor,
  ids: readonly string[],
  extraIds: readonly string[],
): Promise<{ transfers: Map<string, Transfer>; failedIds: Set<string> }> {
  const rows = await tx.query<TransferRow & { failed: boolean }>(
    `select ${transferColumns}, false as failed from ledger_transfers where id = any($1::uuid[])
     union all
     select id, null, null, null, null, null, null, null, null, null, null, true
       from ledger_failed_transfers where id = any($2::uuid[])`,
    [plainArray([...ids, ...extraIds]), plainArray(ids)],
  );
  const transfers = new Map<string, Transfer>();
  const failedIds = new Set<string>();
  for (const row of rows) {
    if (row.failed) failedIds.add(row.id);
    else transfers.set(row.id, transferFromRow(row));
  }
  return { transfers, failedIds };
}

/** Locks pending-transfer rows (in id order) and returns them with the reserved transfer. */
/** The stored failure code of each of ids that failed. */
export async function selectFailures(
  tx: SqlExecutor,
  ids: readonly string[],
): Promise<Map<string, TransferResultCode>> {
  const rows = await tx.query<{ id: string; result: TransferResultCode }>(
    'select id::text as id, result from ledger_failed_transfers where id = any($1::uuid[])',
    [`{${ids.join(',')}}`],
  );
  return new Map(rows.map((row) => [row.id, row.result]));
}

export async function lockPendings(tx: SqlExecutor, ids: readonly string[]): Promise<Map<string, PendingState>> {
  const pendings = new Map<string, PendingState>();
  if (ids.length === 0) return pendings;
  const rows = await tx.query<
    TransferRow & { status: PendingStatus; expires_at: Date | null; resolved_by: string | null }
  >(
    `select ${transferColumns
      .split(', ')
      .map((column) => `t.${column}`)
      .join(', ')}, p.status, p.expires_at, p.resolved_by
       from ledger_pending_transfers p join ledger_transfers t on t.id = p.id
      where p.id = any($1::uuid[]) order by p.id for update of p`,
    [plainArray(ids)],
  );
  for (const row of rows) {
    pendings.set(row.id, {
      transfer: transferFromRow(row),
      status: row.status,
      expiresAtMs: row.expires_at === null ? null : row.expires_at.getTime(),
      resolvedBy: row.resolved_by,
    });
  }
  return pendings;
}

/**
 * Entry sequence numbers reserved per batch: more than the two entries of each of 8190 transfers.
 * A batch draws its number after it holds its account locks, so along any account's history the
 * numbers only grow.
 */
export const entrySeqPerBatch = 65536n;

export async function nextEntrySeqBase(tx: SqlExecutor): Promise<bigint> {
  const rows = await tx.query<{ batch: bigint }>("select nextval('ledger_batch_seq') as batch");
  return rows[0]!.batch * entrySeqPerBatch;
}

/** Writes a batch's outcome: one statement per table, issued together so the driver can pipeline them. */
export async function writeBatch(tx: SqlExecutor, writes: BatchWrites, nowMs: number): Promise<void> {
  const now = new Date(nowMs);
  const statements: Promise<unknown>[] = [];
  if (writes.transfers.length > 0) {
    const t = writes.transfers;
    statements.push(
      tx.query(
        `insert into ledger_transfers (${transferColumns})
         select u.*, $11::timestamptz from unnest($1::uuid[], $2::uuid[], $3::uuid[],
           $4::bigint[], $5::text[], $6::integer[], $7::integer[], $8::uuid[],
           $9::integer[], $10::jsonb[]) as u`,
        [
          plainArray(t.map((x) => x.id)),
          plainArray(t.map((x) => x.debitAccountId)),
          plainArray(t.map((x) => x.creditAccountId)),
          plainArray(t.map((x) => x.amountMinor)),
          plainArray(t.map((x) => x.currency)),
          plainArray(t.map((x) => x.code)),
          plainArray(t.map((x) => transferFlags(x.phase, x.linked))),
          plainArray(t.map((x) => x.pendingId ?? 'NULL')),
          plainArray(t.map((x) => x.timeoutS)),
          textArray(t.map((x) => (x.metadata === null ? null : JSON.stringify(x.metadata)))),
          now,
        ],
      ),
    );
  }
  if (writes.entries.length > 0) {
    const e = writes.entries;
    statements.push(
      tx.query(
        `insert into ledger_entries (seq, prev_seq, transfer_id, account_id, is_credit, posted_amount, pending_amount, balance_after)
         select * from unnest($1::bigint[], $2::bigint[], $3::uuid[], $4::uuid[], $5::boolean[], $6::bigint[],
           $7::bigint[], $8::bigint[])`,
        [
          plainArray(e.map((x) => x.seq)),
          plainArray(e.map((x) => x.prevSeq ?? 'NULL')),
          plainArray(e.map((x) => x.transferId)),
          plainArray(e.map((x) => x.accountId)),
          plainArray(e.map((x) => (x.isCredit ? 't' : 'f'))),
          plainArray(e.map((x) => x.postedAmount)),
          plainArray(e.map((x) => x.pendingAmount)),
          plainArray(e.map((x) => x.balanceAfter)),
        ],
      ),
    );
  }
  if (writes.failures.length > 0) {
    statements.push(
      tx.query(
        `insert into ledger_failed_transfers (id, result, failed_at)
         select u.*, $3::timestamptz from unnest($1::uuid[], $2::text[]) as u
         on conflict (id) do nothing`,
        [plainArray(writes.failures.map((x) => x.id)), plainArray(writes.failures.map((x) => x.result)), now],
      ),
    );
  }
  if (writes.pendingInserts.length > 0) {
    const p = writes.pendingInserts;
    statements.push(
      tx.query(
        `insert into ledger_pending_transfers (id, status, expires_at, resolved_by)
         select * from unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::uuid[])`,
        [
          plainArray(p.map((x) => x.id)),
          plainArray(p.map((x) => x.status)),
          textArray(p.map((x) => (x.expiresAtMs === null ? null : new Date(x.expiresAtMs).toISOString()))),
          plainArray(p.map((x) => x.resolvedBy ?? 'NULL')),
        ],
      ),
    );
  }
  if (writes.pendingUpdates.length > 0) {
    const p = writes.pendingUpdates;
    statements.push(
      tx.query(
        `update ledger_pending_transfers p set status = u.status, resolved_by = u.resolved_by
           from unnest($1::uuid[], $2::text[], $3::uuid[]) as u(id, status, resolved_by)
          where p.id = u.id`,
        [plainArray(p.map((x) => x.id)), plainArray(p.map((x) => x.status)), plainArray(p.map((x) => x.resolvedBy))],
      ),
    );
  }
  if (writes.accounts.length > 0) {
    const a = writes.accounts;
    statements.push(
      tx.query(
        `update ledger_accounts a
            set debits_posted = u.debits_posted, credits_posted = u.credits_posted,
                debits_pending = u.debits_pending, credits_pending = u.credits_pending,
                last_entry_seq = u.last_entry_seq
           from unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
             as u(id, debits_posted, credits_posted, debits_pending, credits_pending, last_entry_seq)
          where a.id = u.id`,
        [
          plainArray(a.map((x) => x.id)),
          plainArray(a.map((x) => x.debitsPosted)),
          plainArray(a.map((x) => x.creditsPosted)),
          plainArray(a.map((x) => x.debitsPending)),
          plainArray(a.map((x) => x.creditsPending)),
          plainArray(a.map((x) => x.lastEntrySeq ?? 'NULL')),
        ],
      ),
    );
  }
  await Promise.all(statements);
}

export interface AccountInsertRow {
  id: string;
  currency: string;
  code: number;
  flags: number;
  metadata: string | null;
}

/** Inserts accounts that do not exist yet; returns the ids it inserted. */
export async function insertAccounts(tx: SqlExecutor, rows: readonly AccountInsertRow[]): Promise<Set<string>> {
  const inserted = await tx.query<{ id: string }>(
    `insert into ledger_accounts (id, currency, code, flags, metadata)
     select * from unnest($1::uuid[], $2::text[], $3::integer[], $4::integer[], $5::jsonb[])
     on conflict (id) do nothing
     returning id`,
    [
      plainArray(rows.map((x) => x.id)),
      plainArray(rows.map((x) => x.currency)),
      plainArray(rows.map((x) => x.code)),
      plainArray(rows.map((x) => x.flags)),
      textArray(rows.map((x) => x.metadata)),
    ],
  );
  return new Set(inserted.map((row) => row.id));
}

export async function selectAccounts(tx: SqlExecutor, ids: readonly string[]): Promise<Account[]> {
  if (ids.length === 0) return [];
  const rows = await tx.query<AccountRow>(
    `select id, currency, code, flags, debits_posted, credits_posted, debits_pending, credits_pending, metadata, created_at
       from ledger_accounts where id = any($1::uuid[])`,
    [plainArray(ids)],
  );
  return rows.map(accountFromRow);
}

/**
 * An account's entries, newest first, following the chain from the account's newest entry (or
 * from the entry before beforeSeq): one primary-key lookup per entry.
 */
export async function selectEntries(
  tx: SqlExecutor,
  accountId: string,
  beforeSeq: bigint | null,
  limit: number,
): Promise<Entry[]> {
  const rows = await tx.query<{
    seq: bigint;
    transfer_id: string;
    account_id: string;
    is_credit: boolean;
    posted_amount: bigint;
    pending_amount: bigint;
    balance_after: bigint;
  }>(
    `with recursive chain as (
       select e.*, 1 as depth from ledger_entries e
        where e.account_id = $1::uuid
          and e.seq = case when $2::bigint is null
                           then (select last_entry_seq from ledger_accounts where id = $1::uuid)
                           else (select prev_seq from ledger_entries where seq = $2::bigint and account_id = $1::uuid)
                      end
       union all
       select e.*, c.depth + 1 from chain c join ledger_entries e on e.seq = c.prev_seq
        where c.depth < $3
     )
     select seq, transfer_id, account_id, is_credit, posted_amount, pending_amount, balance_after
       from chain order by seq desc`,
    [accountId, beforeSeq, limit],
  );
  return rows.map((row) => ({
    seq: row.seq,
    transferId: row.transfer_id,
    accountId: row.account_id,
    side: row.is_credit ? 'credit' : 'debit',
    postedAmountMinor: row.posted_amount,
    pendingAmountMinor: row.pending_amount,
    balanceAfterMinor: row.balance_after,
  }));
}

export async function selectExpiredPendingIds(tx: SqlExecutor, nowMs: number, limit: number): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `select id from ledger_pending_transfers
      where status = 'pending' and expires_at is not null and expires_at <= $1::timestamptz
      order by expires_at limit $2`,
    [new Date(nowMs), limit],
  );
  return rows.map((row) => row.id);
}

export async function closeAccountRow(tx: SqlExecutor, id: string): Promise<boolean> {
  const rows = await tx.query<{ id: string }>(
    `update ledger_accounts set flags = flags | ${accountFlagBits.closed} where id = $1::uuid returning id`,
    [id],
  );
  return rows.length === 1;
}

import type { Db } from '../../platform/db.js';

/**
 * The ledger's invariants, checked over the whole database (`yunpay ledger verify`):
 * - transfers_balance: each transfer has exactly one debit and one credit entry, on its own
 *   accounts and currency, for the amounts its phase implies;
 * - currencies_sum_to_zero: per currency, posted and pending credits equal debits;
 * - no_overdraft: no flagged account holds more debits than credits (or the reverse);
 * - balances_match_entries: every account's balances equal the sums of its entries, each entry's
 *   balance_after equals the running sum up to it, and the history chain (prev_seq,
 *   last_entry_seq) links every entry of the account in order;
 * - pending_matches_reservations: pending balances equal the still-pending transfers.
 */
export const verifyCheckNames = [
  'transfers_balance',
  'currencies_sum_to_zero',
  'no_overdraft',
  'balances_match_entries',
  'pending_matches_reservations',
] as const;
export type VerifyCheckName = (typeof verifyCheckNames)[number];

/**
 * A check another context adds to `ledger verify` (payments against their transfers, say): a
 * query of the keys that violate it, read in the same snapshot as the ledger's own checks.
 */
export interface ExtraVerifyCheck {
  name: string;
  /** Selects one column, key (text), one row per violation. */
  sql: string;
}

export interface LedgerVerifyCheck {
  name: VerifyCheckName | (string & {});
  ok: boolean;
  violationCount: number;
  /** Up to ten offending ids or currencies. */
  samples: string[];
}

export interface LedgerVerifyReport {
  ok: boolean;
  checks: LedgerVerifyCheck[];
}

const sampleMax = 10;

const checkQueries: Record<VerifyCheckName, string> = {
  transfers_balance: `
    with e as (
      select transfer_id,
             count(*) as entry_count,
             count(*) filter (where not is_credit) as debit_count,
             max(account_id::text) filter (where not is_credit) as debit_account,
             max(account_id::text) filter (where is_credit) as credit_account,
             sum(case when is_credit then posted_amount else -posted_amount end) as posted_net,
             sum(case when is_credit then pending_amount else -pending_amount end) as pending_net,
             max(posted_amount) as posted_amount,
             max(pending_amount) as pending_max,
             min(pending_amount) as pending_min
        from ledger_entries group by transfer_id
    )
    select coalesce(t.id::text, e.transfer_id::text) as key
      from ledger_transfers t
      full join e on e.transfer_id = t.id
      left join ledger_accounts da on da.id = t.debit_account_id
      left join ledger_accounts ca on ca.id = t.credit_account_id
      left join ledger_transfers p on p.id = t.pending_id
     where t.id is null or e.transfer_id is null
        or e.entry_count <> 2 or e.debit_count <> 1 or e.posted_net <> 0 or e.pending_net <> 0
        or e.debit_account <> t.debit_account_id::text or e.credit_account <> t.credit_account_id::text
        or da.currency is distinct from t.currency or ca.currency is distinct from t.currency
        or case
             when t.flags & 14 = 0 then e.posted_amount <> t.amount or e.pending_max <> 0 or e.pending_min <> 0
             when t.flags & 2 <> 0 then e.posted_amount <> 0 or e.pending_max <> t.amount or e.pending_min <> t.amount
             when t.flags & 4 <> 0 then p.id is null or e.posted_amount <> t.amount or t.amount > p.amount
                                        or e.pending_max <> -p.amount or e.pending_min <> -p.amount
             else p.id is null or e.posted_amount <> 0 or e.pending_max <> -p.amount or e.pending_min <> -p.amount
           end`,
  currencies_sum_to_zero: `
    select currency as key from ledger_accounts group by currency
    having sum(credits_posted) <> sum(debits_posted) or sum(credits_pending) <> sum(debits_pending)`,
  no_overdraft: `
    select id::text as key from ledger_accounts
     where (flags & 1 <> 0 and debits_posted + debits_pending > credits_posted)
        or (flags & 2 <> 0 and credits_posted + credits_pending > debits_posted)`,
  balances_match_entries: `
    with sums as (
      select account_id,
             coalesce(sum(posted_amount) filter (where not is_credit), 0) as debits_posted,
             coalesce(sum(posted_amount) filter (where is_credit), 0) as credits_posted,
             coalesce(sum(pending_amount) filter (where not is_credit), 0) as debits_pending,
             coalesce(sum(pending_amount) filter (where is_credit), 0) as credits_pending
        from ledger_entries group by account_id
    ),
    running as (
      select account_id, seq, prev_seq, balance_after,
             sum(case when is_credit then posted_amount else -posted_amount end)
               over (partition by account_id order by seq rows unbounded preceding) as running_balance,
             lag(seq) over (partition by account_id order by seq) as previous_seq,
             lead(seq) over (partition by account_id order by seq) as next_seq
        from ledger_entries
    )
    select a.id::text as key from ledger_accounts a full join sums s on s.account_id = a.id
     where a.id is null
        or a.debits_posted <> coalesce(s.debits_posted, 0) or a.credits_posted <> coalesce(s.credits_posted, 0)
        or a.debits_pending <> coalesce(s.debits_pending, 0) or a.credits_pending <> coalesce(s.credits_pending, 0)
    union
    select distinct r.account_id::text from running r left join ledger_accounts a on a.id = r.account_id
     where r.running_balance <> r.balance_after
        or r.prev_seq is distinct from r.previous_seq
        or (r.next_seq is null and a.last_entry_seq is distinct from r.seq)
    union
    select id::text from ledger_accounts a
     where a.last_entry_seq is not null and not exists (select 1 from ledger_entries e where e.seq = a.last_entry_seq)`,
  pending_matches_reservations: `
    with reserved as (
      select t.debit_account_id, t.credit_account_id, t.amount
        from ledger_pending_transfers p join ledger_transfers t on t.id = p.id
       where p.status = 'pending'
    ),
    per_account as (
      select account_id, sum(debit) as debits_pending, sum(credit) as credits_pending from (
        select debit_account_id as account_id, amount as debit, 0::bigint as credit from reserved
        union all
        select credit_account_id, 0, amount from reserved
      ) x group by account_id
    )
    select a.id::text as key from ledger_accounts a left join per_account r on r.account_id = a.id
     where a.debits_pending <> coalesce(r.debits_pending, 0) or a.credits_pending <> coalesce(r.credits_pending, 0)
    union
    select p.id::text from ledger_pending_transfers p left join ledger_transfers t on t.id = p.id
     where t.id is null or t.flags & 2 = 0`,
};

export async function verifyLedger(
  db: Db,
  options: { extraChecks?: readonly ExtraVerifyCheck[] } = {},
): Promise<LedgerVerifyReport> {
  const queries: ExtraVerifyCheck[] = [
    ...verifyCheckNames.map((name) => ({ name, sql: checkQueries[name] })),
    ...(options.extraChecks ?? []),
  ];
  // One snapshot for every check, so concurrent postings cannot make a clean ledger look broken.
  return db.transaction(async (tx) => {
    await tx.query('set transaction isolation level repeatable read, read only');
    const checks: LedgerVerifyCheck[] = [];
    for (const { name, sql } of queries) {
      const rows = await tx.query<{ key: string; total: bigint }>(
        `select key, count(*) over () as total from (${sql}) violations order by key limit ${sampleMax}`,
      );
      const violationCount = rows.length === 0 ? 0 : Number(rows[0]!.total);
      checks.push({ name, ok: violationCount === 0, violationCount, samples: rows.map((row) => row.key) });
    }
    return { ok: checks.every((check) => check.ok), checks };
  });
}

/**
 * 0 when every check passes; otherwise bit (index + 1) is set for each failed check, in report
 * order: the ledger's own (2, 4, 8, 16, 32), then the extra checks (64, 128, …).
 */
export function verifyExitCode(report: LedgerVerifyReport): number {
  let code = 0;
  report.checks.forEach((check, index) => {
    if (!check.ok) code |= 1 << (index + 1);
  });
  return code;
}

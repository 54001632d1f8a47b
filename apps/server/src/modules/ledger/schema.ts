import type { Migration } from '../../platform/migrations.js';

/**
 * Ledger tables. The posting engine guarantees what foreign keys would check (it locks and reads
 * both accounts before writing), so the hot tables carry no foreign keys and as few indexes as the
 * queries need: every index costs throughput on each transfer.
 *
 * flags on ledger_accounts: 1 debits_must_not_exceed_credits, 2 credits_must_not_exceed_debits, 4 closed.
 * flags on ledger_transfers: 1 linked; phase bits 2 pending, 4 post_pending, 8 void_pending.
 */
export const ledgerMigrations: readonly Migration[] = [
  {
    id: '0001_ledger',
    sql: `
      create table ledger_accounts (
        id uuid primary key,
        currency text not null check (currency ~ '^[A-Z]{3}$'),
        code integer not null check (code between 1 and 65535),
        flags integer not null default 0 check (flags between 0 and 7 and flags & 3 <> 3),
        debits_posted bigint not null default 0 check (debits_posted >= 0),
        credits_posted bigint not null default 0 check (credits_posted >= 0),
        debits_pending bigint not null default 0 check (debits_pending >= 0),
        credits_pending bigint not null default 0 check (credits_pending >= 0),
        -- seq of the account's newest entry: the head of its history chain
        last_entry_seq bigint,
        metadata jsonb,
        created_at timestamptz not null default now()
      ) with (fillfactor = 70);

      create table ledger_transfers (
        id uuid primary key,
        debit_account_id uuid not null,
        credit_account_id uuid not null,
        amount bigint not null check (amount > 0),
        currency text not null,
        code integer not null check (code between 1 and 65535),
        flags integer not null check (flags between 0 and 15),
        pending_id uuid,
        timeout_s integer not null default 0 check (timeout_s >= 0),
        metadata jsonb,
        created_at timestamptz not null,
        check (debit_account_id <> credit_account_id),
        check ((pending_id is null) = (flags & 12 = 0))
      );

      -- One row per pending (two-phase) transfer: whether it is still reserved and until when.
      create table ledger_pending_transfers (
        id uuid primary key,
        status text not null check (status in ('pending', 'posted', 'voided', 'expired')),
        expires_at timestamptz,
        resolved_by uuid
      );
      create index ledger_pending_transfers_expiry on ledger_pending_transfers (expires_at)
        where status = 'pending' and expires_at is not null;

      -- A transfer id that failed stays failed: resubmitting it answers id_already_failed.
      create table ledger_failed_transfers (
        id uuid primary key,
        result text not null,
        failed_at timestamptz not null
      );

      -- One number per batch; an entry's seq is batch * 65536 + its place in the batch. Batches that
      -- touch an account hold its lock, so seq grows along each account's history.
      create sequence ledger_batch_seq as bigint;

      -- Append-only: two entries per transfer, each with the account's balance after it. An
      -- account's entries form a chain (prev_seq) from accounts.last_entry_seq, so history needs
      -- no index on account_id: inserts only ever append to the seq index, whatever the number of
      -- accounts (a per-account index scatters every batch over thousands of index pages).
      create table ledger_entries (
        seq bigint primary key,
        prev_seq bigint,
        transfer_id uuid not null,
        account_id uuid not null,
        is_credit boolean not null,
        posted_amount bigint not null check (posted_amount >= 0),
        pending_amount bigint not null,
        balance_after bigint not null
      );

      create function ledger_refuse_change() returns trigger language plpgsql as $$
      begin
        raise exception 'ledger entries and transfers are append-only (% on %)', tg_op, tg_table_name;
      end $$;
      create trigger ledger_entries_append_only before update or delete on ledger_entries
        for each statement execute function ledger_refuse_change();
      create trigger ledger_transfers_append_only before update or delete on ledger_transfers
        for each statement execute function ledger_refuse_change();
    `,
  },
];

import type { Migration } from '../../platform/migrations.js';

export const walletMigrations: readonly Migration[] = [
  {
    id: '0200_wallets',
    sql: `
      -- One row per person with a wallet: verification tier and whether it may pay.
      create table wallets_profiles (
        user_id text primary key,
        kyc_tier smallint not null default 0 check (kyc_tier between 0 and 2),
        frozen boolean not null default false,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );

      -- A wallet holds one ledger account per currency (flagged never to overdraw).
      create table wallets_accounts (
        user_id text not null,
        currency text not null,
        ledger_account_id uuid not null unique,
        created_at timestamptz not null default now(),
        primary key (user_id, currency)
      );

      -- What each person sees in their history: one row per side of every money movement.
      create table wallets_transactions (
        id text primary key,
        user_id text not null,
        type text not null check (type in ('topup', 'p2p_sent', 'p2p_received')),
        status text not null check (status in ('pending', 'succeeded', 'failed')),
        amount bigint not null check (amount > 0),
        currency text not null,
        fee bigint not null default 0 check (fee >= 0),
        counterparty_user_id text,
        counterparty_name text,
        note text,
        source text,
        failure_code text,
        reference text not null,
        ledger_transfer_id uuid,
        created_at timestamptz not null,
        updated_at timestamptz not null default now()
      );
      create index wallets_transactions_user_created on wallets_transactions (user_id, created_at desc, id desc);

      -- Spending counted against the tier's daily and monthly limits (UTC periods), reserved
      -- before money moves, so concurrent payments cannot together pass a limit.
      create table wallets_limit_usage (
        user_id text not null,
        currency text not null,
        period text not null check (period in ('day', 'month')),
        period_start date not null,
        used bigint not null check (used >= 0),
        primary key (user_id, currency, period, period_start)
      );
    `,
  },
  {
    id: '0201_wallets_payments',
    sql: `
      -- Payments to merchants and refunds from them appear in the payer's history too.
      alter table wallets_transactions drop constraint wallets_transactions_type_check;
      alter table wallets_transactions add constraint wallets_transactions_type_check
        check (type in ('topup', 'p2p_sent', 'p2p_received', 'payment', 'refund'));
    `,
  },
  {
    id: '0202_wallets_recovery',
    sql: `
      -- Crash-safe money movements (docs/crash-safety.md): a pending history row carries what a
      -- retry or the recovery sweep needs to finish it: its planned ledger transfer (already in
      -- ledger_transfer_id) and the limit periods its amount was counted in, to give back on failure.
      alter table wallets_transactions add column limit_day date;
      alter table wallets_transactions add column limit_month date;
      create index wallets_transactions_pending on wallets_transactions (created_at) where status = 'pending';
    `,
  },
];

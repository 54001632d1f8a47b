import type { Migration } from '../../platform/migrations.js';

export const customerMigrations: readonly Migration[] = [
  {
    id: '0450_customers',
    sql: `
      -- Stripe customer objects (cus_…) of a merchant, in test or live mode.
      create table customers_customers (
        id text primary key,
        account_id text not null,
        livemode boolean not null,
        email text,
        name text,
        description text,
        phone text,
        address jsonb,
        shipping jsonb,
        metadata jsonb not null default '{}',
        preferred_locales jsonb not null default '[]',
        invoice_prefix text not null,
        balance bigint not null default 0,
        currency text,
        created_at timestamptz not null default clock_timestamp(),
        updated_at timestamptz not null default clock_timestamp(),
        deleted_at timestamptz
      );
      create index customers_customers_list on customers_customers (account_id, livemode, created_at desc, id desc);
      create index customers_customers_email on customers_customers (account_id, livemode, email) where deleted_at is null;
    `,
  },
];

import type { Migration } from '../../platform/migrations.js';

export const merchantMigrations: readonly Migration[] = [
  {
    id: '0400_merchants',
    sql: `
      -- A merchant account (acct_…): what the /v1 API's keys belong to.
      create table merchants_accounts (
        id text primary key,
        name text not null,
        country text not null check (country ~ '^[A-Z]{2}$'),
        default_currency text not null check (default_currency ~ '^[A-Z]{3}$'),
        mcc text not null check (mcc ~ '^[0-9]{4}$'),
        city text,
        fee_basis_points integer not null check (fee_basis_points between 0 and 10000),
        -- {"CNY": 30}: fixed fee per payment by currency, minor units.
        fee_fixed jsonb not null default '{}',
        activated_at timestamptz,
        created_at timestamptz not null default now()
      );
      create index merchants_accounts_created on merchants_accounts (created_at desc, id desc);

      -- API keys: only the SHA-256 of each key is kept, looked up by it.
      create table merchants_api_keys (
        id text primary key,
        account_id text not null references merchants_accounts (id),
        livemode boolean not null,
        kind text not null check (kind in ('secret', 'publishable', 'restricted')),
        key_hash text not null check (key_hash ~ '^[0-9a-f]{64}$'),
        display_prefix text not null,
        last4 text not null,
        -- restricted keys only: {"customers": "read", "payment_intents": "write"}
        permissions jsonb,
        -- null: valid until rolled; a rolled key keeps working until then.
        expires_at timestamptz,
        created_at timestamptz not null default now(),
        check ((kind = 'restricted') = (permissions is not null))
      );
      create unique index merchants_api_keys_hash on merchants_api_keys (key_hash);
      create index merchants_api_keys_account on merchants_api_keys (account_id, created_at);
    `,
  },
  {
    id: '0401_merchants_publishable_value',
    sql: `
      -- A publishable key is public by design (it ships in apps and web pages): kept in full so the
      -- dashboard can show and copy it. Secret and restricted keys stay hash-only. Keys issued before
      -- this column have no value (null) and are shown redacted.
      alter table merchants_api_keys add column publishable_value text;
      alter table merchants_api_keys add constraint merchants_api_keys_publishable_value
        check (publishable_value is null or kind = 'publishable');
    `,
  },
];

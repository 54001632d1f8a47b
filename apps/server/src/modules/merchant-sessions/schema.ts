import type { Migration } from '../../platform/migrations.js';

export const merchantSessionMigrations: readonly Migration[] = [
  {
    id: '0490_merchant_sessions',
    sql: `
      -- A merchant signed in to the POS or dashboard with a secret key. The key itself is never
      -- stored; the session token (the cookie) only as its SHA-256.
      create table merchant_sessions (
        token_hash text primary key,
        id text not null unique,
        account_id text not null,
        livemode boolean not null,
        key_id text not null,
        created_at timestamptz not null,
        last_seen_at timestamptz not null,
        idle_expires_at timestamptz not null,
        expires_at timestamptz not null,
        check (expires_at > created_at),
        check (idle_expires_at <= expires_at)
      );
      create index merchant_sessions_account on merchant_sessions (account_id, livemode);
      create index merchant_sessions_expiry on merchant_sessions (expires_at);
    `,
  },
];

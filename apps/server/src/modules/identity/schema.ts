import type { Migration } from '../../platform/migrations.js';

/**
 * Identity tables. Every time is written from the application's clock (passed as a parameter) so
 * that tests can move it; nodes' clocks are expected to agree within seconds.
 *
 * Secrets are stored only in slow (argon2id) or one-way (SHA-256) form, except the signing keys'
 * private halves, which every node needs in clear to sign (see docs: encrypt them with a key
 * encryption key once the vault exists).
 */
export const identityMigrations: readonly Migration[] = [
  {
    id: '0100_identity',
    sql: `
      create table identity_users (
        id text primary key check (id ~ '^usr_[0-9a-f]{32}$'),
        -- the order of sign-up, for newest-first pages that are stable under concurrent inserts
        seq bigint generated always as identity,
        phone text check (phone ~ '^\\+[1-9][0-9]{7,14}$'),
        email text check (email = lower(email) and length(email) <= 254),
        name text not null check (length(name) between 1 and 100),
        created_at timestamptz not null,
        check (phone is not null or email is not null)
      );
      -- Unique indexes, not a check-then-insert: two concurrent sign-ups of one login cannot both win.
      create unique index identity_users_phone on identity_users (phone) where phone is not null;
      create unique index identity_users_email on identity_users (email) where email is not null;
      create unique index identity_users_seq on identity_users (seq);

      -- One row per user. failed_count counts sign-in attempts claimed and not yet succeeded: an
      -- attempt is claimed before the password is checked, so concurrent guesses cannot exceed the limit.
      create table identity_credentials (
        user_id text primary key references identity_users (id),
        password_hash text not null check (password_hash like '$argon2id$%'),
        failed_count integer not null default 0 check (failed_count >= 0),
        locked_until timestamptz,
        updated_at timestamptz not null
      );

      create table identity_pins (
        user_id text primary key references identity_users (id),
        pin_hash text not null check (pin_hash like '$argon2id$%'),
        failed_count integer not null default 0 check (failed_count >= 0),
        locked_until timestamptz,
        updated_at timestamptz not null
      );

      -- A device is what a person signed in from. Revoking one sets revoked_at for good: a later
      -- sign-in with the same client id makes a new device row (and id), so anything bound to the
      -- old one (offline payment keys) stays revoked.
      create table identity_devices (
        id text primary key check (id ~ '^dev_[0-9a-f]{32}$'),
        user_id text not null references identity_users (id),
        client_device_id text not null check (client_device_id ~ '^[A-Za-z0-9_-]{8,64}$'),
        name text not null check (length(name) between 1 and 100),
        platform text not null check (platform in ('ios', 'android', 'web', 'other')),
        created_at timestamptz not null,
        last_seen_at timestamptz not null,
        revoked_at timestamptz
      );
      create unique index identity_devices_active on identity_devices (user_id, client_device_id)
        where revoked_at is null;
      create index identity_devices_user on identity_devices (user_id, created_at);

      -- A session is one refresh-token family on one device.
      create table identity_sessions (
        id text primary key check (id ~ '^ses_[0-9a-f]{32}$'),
        user_id text not null references identity_users (id),
        device_id text not null references identity_devices (id),
        created_at timestamptz not null,
        revoked_at timestamptz,
        revoked_reason text check (revoked_reason in
          ('signed_out', 'device_revoked', 'refresh_token_reused', 'replaced'))
      );
      create index identity_sessions_device on identity_sessions (device_id) where revoked_at is null;

      -- Only SHA-256 hashes of refresh tokens. A used (rotated) token's row stays until it expires so
      -- that presenting it again is recognised as reuse.
      create table identity_refresh_tokens (
        token_hash text primary key check (token_hash ~ '^[0-9a-f]{64}$'),
        session_id text not null references identity_sessions (id),
        created_at timestamptz not null,
        expires_at timestamptz not null,
        used_at timestamptz
      );
      create index identity_refresh_tokens_expiry on identity_refresh_tokens (expires_at);

      -- Access-token signing keys, shared by every node. generation is unique so that nodes racing
      -- to create the first key agree on one (insert if absent, then read back).
      create table identity_signing_keys (
        kid text primary key,
        generation integer not null unique check (generation > 0),
        algorithm text not null check (algorithm = 'EdDSA'),
        public_jwk jsonb not null,
        private_key_pkcs8 text not null,
        created_at timestamptz not null,
        retired_at timestamptz
      );
    `,
  },
];

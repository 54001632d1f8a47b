import type { Migration } from '../../platform/migrations.js';

export const codesMigrations: readonly Migration[] = [
  {
    id: '0500_codes',
    sql: `
      -- The install's secret for codes, created on first use: online code hashes are HMACs keyed by
      -- it, and offline keys are encrypted with a key derived from it (HKDF-SHA256).
      create table codes_secrets (
        id smallint primary key check (id = 1),
        secret text not null check (length(secret) = 44),
        created_at timestamptz not null default now()
      );

      -- Online payment codes: only an HMAC of the code and its last 4 digits are kept.
      create table codes_online (
        code_hash text primary key check (code_hash ~ '^[0-9a-f]{64}$'),
        user_id text not null,
        device_id text not null,
        last4 text not null check (last4 ~ '^[0-9]{4}$'),
        created_at timestamptz not null,
        expires_at timestamptz not null check (expires_at > created_at),
        used_at timestamptz,
        revoked_at timestamptz,
        redemption_id text
      );
      create index codes_online_device on codes_online (device_id, expires_at);
      create index codes_online_expires on codes_online (expires_at);

      -- One offline key per device (re-enrolling replaces the secret, keeps the number).
      create table codes_offline_keys (
        device_id text primary key,
        user_id text not null,
        device_number text not null unique check (device_number ~ '^[0-9]{8}$'),
        secret_ciphertext text not null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        revoked_at timestamptz
      );

      -- Every successful redemption, online or offline. An offline (device, step) redeems once.
      create table codes_redemptions (
        id text primary key check (id ~ '^pcr_[0-9a-f]{32}$'),
        mode text not null check (mode in ('online', 'offline')),
        user_id text not null,
        device_id text not null,
        offline_step bigint,
        amount_minor bigint not null check (amount_minor > 0),
        currency text not null check (currency ~ '^[A-Z]{3}$'),
        merchant_account_id text not null,
        livemode boolean not null,
        created_at timestamptz not null,
        check ((mode = 'offline') = (offline_step is not null))
      );
      create unique index codes_redemptions_offline_step on codes_redemptions (device_id, offline_step)
        where mode = 'offline';

      -- Offline spending per device and UTC day, incremented conditionally so that concurrent
      -- redemptions cannot together pass the daily cap.
      create table codes_offline_usage (
        device_id text not null,
        currency text not null,
        livemode boolean not null,
        day date not null,
        used bigint not null check (used >= 0),
        primary key (device_id, currency, livemode, day)
      );
    `,
  },
  {
    id: '0501_codes_offline_attempts',
    sql: `
      -- A key suspended after too many wrong codes stops paying until the phone enrolls again.
      alter table codes_offline_keys add column suspended_at timestamptz;

      -- Wrong offline codes per device number and per merchant in fixed windows, shared by every
      -- node (codes/attempts.ts). A merchant's attempt is claimed with a conditional upsert before
      -- the code is checked and given back when it was not a guess, so its row also holds the
      -- attempts in flight; a device number's row counts its failures.
      create table codes_offline_attempts (
        kind text not null check (kind in ('device_number', 'merchant')),
        subject text not null,
        window_start timestamptz not null,
        failures integer not null check (failures >= 0),
        primary key (kind, subject, window_start)
      );
      create index codes_offline_attempts_window on codes_offline_attempts (window_start);
      `,
  },
  {
    id: '0502_codes_redemption_payment',
    sql: `
      -- The payment a redemption paid for: the same code redeemed again for the same payment (a
      -- retry after a crash) finds its first redemption instead of payment_code_used.
      alter table codes_redemptions add column payment_intent_id text;
    `,
  },
];

import type { Migration } from '../../../platform/migrations.js';

export const cardVaultMigrations: readonly Migration[] = [
  {
    id: '0700_cards_vault',
    sql: `
      -- Card records, envelope-encrypted: ciphertext (the PAN, expiry and cardholder name) is
      -- AES-256-GCM under a per-record data key; wrapped_data_key is that key under the KEK kek_id.
      -- In clear: at most the BIN and the last 4 digits (PCI DSS 3.4.1). Never a CVC (3.3.1).
      create table cards_vault (
        id text primary key check (id ~ '^card_[0-9A-Za-z]{22}$'),
        kek_id text not null check (kek_id ~ '^[A-Za-z0-9_-]{1,32}$'),
        wrapped_data_key text not null check (wrapped_data_key ~ '^v1:[A-Za-z0-9+/=]+$'),
        ciphertext text not null check (ciphertext ~ '^v1:[A-Za-z0-9+/=]+$'),
        bin text not null check (bin ~ '^[0-9]{6}$'),
        last4 text not null check (last4 ~ '^[0-9]{4}$'),
        brand text not null check (
          brand in ('visa', 'mastercard', 'amex', 'discover', 'jcb', 'unionpay', 'diners', 'unknown')
        ),
        exp_month smallint not null check (exp_month between 1 and 12),
        exp_year smallint not null check (exp_year between 2000 and 9999),
        fingerprint text not null check (fingerprint ~ '^[0-9A-Za-z]{22}$'),
        created_at timestamptz not null default now()
      );
      create index cards_vault_fingerprint on cards_vault (fingerprint);
      -- rewrapAll and keysInUse look records up by key id.
      create index cards_vault_kek_id on cards_vault (kek_id, id);
    `,
  },
];

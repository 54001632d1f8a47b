import type { Migration } from '../../../platform/migrations.js';

export const paymentMethodMigrations: readonly Migration[] = [
  {
    id: '0720_cards_payment_methods',
    sql: `
      -- Stripe PaymentMethod objects (pm_…) of type card, per merchant account and mode. The card
      -- itself is in cards_vault (card_id); this row holds only what may be shown: brand, last 4,
      -- expiry, an account-scoped fingerprint. Never a PAN, never a CVC (PCI DSS 3.3.1, 3.4.1).
      create table cards_payment_methods (
        id text primary key check (id ~ '^pm_[0-9A-Za-z]{24}$'),
        account_id text not null,
        livemode boolean not null,
        type text not null check (type = 'card'),
        card_id text not null references cards_vault (id),
        brand text not null check (
          brand in ('visa', 'mastercard', 'amex', 'discover', 'jcb', 'unionpay', 'diners', 'unknown')
        ),
        last4 text not null check (last4 ~ '^[0-9]{4}$'),
        -- The expiry shown and sent for authorization; an update changes it here only (docs/payment-methods.md).
        exp_month smallint not null check (exp_month between 1 and 12),
        exp_year smallint not null check (exp_year between 2000 and 9999),
        fingerprint text not null check (fingerprint ~ '^[0-9A-Za-z]{16}$'),
        funding text not null check (funding in ('credit', 'debit', 'prepaid', 'unknown')),
        country text check (country ~ '^[A-Z]{2}$'),
        -- null: no CVC was given; 'unchecked': a well-formed CVC was given, no issuer has verified it.
        cvc_check text check (cvc_check in ('pass', 'fail', 'unavailable', 'unchecked')),
        customer_id text,
        -- Set once detached: Stripe does not let a detached PaymentMethod be used or attached again.
        detached_at timestamptz,
        billing_details jsonb not null,
        metadata jsonb not null default '{}',
        created_at timestamptz not null default clock_timestamp(),
        updated_at timestamptz not null default clock_timestamp(),
        check (customer_id is null or detached_at is null)
      );
      create index cards_payment_methods_list
        on cards_payment_methods (account_id, livemode, created_at desc, id desc);
      create index cards_payment_methods_customer
        on cards_payment_methods (account_id, livemode, customer_id, created_at desc, id desc)
        where customer_id is not null;
      create index cards_payment_methods_card on cards_payment_methods (card_id);
    `,
  },
];

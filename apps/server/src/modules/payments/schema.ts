import type { Migration } from '../../platform/migrations.js';

/**
 * Payments: payment intents, their charges, refunds and the merchant's balance transactions. Every
 * row carries account_id and livemode: test and live are separate worlds, and every query filters
 * on both.
 */
export const paymentMigrations: readonly Migration[] = [
  {
    id: '0600_payments',
    sql: `
      create table payments_intents (
        id text primary key,
        account_id text not null,
        livemode boolean not null,
        amount bigint not null check (amount > 0),
        currency text not null,
        status text not null check (status in ('requires_payment_method', 'requires_confirmation',
          'requires_action', 'processing', 'requires_capture', 'succeeded', 'canceled')),
        capture_method text not null check (capture_method in ('automatic', 'manual')),
        amount_capturable bigint not null default 0,
        amount_received bigint not null default 0,
        customer_id text,
        description text,
        metadata jsonb not null default '{}'::jsonb,
        client_secret text not null,
        payment_method_type text,
        payer_reference text,
        latest_charge_id text,
        last_payment_error jsonb,
        next_action jsonb,
        canceled_at timestamptz,
        cancellation_reason text,
        reservation_transfer_id uuid,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create index payments_intents_account on payments_intents (account_id, livemode, created_at desc, id desc);

      create table payments_charges (
        id text primary key,
        account_id text not null,
        livemode boolean not null,
        payment_intent_id text not null,
        amount bigint not null check (amount > 0),
        amount_captured bigint not null default 0 check (amount_captured >= 0),
        amount_refunded bigint not null default 0 check (amount_refunded >= 0),
        currency text not null,
        fee bigint not null default 0 check (fee >= 0),
        fee_refunded bigint not null default 0 check (fee_refunded >= 0),
        status text not null check (status in ('pending', 'succeeded', 'failed')),
        captured boolean not null default false,
        payment_method_details jsonb not null,
        -- the ledger account the money came from (a wallet, or the test-mode payer clearing account)
        payer_ledger_account_id uuid not null,
        balance_transaction_id text,
        failure_code text,
        failure_message text,
        created_at timestamptz not null default now(),
        check (amount_refunded <= amount_captured),
        check (amount_captured <= amount)
      );
      create index payments_charges_account on payments_charges (account_id, livemode, created_at desc, id desc);
      create index payments_charges_intent on payments_charges (payment_intent_id);

      create table payments_refunds (
        id text primary key,
        account_id text not null,
        livemode boolean not null,
        charge_id text not null,
        payment_intent_id text not null,
        amount bigint not null check (amount > 0),
        fee_refunded bigint not null default 0,
        currency text not null,
        status text not null check (status in ('pending', 'succeeded', 'failed', 'canceled')),
        reason text,
        metadata jsonb not null default '{}'::jsonb,
        balance_transaction_id text,
        failure_reason text,
        created_at timestamptz not null default now()
      );
      create index payments_refunds_account on payments_refunds (account_id, livemode, created_at desc, id desc);

      create table payments_balance_transactions (
        id text primary key,
        account_id text not null,
        livemode boolean not null,
        type text not null check (type in ('charge', 'refund')),
        amount bigint not null,
        fee bigint not null,
        net bigint not null,
        currency text not null,
        source_id text not null,
        status text not null check (status in ('pending', 'available')),
        available_on timestamptz not null,
        ledger_transfer_id uuid,
        created_at timestamptz not null default now(),
        check (net = amount - fee)
      );
      create index payments_balance_transactions_account
        on payments_balance_transactions (account_id, livemode, created_at desc, id desc);
    `,
  },
  {
    id: '0601_payments_approvals',
    sql: `
      -- A scanned wallet payment above the payer's no-PIN threshold waits for the payer to approve
      -- it with the PIN in the app (WeChat's USERPAYING); unapproved after 60 s, it is canceled.
      create table payments_approvals (
        id text primary key,
        account_id text not null,
        livemode boolean not null,
        payment_intent_id text not null,
        user_id text not null,
        redemption_id text not null,
        amount bigint not null,
        currency text not null,
        merchant_name text not null,
        status text not null check (status in ('pending', 'approved', 'expired', 'canceled')),
        expires_at timestamptz not null,
        created_at timestamptz not null default now()
      );
      create index payments_approvals_user on payments_approvals (user_id, created_at desc);
      create index payments_approvals_expiry on payments_approvals (expires_at) where status = 'pending';
    `,
  },
  {
    id: '0602_payments_cards',
    sql: `
      -- Card payments: the PaymentMethod (pm_…) an intent was confirmed with and its charge used;
      -- a card refund the network declined is kept as failed, with Stripe's failure_reason.
      alter table payments_intents add column payment_method_id text;
      alter table payments_charges add column payment_method_id text;
      -- The recovery sweep looks for card charges a crash left pending.
      create index payments_charges_pending on payments_charges (created_at) where status = 'pending';
    `,
  },
  {
    id: '0604_payments_charge_decline_code',
    sql: `
      -- Stripe's decline_code of a failed charge (its outcome.reason), beside failure_code.
      alter table payments_charges add column failure_decline_code text;
    `,
  },
  {
    id: '0605_payments_recovery',
    sql: `
      -- Crash-safe workflows (docs/crash-safety.md): an intent in processing names the action under
      -- way (confirm has its pending charge; capture and cancel are named here, with their amount
      -- and reason), so that a retry or the recovery sweep can finish it.
      alter table payments_intents add column pending_action text check (pending_action in ('capture', 'cancel'));
      alter table payments_intents add column pending_amount bigint check (pending_amount > 0);
      alter table payments_intents add column pending_reason text;
      alter table payments_intents add column pending_since timestamptz;
      alter table payments_intents add constraint payments_intents_pending_action
        check ((pending_action is null) = (pending_since is null));
      -- A live wallet payer's hold (its pending history row and limit reservation), settled with the charge.
      alter table payments_charges add column payer_hold_id text;
      -- The recovery sweep's work lists.
      create index payments_intents_pending_action on payments_intents (pending_since) where pending_action is not null;
      create index payments_refunds_pending on payments_refunds (created_at) where status = 'pending';
      -- The charge a payer's approval pays with: recorded before the payment runs.
      alter table payments_approvals add column charge_id text;
    `,
  },
];

import type { Migration } from '../../../platform/migrations.js';

export const webhookMigrations: readonly Migration[] = [
  {
    id: '0480_webhooks',
    sql: `
      -- The install's secret from which the key that encrypts endpoint signing secrets is derived.
      create table webhooks_secrets (
        id integer primary key check (id = 1),
        secret text not null
      );

      -- Stripe webhook_endpoint objects (we_…) of a merchant, in test or live mode.
      create table webhooks_endpoints (
        id text primary key,
        account_id text not null,
        livemode boolean not null,
        url text not null,
        enabled_events jsonb not null,
        description text,
        metadata jsonb not null default '{}',
        status text not null check (status in ('enabled', 'disabled')),
        -- AES-256-GCM of the whsec_… secret (webhooks/secrets.ts); never returned after create.
        secret_ciphertext text not null,
        created_at timestamptz not null default clock_timestamp(),
        updated_at timestamptz not null default clock_timestamp(),
        deleted_at timestamptz
      );
      create index webhooks_endpoints_list on webhooks_endpoints (account_id, livemode, created_at desc, id desc);

      -- One event to one endpoint: the unit the worker retries. Rows are made when the worker takes
      -- an event from the outbox (merchant_events.delivery_state 'pending'), or by a resend.
      create table webhooks_deliveries (
        event_id text not null,
        endpoint_id text not null references webhooks_endpoints (id),
        account_id text not null,
        livemode boolean not null,
        state text not null check (state in ('pending', 'delivered', 'failed', 'canceled')),
        attempt_count integer not null default 0 check (attempt_count >= 0),
        -- When a pending delivery is next due; a worker that takes it pushes this forward by a lease,
        -- so a crashed worker's delivery is taken again once the lease has run out.
        next_attempt_at timestamptz not null,
        -- No retry is scheduled past this (3 days after the event, or after a resend).
        retry_until timestamptz not null,
        updated_at timestamptz not null default clock_timestamp(),
        primary key (event_id, endpoint_id)
      );
      create index webhooks_deliveries_due on webhooks_deliveries (next_attempt_at) where state = 'pending';

      -- Every POST the worker made (our extension: GET /v1/webhook_endpoints/{id}/attempts).
      create table webhooks_attempts (
        id text primary key,
        account_id text not null,
        livemode boolean not null,
        endpoint_id text not null references webhooks_endpoints (id),
        event_id text not null,
        attempt_number integer not null check (attempt_number >= 1),
        status_code integer,
        error text,
        duration_ms integer not null check (duration_ms >= 0),
        response_excerpt text not null default '',
        created_at timestamptz not null default clock_timestamp(),
        check (status_code is not null or error is not null)
      );
      create index webhooks_attempts_list on webhooks_attempts (account_id, livemode, endpoint_id, created_at desc, id desc);
    `,
  },
];

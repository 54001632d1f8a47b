import type { Migration } from '../../../platform/migrations.js';

export const merchantEventMigrations: readonly Migration[] = [
  {
    id: '0470_merchant_events',
    sql: `
      -- Stripe event objects (evt_…) of the /v1 API. Written in the same transaction as the change
      -- they describe, so this table is also the webhook outbox: the webhook worker claims rows by
      -- delivery_state (FOR UPDATE SKIP LOCKED) and records its progress here.
      create table merchant_events (
        id text primary key,
        account_id text not null,
        livemode boolean not null,
        type text not null,
        -- {"object": {...snapshot...}, "previous_attributes": {...}?}
        data jsonb not null,
        api_version text,
        request_id text,
        idempotency_key text,
        -- pending: not yet handed to the webhook worker; the worker owns every other state.
        delivery_state text not null default 'pending'
          check (delivery_state in ('pending', 'delivering', 'delivered', 'failed', 'none')),
        pending_webhooks integer not null default 0 check (pending_webhooks >= 0),
        delivery_attempt_count integer not null default 0 check (delivery_attempt_count >= 0),
        next_delivery_at timestamptz,
        created_at timestamptz not null default clock_timestamp()
      );
      create index merchant_events_list on merchant_events (account_id, livemode, created_at desc, id desc);
      create index merchant_events_outbox on merchant_events (created_at) where delivery_state = 'pending';
    `,
  },
];

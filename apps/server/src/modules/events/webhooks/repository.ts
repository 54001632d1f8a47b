import type { SqlExecutor } from '../../../platform/db.js';
import { assert } from '../../../platform/errors.js';
import { fetchPage, type Metadata, type PageRequest, type V1Scope } from '../../../v1/index.js';
import { recordEventDeliveries } from '../merchant-events/outbox.js';

/** SQL for the webhook tables (webhooks_endpoints, webhooks_deliveries, webhooks_attempts); no rules. */

export interface EndpointRow {
  id: string;
  account_id: string;
  livemode: boolean;
  url: string;
  enabled_events: string[];
  description: string | null;
  metadata: Metadata;
  status: 'enabled' | 'disabled';
  secret_ciphertext: string;
  created_at: Date;
}

export const endpointColumns =
  'id, account_id, livemode, url, enabled_events, description, metadata, status, secret_ciphertext, created_at';

export interface AttemptRow {
  id: string;
  account_id: string;
  livemode: boolean;
  endpoint_id: string;
  event_id: string;
  attempt_number: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  response_excerpt: string;
  created_at: Date;
}

const attemptColumns =
  'id, account_id, livemode, endpoint_id, event_id, attempt_number, status_code, error, duration_ms, response_excerpt, created_at';

/** A live (not deleted) endpoint of the scope, optionally locked FOR UPDATE. */
export async function selectEndpoint(
  executor: SqlExecutor,
  scope: V1Scope,
  id: string,
  options: { lock: boolean },
): Promise<EndpointRow | undefined> {
  const rows = await executor.query<EndpointRow>(
    `select ${endpointColumns} from webhooks_endpoints
      where account_id = $1 and livemode = $2 and id = $3 and deleted_at is null${options.lock ? ' for update' : ''}`,
    [scope.accountId, scope.livemode, id],
  );
  return rows[0];
}

/** Serialises endpoint creates of one account (a transaction-scoped advisory lock). */
export async function lockEndpointCreates(tx: SqlExecutor, accountId: string): Promise<void> {
  await tx.query('select pg_advisory_xact_lock(hashtext($1))', [`webhooks:${accountId}`]);
}

export async function countLiveEndpoints(tx: SqlExecutor, scope: V1Scope): Promise<number> {
  const counted = await tx.query<{ count: number }>(
    `select count(*)::int as count from webhooks_endpoints
      where account_id = $1 and livemode = $2 and deleted_at is null`,
    [scope.accountId, scope.livemode],
  );
  return counted[0]?.count ?? 0;
}

export interface EndpointFields {
  url: string;
  enabledEventsJson: string;
  description: string | null;
  metadataJson: string;
  status: 'enabled' | 'disabled';
}

export async function insertEndpoint(
  tx: SqlExecutor,
  scope: V1Scope,
  row: EndpointFields & { id: string; secretCiphertext: string },
): Promise<EndpointRow | undefined> {
  const rows = await tx.query<EndpointRow>(
    `insert into webhooks_endpoints
       (id, account_id, livemode, url, enabled_events, description, metadata, status, secret_ciphertext)
     values ($1, $2, $3, $4, $5::text::jsonb, $6, $7::text::jsonb, $8, $9)
     returning ${endpointColumns}`,
    [
      row.id,
      scope.accountId,
      scope.livemode,
      row.url,
      row.enabledEventsJson,
      row.description,
      row.metadataJson,
      row.status,
      row.secretCiphertext,
    ],
  );
  return rows[0];
}

export async function updateEndpoint(
  tx: SqlExecutor,
  scope: V1Scope,
  id: string,
  fields: EndpointFields,
): Promise<EndpointRow | undefined> {
  const rows = await tx.query<EndpointRow>(
    `update webhooks_endpoints
        set url = $4, enabled_events = $5::text::jsonb, description = $6, metadata = $7::text::jsonb,
            status = $8, updated_at = clock_timestamp()
      where account_id = $1 and livemode = $2 and id = $3
      returning ${endpointColumns}`,
    [
      scope.accountId,
      scope.livemode,
      id,
      fields.url,
      fields.enabledEventsJson,
      fields.description,
      fields.metadataJson,
      fields.status,
    ],
  );
  return rows[0];
}

export async function markEndpointDeleted(tx: SqlExecutor, scope: V1Scope, id: string): Promise<void> {
  await tx.query(
    `update webhooks_endpoints set deleted_at = clock_timestamp()
      where account_id = $1 and livemode = $2 and id = $3`,
    [scope.accountId, scope.livemode, id],
  );
}

/** Cancels the endpoint's pending deliveries; returns the events they were for. */
export async function cancelPendingDeliveriesOfEndpoint(tx: SqlExecutor, endpointId: string): Promise<string[]> {
  const canceled = await tx.query<{ event_id: string }>(
    `update webhooks_deliveries set state = 'canceled', updated_at = clock_timestamp()
      where endpoint_id = $1 and state = 'pending' returning event_id`,
    [endpointId],
  );
  return canceled.map((delivery) => delivery.event_id);
}

/** Queues (or queues again) one event for one endpoint. */
export async function upsertPendingDelivery(
  tx: SqlExecutor,
  delivery: {
    eventId: string;
    endpointId: string;
    scope: V1Scope;
    nextAttemptAt: Date;
    retryUntil: Date;
  },
): Promise<void> {
  await tx.query(
    `insert into webhooks_deliveries
       (event_id, endpoint_id, account_id, livemode, state, next_attempt_at, retry_until)
     values ($1, $2, $3, $4, 'pending', $5, $6)
     on conflict (event_id, endpoint_id) do update
       set state = 'pending', next_attempt_at = excluded.next_attempt_at,
           retry_until = excluded.retry_until, updated_at = clock_timestamp()`,
    [
      delivery.eventId,
      delivery.endpointId,
      delivery.scope.accountId,
      delivery.scope.livemode,
      delivery.nextAttemptAt,
      delivery.retryUntil,
    ],
  );
}

export function selectEndpointPage(
  db: SqlExecutor,
  scope: V1Scope,
  page: PageRequest,
): Promise<{ rows: EndpointRow[]; hasMore: boolean }> {
  return fetchPage<EndpointRow>(db, {
    table: 'webhooks_endpoints',
    columns: endpointColumns,
    accountId: scope.accountId,
    livemode: scope.livemode,
    page,
    where: [{ sql: 'deleted_at is null', params: [] }],
    objectName: 'webhook endpoint',
  });
}

export function selectAttemptPage(
  db: SqlExecutor,
  scope: V1Scope,
  endpointId: string,
  page: PageRequest,
): Promise<{ rows: AttemptRow[]; hasMore: boolean }> {
  return fetchPage<AttemptRow>(db, {
    table: 'webhooks_attempts',
    columns: attemptColumns,
    accountId: scope.accountId,
    livemode: scope.livemode,
    page,
    where: [{ sql: 'endpoint_id = ?', params: [endpointId] }],
    objectName: 'webhook attempt',
  });
}

/**
 * Brings the event's webhook columns up to date with its deliveries, through the merchant-events
 * part (which owns merchant_events). An event still 'pending' (in the outbox, not yet handed to
 * endpoints) is left for the worker's hand-out.
 */
export async function refreshEventDeliveryState(tx: SqlExecutor, eventId: string): Promise<void> {
  await recordEventDeliveries(tx, eventId, async () => {
    const rows = await tx.query<{ pending: number; failed: number; delivered: number; next_at: Date | null }>(
      `select count(*) filter (where state = 'pending')::int as pending,
              count(*) filter (where state = 'failed')::int as failed,
              count(*) filter (where state = 'delivered')::int as delivered,
              min(next_attempt_at) filter (where state = 'pending') as next_at
         from webhooks_deliveries where event_id = $1`,
      [eventId],
    );
    const row = rows[0];
    assert(row !== undefined, 'an aggregate returns one row');
    return { pending: row.pending, failed: row.failed, delivered: row.delivered, nextAttemptAt: row.next_at };
  });
}

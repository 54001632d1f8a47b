import type { SqlExecutor } from '../../../platform/db.js';
import { fetchPage, type PageRequest, type V1Scope } from '../../../v1/index.js';
import type { EventWire } from './types.js';

/** SQL for merchant_events (the /v1 events and the webhook outbox); no rules. */

export interface EventRow {
  id: string;
  account_id: string;
  livemode: boolean;
  type: string;
  data: EventWire['data'];
  api_version: string | null;
  request_id: string | null;
  idempotency_key: string | null;
  pending_webhooks: number;
  created_at: Date;
}

const columns =
  'id, account_id, livemode, type, data, api_version, request_id, idempotency_key, pending_webhooks, created_at';

export async function insertEvent(
  tx: SqlExecutor,
  row: {
    id: string;
    accountId: string;
    livemode: boolean;
    type: string;
    dataJson: string;
    requestId: string | null;
    idempotencyKey: string | null;
  },
): Promise<EventRow | undefined> {
  const rows = await tx.query<EventRow>(
    `insert into merchant_events (id, account_id, livemode, type, data, request_id, idempotency_key)
     values ($1, $2, $3, $4, $5::text::jsonb, $6, $7) returning ${columns}`,
    [row.id, row.accountId, row.livemode, row.type, row.dataJson, row.requestId, row.idempotencyKey],
  );
  return rows[0];
}

export async function selectEvent(db: SqlExecutor, scope: V1Scope, id: string): Promise<EventRow | undefined> {
  const rows = await db.query<EventRow>(
    `select ${columns} from merchant_events where account_id = $1 and livemode = $2 and id = $3`,
    [scope.accountId, scope.livemode, id],
  );
  return rows[0];
}

/** `customer.*` matches every customer event, as in Stripe. */
function typeCondition(type: string): { sql: string; params: string[] } {
  if (type.endsWith('.*')) return { sql: 'type like ?', params: [`${type.slice(0, -1).replace(/[%_\\]/g, '\\$&')}%`] };
  return { sql: 'type = ?', params: [type] };
}

export async function selectEventPage(
  db: SqlExecutor,
  scope: V1Scope,
  options: { page: PageRequest; type?: string; types?: readonly string[] },
): Promise<{ rows: EventRow[]; hasMore: boolean }> {
  const where: { sql: string; params: string[] }[] = [];
  if (options.type !== undefined) where.push(typeCondition(options.type));
  if (options.types !== undefined && options.types.length > 0) {
    const conditions = options.types.map(typeCondition);
    where.push({
      sql: `(${conditions.map((condition) => condition.sql).join(' or ')})`,
      params: conditions.flatMap((condition) => condition.params),
    });
  }
  return fetchPage<EventRow>(db, {
    table: 'merchant_events',
    columns,
    accountId: scope.accountId,
    livemode: scope.livemode,
    page: options.page,
    where,
    objectName: 'event',
  });
}

/** Oldest first; locked (FOR UPDATE SKIP LOCKED) so that concurrent workers take different events. */
export async function selectPendingEventsForUpdate(
  tx: SqlExecutor,
  limit: number,
): Promise<{ id: string; account_id: string; livemode: boolean; type: string; created_at: Date }[]> {
  return tx.query(
    `select id, account_id, livemode, type, created_at from merchant_events
      where delivery_state = 'pending' order by created_at limit $1 for update skip locked`,
    [limit],
  );
}

export async function updateEventHandedOut(tx: SqlExecutor, eventId: string): Promise<void> {
  await tx.query(`update merchant_events set delivery_state = 'none' where id = $1 and delivery_state = 'pending'`, [
    eventId,
  ]);
}

/** Locks an event that has left the outbox; false when it is still 'pending' there (or unknown). */
export async function lockHandedOutEvent(tx: SqlExecutor, eventId: string): Promise<boolean> {
  const rows = await tx.query<{ id: string }>(
    `select id from merchant_events where id = $1 and delivery_state <> 'pending' for update`,
    [eventId],
  );
  return rows.length === 1;
}

export async function updateEventDelivery(
  tx: SqlExecutor,
  eventId: string,
  state: { deliveryState: string; pendingWebhooks: number; nextDeliveryAt: Date | null },
): Promise<void> {
  await tx.query(
    `update merchant_events set delivery_state = $2, pending_webhooks = $3, next_delivery_at = $4
      where id = $1 and delivery_state <> 'pending'`,
    [eventId, state.deliveryState, state.pendingWebhooks, state.nextDeliveryAt],
  );
}

export async function incrementEventDeliveryAttempts(tx: SqlExecutor, eventId: string): Promise<void> {
  await tx.query(`update merchant_events set delivery_attempt_count = delivery_attempt_count + 1 where id = $1`, [
    eventId,
  ]);
}

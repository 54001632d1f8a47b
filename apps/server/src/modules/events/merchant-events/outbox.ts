import type { SqlExecutor } from '../../../platform/db.js';
import { assert } from '../../../platform/errors.js';
import { limits } from '../../../platform/limits.js';
import {
  incrementEventDeliveryAttempts,
  lockHandedOutEvent,
  selectPendingEventsForUpdate,
  updateEventDelivery,
  updateEventHandedOut,
} from './repository.js';

/**
 * The outbox side of merchant_events, as the webhook part of this context sees it. The webhook
 * worker reads and writes merchant events only through these functions (and MerchantEvents.retrieve):
 * the table, its delivery_state rules and its columns stay here.
 *
 * delivery_state: 'pending' while the event waits in the outbox; once handed out, 'delivering'
 * while some endpoint is still pending, then 'failed' if any endpoint gave up, 'delivered' if any
 * got it, else 'none' (no endpoint matched, or every delivery was canceled).
 */

/** An event waiting in the outbox (delivery_state 'pending'). */
export interface OutboxEvent {
  id: string;
  accountId: string;
  livemode: boolean;
  type: string;
  createdAt: Date;
}

/** How an event's deliveries stand, counted by the webhook part. */
export interface EventDeliveryCounts {
  pending: number;
  failed: number;
  delivered: number;
  /** The earliest pending attempt, null when none is pending. */
  nextAttemptAt: Date | null;
}

export type EventDeliveryState = 'delivering' | 'failed' | 'delivered' | 'none';

export function eventDeliveryState(counts: EventDeliveryCounts): EventDeliveryState {
  if (counts.pending > 0) return 'delivering';
  if (counts.failed > 0) return 'failed';
  if (counts.delivered > 0) return 'delivered';
  return 'none';
}

/**
 * Takes up to `limit` events from the outbox, oldest first, locked for the caller's transaction
 * (FOR UPDATE SKIP LOCKED: concurrent workers take different events). Each must be handed out
 * (handOutEvent) in the same transaction.
 */
export async function takeOutboxEvents(tx: SqlExecutor, limit: number): Promise<OutboxEvent[]> {
  assert(Number.isSafeInteger(limit) && limit >= 1 && limit <= limits.webhookDeliveryBatchMax, 'outbox batch in range');
  const rows = await selectPendingEventsForUpdate(tx, limit);
  assert(rows.length <= limit, 'outbox returned more events than asked for');
  return rows.map((row) => ({
    id: row.id,
    accountId: row.account_id,
    livemode: row.livemode,
    type: row.type,
    createdAt: row.created_at,
  }));
}

/** Moves a taken event out of the outbox; its deliveries then decide its state (recordEventDeliveries). */
export async function handOutEvent(tx: SqlExecutor, eventId: string): Promise<void> {
  await updateEventHandedOut(tx, eventId);
}

/**
 * Sets an event's webhook columns (delivery_state, pending_webhooks, next_delivery_at) from its
 * deliveries. The event row is locked before `countDeliveries` runs, so two workers finishing
 * deliveries of one event cannot write each other's stale counts. An event still in the outbox
 * is left for the worker's hand-out.
 */
export async function recordEventDeliveries(
  tx: SqlExecutor,
  eventId: string,
  countDeliveries: () => Promise<EventDeliveryCounts>,
): Promise<void> {
  if (!(await lockHandedOutEvent(tx, eventId))) return;
  const counts = await countDeliveries();
  assert(
    [counts.pending, counts.failed, counts.delivered].every((count) => Number.isSafeInteger(count) && count >= 0),
    'delivery counts are non-negative integers',
  );
  assert(counts.pending > 0 === (counts.nextAttemptAt !== null), 'a next attempt exactly when one is pending');
  await updateEventDelivery(tx, eventId, {
    deliveryState: eventDeliveryState(counts),
    pendingWebhooks: counts.pending,
    nextDeliveryAt: counts.nextAttemptAt,
  });
}

/** Counts one more POST for the event (over all its endpoints). */
export async function countEventDeliveryAttempt(tx: SqlExecutor, eventId: string): Promise<void> {
  await incrementEventDeliveryAttempts(tx, eventId);
}

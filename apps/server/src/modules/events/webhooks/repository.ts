import type { SqlExecutor } from '../../../platform/db.js';
import { assert } from '../../../platform/errors.js';
import type { Metadata } from '../../../v1/index.js';
import { recordEventDeliveries } from '../merchant-events/outbox.js';

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

import type { SqlExecutor } from '../../../platform/db.js';
import type { Metadata } from '../../../v1/index.js';

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
 * Recomputes merchant_events' webhook columns from the event's deliveries. An event still
 * 'pending' (in the outbox, not yet handed to endpoints) is left for the worker's fan-out.
 */
export async function refreshEventDeliveryState(tx: SqlExecutor, eventId: string): Promise<void> {
  await tx.query(
    `update merchant_events e
        set pending_webhooks = s.pending,
            delivery_state = case when s.pending > 0 then 'delivering'
                                  when s.failed > 0 then 'failed'
                                  when s.delivered > 0 then 'delivered'
                                  else 'none' end,
            next_delivery_at = s.next_at
       from (select count(*) filter (where state = 'pending')::int as pending,
                    count(*) filter (where state = 'failed')::int as failed,
                    count(*) filter (where state = 'delivered')::int as delivered,
                    min(next_attempt_at) filter (where state = 'pending') as next_at
               from webhooks_deliveries where event_id = $1) s
      where e.id = $1 and e.delivery_state <> 'pending'`,
    [eventId],
  );
}

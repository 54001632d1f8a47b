import type { Db, SqlExecutor } from '../../../platform/db.js';
import { AppError, assert } from '../../../platform/errors.js';
import { newObjectId } from '../../../platform/ids.js';
import type { PageRequest, V1Scope } from '../../../v1/index.js';
import { insertEvent, selectEvent, selectEventPage, type EventRow } from './repository.js';
import { isMerchantEventType, type EventWire, type RecordEventInput } from './types.js';

function toWire(row: EventRow): EventWire {
  return {
    id: row.id,
    object: 'event',
    api_version: row.api_version,
    created: Math.floor(row.created_at.getTime() / 1000),
    data: row.data,
    livemode: row.livemode,
    pending_webhooks: row.pending_webhooks,
    request: { id: row.request_id, idempotency_key: row.idempotency_key },
    type: row.type,
  };
}

/**
 * Writes an event in the caller's transaction (so no event exists for a change that did not
 * commit); it is also the webhook outbox row (delivery_state 'pending').
 */
export async function recordEvent(tx: SqlExecutor, input: RecordEventInput): Promise<EventWire> {
  assert(isMerchantEventType(input.type), `event type ${input.type} must be a MerchantEventType`);
  // Some objects (refunds) carry no livemode of their own, as in Stripe.
  assert(
    input.object.livemode === undefined || input.object.livemode === input.livemode,
    'an event and its object must be in the same mode',
  );
  const data = {
    object: input.object,
    ...(input.previousAttributes === undefined ? {} : { previous_attributes: input.previousAttributes }),
  };
  const row = await insertEvent(tx, {
    id: newObjectId('evt'),
    accountId: input.accountId,
    livemode: input.livemode,
    type: input.type,
    dataJson: JSON.stringify(data),
    requestId: input.request?.id ?? null,
    idempotencyKey: input.request?.idempotencyKey ?? null,
  });
  assert(row !== undefined, 'inserted event row must be returned');
  return toWire(row);
}

export interface MerchantEvents {
  retrieve(scope: V1Scope, id: string): Promise<EventWire>;
  list(
    scope: V1Scope,
    options: { page: PageRequest; type?: string; types?: readonly string[] },
  ): Promise<{ data: EventWire[]; hasMore: boolean }>;
}

export function createMerchantEvents(dependencies: { db: Db }): MerchantEvents {
  const { db } = dependencies;
  return {
    async retrieve(scope, id) {
      const row = await selectEvent(db, scope, id);
      if (row === undefined) {
        throw new AppError('not_found', { message: `No such event: '${id}'`, param: 'id' });
      }
      assert(row.account_id === scope.accountId && row.livemode === scope.livemode, 'event row out of scope');
      return toWire(row);
    },

    async list(scope, options) {
      const page = await selectEventPage(db, scope, options);
      return { data: page.rows.map(toWire), hasMore: page.hasMore };
    },
  };
}

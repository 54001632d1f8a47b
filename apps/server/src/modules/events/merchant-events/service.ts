import type { Db, SqlExecutor } from '../../../platform/db.js';
import { AppError, assert } from '../../../platform/errors.js';
import { newObjectId } from '../../../platform/ids.js';
import { fetchPage, type PageRequest, type V1Scope } from '../../../v1/index.js';

/** A Stripe event object, as /v1 returns it and webhooks will deliver it. */
export interface EventWire {
  id: string;
  object: 'event';
  api_version: string | null;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface RecordEventInput {
  accountId: string;
  livemode: boolean;
  /** `customer.created`, `payment_intent.succeeded` … */
  type: string;
  /** The object's snapshot after the change (its /v1 wire form). */
  object: Record<string, unknown>;
  /** For *.updated: the changed fields' values before the change. */
  previousAttributes?: Record<string, unknown>;
  /** The API request that caused the change, when there was one. */
  request?: { id: string | null; idempotencyKey: string | null };
}

interface EventRow {
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
const eventTypePattern = /^[a-z_]+(\.[a-z_]+){1,3}$/;

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
  assert(eventTypePattern.test(input.type), `event type ${input.type} must look like resource.action`);
  // Some objects (refunds) carry no livemode of their own, as in Stripe.
  assert(
    input.object.livemode === undefined || input.object.livemode === input.livemode,
    'an event and its object must be in the same mode',
  );
  const data = {
    object: input.object,
    ...(input.previousAttributes === undefined ? {} : { previous_attributes: input.previousAttributes }),
  };
  const rows = await tx.query<EventRow>(
    `insert into merchant_events (id, account_id, livemode, type, data, request_id, idempotency_key)
     values ($1, $2, $3, $4, $5::text::jsonb, $6, $7) returning ${columns}`,
    [
      newObjectId('evt'),
      input.accountId,
      input.livemode,
      input.type,
      JSON.stringify(data),
      input.request?.id ?? null,
      input.request?.idempotencyKey ?? null,
    ],
  );
  const row = rows[0];
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

/** `customer.*` matches every customer event, as in Stripe. */
function typeCondition(type: string): { sql: string; params: string[] } {
  if (type.endsWith('.*')) return { sql: 'type like ?', params: [`${type.slice(0, -1).replace(/[%_\\]/g, '\\$&')}%`] };
  return { sql: 'type = ?', params: [type] };
}

export function createMerchantEvents(dependencies: { db: Db }): MerchantEvents {
  const { db } = dependencies;
  return {
    async retrieve(scope, id) {
      const rows = await db.query<EventRow>(
        `select ${columns} from merchant_events where account_id = $1 and livemode = $2 and id = $3`,
        [scope.accountId, scope.livemode, id],
      );
      const row = rows[0];
      if (row === undefined) {
        throw new AppError('resource_missing', { message: `No such event: '${id}'`, param: 'id' });
      }
      return toWire(row);
    },

    async list(scope, options) {
      const where: { sql: string; params: string[] }[] = [];
      if (options.type !== undefined) where.push(typeCondition(options.type));
      if (options.types !== undefined && options.types.length > 0) {
        const conditions = options.types.map(typeCondition);
        where.push({
          sql: `(${conditions.map((condition) => condition.sql).join(' or ')})`,
          params: conditions.flatMap((condition) => condition.params),
        });
      }
      const page = await fetchPage<EventRow>(db, {
        table: 'merchant_events',
        columns,
        accountId: scope.accountId,
        livemode: scope.livemode,
        page: options.page,
        where,
        objectName: 'event',
      });
      return { data: page.rows.map(toWire), hasMore: page.hasMore };
    },
  };
}

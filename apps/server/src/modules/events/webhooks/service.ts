import type { Db, SqlExecutor } from '../../../platform/db.js';
import { AppError, assert } from '../../../platform/errors.js';
import { limits } from '../../../platform/limits.js';
import type { Logger } from '../../../platform/logger.js';
import { newObjectId } from '../../../platform/ids.js';
import type { MerchantEvents } from '../merchant-events/service.js';
import { applyMetadataUpdate, fetchPage, type Metadata, type PageRequest, type V1Scope } from '../../../v1/index.js';
import { endpointColumns, refreshEventDeliveryState, type EndpointRow } from './repository.js';
import { checkTarget, systemResolver, type HostResolver } from './address-policy.js';
import { deliverDue, type DeliveryReport } from './delivery.js';
import { merchantEventTypes } from '../merchant-events/types.js';
import { isEnabledEvent, type EnabledEvent } from './event-types.js';
import { encryptSigningSecret, loadSecretEncryptionKey, newSigningSecret, type EncryptionKey } from './secrets.js';

/** Stripe's webhook_endpoint object; `secret` only in the create response. */
export interface WebhookEndpointWire {
  id: string;
  object: 'webhook_endpoint';
  api_version: null;
  application: null;
  created: number;
  description: string | null;
  enabled_events: string[];
  livemode: boolean;
  metadata: Metadata;
  secret?: string;
  status: 'enabled' | 'disabled';
  url: string;
}

export interface DeletedWebhookEndpointWire {
  id: string;
  object: 'webhook_endpoint';
  deleted: true;
}

/** One POST to an endpoint (our extension). */
export interface WebhookAttemptWire {
  id: string;
  object: 'webhook_attempt';
  attempt: number;
  created: number;
  duration_ms: number;
  endpoint: string;
  error: string | null;
  event: string;
  livemode: boolean;
  response_body_excerpt: string;
  status_code: number | null;
}

/** The queued delivery a resend made (our extension). */
export interface WebhookDeliveryWire {
  object: 'webhook_delivery';
  endpoint: string;
  event: string;
  livemode: boolean;
  next_attempt: number;
  status: 'pending';
}

export interface WebhookEndpointCreateInput {
  url: string;
  enabledEvents: string[];
  description?: string;
  metadata?: Metadata;
}

/** undefined leaves a field alone; description null unsets it; metadata merges. */
export interface WebhookEndpointUpdateInput {
  url?: string;
  enabledEvents?: string[];
  disabled?: boolean;
  description?: string | null;
  metadata?: Metadata | '' | null;
}

export interface Webhooks {
  create(scope: V1Scope, input: WebhookEndpointCreateInput): Promise<WebhookEndpointWire>;
  retrieve(scope: V1Scope, id: string): Promise<WebhookEndpointWire>;
  update(scope: V1Scope, id: string, input: WebhookEndpointUpdateInput): Promise<WebhookEndpointWire>;
  delete(scope: V1Scope, id: string): Promise<DeletedWebhookEndpointWire>;
  list(scope: V1Scope, options: { page: PageRequest }): Promise<{ data: WebhookEndpointWire[]; hasMore: boolean }>;
  /** The endpoint's delivery attempts, newest first. */
  listAttempts(
    scope: V1Scope,
    endpointId: string,
    options: { page: PageRequest },
  ): Promise<{ data: WebhookAttemptWire[]; hasMore: boolean }>;
  /** Queues the event for the endpoint again, with a fresh retry window. */
  resend(scope: V1Scope, endpointId: string, eventId: string): Promise<WebhookDeliveryWire>;
  /**
   * The worker's step: hands new events from the outbox to matching endpoints, then POSTs up to
   * `limit` due deliveries (at most webhookDeliveryConcurrencyMax at once). Safe to run on several
   * nodes at once (FOR UPDATE SKIP LOCKED plus a lease).
   */
  deliverDue(limit: number): Promise<DeliveryReport>;
}

export interface WebhooksDependencies {
  db: Db;
  events: Pick<MerchantEvents, 'retrieve'>;
  /** YUNPAY_WEBHOOK_ALLOW_PRIVATE: allow endpoints on loopback and private networks (tests, labs). */
  allowPrivate: boolean;
  /** Resolves endpoint hosts (tests inject one); dns.lookup with all: true by default. */
  resolver?: HostResolver;
  /** The scheduling clock, ms since the epoch (tests move it to reach retries). Signature timestamps use the real clock. */
  now?: () => number;
  logger?: Logger;
}

function toWire(row: EndpointRow): WebhookEndpointWire {
  return {
    id: row.id,
    object: 'webhook_endpoint',
    api_version: null,
    application: null,
    created: Math.floor(row.created_at.getTime() / 1000),
    description: row.description,
    enabled_events: row.enabled_events,
    livemode: row.livemode,
    metadata: row.metadata,
    status: row.status,
    url: row.url,
  };
}

interface AttemptRow {
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

function attemptWire(row: AttemptRow): WebhookAttemptWire {
  return {
    id: row.id,
    object: 'webhook_attempt',
    attempt: row.attempt_number,
    created: Math.floor(row.created_at.getTime() / 1000),
    duration_ms: row.duration_ms,
    endpoint: row.endpoint_id,
    error: row.error,
    event: row.event_id,
    livemode: row.livemode,
    response_body_excerpt: row.response_excerpt,
    status_code: row.status_code,
  };
}

function missing(id: string): AppError {
  return new AppError('resource_missing', { message: `No such webhook endpoint: '${id}'`, param: 'id' });
}

function checkEnabledEvents(events: readonly string[]): asserts events is readonly EnabledEvent[] {
  if (events.length === 0) {
    throw new AppError('parameter_missing', {
      message: 'enabled_events must name at least one event type, or *.',
      param: 'enabled_events',
    });
  }
  for (const [index, type] of events.entries()) {
    if (!isEnabledEvent(type)) {
      throw new AppError('parameter_invalid', {
        message: `Invalid enabled_events[${index}]: must be * or one of ${merchantEventTypes.join(', ')}.`,
        param: `enabled_events[${index}]`,
      });
    }
  }
}

export function createWebhooks(dependencies: WebhooksDependencies): Webhooks {
  const { db } = dependencies;
  const resolver = dependencies.resolver ?? systemResolver;
  const now = dependencies.now ?? Date.now;
  let encryptionKey: Promise<EncryptionKey> | null = null;
  const key = (): Promise<EncryptionKey> => {
    encryptionKey ??= loadSecretEncryptionKey(db).catch((error: unknown) => {
      encryptionKey = null;
      throw error;
    });
    return encryptionKey;
  };

  async function checkUrl(url: string): Promise<void> {
    const check = await checkTarget(url, { resolver, allowPrivate: dependencies.allowPrivate });
    if (!check.ok)
      throw new AppError('url_invalid', { message: `Invalid URL: the URL ${check.reason}.`, param: 'url' });
  }

  async function find(executor: SqlExecutor, scope: V1Scope, id: string, lock: boolean): Promise<EndpointRow | null> {
    const rows = await executor.query<EndpointRow>(
      `select ${endpointColumns} from webhooks_endpoints
        where account_id = $1 and livemode = $2 and id = $3 and deleted_at is null${lock ? ' for update' : ''}`,
      [scope.accountId, scope.livemode, id],
    );
    const row = rows[0];
    if (row !== undefined) {
      assert(row.account_id === scope.accountId && row.livemode === scope.livemode, 'endpoint row out of scope');
    }
    return row ?? null;
  }

  return {
    async create(scope, input) {
      checkEnabledEvents(input.enabledEvents);
      await checkUrl(input.url);
      const metadata = applyMetadataUpdate({}, input.metadata);
      const encryption = await key();
      const id = newObjectId('we');
      const secret = newSigningSecret();
      return db.transaction(async (tx) => {
        // Serialises creates of one account and mode, so the count below cannot be raced past.
        await tx.query('select pg_advisory_xact_lock(hashtext($1))', [`webhooks:${scope.accountId}`]);
        const counted = await tx.query<{ count: number }>(
          `select count(*)::int as count from webhooks_endpoints
            where account_id = $1 and livemode = $2 and deleted_at is null`,
          [scope.accountId, scope.livemode],
        );
        if ((counted[0]?.count ?? 0) >= limits.webhookEndpointsPerAccountMax) {
          throw new AppError('invalid_request', {
            message: `You have reached the maximum of ${limits.webhookEndpointsPerAccountMax} webhook endpoints in this mode.`,
          });
        }
        const rows = await tx.query<EndpointRow>(
          `insert into webhooks_endpoints
             (id, account_id, livemode, url, enabled_events, description, metadata, status, secret_ciphertext)
           values ($1, $2, $3, $4, $5::text::jsonb, $6, $7::text::jsonb, 'enabled', $8)
           returning ${endpointColumns}`,
          [
            id,
            scope.accountId,
            scope.livemode,
            input.url,
            JSON.stringify([...new Set(input.enabledEvents)]),
            input.description ?? null,
            JSON.stringify(metadata),
            encryptSigningSecret(encryption, secret, id),
          ],
        );
        const row = rows[0];
        assert(row !== undefined, 'inserted endpoint row must be returned');
        return { ...toWire(row), secret };
      });
    },

    async retrieve(scope, id) {
      const row = await find(db, scope, id, false);
      if (row === null) throw missing(id);
      return toWire(row);
    },

    async update(scope, id, input) {
      if (input.enabledEvents !== undefined) checkEnabledEvents(input.enabledEvents);
      if (input.url !== undefined) await checkUrl(input.url);
      return db.transaction(async (tx) => {
        const row = await find(tx, scope, id, true);
        if (row === null) throw missing(id);
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
            input.url ?? row.url,
            JSON.stringify(input.enabledEvents === undefined ? row.enabled_events : [...new Set(input.enabledEvents)]),
            input.description === undefined ? row.description : input.description,
            JSON.stringify(applyMetadataUpdate(row.metadata, input.metadata)),
            input.disabled === undefined ? row.status : input.disabled ? 'disabled' : 'enabled',
          ],
        );
        const updated = rows[0];
        assert(updated !== undefined, 'updated endpoint row must be returned');
        return toWire(updated);
      });
    },

    async delete(scope, id) {
      return db.transaction(async (tx) => {
        const row = await find(tx, scope, id, true);
        if (row === null) throw missing(id);
        await tx.query(
          `update webhooks_endpoints set deleted_at = clock_timestamp()
            where account_id = $1 and livemode = $2 and id = $3`,
          [scope.accountId, scope.livemode, id],
        );
        const canceled = await tx.query<{ event_id: string }>(
          `update webhooks_deliveries set state = 'canceled', updated_at = clock_timestamp()
            where endpoint_id = $1 and state = 'pending' returning event_id`,
          [id],
        );
        for (const delivery of canceled) await refreshEventDeliveryState(tx, delivery.event_id);
        return { id, object: 'webhook_endpoint' as const, deleted: true as const };
      });
    },

    async list(scope, options) {
      const page = await fetchPage<EndpointRow>(db, {
        table: 'webhooks_endpoints',
        columns: endpointColumns,
        accountId: scope.accountId,
        livemode: scope.livemode,
        page: options.page,
        where: [{ sql: 'deleted_at is null', params: [] }],
        objectName: 'webhook endpoint',
      });
      return { data: page.rows.map(toWire), hasMore: page.hasMore };
    },

    async listAttempts(scope, endpointId, options) {
      if ((await find(db, scope, endpointId, false)) === null) throw missing(endpointId);
      const page = await fetchPage<AttemptRow>(db, {
        table: 'webhooks_attempts',
        columns: attemptColumns,
        accountId: scope.accountId,
        livemode: scope.livemode,
        page: options.page,
        where: [{ sql: 'endpoint_id = ?', params: [endpointId] }],
        objectName: 'webhook attempt',
      });
      return { data: page.rows.map(attemptWire), hasMore: page.hasMore };
    },

    async resend(scope, endpointId, eventId) {
      const event = await dependencies.events.retrieve(scope, eventId).catch((error: unknown) => {
        if (error instanceof AppError && error.code === 'resource_missing') {
          throw new AppError('resource_missing', { message: `No such event: '${eventId}'`, param: 'event' });
        }
        throw error;
      });
      const at = new Date(now());
      return db.transaction(async (tx) => {
        const endpoint = await find(tx, scope, endpointId, true);
        if (endpoint === null) throw missing(endpointId);
        if (endpoint.status !== 'enabled') {
          throw new AppError('invalid_request', {
            message: `The webhook endpoint '${endpointId}' is disabled: enable it before resending.`,
          });
        }
        await tx.query(
          `insert into webhooks_deliveries
             (event_id, endpoint_id, account_id, livemode, state, next_attempt_at, retry_until)
           values ($1, $2, $3, $4, 'pending', $5, $6)
           on conflict (event_id, endpoint_id) do update
             set state = 'pending', next_attempt_at = excluded.next_attempt_at,
                 retry_until = excluded.retry_until, updated_at = clock_timestamp()`,
          [
            event.id,
            endpointId,
            scope.accountId,
            scope.livemode,
            at,
            new Date(at.getTime() + limits.webhookRetryWindowMs),
          ],
        );
        await refreshEventDeliveryState(tx, event.id);
        return {
          object: 'webhook_delivery' as const,
          endpoint: endpointId,
          event: event.id,
          livemode: scope.livemode,
          next_attempt: Math.floor(at.getTime() / 1000),
          status: 'pending' as const,
        };
      });
    },

    deliverDue(limit) {
      return deliverDue(
        {
          db,
          events: dependencies.events,
          key,
          resolver,
          allowPrivate: dependencies.allowPrivate,
          now,
          ...(dependencies.logger === undefined ? {} : { logger: dependencies.logger }),
        },
        limit,
      );
    },
  };
}

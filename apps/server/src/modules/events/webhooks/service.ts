import type { Db } from '../../../platform/db.js';
import type { Logger } from '../../../platform/logger.js';
import type { Metadata, PageRequest, V1Scope } from '../../../v1/index.js';
import type { MerchantEvents } from '../merchant-events/service.js';
import { systemResolver, type HostResolver } from './address-policy.js';
import { deliverDue, type DeliveryReport, type WebhookRuntime } from './delivery.js';
import {
  createEndpoint,
  deleteEndpoint,
  findEndpoint,
  missingEndpoint,
  resendEvent,
  updateEndpointOf,
} from './endpoints.js';
import { selectAttemptPage, selectEndpointPage } from './repository.js';
import { loadSecretEncryptionKey, type EncryptionKey } from './secrets.js';
import {
  attemptWire,
  endpointWire,
  type DeletedWebhookEndpointWire,
  type WebhookAttemptWire,
  type WebhookDeliveryWire,
  type WebhookEndpointWire,
} from './wire.js';

export type { DeletedWebhookEndpointWire, WebhookAttemptWire, WebhookDeliveryWire, WebhookEndpointWire };

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

/** Loads the signing secrets' key once (again after a failed load). */
function lazyEncryptionKey(db: Db): () => Promise<EncryptionKey> {
  let encryptionKey: Promise<EncryptionKey> | null = null;
  return () => {
    encryptionKey ??= loadSecretEncryptionKey(db).catch((error: unknown) => {
      encryptionKey = null;
      throw error;
    });
    return encryptionKey;
  };
}

export function createWebhooks(dependencies: WebhooksDependencies): Webhooks {
  const { db } = dependencies;
  const runtime: WebhookRuntime = {
    db,
    events: dependencies.events,
    key: lazyEncryptionKey(db),
    resolver: dependencies.resolver ?? systemResolver,
    allowPrivate: dependencies.allowPrivate,
    now: dependencies.now ?? Date.now,
    ...(dependencies.logger === undefined ? {} : { logger: dependencies.logger }),
  };
  return {
    create: (scope, input) => createEndpoint(runtime, scope, input),
    async retrieve(scope, id) {
      const row = await findEndpoint(db, scope, id, false);
      if (row === null) throw missingEndpoint(id);
      return endpointWire(row);
    },
    update: (scope, id, input) => updateEndpointOf(runtime, scope, id, input),
    delete: (scope, id) => deleteEndpoint(runtime, scope, id),
    async list(scope, options) {
      const page = await selectEndpointPage(db, scope, options.page);
      return { data: page.rows.map(endpointWire), hasMore: page.hasMore };
    },
    async listAttempts(scope, endpointId, options) {
      if ((await findEndpoint(db, scope, endpointId, false)) === null) throw missingEndpoint(endpointId);
      const page = await selectAttemptPage(db, scope, endpointId, options.page);
      return { data: page.rows.map(attemptWire), hasMore: page.hasMore };
    },
    resend: (scope, endpointId, eventId) => resendEvent(runtime, scope, endpointId, eventId),
    deliverDue: (limit) => deliverDue(runtime, limit),
  };
}

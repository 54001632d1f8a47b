import type { SqlExecutor } from '../../../platform/db.js';
import { AppError, assert } from '../../../platform/errors.js';
import { newObjectId } from '../../../platform/ids.js';
import { limits } from '../../../platform/limits.js';
import { applyMetadataUpdate, type V1Scope } from '../../../v1/index.js';
import { merchantEventTypes } from '../merchant-events/types.js';
import { checkTarget } from './address-policy.js';
import type { WebhookRuntime } from './delivery.js';
import { isEnabledEvent, type EnabledEvent } from './event-types.js';
import {
  cancelPendingDeliveriesOfEndpoint,
  countLiveEndpoints,
  insertEndpoint,
  lockEndpointCreates,
  markEndpointDeleted,
  refreshEventDeliveryState,
  selectEndpoint,
  updateEndpoint,
  upsertPendingDelivery,
  type EndpointRow,
} from './repository.js';
import { encryptSigningSecret, newSigningSecret } from './secrets.js';
import type { WebhookEndpointCreateInput, WebhookEndpointUpdateInput } from './service.js';
import {
  endpointWire,
  type DeletedWebhookEndpointWire,
  type WebhookDeliveryWire,
  type WebhookEndpointWire,
} from './wire.js';

/** The webhook_endpoint operations behind Webhooks (service.ts), as functions of the runtime. */

export function missingEndpoint(id: string): AppError {
  return new AppError('not_found', { message: `No such webhook endpoint: '${id}'`, param: 'id' });
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

const privateAddressHint =
  'Webhook endpoints must be reachable from the internet. To test webhooks locally, expose your receiver ' +
  'through a public tunnel, or run a test server with YUNPAY_WEBHOOK_ALLOW_PRIVATE=true (tests and labs only, ' +
  'never in production).';

async function checkUrl(runtime: WebhookRuntime, url: string): Promise<void> {
  const check = await checkTarget(url, { resolver: runtime.resolver, allowPrivate: runtime.allowPrivate });
  if (check.ok) return;
  // The code stays url_invalid (Stripe's); the message says how to receive webhooks on a developer's machine.
  const hint = check.privateAddress === true ? ` ${privateAddressHint}` : '';
  throw new AppError('url_invalid', { message: `Invalid URL: the URL ${check.reason}.${hint}`, param: 'url' });
}

/** A live endpoint of the scope, or null; asserts the row read back is the scope's. */
export async function findEndpoint(
  executor: SqlExecutor,
  scope: V1Scope,
  id: string,
  lock: boolean,
): Promise<EndpointRow | null> {
  const row = await selectEndpoint(executor, scope, id, { lock });
  if (row !== undefined) {
    assert(row.account_id === scope.accountId && row.livemode === scope.livemode, 'endpoint row out of scope');
  }
  return row ?? null;
}

export async function createEndpoint(
  runtime: WebhookRuntime,
  scope: V1Scope,
  input: WebhookEndpointCreateInput,
): Promise<WebhookEndpointWire> {
  checkEnabledEvents(input.enabledEvents);
  await checkUrl(runtime, input.url);
  const metadata = applyMetadataUpdate({}, input.metadata);
  const encryption = await runtime.key();
  const id = newObjectId('we');
  const secret = newSigningSecret();
  return runtime.db.transaction(async (tx) => {
    // Serialises creates of one account and mode, so the count below cannot be raced past.
    await lockEndpointCreates(tx, scope.accountId);
    if ((await countLiveEndpoints(tx, scope)) >= limits.webhookEndpointsPerAccountMax) {
      throw new AppError('invalid_request', {
        message: `You have reached the maximum of ${limits.webhookEndpointsPerAccountMax} webhook endpoints in this mode.`,
      });
    }
    const row = await insertEndpoint(tx, scope, {
      id,
      url: input.url,
      enabledEventsJson: JSON.stringify([...new Set(input.enabledEvents)]),
      description: input.description ?? null,
      metadataJson: JSON.stringify(metadata),
      status: 'enabled',
      secretCiphertext: encryptSigningSecret(encryption, secret, id),
    });
    assert(row !== undefined, 'inserted endpoint row must be returned');
    return { ...endpointWire(row), secret };
  });
}

export async function updateEndpointOf(
  runtime: WebhookRuntime,
  scope: V1Scope,
  id: string,
  input: WebhookEndpointUpdateInput,
): Promise<WebhookEndpointWire> {
  if (input.enabledEvents !== undefined) checkEnabledEvents(input.enabledEvents);
  if (input.url !== undefined) await checkUrl(runtime, input.url);
  return runtime.db.transaction(async (tx) => {
    const row = await findEndpoint(tx, scope, id, true);
    if (row === null) throw missingEndpoint(id);
    const updated = await updateEndpoint(tx, scope, id, {
      url: input.url ?? row.url,
      enabledEventsJson: JSON.stringify(
        input.enabledEvents === undefined ? row.enabled_events : [...new Set(input.enabledEvents)],
      ),
      description: input.description === undefined ? row.description : input.description,
      metadataJson: JSON.stringify(applyMetadataUpdate(row.metadata, input.metadata)),
      status: input.disabled === undefined ? row.status : input.disabled ? 'disabled' : 'enabled',
    });
    assert(updated !== undefined, 'updated endpoint row must be returned');
    return endpointWire(updated);
  });
}

export async function deleteEndpoint(
  runtime: WebhookRuntime,
  scope: V1Scope,
  id: string,
): Promise<DeletedWebhookEndpointWire> {
  return runtime.db.transaction(async (tx) => {
    const row = await findEndpoint(tx, scope, id, true);
    if (row === null) throw missingEndpoint(id);
    await markEndpointDeleted(tx, scope, id);
    const eventIds = await cancelPendingDeliveriesOfEndpoint(tx, id);
    // In id order, so that transactions refreshing several events lock them in the same order.
    for (const eventId of [...new Set(eventIds)].sort()) await refreshEventDeliveryState(tx, eventId);
    return { id, object: 'webhook_endpoint' as const, deleted: true as const };
  });
}

export async function resendEvent(
  runtime: WebhookRuntime,
  scope: V1Scope,
  endpointId: string,
  eventId: string,
): Promise<WebhookDeliveryWire> {
  const event = await runtime.events.retrieve(scope, eventId).catch((error: unknown) => {
    if (error instanceof AppError && error.code === 'not_found') {
      throw new AppError('not_found', { message: `No such event: '${eventId}'`, param: 'event' });
    }
    throw error;
  });
  const at = new Date(runtime.now());
  return runtime.db.transaction(async (tx) => {
    const endpoint = await findEndpoint(tx, scope, endpointId, true);
    if (endpoint === null) throw missingEndpoint(endpointId);
    if (endpoint.status !== 'enabled') {
      throw new AppError('invalid_request', {
        message: `The webhook endpoint '${endpointId}' is disabled: enable it before resending.`,
      });
    }
    await upsertPendingDelivery(tx, {
      eventId: event.id,
      endpointId,
      scope,
      nextAttemptAt: at,
      retryUntil: new Date(at.getTime() + limits.webhookRetryWindowMs),
    });
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
}

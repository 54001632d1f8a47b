/**
 * Webhooks: merchants' webhook_endpoint objects (we_…) at /v1/webhook_endpoints, and the worker
 * that delivers merchant events (the merchant-events outbox) to them, signed as Stripe signs
 * (Stripe-Signature), with retries for 3 days, recorded attempts and manual resend. Endpoint
 * addresses are checked against SSRF at create, update and every delivery. See docs/webhooks.md.
 */
export { webhookMigrations } from './schema.js';
export {
  createWebhooks,
  type DeletedWebhookEndpointWire,
  type WebhookAttemptWire,
  type WebhookDeliveryWire,
  type WebhookEndpointCreateInput,
  type WebhookEndpointUpdateInput,
  type WebhookEndpointWire,
  type Webhooks,
  type WebhooksDependencies,
} from './service.js';
export { checkWebhookLimits, retryDelayMs, type DeliveryReport } from './delivery.js';
export {
  checkTarget,
  isForbiddenAddress,
  systemResolver,
  type HostResolver,
  type ResolvedAddress,
} from './address-policy.js';
export { signatureHeader } from './secrets.js';
export { knownEventTypes } from './event-types.js';
export { webhookRoutes, type WebhookRoutesOptions } from './routes.js';

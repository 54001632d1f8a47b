/**
 * Events: everything that tells someone that something happened, written in the same transaction
 * as the change it tells of.
 *
 * - notifications/: what a person is told in the wallet (stored, listed, announced with
 *   LISTEN/NOTIFY to every node and streamed live over Server-Sent Events).
 * - merchant-events/: Stripe event objects (evt_…) at /v1/events; the table is also the webhook
 *   outbox.
 * - webhooks/: merchants' webhook_endpoint objects (we_…) at /v1/webhook_endpoints and the worker
 *   that delivers merchant events to them, signed as Stripe signs, with retries, recorded attempts,
 *   manual resend and an SSRF address policy. See docs/webhooks.md.
 *
 * Other contexts import only this file.
 */
import type { Migration } from '../../platform/migrations.js';
import { merchantEventMigrations } from './merchant-events/schema.js';
import { notificationMigrations } from './notifications/schema.js';
import { webhookMigrations } from './webhooks/schema.js';

/** The events context's tables: notifications, merchant events (the outbox), webhooks. */
export const eventsMigrations: readonly Migration[] = [
  ...notificationMigrations,
  ...merchantEventMigrations,
  ...webhookMigrations,
];

// Wallet notifications.
export type { NotificationInput, NotificationType, NotificationWriter } from './notifications/types.js';
export { notificationTypes } from './notifications/types.js';
export type { Notification } from './notifications/notification.js';
export {
  createNotifications,
  type Notifications,
  type NotificationListOptions,
  type NotificationPage,
  type NotificationReplay,
} from './notifications/notifications.js';
export {
  createNotificationHub,
  notificationChannel,
  type NotificationHub,
  type NotificationHubLimits,
  type SubscribeOptions,
  type SubscriptionEndReason,
} from './notifications/hub.js';
export {
  notificationRoutes,
  notificationDto,
  NotificationSchema,
  type NotificationDto,
  type NotificationRoutesOptions,
} from './notifications/routes.js';
export { isNotificationId } from './notifications/ids.js';

// Merchant events (/v1/events, the webhook outbox).
export { createMerchantEvents, recordEvent, type MerchantEvents } from './merchant-events/service.js';
export type { EventWire, RecordEventInput } from './merchant-events/types.js';
export { eventRoutes, type EventRoutesOptions } from './merchant-events/routes.js';
export {
  isMerchantEventType,
  merchantEventTypes,
  type CustomerEventType,
  type MerchantEventType,
  type PaymentEventType,
  type PaymentMethodEventType,
} from './merchant-events/types.js';

// Webhooks.
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
} from './webhooks/service.js';
export { checkWebhookLimits, retryDelayMs, type DeliveryReport } from './webhooks/delivery.js';
export {
  checkTarget,
  isForbiddenAddress,
  systemResolver,
  type HostResolver,
  type ResolvedAddress,
} from './webhooks/address-policy.js';
export { signatureHeader } from './webhooks/secrets.js';
export { isEnabledEvent, type EnabledEvent } from './webhooks/event-types.js';
export { webhookRoutes, type WebhookRoutesOptions } from './webhooks/routes.js';
export { createEventsContext, type EventsContext, type EventsContextDeps } from './context.js';

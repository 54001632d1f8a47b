/**
 * Stripe event objects (evt_…) for merchants: recorded in the same transaction as the change
 * (the webhook outbox), listed and retrieved at /v1/events. Not the wallet notifications (modules/events).
 */
export { merchantEventMigrations } from './schema.js';
export {
  createMerchantEvents,
  recordEvent,
  type EventWire,
  type MerchantEvents,
  type RecordEventInput,
} from './service.js';
export { eventRoutes, type EventRoutesOptions } from './routes.js';

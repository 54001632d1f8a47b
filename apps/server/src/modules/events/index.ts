/**
 * Events: notifications (stored, listed, streamed live over Server-Sent Events to any node).
 * Outbox, webhook endpoints and deliveries will live here too.
 */
export type { NotificationInput, NotificationType, NotificationWriter } from './types.js';
export { notificationTypes } from './types.js';
export type { Notification } from './notification.js';
export { eventsMigrations } from './schema.js';
export {
  createNotifications,
  type Notifications,
  type NotificationListOptions,
  type NotificationPage,
  type NotificationReplay,
} from './notifications.js';
export {
  createNotificationHub,
  notificationChannel,
  type NotificationHub,
  type NotificationHubLimits,
  type SubscribeOptions,
  type SubscriptionEndReason,
} from './hub.js';
export {
  notificationRoutes,
  notificationDto,
  NotificationSchema,
  type NotificationDto,
  type NotificationRoutesOptions,
} from './routes.js';
export { isNotificationId } from './ids.js';

import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import type { WorkerJob } from '../../platform/jobs.js';
import { limits } from '../../platform/limits.js';
import type { Logger } from '../../platform/logger.js';
import { createMerchantEvents, recordEvent, type MerchantEvents } from './merchant-events/service.js';
import { createNotifications, type Notifications } from './notifications/notifications.js';
import type { HostResolver } from './webhooks/address-policy.js';
import { createWebhooks, type Webhooks } from './webhooks/service.js';

/** The events context: wallet notifications, the merchant event outbox, webhook delivery. */
export interface EventsContext {
  notifications: Notifications;
  merchantEvents: MerchantEvents;
  webhooks: Webhooks;
  /** Records a Stripe event in the caller's transaction (the outbox). */
  recordEvent: typeof recordEvent;
  /** Webhook delivery. */
  jobs: WorkerJob[];
}

export interface EventsContextDeps {
  db: Db;
  clock: Clock;
  logger?: Logger;
  /** YUNPAY_WEBHOOK_ALLOW_PRIVATE: webhook endpoints may be on loopback/private addresses. */
  webhookAllowPrivate: boolean;
  /** Tests resolve webhook hosts themselves. */
  webhookResolver?: HostResolver;
}

export function createEventsContext(deps: EventsContextDeps): EventsContext {
  const logger = deps.logger === undefined ? {} : { logger: deps.logger };
  const notifications = createNotifications({ db: deps.db, ...logger });
  const merchantEvents = createMerchantEvents({ db: deps.db });
  const webhooks = createWebhooks({
    db: deps.db,
    events: merchantEvents,
    allowPrivate: deps.webhookAllowPrivate,
    now: () => deps.clock.nowMs(),
    ...(deps.webhookResolver === undefined ? {} : { resolver: deps.webhookResolver }),
    ...logger,
  });
  return {
    notifications,
    merchantEvents,
    webhooks,
    recordEvent,
    jobs: [
      {
        name: 'webhook-delivery',
        intervalMs: limits.webhookDeliveryIntervalMs,
        async run(jobLogger) {
          const report = await webhooks.deliverDue(limits.webhookDeliveryBatchDefault);
          if (report.attempts > 0 || report.canceled > 0) jobLogger.info({ ...report }, 'webhook deliveries attempted');
        },
      },
    ],
  };
}

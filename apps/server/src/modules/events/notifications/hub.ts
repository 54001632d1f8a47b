import type { Logger } from '../../../platform/logger.js';
import type { Db } from '../../../platform/db.js';
import { AppError, assert } from '../../../platform/errors.js';
import { limits } from '../../../platform/limits.js';
import { isNotificationId } from './ids.js';
import type { Notification } from './notification.js';
import { selectNotificationsByIds } from './repository.js';

/** The channel every node LISTENs on; payloads are JSON {user_id, id}. */
export const notificationChannel = 'yunpay_notifications';

/**
 * Why the hub ended a subscription: the hub is closing, or notifications for this user may have
 * been missed (delivery backlog or a failed load). Either way the client reconnects with
 * Last-Event-ID and the replay fills the gap.
 */
export type SubscriptionEndReason = 'hub_closed' | 'delivery_failed';

export interface SubscribeOptions {
  /** Called at most once when the hub ends the subscription (never after unsubscribe). */
  onEnd?: (reason: SubscriptionEndReason) => void;
}

export interface NotificationHubLimits {
  streamsPerUserMax: number;
  streamsMax: number;
  pendingMax: number;
  loadBatchMax: number;
}

/**
 * One per process: LISTENs once and fans committed notifications out to this node's live
 * subscribers, whichever node wrote them.
 */
export interface NotificationHub {
  /** Starts listening; idempotent. */
  start(): Promise<void>;
  /**
   * Delivers every notification committed for userId from now on, in commit order, until the
   * returned function is called. Throws rate_limited past the per-user or per-node stream limit,
   * shutting_down once the hub is closed.
   */
  subscribe(
    userId: string,
    onNotification: (notification: Notification) => void,
    options?: SubscribeOptions,
  ): () => void;
  /** Open subscriptions on this node, in total or for one user. */
  subscriptionCount(userId?: string): number;
  /** Stops listening and ends every subscription ('hub_closed'); idempotent. */
  close(): Promise<void>;
}

interface Subscriber {
  userId: string;
  onNotification: (notification: Notification) => void;
  onEnd: ((reason: SubscriptionEndReason) => void) | undefined;
}

interface Announcement {
  userId: string;
  id: string;
}

function parseAnnouncement(payload: string): Announcement | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { user_id: userId, id } = value as Record<string, unknown>;
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > limits.notificationUserIdLengthMax) {
    return null;
  }
  if (!isNotificationId(id)) return null;
  return { userId, id };
}

export function createNotificationHub(options: {
  db: Db;
  logger?: Logger;
  limits?: Partial<NotificationHubLimits>;
}): NotificationHub {
  const { db, logger } = options;
  const bounds: NotificationHubLimits = {
    streamsPerUserMax: limits.notificationStreamsPerUserMax,
    streamsMax: limits.notificationStreamsMax,
    pendingMax: limits.notificationHubPendingMax,
    loadBatchMax: limits.notificationHubLoadBatchMax,
    ...options.limits,
  };
  for (const [name, value] of Object.entries(bounds)) {
    assert(Number.isSafeInteger(value) && value > 0, `hub limit ${name} must be a positive integer`);
  }

  const subscribersByUser = new Map<string, Set<Subscriber>>();
  let subscriberCount = 0;
  // Announced ids waiting to be loaded, in arrival (commit) order.
  const pending = new Map<string, string>();
  let draining: Promise<void> | null = null;
  let starting: Promise<void> | null = null;
  let unlisten: (() => Promise<void>) | null = null;
  let closed = false;

  function remove(subscriber: Subscriber): boolean {
    const set = subscribersByUser.get(subscriber.userId);
    if (set === undefined || !set.delete(subscriber)) return false;
    if (set.size === 0) subscribersByUser.delete(subscriber.userId);
    subscriberCount -= 1;
    assert(subscriberCount >= 0, 'subscriber count went negative');
    return true;
  }

  function endSubscriber(subscriber: Subscriber, reason: SubscriptionEndReason): void {
    if (!remove(subscriber)) return;
    try {
      subscriber.onEnd?.(reason);
    } catch (error) {
      logger?.error({ err: error }, 'notification subscriber onEnd threw');
    }
  }

  function endUser(userId: string, reason: SubscriptionEndReason): void {
    for (const subscriber of [...(subscribersByUser.get(userId) ?? [])]) endSubscriber(subscriber, reason);
  }

  function deliver(notification: Notification): void {
    for (const subscriber of [...(subscribersByUser.get(notification.userId) ?? [])]) {
      try {
        subscriber.onNotification(notification);
      } catch (error) {
        logger?.error({ err: error }, 'notification subscriber threw');
      }
    }
  }

  // Loads announced notifications in batches: one query serves every announcement that arrived
  // while the previous one ran.
  async function drain(): Promise<void> {
    while (pending.size > 0 && !closed) {
      const batch = [...pending].slice(0, bounds.loadBatchMax);
      for (const [id] of batch) pending.delete(id);
      let loaded: Notification[];
      try {
        loaded = await selectNotificationsByIds(
          db,
          batch.map(([id]) => id),
        );
      } catch (error) {
        logger?.error({ err: error }, 'loading announced notifications failed');
        for (const userId of new Set(batch.map(([, userId]) => userId))) endUser(userId, 'delivery_failed');
        continue;
      }
      const announcedUser = new Map(batch);
      for (const notification of loaded) {
        if (closed) return;
        // The row is the truth; an announcement that names another user is ignored.
        if (announcedUser.get(notification.id) !== notification.userId) {
          logger?.warn({ notification_id: notification.id }, 'notification announced for another user');
          continue;
        }
        deliver(notification);
      }
      if (loaded.length !== batch.length) {
        logger?.warn({ announced: batch.length, loaded: loaded.length }, 'announced notifications not found');
      }
    }
  }

  function onPayload(payload: string): void {
    if (closed) return;
    const announcement = parseAnnouncement(payload);
    if (announcement === null) {
      logger?.warn('ignoring a malformed notification announcement');
      return;
    }
    // Only this node's subscribers matter: other users' notifications are not even loaded.
    if (!subscribersByUser.has(announcement.userId)) return;
    if (pending.size >= bounds.pendingMax) {
      logger?.warn({ pending: pending.size }, 'notification backlog full: ending the user streams');
      endUser(announcement.userId, 'delivery_failed');
      return;
    }
    pending.set(announcement.id, announcement.userId);
    draining ??= drain().finally(() => {
      draining = null;
    });
  }

  return {
    start() {
      assert(!closed, 'a closed notification hub cannot start again');
      starting ??= db.listen(notificationChannel, onPayload).then((stop) => {
        unlisten = stop;
      });
      return starting;
    },

    subscribe(userId, onNotification, subscribeOptions = {}) {
      assert(starting !== null, 'subscribe before the notification hub started');
      assert(userId.length > 0 && userId.length <= limits.notificationUserIdLengthMax, 'subscribe: bad user id');
      if (closed) throw new AppError('shutting_down');
      const set = subscribersByUser.get(userId);
      if ((set?.size ?? 0) >= bounds.streamsPerUserMax) {
        throw new AppError('rate_limited', {
          message: `At most ${bounds.streamsPerUserMax} notification streams may be open at once.`,
        });
      }
      if (subscriberCount >= bounds.streamsMax) {
        throw new AppError('rate_limited', { message: 'Too many notification streams are open. Retry later.' });
      }
      const subscriber: Subscriber = { userId, onNotification, onEnd: subscribeOptions.onEnd };
      if (set === undefined) subscribersByUser.set(userId, new Set([subscriber]));
      else set.add(subscriber);
      subscriberCount += 1;
      return () => {
        remove(subscriber);
      };
    },

    subscriptionCount(userId) {
      if (userId === undefined) return subscriberCount;
      return subscribersByUser.get(userId)?.size ?? 0;
    },

    async close() {
      if (closed) return;
      closed = true;
      pending.clear();
      for (const userId of [...subscribersByUser.keys()]) endUser(userId, 'hub_closed');
      assert(subscriberCount === 0, 'subscriptions left after the hub closed');
      try {
        await starting;
        await unlisten?.();
      } catch (error) {
        logger?.warn({ err: error }, 'stopping the notification listener failed');
      }
      // No query may still be running when the caller closes the database next.
      await draining;
    },
  };
}

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

/** A hub's state; the functions below act on it, createNotificationHub wires them up. */
interface HubState {
  db: Db;
  logger: Logger | undefined;
  bounds: NotificationHubLimits;
  subscribersByUser: Map<string, Set<Subscriber>>;
  subscriberCount: number;
  /** Announced ids waiting to be loaded, in arrival (commit) order, with their announced user. */
  pending: Map<string, string>;
  draining: Promise<void> | null;
  starting: Promise<void> | null;
  unlisten: (() => Promise<void>) | null;
  closed: boolean;
}

function removeSubscriber(hub: HubState, subscriber: Subscriber): boolean {
  const set = hub.subscribersByUser.get(subscriber.userId);
  if (set === undefined || !set.delete(subscriber)) return false;
  if (set.size === 0) hub.subscribersByUser.delete(subscriber.userId);
  hub.subscriberCount -= 1;
  assert(hub.subscriberCount >= 0, 'subscriber count went negative');
  return true;
}

function endSubscriber(hub: HubState, subscriber: Subscriber, reason: SubscriptionEndReason): void {
  if (!removeSubscriber(hub, subscriber)) return;
  try {
    subscriber.onEnd?.(reason);
  } catch (error) {
    hub.logger?.error({ err: error }, 'notification subscriber onEnd threw');
  }
}

function endUser(hub: HubState, userId: string, reason: SubscriptionEndReason): void {
  for (const subscriber of [...(hub.subscribersByUser.get(userId) ?? [])]) endSubscriber(hub, subscriber, reason);
}

function deliver(hub: HubState, notification: Notification): void {
  for (const subscriber of [...(hub.subscribersByUser.get(notification.userId) ?? [])]) {
    try {
      subscriber.onNotification(notification);
    } catch (error) {
      hub.logger?.error({ err: error }, 'notification subscriber threw');
    }
  }
}

/** Loads one batch of announcements and delivers it; a failed load ends the users' streams. */
async function loadAndDeliver(hub: HubState, batch: readonly (readonly [string, string])[]): Promise<void> {
  let loaded: Notification[];
  try {
    loaded = await selectNotificationsByIds(
      hub.db,
      batch.map(([id]) => id),
    );
  } catch (error) {
    hub.logger?.error({ err: error }, 'loading announced notifications failed');
    for (const userId of new Set(batch.map(([, userId]) => userId))) endUser(hub, userId, 'delivery_failed');
    return;
  }
  const announcedUser = new Map(batch);
  for (const notification of loaded) {
    if (hub.closed) return;
    // The row is the truth; an announcement that names another user is ignored.
    if (announcedUser.get(notification.id) !== notification.userId) {
      hub.logger?.warn({ notification_id: notification.id }, 'notification announced for another user');
      continue;
    }
    deliver(hub, notification);
  }
  if (loaded.length !== batch.length) {
    hub.logger?.warn({ announced: batch.length, loaded: loaded.length }, 'announced notifications not found');
  }
}

// Loads announced notifications in batches: one query serves every announcement that arrived
// while the previous one ran.
async function drain(hub: HubState): Promise<void> {
  while (hub.pending.size > 0 && !hub.closed) {
    const batch = [...hub.pending].slice(0, hub.bounds.loadBatchMax);
    for (const [id] of batch) hub.pending.delete(id);
    await loadAndDeliver(hub, batch);
  }
}

function onPayload(hub: HubState, payload: string): void {
  if (hub.closed) return;
  const announcement = parseAnnouncement(payload);
  if (announcement === null) {
    hub.logger?.warn('ignoring a malformed notification announcement');
    return;
  }
  // Only this node's subscribers matter: other users' notifications are not even loaded.
  if (!hub.subscribersByUser.has(announcement.userId)) return;
  if (hub.pending.size >= hub.bounds.pendingMax) {
    hub.logger?.warn({ pending: hub.pending.size }, 'notification backlog full: ending the user streams');
    endUser(hub, announcement.userId, 'delivery_failed');
    return;
  }
  hub.pending.set(announcement.id, announcement.userId);
  hub.draining ??= drain(hub).finally(() => {
    hub.draining = null;
  });
}

function startHub(hub: HubState): Promise<void> {
  assert(!hub.closed, 'a closed notification hub cannot start again');
  hub.starting ??= hub.db
    .listen(notificationChannel, (payload) => onPayload(hub, payload))
    .then((stop) => {
      hub.unlisten = stop;
    });
  return hub.starting;
}

function subscribe(
  hub: HubState,
  userId: string,
  onNotification: (notification: Notification) => void,
  subscribeOptions: SubscribeOptions,
): () => void {
  assert(hub.starting !== null, 'subscribe before the notification hub started');
  assert(userId.length > 0 && userId.length <= limits.notificationUserIdLengthMax, 'subscribe: bad user id');
  if (hub.closed) throw new AppError('shutting_down');
  const set = hub.subscribersByUser.get(userId);
  if ((set?.size ?? 0) >= hub.bounds.streamsPerUserMax) {
    throw new AppError('rate_limited', {
      message: `At most ${hub.bounds.streamsPerUserMax} notification streams may be open at once.`,
    });
  }
  if (hub.subscriberCount >= hub.bounds.streamsMax) {
    throw new AppError('rate_limited', { message: 'Too many notification streams are open. Retry later.' });
  }
  const subscriber: Subscriber = { userId, onNotification, onEnd: subscribeOptions.onEnd };
  if (set === undefined) hub.subscribersByUser.set(userId, new Set([subscriber]));
  else set.add(subscriber);
  hub.subscriberCount += 1;
  return () => {
    removeSubscriber(hub, subscriber);
  };
}

async function closeHub(hub: HubState): Promise<void> {
  if (hub.closed) return;
  hub.closed = true;
  hub.pending.clear();
  for (const userId of [...hub.subscribersByUser.keys()]) endUser(hub, userId, 'hub_closed');
  assert(hub.subscriberCount === 0, 'subscriptions left after the hub closed');
  try {
    await hub.starting;
    await hub.unlisten?.();
  } catch (error) {
    hub.logger?.warn({ err: error }, 'stopping the notification listener failed');
  }
  // No query may still be running when the caller closes the database next.
  await hub.draining;
}

export function createNotificationHub(options: {
  db: Db;
  logger?: Logger;
  limits?: Partial<NotificationHubLimits>;
}): NotificationHub {
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
  const hub: HubState = {
    db: options.db,
    logger: options.logger,
    bounds,
    subscribersByUser: new Map(),
    subscriberCount: 0,
    pending: new Map(),
    draining: null,
    starting: null,
    unlisten: null,
    closed: false,
  };
  return {
    start: () => startHub(hub),
    subscribe: (userId, onNotification, subscribeOptions = {}) =>
      subscribe(hub, userId, onNotification, subscribeOptions),
    subscriptionCount(userId) {
      if (userId === undefined) return hub.subscriberCount;
      return hub.subscribersByUser.get(userId)?.size ?? 0;
    },
    close: () => closeHub(hub),
  };
}

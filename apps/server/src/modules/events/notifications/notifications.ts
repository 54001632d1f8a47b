import type { Db, SqlExecutor } from '../../../platform/db.js';
import { AppError, assert } from '../../../platform/errors.js';
import { limits } from '../../../platform/limits.js';
import type { Logger } from '../../../platform/logger.js';
import { createNotificationHub, notificationChannel, type NotificationHub, type NotificationHubLimits } from './hub.js';
import { isNotificationId, newNotificationId } from './ids.js';
import type { Notification } from './notification.js';
import {
  insertNotification,
  notificationExists,
  selectNotificationsAfter,
  selectNotificationsPage,
  updateNotificationRead,
} from './repository.js';
import { notificationTypes, type NotificationInput, type NotificationWriter } from './types.js';

export interface NotificationListOptions {
  /** 1 … limits.pageSizeMax. */
  limit: number;
  /** A notification id of this user: the page starts just after (older than) it. */
  startingAfter?: string | null;
  unreadOnly?: boolean;
}

export interface NotificationPage {
  data: Notification[];
  hasMore: boolean;
}

export interface NotificationReplay {
  /** Oldest first, at most limits.notificationReplayMax. */
  data: Notification[];
  /** More were missed than one replay holds. */
  truncated: boolean;
}

export interface Notifications {
  writer: NotificationWriter;
  /** Newest first. An unknown starting_after (or another user's) is not_found. */
  list(userId: string, options: NotificationListOptions): Promise<NotificationPage>;
  /** Marks one of the user's notifications read; another user's (or an unknown) id is not_found. */
  markRead(userId: string, id: string): Promise<Notification>;
  /** What the user got after lastEventId, oldest first; an unknown id replays nothing. */
  replay(userId: string, lastEventId: string): Promise<NotificationReplay>;
  hub: NotificationHub;
}

const knownTypes = new Set<string>(notificationTypes);

/**
 * NotificationWriter.write: inserts in the caller's transaction and announces on the channel, so
 * live subscribers hear of it only once the change it tells of has committed.
 */
async function writeNotification(tx: SqlExecutor, notification: NotificationInput): Promise<void> {
  // Callers are our own services: a bad notification is a programmer error.
  assert(knownTypes.has(notification.type), `unknown notification type ${notification.type}`);
  assert(
    notification.userId.length > 0 && notification.userId.length <= limits.notificationUserIdLengthMax,
    'notification user id length out of bounds',
  );
  const dataJson = JSON.stringify(notification.data);
  assert(
    typeof notification.data === 'object' && notification.data !== null && !Array.isArray(notification.data),
    'notification data must be an object',
  );
  assert(
    Buffer.byteLength(dataJson) <= limits.notificationDataBytesMax,
    `notification data exceeds ${limits.notificationDataBytesMax} bytes`,
  );
  await insertNotification(tx, {
    id: newNotificationId(),
    userId: notification.userId,
    type: notification.type,
    dataJson,
    channel: notificationChannel,
  });
}

/** Notifications.list. */
async function listNotifications(
  db: SqlExecutor,
  userId: string,
  listOptions: NotificationListOptions,
): Promise<NotificationPage> {
  const { limit } = listOptions;
  assert(Number.isSafeInteger(limit) && limit >= 1 && limit <= limits.pageSizeMax, 'list limit out of bounds');
  const startingAfter = listOptions.startingAfter ?? null;
  if (startingAfter !== null) {
    if (!isNotificationId(startingAfter) || !(await notificationExists(db, { userId, id: startingAfter }))) {
      throw new AppError('not_found', { message: 'No such notification.', param: 'starting_after' });
    }
  }
  const rows = await selectNotificationsPage(db, {
    userId,
    startingAfter,
    unreadOnly: listOptions.unreadOnly === true,
    limit: limit + 1,
  });
  for (const row of rows) assert(row.userId === userId, 'listed another user’s notification');
  return { data: rows.slice(0, limit), hasMore: rows.length > limit };
}

export function createNotifications(options: {
  db: Db;
  logger?: Logger;
  hubLimits?: Partial<NotificationHubLimits>;
}): Notifications {
  const { db } = options;
  const hub = createNotificationHub({
    db,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.hubLimits === undefined ? {} : { limits: options.hubLimits }),
  });

  const writer: NotificationWriter = { write: writeNotification };

  return {
    writer,
    hub,

    list: (userId, listOptions) => listNotifications(db, userId, listOptions),

    async markRead(userId, id) {
      const notification = isNotificationId(id) ? await updateNotificationRead(db, { userId, id }) : null;
      if (notification === null) throw new AppError('not_found', { message: 'No such notification.', param: 'id' });
      assert(notification.userId === userId && notification.readAt !== null, 'markRead returned a wrong row');
      return notification;
    },

    async replay(userId, lastEventId) {
      if (!isNotificationId(lastEventId)) return { data: [], truncated: false };
      const rows = await selectNotificationsAfter(db, {
        userId,
        after: lastEventId,
        limit: limits.notificationReplayMax + 1,
      });
      for (const row of rows) assert(row.userId === userId, 'replayed another user’s notification');
      return {
        data: rows.slice(0, limits.notificationReplayMax),
        truncated: rows.length > limits.notificationReplayMax,
      };
    },
  };
}

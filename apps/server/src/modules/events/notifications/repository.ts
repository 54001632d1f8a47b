import type { SqlExecutor } from '../../../platform/db.js';
import type { Notification } from './notification.js';

/** SQL for notifications; no rules. A cursor id becomes its seq inside the query. */

interface NotificationRow {
  id: string;
  user_id: string;
  type: string;
  data: Record<string, unknown>;
  created_at: Date;
  read_at: Date | null;
}

const columns = 'id, user_id, type, data, created_at, read_at';

function notificationFromRow(row: NotificationRow): Notification {
  return {
    id: row.id,
    userId: row.user_id,
    type: row.type,
    data: row.data,
    createdAt: row.created_at,
    readAt: row.read_at,
  };
}

/** Inserts one notification and announces {user_id, id} on the channel; delivered only if the transaction commits. */
export async function insertNotification(
  tx: SqlExecutor,
  row: { id: string; userId: string; type: string; dataJson: string; channel: string },
): Promise<void> {
  const announced = await tx.query<{ id: string }>(
    `with inserted as (
       insert into events_notifications (id, user_id, type, data)
       values ($1, $2, $3, $4::text::jsonb)
       returning id, user_id
     )
     select id, pg_notify($5, json_build_object('user_id', user_id, 'id', id)::text)::text as notified
     from inserted`,
    [row.id, row.userId, row.type, row.dataJson, row.channel],
  );
  if (announced.length !== 1 || announced[0]?.id !== row.id)
    throw new Error('notification insert did not announce exactly one row');
}

export async function notificationExists(db: SqlExecutor, filter: { userId: string; id: string }): Promise<boolean> {
  const rows = await db.query<{ one: number }>(
    'select 1 as one from events_notifications where id = $1 and user_id = $2',
    [filter.id, filter.userId],
  );
  return rows.length === 1;
}

/** Newest first, strictly older than the cursor notification (which must exist for this user). */
export async function selectNotificationsPage(
  db: SqlExecutor,
  filter: { userId: string; startingAfter: string | null; unreadOnly: boolean; limit: number },
): Promise<Notification[]> {
  const rows = await db.query<NotificationRow>(
    `select ${columns} from events_notifications n
     where user_id = $1
       and ($2::boolean = false or read_at is null)
       and ($3::text is null or seq < (select c.seq from events_notifications c where c.id = $3 and c.user_id = $1))
     order by seq desc
     limit $4`,
    [filter.userId, filter.unreadOnly, filter.startingAfter, filter.limit],
  );
  return rows.map(notificationFromRow);
}

/** Oldest first, strictly newer than the cursor notification (which must exist for this user). */
export async function selectNotificationsAfter(
  db: SqlExecutor,
  filter: { userId: string; after: string; limit: number },
): Promise<Notification[]> {
  const rows = await db.query<NotificationRow>(
    `select ${columns} from events_notifications
     where user_id = $1
       and seq > (select c.seq from events_notifications c where c.id = $2 and c.user_id = $1)
     order by seq
     limit $3`,
    [filter.userId, filter.after, filter.limit],
  );
  return rows.map(notificationFromRow);
}

/** Oldest first. ids are validated upstream (hex), so the array literal needs no quoting. */
export async function selectNotificationsByIds(db: SqlExecutor, ids: readonly string[]): Promise<Notification[]> {
  const rows = await db.query<NotificationRow>(
    `select ${columns} from events_notifications where id = any($1::text[]) order by seq`,
    [`{${ids.join(',')}}`],
  );
  return rows.map(notificationFromRow);
}

/** Marks read once (the first read time stays); null when no such notification belongs to the user. */
export async function updateNotificationRead(
  db: SqlExecutor,
  filter: { userId: string; id: string },
): Promise<Notification | null> {
  const rows = await db.query<NotificationRow>(
    `update events_notifications set read_at = coalesce(read_at, now())
     where id = $1 and user_id = $2
     returning ${columns}`,
    [filter.id, filter.userId],
  );
  const row = rows[0];
  return row === undefined ? null : notificationFromRow(row);
}

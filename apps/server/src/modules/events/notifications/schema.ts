import type { Migration } from '../../../platform/migrations.js';

/**
 * Notification tables. Lists and replays order by seq (insert order: timestamps tie, PGlite's
 * clock is coarse); the public cursor is the id, turned into its seq in SQL. A transaction that
 * inserts early and commits late can still land behind a cursor a client already holds: the live
 * stream delivers it, a Last-Event-ID replay would not.
 */
export const notificationMigrations: readonly Migration[] = [
  {
    id: '0300_events_notifications',
    sql: `
      create table events_notifications (
        id text primary key check (id ~ '^ntf_[0-9a-f]{32}$'),
        seq bigint generated always as identity,
        user_id text not null,
        type text not null,
        data jsonb not null,
        created_at timestamptz not null default clock_timestamp(),
        read_at timestamptz
      );
      create index events_notifications_user_seq on events_notifications (user_id, seq);
    `,
  },
];

import type { SqlExecutor } from '../../../platform/db.js';

/** What a person is told about: money that moved, and what happened to their account's security. */
export const notificationTypes = [
  'money.received',
  'payment.made',
  'refund.received',
  'topup.succeeded',
  'payment.approval_requested',
  'security.new_device',
  'security.pin_locked',
  'security.refresh_token_reused',
  'security.account_locked',
  'offline_key.suspended',
] as const;
export type NotificationType = (typeof notificationTypes)[number];

export interface NotificationInput {
  userId: string;
  type: NotificationType;
  /** Safe to show the user (no secrets): amounts in minor units, ids, names. */
  data: Record<string, unknown>;
}

/**
 * Writes notifications inside the caller's transaction, so that a notification exists exactly
 * when the change it tells of committed; live subscribers hear of it after the commit.
 */
export interface NotificationWriter {
  write(tx: SqlExecutor, notification: NotificationInput): Promise<void>;
}

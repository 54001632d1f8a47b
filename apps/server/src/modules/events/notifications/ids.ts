import { randomBytes } from 'node:crypto';

const notificationIdPattern = /^ntf_[0-9a-f]{32}$/;

/** `ntf_` and 128 random bits in hex. */
export function newNotificationId(): string {
  return `ntf_${randomBytes(16).toString('hex')}`;
}

export function isNotificationId(value: unknown): value is string {
  return typeof value === 'string' && notificationIdPattern.test(value);
}

/**
 * A stored notification. type is text here, not NotificationType: a node must be able to show a
 * type that a newer node introduced during a rolling deploy.
 */
export interface Notification {
  id: string;
  userId: string;
  type: string;
  data: Record<string, unknown>;
  createdAt: Date;
  readAt: Date | null;
}

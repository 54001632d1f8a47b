import type { FastifyRequest } from 'fastify';
import { allMigrations } from '../../src/migrations.js';
import { eventsMigrations, notificationRoutes, type Notifications } from '../../src/modules/events/index.js';
import { AppError } from '../../src/platform/errors.js';
import type { Migration } from '../../src/platform/migrations.js';
import { buildTestApp, listenOnFreePort, type TestApp } from '../support/app.js';
import type { Db } from '../../src/platform/db.js';

/** Every migration once, whether or not src/migrations.ts already lists the events ones. */
export const migrationsWithEvents: readonly Migration[] = [
  ...new Map([...allMigrations, ...eventsMigrations].map((migration) => [migration.id, migration])).values(),
];

/** Test authenticator: `Authorization: Bearer user:<id>` is user <id>. */
export async function fakeAuthenticate(request: FastifyRequest): Promise<{ userId: string }> {
  const match = /^Bearer user:([A-Za-z0-9_]{1,64})$/.exec(request.headers.authorization ?? '');
  if (match === null) throw new AppError('token_invalid');
  return { userId: match[1]! };
}

export function authHeaders(userId: string): Record<string, string> {
  return { authorization: `Bearer user:${userId}` };
}

export interface NotificationTestApp extends TestApp {
  baseUrl: string;
}

export async function startNotificationApp(options: {
  db: Db;
  notifications: Notifications;
  heartbeatIntervalMs?: number;
}): Promise<NotificationTestApp> {
  const testApp = buildTestApp({ db: options.db, migrations: migrationsWithEvents });
  await testApp.app.register(notificationRoutes, {
    prefix: '/wallet/v1',
    notifications: options.notifications,
    authenticate: fakeAuthenticate,
    ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
  });
  const baseUrl = await listenOnFreePort(testApp.app);
  return { ...testApp, baseUrl };
}

/**
 * Teardown: after fetch aborts a stream, undici opens a spare connection that never sends a
 * request, and Node's server.close() waits for such sockets (up to the connection timeout).
 * Tests that measure app.close() itself do not use this.
 */
export async function stopNotificationApp(server: NotificationTestApp | undefined): Promise<void> {
  if (server === undefined) return;
  const closing = server.app.close();
  server.app.server.closeAllConnections();
  await closing;
}

export interface SseMessage {
  /** Set for events; a comment line is reported as a message with only `comment`. */
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

export interface SseClient {
  response: Response;
  /** The next message (event or comment); rejects after timeoutMs or when the stream ends. */
  next(timeoutMs?: number): Promise<SseMessage>;
  /** The next message that is an event (skipping comments). */
  nextEvent(timeoutMs?: number): Promise<SseMessage>;
  /** Resolves true if the server ends the stream within timeoutMs (skipping what is left). */
  ended(timeoutMs: number): Promise<boolean>;
  close(): void;
}

function parseBlock(block: string): SseMessage {
  const message: SseMessage = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      message.comment = (message.comment === undefined ? '' : `${message.comment}\n`) + line.slice(1).trim();
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id' || field === 'event' || field === 'data' || field === 'retry') {
      message[field] = field === 'data' && message.data !== undefined ? `${message.data}\n${value}` : value;
    }
  }
  return message;
}

/** Opens the notification stream with fetch and parses Server-Sent Events from its body. */
export async function openStream(
  baseUrl: string,
  userId: string,
  options: { lastEventId?: string } = {},
): Promise<SseClient> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/wallet/v1/notifications/stream`, {
    headers: {
      ...authHeaders(userId),
      accept: 'text/event-stream',
      ...(options.lastEventId === undefined ? {} : { 'last-event-id': options.lastEventId }),
    },
    signal: controller.signal,
  });
  const queue: SseMessage[] = [];
  let buffer = '';
  let done = false;
  // An object, so that TypeScript does not narrow the callback to null inside the closures.
  const waiter: { wake: (() => void) | null } = { wake: null };
  const decoder = new TextDecoder();
  if (response.body !== null && response.status === 200) {
    const reader = response.body.getReader();
    void (async () => {
      try {
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          buffer += decoder.decode(chunk.value as Uint8Array, { stream: true });
          let boundary: number;
          while ((boundary = buffer.indexOf('\n\n')) !== -1) {
            queue.push(parseBlock(buffer.slice(0, boundary)));
            buffer = buffer.slice(boundary + 2);
          }
          waiter.wake?.();
        }
      } catch {
        // aborted by close()
      } finally {
        done = true;
        waiter.wake?.();
      }
    })();
  } else {
    done = true;
  }

  async function next(timeoutMs = 5_000): Promise<SseMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = queue.shift();
      if (message !== undefined) return message;
      if (done) throw new Error('stream ended');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no SSE message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        waiter.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      waiter.wake = null;
    }
  }

  return {
    response,
    next,
    async nextEvent(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const message = await next(Math.max(1, deadline - Date.now()));
        if (message.event !== undefined) return message;
      }
    },
    async ended(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        queue.length = 0;
        if (done) return true;
        if (Date.now() >= deadline) return false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
          waiter.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        waiter.wake = null;
      }
    },
    close() {
      controller.abort();
    },
  };
}

/** Polls until predicate holds (for effects that happen asynchronously on the server). */
export async function eventually(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

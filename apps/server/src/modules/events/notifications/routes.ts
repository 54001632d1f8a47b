import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { assert } from '../../../platform/errors.js';
import { limits } from '../../../platform/limits.js';
import type { Notification } from './notification.js';
import type { Notifications } from './notifications.js';
import { notificationTypes } from './types.js';
import { errorResponses, NoQuerySchema } from '../../../platform/http-schemas.js';

export interface NotificationRoutesOptions {
  notifications: Notifications;
  /** Resolves the signed-in user or throws (an AppError, e.g. token_invalid). Runs before validation. */
  authenticate: (request: FastifyRequest) => Promise<{ userId: string }>;
  /** Interval of the stream's heartbeat comment; tests shorten it. */
  heartbeatIntervalMs?: number;
}

export const NotificationSchema = Type.Object({
  id: Type.String({ pattern: '^ntf_[0-9a-f]{32}$' }),
  object: Type.Literal('notification'),
  type: Type.String({ description: `One of ${notificationTypes.join(', ')}; more may be added.` }),
  data: Type.Record(Type.String(), Type.Unknown()),
  /** Unix seconds. */
  created: Type.Integer(),
  read: Type.Boolean(),
});
export type NotificationDto = Static<typeof NotificationSchema>;

const NotificationListSchema = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(NotificationSchema),
  has_more: Type.Boolean(),
});

const ListQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.pageSizeMax, default: 10 })),
    starting_after: Type.Optional(Type.String({ maxLength: 64 })),
    unread: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const IdParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const StreamHeadersSchema = Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 64 })) });

export function notificationDto(notification: Notification): NotificationDto {
  return {
    id: notification.id,
    object: 'notification',
    type: notification.type,
    data: notification.data,
    created: Math.floor(notification.createdAt.getTime() / 1_000),
    read: notification.readAt !== null,
  };
}

/** One SSE event; the JSON has no newlines, so it fits one data line. */
function sseEvent(notification: Notification): string {
  return `id: ${notification.id}\nevent: notification\ndata: ${JSON.stringify(notificationDto(notification))}\n\n`;
}

/** Announcements that arrive while the replay runs; held (bounded) and sent after it. */
interface HeldDuringReplay {
  replaying: boolean;
  notifications: Notification[];
  overflowed: boolean;
}

interface StreamContext {
  notifications: Notifications;
  userId: string;
  lastEventId: string | undefined;
  heartbeatIntervalMs: number;
  /** Registers what to do when the client goes away. */
  onClientClose: (listener: () => void) => void;
}

/** Sends what the client missed after Last-Event-ID, then what arrived meanwhile (once each). */
async function replayMissed(
  context: StreamContext,
  held: HeldDuringReplay,
  write: (text: string) => void,
  end: () => void,
): Promise<void> {
  const { lastEventId } = context;
  if (lastEventId === undefined || lastEventId === '') {
    if (held.overflowed) end();
    for (const notification of held.notifications) write(sseEvent(notification));
    return;
  }
  const replay = await context.notifications.replay(context.userId, lastEventId);
  const replayed = new Set<string>();
  for (const notification of replay.data) {
    write(sseEvent(notification));
    replayed.add(notification.id);
  }
  // More were missed than one replay holds: end here; the client reconnects from the last one sent.
  if (replay.truncated || held.overflowed) end();
  for (const notification of held.notifications) {
    if (!replayed.has(notification.id)) write(sseEvent(notification));
  }
}

/**
 * Opens a user's stream: subscribes first (so nothing committed during the replay query is
 * missed), replays, then forwards live notifications with a heartbeat until either side ends it.
 */
async function openNotificationStream(context: StreamContext): Promise<PassThrough> {
  const stream = new PassThrough();
  let ended = false;
  let heartbeat: NodeJS.Timeout | undefined;
  const held: HeldDuringReplay = { replaying: true, notifications: [], overflowed: false };

  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe();
    stream.end();
  };
  const write = (text: string): void => {
    if (ended) return;
    stream.write(text);
    // A client that stops reading is cut off rather than buffered without bound; it
    // reconnects with Last-Event-ID and the replay catches it up.
    if (stream.writableLength > limits.notificationStreamBufferedBytesMax) end();
  };

  const unsubscribe = context.notifications.hub.subscribe(
    context.userId,
    (notification) => {
      if (!held.replaying) return write(sseEvent(notification));
      // Announcements of rows the replay also reads can arrive now: hold a bounded number, and
      // past it end the stream after the replay (the client reconnects from the last one sent).
      if (held.notifications.length < limits.notificationReplayMax) held.notifications.push(notification);
      else held.overflowed = true;
    },
    { onEnd: end },
  );
  context.onClientClose(end);

  write(': connected\nretry: 3000\n\n');
  try {
    await replayMissed(context, held, write, end);
  } catch (error) {
    end();
    throw error;
  }
  held.replaying = false;
  held.notifications.length = 0;
  if (!ended) {
    heartbeat = setInterval(() => write(': heartbeat\n\n'), context.heartbeatIntervalMs);
    heartbeat.unref();
  }
  return stream;
}

/**
 * Authenticates every request of the plugin before validation (a caller without a token learns
 * nothing about the routes); returns how a handler gets the user.
 */
function authenticateEveryRequest(
  app: Parameters<FastifyPluginAsyncTypebox>[0],
  authenticate: NotificationRoutesOptions['authenticate'],
): (request: FastifyRequest) => string {
  const userIds = new WeakMap<FastifyRequest, string>();
  app.addHook('onRequest', async (request) => {
    const { userId } = await authenticate(request);
    userIds.set(request, userId);
  });
  return (request) => {
    const userId = userIds.get(request);
    assert(userId !== undefined, 'notification route ran without authentication');
    return userId;
  };
}

const streamRouteOptions = {
  schema: {
    querystring: NoQuerySchema,
    headers: StreamHeadersSchema,
    response: { 200: Type.String({ description: 'text/event-stream' }), ...errorResponses },
  },
  // Runs after the app's onSend hook, which sets no-store for every response.
  onSend: async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (reply.statusCode === 200) void reply.header('cache-control', 'no-cache');
    return payload;
  },
};

/**
 * /notifications routes. Register under the wallet prefix. Owns the hub's lifecycle: starts it
 * when registered and closes it before the server closes, which ends every open stream so that
 * app.close() does not wait for clients.
 */
export const notificationRoutes: FastifyPluginAsyncTypebox<NotificationRoutesOptions> = async (app, options) => {
  const { notifications } = options;
  const { hub } = notifications;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? limits.notificationStreamHeartbeatMs;
  assert(Number.isSafeInteger(heartbeatIntervalMs) && heartbeatIntervalMs > 0, 'heartbeatIntervalMs must be > 0');

  await hub.start();
  app.addHook('preClose', async () => {
    await hub.close();
  });
  const userIdOf = authenticateEveryRequest(app, options.authenticate);

  app.get(
    '/notifications',
    { schema: { querystring: ListQuerySchema, response: { 200: NotificationListSchema, ...errorResponses } } },
    async (request) => {
      const page = await notifications.list(userIdOf(request), {
        limit: request.query.limit ?? 10,
        startingAfter: request.query.starting_after ?? null,
        unreadOnly: request.query.unread === true,
      });
      return { object: 'list' as const, data: page.data.map(notificationDto), has_more: page.hasMore };
    },
  );

  app.post(
    '/notifications/:id/read',
    {
      schema: {
        params: IdParamsSchema,
        querystring: NoQuerySchema,
        response: { 200: NotificationSchema, ...errorResponses },
      },
    },
    async (request) => notificationDto(await notifications.markRead(userIdOf(request), request.params.id)),
  );

  app.get('/notifications/stream', streamRouteOptions, async (request, reply) => {
    const stream = await openNotificationStream({
      notifications,
      userId: userIdOf(request),
      lastEventId: request.headers['last-event-id'],
      heartbeatIntervalMs,
      onClientClose: (listener) => reply.raw.on('close', listener),
    });
    return (
      reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('x-accel-buffering', 'no')
        // When the stream ends the socket closes too: an idle kept-alive socket left behind by a
        // stream would otherwise hold app.close() until the connection timeout.
        .header('connection', 'close')
        .send(stream)
    );
  });
};

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNotifications, type Notifications } from '../../src/modules/events/index.js';
import { openTestDb, type TestDb } from '../support/db.js';
import {
  authHeaders,
  eventually,
  migrationsWithEvents,
  openStream,
  startNotificationApp,
  stopNotificationApp,
  type NotificationTestApp,
  type SseClient,
} from './helpers.js';

interface NotificationJson {
  id: string;
  object: string;
  type: string;
  data: Record<string, unknown>;
  created: number;
  read: boolean;
}
interface ListJson {
  object: string;
  data: NotificationJson[];
  has_more: boolean;
}

describe('notifications', () => {
  let testDb: TestDb;
  let notifications: Notifications;
  let server: NotificationTestApp;
  const streams: SseClient[] = [];

  beforeAll(async () => {
    testDb = await openTestDb({ migrations: migrationsWithEvents });
    notifications = createNotifications({ db: testDb.db });
    server = await startNotificationApp({ db: testDb.db, notifications, heartbeatIntervalMs: 200 });
  });
  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
  });
  afterAll(async () => {
    await stopNotificationApp(server);
    await testDb?.dispose();
  });

  let userSerial = 0;
  const newUser = (): string => `usr_test${process.pid}_${(userSerial += 1)}`;

  async function notify(userId: string, amount: number): Promise<void> {
    await testDb.db.transaction(async (tx) => {
      await notifications.writer.write(tx, {
        userId,
        type: 'money.received',
        data: { amount, currency: 'USD' },
      });
    });
  }

  async function list(userId: string, query = ''): Promise<{ status: number; body: ListJson }> {
    const response = await fetch(`${server.baseUrl}/wallet/v1/notifications${query}`, { headers: authHeaders(userId) });
    return { status: response.status, body: (await response.json()) as ListJson };
  }

  async function open(userId: string, options: { lastEventId?: string } = {}): Promise<SseClient> {
    const stream = await openStream(server.baseUrl, userId, options);
    streams.push(stream);
    return stream;
  }

  it('streams a committed notification over HTTP, and nothing for one that rolled back', async () => {
    const userId = newUser();
    const stream = await open(userId);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.response.headers.get('cache-control')).toBe('no-cache');
    expect(stream.response.headers.get('x-accel-buffering')).toBe('no');
    const first = await stream.next();
    expect(first.comment).toMatch(/connected/);
    expect(first.event).toBeUndefined();

    await testDb.db
      .transaction(async (tx) => {
        await notifications.writer.write(tx, { userId, type: 'payment.made', data: { amount: 1 } });
        throw new Error('the payment failed after the notification was written');
      })
      .catch(() => undefined);
    expect((await list(userId)).body.data).toEqual([]);

    await notify(userId, 500);
    const event = await stream.nextEvent();
    expect(event.event).toBe('notification');
    const json = JSON.parse(event.data!) as NotificationJson;
    expect(event.id).toBe(json.id);
    expect(json).toMatchObject({
      object: 'notification',
      type: 'money.received',
      data: { amount: 500, currency: 'USD' },
      read: false,
    });
    expect(json.id).toMatch(/^ntf_[0-9a-f]{32}$/);
    expect(Math.abs(json.created - Date.now() / 1000)).toBeLessThan(60);
    // The rolled-back notification never reached the stream: the first event is the committed one.
    expect((await list(userId)).body.data.map((n) => n.id)).toEqual([json.id]);
  });

  it('sends heartbeat comments and stops delivering to a stream the client closed', async () => {
    const userId = newUser();
    const stream = await open(userId);
    await stream.next(); // connected
    const heartbeat = await stream.next(2_000);
    expect(heartbeat.comment).toBe('heartbeat');
    expect(notifications.hub.subscriptionCount(userId)).toBe(1);
    stream.close();
    await eventually(() => notifications.hub.subscriptionCount(userId) === 0);
  });

  it('does not deliver one user’s notification to another user’s stream', async () => {
    const alice = newUser();
    const bob = newUser();
    const bobStream = await open(bob);
    await notify(alice, 1);
    await notify(bob, 2);
    const event = await bobStream.nextEvent();
    expect((JSON.parse(event.data!) as NotificationJson).data.amount).toBe(2);
  });

  it('replays what the user got after Last-Event-ID, then continues live', async () => {
    const userId = newUser();
    const other = newUser();
    for (let i = 1; i <= 4; i += 1) {
      await notify(userId, i);
      await notify(other, 100 + i);
    }
    const page = (await list(userId)).body.data; // newest first
    expect(page.map((n) => n.data.amount)).toEqual([4, 3, 2, 1]);
    const secondId = page[2]!.id;

    const stream = await open(userId, { lastEventId: secondId });
    const replayed = [await stream.nextEvent(), await stream.nextEvent()];
    expect(replayed.map((e) => (JSON.parse(e.data!) as NotificationJson).data.amount)).toEqual([3, 4]);
    expect(replayed.map((e) => e.id)).toEqual([page[1]!.id, page[0]!.id]);
    await notify(userId, 5);
    expect((JSON.parse((await stream.nextEvent()).data!) as NotificationJson).data.amount).toBe(5);

    // Another user's id (or an unknown one) replays nothing, and the stream still works.
    const otherId = (await list(other)).body.data[0]!.id;
    const fresh = await open(userId, { lastEventId: otherId });
    await notify(userId, 6);
    expect((JSON.parse((await fresh.nextEvent()).data!) as NotificationJson).data.amount).toBe(6);
  });

  it('bounds a replay to 100 and ends the stream so the client continues from the last one', async () => {
    const userId = newUser();
    await notify(userId, 0);
    const since = (await list(userId)).body.data[0]!.id;
    await testDb.db.transaction(async (tx) => {
      for (let i = 1; i <= 105; i += 1) {
        await notifications.writer.write(tx, { userId, type: 'money.received', data: { amount: i } });
      }
    });
    const stream = await open(userId, { lastEventId: since });
    const amounts: number[] = [];
    let lastId = '';
    for (let i = 0; i < 100; i += 1) {
      const event = await stream.nextEvent();
      amounts.push((JSON.parse(event.data!) as NotificationJson).data.amount as number);
      lastId = event.id!;
    }
    expect(amounts).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(await stream.ended(2_000)).toBe(true);

    const resumed = await open(userId, { lastEventId: lastId });
    const rest: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      rest.push((JSON.parse((await resumed.nextEvent()).data!) as NotificationJson).data.amount as number);
    }
    expect(rest).toEqual([101, 102, 103, 104, 105]);
  });

  it('lists newest first with limit, starting_after and has_more, and filters unread', async () => {
    const userId = newUser();
    for (let i = 1; i <= 5; i += 1) await notify(userId, i);
    const first = await list(userId, '?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.object).toBe('list');
    expect(first.body.data.map((n) => n.data.amount)).toEqual([5, 4]);
    expect(first.body.has_more).toBe(true);
    const second = await list(userId, `?limit=2&starting_after=${first.body.data[1]!.id}`);
    expect(second.body.data.map((n) => n.data.amount)).toEqual([3, 2]);
    expect(second.body.has_more).toBe(true);
    const third = await list(userId, `?limit=2&starting_after=${second.body.data[1]!.id}`);
    expect(third.body.data.map((n) => n.data.amount)).toEqual([1]);
    expect(third.body.has_more).toBe(false);
    const all = await list(userId);
    expect(all.body.data).toHaveLength(5);
    expect(all.body.has_more).toBe(false);

    const read = await fetch(`${server.baseUrl}/wallet/v1/notifications/${first.body.data[0]!.id}/read`, {
      method: 'POST',
      headers: authHeaders(userId),
    });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: first.body.data[0]!.id, object: 'notification', read: true });
    const unread = await list(userId, '?unread=true');
    expect(unread.body.data.map((n) => n.data.amount)).toEqual([4, 3, 2, 1]);
    const withRead = await list(userId, '?unread=false');
    expect(withRead.body.data.map((n) => n.read)).toEqual([true, false, false, false, false]);

    for (const query of ['?limit=0', '?limit=101', '?limit=abc', '?unread=maybe', '?extra=1']) {
      const bad = await list(userId, query);
      expect(bad.status, query).toBe(400);
      expect((bad.body as unknown as { error: { code: string } }).error.code).toBe('invalid_request');
    }
  });

  it('never shows or touches another user’s notification: 404, not 403', async () => {
    const alice = newUser();
    const bob = newUser();
    await notify(alice, 7);
    const aliceId = (await list(alice)).body.data[0]!.id;

    const bobList = await list(bob);
    expect(bobList.body.data).toEqual([]);
    const cursor = await list(bob, `?starting_after=${aliceId}`);
    expect(cursor.status).toBe(404);
    const read = await fetch(`${server.baseUrl}/wallet/v1/notifications/${aliceId}/read`, {
      method: 'POST',
      headers: authHeaders(bob),
    });
    expect(read.status).toBe(404);
    expect(((await read.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const unknown = await fetch(`${server.baseUrl}/wallet/v1/notifications/ntf_${'0'.repeat(32)}/read`, {
      method: 'POST',
      headers: authHeaders(bob),
    });
    expect(unknown.status).toBe(404);
    expect((await list(alice)).body.data[0]!.read).toBe(false);

    const anonymous = await fetch(`${server.baseUrl}/wallet/v1/notifications`);
    expect(anonymous.status).toBe(401);
    const anonymousStream = await fetch(`${server.baseUrl}/wallet/v1/notifications/stream`);
    expect(anonymousStream.status).toBe(401);
  });

  it('refuses a stream past the per-user limit with 429 rate_limited', async () => {
    const userId = newUser();
    const open5 = await Promise.all(Array.from({ length: 5 }, () => open(userId)));
    for (const stream of open5) expect(stream.response.status).toBe(200);
    const refused = await fetch(`${server.baseUrl}/wallet/v1/notifications/stream`, { headers: authHeaders(userId) });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    // Another user is not affected, and closing one stream frees a place.
    const other = await open(newUser());
    expect(other.response.status).toBe(200);
    open5[0]!.close();
    await eventually(() => notifications.hub.subscriptionCount(userId) === 4);
    const again = await open(userId);
    expect(again.response.status).toBe(200);
  });
});

describe('notification hub limits and shutdown', () => {
  let testDb: TestDb;

  beforeAll(async () => {
    testDb = await openTestDb({ migrations: migrationsWithEvents });
  });
  afterAll(async () => {
    await testDb?.dispose();
  });

  it('refuses a stream past the per-node limit with 429', async () => {
    const notifications = createNotifications({ db: testDb.db, hubLimits: { streamsMax: 2, streamsPerUserMax: 2 } });
    const server = await startNotificationApp({ db: testDb.db, notifications });
    try {
      const a = await openStream(server.baseUrl, 'usr_a');
      const b = await openStream(server.baseUrl, 'usr_b');
      expect([a.response.status, b.response.status]).toEqual([200, 200]);
      const c = await fetch(`${server.baseUrl}/wallet/v1/notifications/stream`, { headers: authHeaders('usr_c') });
      expect(c.status).toBe(429);
      a.close();
      b.close();
    } finally {
      await stopNotificationApp(server);
    }
  });

  it('app.close() with open streams finishes promptly and ends them', async () => {
    const notifications = createNotifications({ db: testDb.db });
    const server = await startNotificationApp({ db: testDb.db, notifications });
    const streams = await Promise.all([openStream(server.baseUrl, 'usr_x'), openStream(server.baseUrl, 'usr_y')]);
    for (const stream of streams) await stream.next();
    const started = Date.now();
    await server.app.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    for (const stream of streams) expect(await stream.ended(2_000)).toBe(true);
    expect(notifications.hub.subscriptionCount()).toBe(0);
    // Writing still works after the hub closed (the writer needs no hub).
    await testDb.db.transaction((tx) =>
      notifications.writer.write(tx, { userId: 'usr_x', type: 'security.new_device', data: {} }),
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifications } from '../../src/modules/events/index.js';
import { openPostgresDb, type Db } from '../../src/platform/db.js';
import { openTestDb, type TestDb } from '../support/db.js';
import {
  migrationsWithEvents,
  openStream,
  startNotificationApp,
  stopNotificationApp,
  type NotificationTestApp,
} from './helpers.js';

/**
 * Two nodes: on postgres two Db handles (two pools, two LISTEN connections) on one database, each
 * with its own hub and app; embedded has one connection, so both apps share the one Db.
 */
describe('notifications across nodes', () => {
  let testDb: TestDb;
  let dbB: Db;
  let nodeA: NotificationTestApp;
  let nodeB: NotificationTestApp;

  beforeAll(async () => {
    testDb = await openTestDb({ migrations: migrationsWithEvents });
    dbB =
      testDb.store === 'postgres'
        ? openPostgresDb({
            url: testDb.location,
            connectionCountMax: 4,
            connectTimeoutS: 10,
            statementTimeoutMs: 10_000,
          })
        : testDb.db;
    nodeA = await startNotificationApp({ db: testDb.db, notifications: createNotifications({ db: testDb.db }) });
    nodeB = await startNotificationApp({ db: dbB, notifications: createNotifications({ db: dbB }) });
  });
  afterAll(async () => {
    await stopNotificationApp(nodeA);
    await stopNotificationApp(nodeB);
    if (dbB !== undefined && dbB !== testDb.db) await dbB.close();
    await testDb?.dispose();
  });

  it('a notification written through node A reaches a stream open on node B', async () => {
    const notificationsA = createNotifications({ db: testDb.db });
    const onB = await openStream(nodeB.baseUrl, 'usr_cross');
    const onA = await openStream(nodeA.baseUrl, 'usr_cross');
    try {
      await testDb.db.transaction((tx) =>
        notificationsA.writer.write(tx, { userId: 'usr_cross', type: 'money.received', data: { amount: 42 } }),
      );
      for (const stream of [onB, onA]) {
        const event = await stream.nextEvent();
        expect(JSON.parse(event.data!)).toMatchObject({ type: 'money.received', data: { amount: 42 } });
      }
    } finally {
      onA.close();
      onB.close();
    }
  });
});

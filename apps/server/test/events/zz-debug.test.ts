import { it } from 'vitest';
import { createNotifications } from '../../src/modules/events/index.js';
import { openTestDb } from '../support/db.js';
import { migrationsWithEvents, openStream, startNotificationApp } from './helpers.js';

it('debug', async () => {
  const testDb = await openTestDb({ migrations: migrationsWithEvents });
  const n = createNotifications({ db: testDb.db });
  const server = await startNotificationApp({ db: testDb.db, notifications: n });
  server.app.server.on('connection', (socket) => {
    const t = Date.now();
    console.log('conn open');
    socket.on('close', () => console.log('server socket closed after', Date.now() - t));
    socket.on('end', () => console.log('server socket got FIN', Date.now() - t));
  });
  const stream = await openStream(server.baseUrl, 'usr_gone');
  await stream.next();
  stream.close();
  await new Promise((r) => setTimeout(r, 200));
  console.log('subs after abort', n.hub.subscriptionCount());
  const started = Date.now();
  await server.app.close();
  console.log('close took', Date.now() - started);
  await testDb.dispose();
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresDb, type Db } from '../../src/platform/db.js';
import { openTestDb, testStore, type TestDb } from '../support/db.js';
import { eventually } from './helpers.js';

describe('Db.listen', () => {
  let testDb: TestDb;
  let db: Db;

  beforeAll(async () => {
    testDb = await openTestDb({ migrations: [] });
    db = testDb.db;
  });
  afterAll(async () => {
    await testDb.dispose();
  });

  it('delivers committed payloads in order, none from a rolled-back transaction, none after unlisten', async () => {
    const received: string[] = [];
    const unlisten = await db.listen('yunpay_test_listen', (payload) => received.push(payload));
    await db.query(`select pg_notify('yunpay_test_listen', 'one')`);
    await db
      .transaction(async (tx) => {
        await tx.query(`select pg_notify('yunpay_test_listen', 'rolled back')`);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await db.transaction(async (tx) => {
      await tx.query(`select pg_notify('yunpay_test_listen', 'two')`);
      await tx.query(`select pg_notify('yunpay_test_listen', 'three')`);
    });
    await eventually(() => received.length >= 3);
    expect(received).toEqual(['one', 'two', 'three']);

    await unlisten();
    await db.query(`select pg_notify('yunpay_test_listen', 'after unlisten')`);
    // A notification that was going to arrive would have by the time a later round trip returns.
    await db.query('select 1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toEqual(['one', 'two', 'three']);
  });

  it('keeps channels apart and refuses a channel name that is not a plain identifier', async () => {
    const a: string[] = [];
    const b: string[] = [];
    const stopA = await db.listen('yunpay_test_a', (payload) => a.push(payload));
    const stopB = await db.listen('yunpay_test_b', (payload) => b.push(payload));
    await db.query(`select pg_notify('yunpay_test_a', 'for a'), pg_notify('yunpay_test_b', 'for b')`);
    await eventually(() => a.length === 1 && b.length === 1);
    expect(a).toEqual(['for a']);
    expect(b).toEqual(['for b']);
    await stopA();
    await stopB();
    await expect(db.listen('Bad-Channel', () => undefined)).rejects.toThrow(/lower-case identifier/);
  });

  it.runIf(testStore() === 'postgres')('hears a NOTIFY sent through another connection pool (postgres)', async () => {
    const other = openPostgresDb({
      url: testDb.location,
      connectionCountMax: 2,
      connectTimeoutS: 10,
      statementTimeoutMs: 10_000,
    });
    try {
      const received: string[] = [];
      const unlisten = await db.listen('yunpay_test_other', (payload) => received.push(payload));
      await other.query(`select pg_notify('yunpay_test_other', 'from the other node')`);
      await eventually(() => received.length === 1);
      expect(received).toEqual(['from the other node']);
      await unlisten();
    } finally {
      await other.close();
    }
  });
});

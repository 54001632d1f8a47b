import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Db, SqlExecutor } from '../../src/platform/db.js';
import { SigningKeys } from '../../src/modules/identity/tokens.js';
import { openTestDb, type TestDb } from '../support/db.js';

let testDb: TestDb;

beforeAll(async () => {
  testDb = await openTestDb();
});

afterAll(async () => {
  await testDb.dispose();
});

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/**
 * The first sign-ins on a fresh install race to create the signing key. Caller A inserts it while
 * caller B's reload, begun before A's insert committed, is still in flight: A must not take B's
 * empty answer for the table's (it answered 500 internal_error to a sign-in, seen in bench:e2e).
 */
test('the first key is found by its creator even when another caller read the empty table meanwhile', async () => {
  const insertGate = gate();
  const staleReadGate = gate();
  let lists = 0;
  const inserted = gate();
  const secondListDone = gate();
  const db = testDb.db;
  const gated: Db = {
    ...db,
    async query<Row>(text: string, params?: Parameters<SqlExecutor['query']>[1]) {
      if (text.includes('insert into identity_signing_keys')) {
        await insertGate.wait;
        const rows = await db.query<Row>(text, params);
        inserted.open();
        return rows;
      }
      if (text.includes('from identity_signing_keys')) {
        lists += 1;
        const rows = await db.query<Row>(text, params);
        if (lists === 2) {
          // B's reload: it read the table before A's insert; it answers only after the insert.
          secondListDone.open();
          await staleReadGate.wait;
        }
        return rows;
      }
      return db.query<Row>(text, params);
    },
  };
  const keys = new SigningKeys({ db: gated, now: () => Date.now() });
  const creator = keys.current(); // A: reads an empty table (list 1), then waits to insert.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const reader = keys.current(); // B: reads the empty table again (list 2), answer held back.
  await secondListDone.wait;
  insertGate.open();
  await inserted.wait;
  staleReadGate.open();
  const [created, read] = await Promise.all([creator, reader]);
  expect(created.kid).toBe(read.kid);
  const stored = await db.query<{ kid: string }>('select kid from identity_signing_keys');
  expect(stored.map((row) => row.kid)).toEqual([created.kid]);
});

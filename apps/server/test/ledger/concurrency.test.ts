import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLedger, verifyLedger, type Ledger } from '../../src/modules/ledger/index.js';
import { openPostgresDb, type Db } from '../../src/platform/db.js';
import { openTestDb, type TestDb } from '../support/db.js';
import { balanceOf, clearingAccount, createAccountsOk, transfer, walletAccount } from './helpers.js';

let testDb: TestDb;
/** A second connection pool on the same database (postgres), standing in for another API node. */
let secondDb: Db;
let nodeA: Ledger;
let nodeB: Ledger;

beforeAll(async () => {
  testDb = await openTestDb();
  secondDb =
    testDb.store === 'postgres'
      ? openPostgresDb({
          url: testDb.location,
          connectionCountMax: 10,
          connectTimeoutS: 10,
          statementTimeoutMs: 60_000,
        })
      : testDb.db; // PGlite is one process's database: a second engine shares its single connection
  nodeA = createLedger(testDb.db, { batchSizeMax: 64 });
  nodeB = createLedger(secondDb, { batchSizeMax: 64, batchesInFlightMax: 2 });
});

afterAll(async () => {
  await nodeA.close();
  await nodeB.close();
  const report = await verifyLedger(testDb.db);
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  if (secondDb !== testDb.db) await secondDb.close();
  await testDb.dispose();
});

async function fundedWallet(amount: bigint): Promise<{ funding: string; wallet: string; sink: string }> {
  const [funding, wallet, sink] = await createAccountsOk(nodeA, [clearingAccount(), walletAccount(), walletAccount()]);
  const [result] = await nodeA.submitTransfers([transfer(funding!, wallet!, amount)]);
  expect(result!.result).toBe('ok');
  return { funding: funding!, wallet: wallet!, sink: sink! };
}

describe('double spend', () => {
  test('200 concurrent transfers each draining the whole balance, over two engines: exactly one succeeds', async () => {
    const { wallet, sink } = await fundedWallet(10_000n);
    const attempts = Array.from({ length: 200 }, (_, index) =>
      (index % 2 === 0 ? nodeA : nodeB).submitTransfers([transfer(wallet, sink, 10_000n)]),
    );
    const results = (await Promise.all(attempts)).map(([result]) => result!.result);
    expect(results.filter((code) => code === 'ok')).toHaveLength(1);
    expect(results.filter((code) => code !== 'ok').every((code) => code === 'exceeds_credits')).toBe(true);
    expect(await balanceOf(nodeA, wallet)).toEqual({ posted: 0n, pending: 0n });
    expect(await balanceOf(nodeA, sink)).toEqual({ posted: 10_000n, pending: 0n });
  });

  test('the same transfer id sent to two engines at once moves money once', async () => {
    const { wallet, sink } = await fundedWallet(1_000n);
    const input = transfer(wallet, sink, 300n);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? nodeA : nodeB).submitTransfers([input])),
    );
    const codes = results.map(([result]) => result!.result);
    expect(codes.filter((code) => code === 'ok')).toHaveLength(1);
    expect(codes.filter((code) => code !== 'ok').every((code) => code === 'exists')).toBe(true);
    expect((await balanceOf(nodeA, sink)).posted).toBe(300n);
  });

  test('concurrent posts of one pending transfer: exactly one posts', async () => {
    const { wallet, sink } = await fundedWallet(1_000n);
    const pending = transfer(wallet, sink, 700n, { phase: 'pending' });
    expect((await nodeA.submitTransfers([pending]))[0]!.result).toBe('ok');
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        (index % 2 === 0 ? nodeA : nodeB).submitTransfers([
          {
            ...transfer(wallet, sink, 700n),
            phase: index % 3 === 0 ? 'void_pending' : 'post_pending',
            pendingId: pending.id,
          },
        ]),
      ),
    );
    const codes = results.map(([result]) => result!.result);
    expect(codes.filter((code) => code === 'ok')).toHaveLength(1);
    const wallets = await balanceOf(nodeA, wallet);
    expect(wallets.pending).toBe(0n);
    expect([300n, 1_000n]).toContain(wallets.posted);
  });
});

describe('batching', () => {
  test('failing submissions never fail their neighbours in the same batch', async () => {
    const { funding, wallet, sink } = await fundedWallet(100n);
    const submissions = Array.from({ length: 300 }, (_, index) =>
      index % 3 === 0
        ? nodeA.submitTransfers([transfer(wallet, sink, 1_000n)]) // always more than the wallet holds
        : nodeA.submitTransfers([transfer(funding, sink, 1n)]),
    );
    const codes = (await Promise.all(submissions)).map(([result]) => result!.result);
    codes.forEach((code, index) => expect(code).toBe(index % 3 === 0 ? 'exceeds_credits' : 'ok'));
    expect((await balanceOf(nodeA, sink)).posted).toBe(200n);
  });

  test('close() answers every queued submission, then refuses new ones', async () => {
    const ledger = createLedger(testDb.db, { batchSizeMax: 16 });
    const [funding, sink] = await createAccountsOk(ledger, [clearingAccount(), walletAccount()]);
    const pending = Array.from({ length: 200 }, () => ledger.submitTransfers([transfer(funding!, sink!, 1n)]));
    await ledger.close();
    const codes = (await Promise.all(pending)).map(([result]) => result!.result);
    expect(codes.every((code) => code === 'ok')).toBe(true);
    await expect(ledger.submitTransfers([transfer(funding!, sink!, 1n)])).rejects.toMatchObject({
      code: 'ledger_closed',
    });
    expect((await balanceOf(nodeA, sink!)).posted).toBe(200n);
  });

  test('a submission larger than a batch is refused whole', async () => {
    const ledger = createLedger(testDb.db, { batchSizeMax: 4 });
    const [funding, sink] = await createAccountsOk(ledger, [clearingAccount(), walletAccount()]);
    await expect(
      ledger.submitTransfers(Array.from({ length: 5 }, () => transfer(funding!, sink!, 1n))),
    ).rejects.toMatchObject({ code: 'invalid_request' });
    await ledger.close();
    expect((await balanceOf(nodeA, sink!)).posted).toBe(0n);
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, type Ledger } from '../src/modules/ledger/index.js';
import { createMetrics, type Metrics } from '../src/platform/metrics.js';
import { openTestDb, type TestDb } from './support/db.js';

async function sampleValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const data = await metric.get();
  const sample = data.values.find((value) =>
    Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected),
  );
  return sample?.value ?? 0;
}

describe('ledger metrics fed by the observer of a real ledger', () => {
  let testDb: TestDb;
  let ledger: Ledger;
  let metrics: Metrics;

  beforeAll(async () => {
    testDb = await openTestDb();
    metrics = createMetrics({ processMetrics: false });
    ledger = createLedger(testDb.db, { observer: metrics.ledgerObserver() });
  });

  afterAll(async () => {
    await ledger.close();
    await testDb.dispose();
  });

  it('counts transfers by result code and observes batch size and commit latency', async () => {
    const funding = randomUUID();
    const wallet = randomUUID();
    const merchant = randomUUID();
    const created = await ledger.createAccounts([
      { id: funding, currency: 'USD', code: 1 },
      { id: wallet, currency: 'USD', code: 2, flags: { debitsMustNotExceedCredits: true } },
      { id: merchant, currency: 'USD', code: 3 },
    ]);
    expect(created.map((result) => result.result)).toEqual(['ok', 'ok', 'ok']);

    const results = await ledger.submitTransfers([
      {
        id: randomUUID(),
        debitAccountId: funding,
        creditAccountId: wallet,
        amountMinor: 500n,
        currency: 'USD',
        code: 1,
      },
      {
        id: randomUUID(),
        debitAccountId: wallet,
        creditAccountId: merchant,
        amountMinor: 300n,
        currency: 'USD',
        code: 1,
      },
      // The wallet now holds 200: this one must fail without failing its neighbours.
      {
        id: randomUUID(),
        debitAccountId: wallet,
        creditAccountId: merchant,
        amountMinor: 900n,
        currency: 'USD',
        code: 1,
      },
    ]);
    expect(results.map((result) => result.result)).toEqual(['ok', 'ok', 'exceeds_credits']);

    expect(await sampleValue(metrics, 'yunpay_ledger_transfers_total', { result: 'ok' })).toBe(2);
    expect(await sampleValue(metrics, 'yunpay_ledger_transfers_total', { result: 'exceeds_credits' })).toBe(1);
    const text = await metrics.registry.metrics();
    const batches = /yunpay_ledger_batch_transfers_count (\d+)/.exec(text);
    const transfers = /yunpay_ledger_batch_transfers_sum (\d+)/.exec(text);
    const commitSeconds = /yunpay_ledger_batch_commit_seconds_sum ([\d.e-]+)/.exec(text);
    expect(Number(batches?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(transfers?.[1])).toBe(3);
    expect(Number(commitSeconds?.[1])).toBeGreaterThan(0);
  });

  it('registries are independent: two apps in one process do not share series', async () => {
    const other = createMetrics({ processMetrics: true });
    expect(await sampleValue(other, 'yunpay_ledger_transfers_total', { result: 'ok' })).toBe(0);
    expect(await other.registry.metrics()).toContain('yunpay_process_cpu_user_seconds_total');
    expect(await metrics.registry.metrics()).not.toContain('yunpay_process_cpu_user_seconds_total');
  });
});

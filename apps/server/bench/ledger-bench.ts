/**
 * `npm run bench:ledger`: the batched posting engine against a naive one-transfer-per-transaction
 * baseline, on PostgreSQL (DATABASE_URL, default the local server) and on the embedded store.
 *
 * Workloads over 10,000 funded wallet accounts (no-overdraft flag on, so every transfer is
 * balance-checked): `hot` credits one merchant account from random payers; `uniform` moves money
 * between random pairs. Closed-loop clients each submit one transfer and wait for its answer.
 * Prints one JSON line per (workload, store, implementation) and, with --write, records the
 * table in docs/benchmarks.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { openEmbeddedDb, openPostgresDb, type Db } from '../src/platform/db.js';
import { runMigrations } from '../src/platform/migrations.js';
import { allMigrations } from '../src/migrations.js';
import { createLedger, type TransferInput } from '../src/modules/ledger/index.js';
import { newLedgerId } from '../src/modules/ledger/ids.js';

type Workload = 'hot' | 'uniform';
type Store = 'postgres' | 'embedded';
type Implementation = 'engine' | 'naive';

interface BenchArgs {
  stores: Store[];
  workloads: Workload[];
  durationS: number;
  warmupS: number;
  engineClients: number;
  naiveClients: number;
  accountCount: number;
  batchesInFlight: number;
  implementations: Implementation[];
  write: boolean;
}

function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = {
    stores: ['postgres', 'embedded'],
    workloads: ['hot', 'uniform'],
    durationS: 10,
    warmupS: 2,
    engineClients: 8000,
    naiveClients: 32,
    accountCount: 10_000,
    batchesInFlight: 1,
    implementations: ['engine', 'naive'],
    write: false,
  };
  for (const arg of argv) {
    const [key, value = ''] = arg.replace(/^--/, '').split('=');
    if (key === 'stores') args.stores = value.split(',') as Store[];
    else if (key === 'workloads') args.workloads = value.split(',') as Workload[];
    else if (key === 'duration') args.durationS = Number(value);
    else if (key === 'warmup') args.warmupS = Number(value);
    else if (key === 'engine-clients') args.engineClients = Number(value);
    else if (key === 'naive-clients') args.naiveClients = Number(value);
    else if (key === 'accounts') args.accountCount = Number(value);
    else if (key === 'batches-in-flight') args.batchesInFlight = Number(value);
    else if (key === 'implementations') args.implementations = value.split(',') as Implementation[];
    else if (key === 'write') args.write = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

interface RunResult {
  workload: Workload;
  store: Store;
  implementation: Implementation;
  clients: number;
  transfers: number;
  failed: number;
  duration_s: number;
  transfers_per_s: number;
  p50_ms: number;
  p99_ms: number;
  mean_batch_size?: number;
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.floor(fraction * sorted.length));
  return Math.round(sorted[index]! * 100) / 100;
}

const walletCode = 1;
const clearingCode = 2;
const paymentCode = 10;
const fundingPerAccountMinor = 1_000_000_000n;

interface Fixture {
  payerIds: string[];
  merchantId: string;
}

/** Creates and funds the accounts through the engine itself. */
async function prepareAccounts(db: Db, accountCount: number): Promise<Fixture> {
  const ledger = createLedger(db);
  const fundingId = newLedgerId();
  const merchantId = newLedgerId();
  const payerIds = Array.from({ length: accountCount }, () => newLedgerId());
  await ledger.createAccounts([
    { id: fundingId, currency: 'CNY', code: clearingCode },
    { id: merchantId, currency: 'CNY', code: walletCode, flags: { debitsMustNotExceedCredits: true } },
  ]);
  for (let offset = 0; offset < payerIds.length; offset += 5000) {
    const slice = payerIds.slice(offset, offset + 5000);
    await ledger.createAccounts(
      slice.map((id) => ({ id, currency: 'CNY', code: walletCode, flags: { debitsMustNotExceedCredits: true } })),
    );
    const results = await ledger.submitTransfers(
      slice.map((id) => ({
        id: newLedgerId(),
        debitAccountId: fundingId,
        creditAccountId: id,
        amountMinor: fundingPerAccountMinor,
        currency: 'CNY',
        code: paymentCode,
      })),
    );
    if (results.some((result) => result.result !== 'ok')) throw new Error('funding failed');
  }
  await ledger.close();
  return { payerIds, merchantId };
}

function pickPair(workload: Workload, fixture: Fixture): [string, string] {
  const ids = fixture.payerIds;
  const debit = ids[Math.floor(Math.random() * ids.length)]!;
  if (workload === 'hot') return [debit, fixture.merchantId];
  let credit = debit;
  while (credit === debit) credit = ids[Math.floor(Math.random() * ids.length)]!;
  return [debit, credit];
}

/** Runs closed-loop clients for warmup + duration; measures only the transfers that start after warmup. */
async function runClosedLoop(
  clients: number,
  warmupS: number,
  durationS: number,
  submitOne: () => Promise<boolean>,
): Promise<{ latenciesMs: number[]; failed: number; elapsedS: number }> {
  const latenciesMs: number[] = [];
  let failed = 0;
  const startMs = performance.now();
  const measureFromMs = startMs + warmupS * 1000;
  const stopAtMs = measureFromMs + durationS * 1000;
  let lastCompletionMs = measureFromMs;
  const client = async () => {
    while (performance.now() < stopAtMs) {
      const sentMs = performance.now();
      const ok = await submitOne();
      const doneMs = performance.now();
      if (sentMs >= measureFromMs) {
        if (ok) latenciesMs.push(doneMs - sentMs);
        else failed += 1;
        lastCompletionMs = Math.max(lastCompletionMs, doneMs);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { latenciesMs, failed, elapsedS: (lastCompletionMs - measureFromMs) / 1000 };
}

function summarize(
  base: Pick<RunResult, 'workload' | 'store' | 'implementation' | 'clients'>,
  run: { latenciesMs: number[]; failed: number; elapsedS: number },
): RunResult {
  const sorted = Float64Array.from(run.latenciesMs).sort();
  return {
    ...base,
    transfers: run.latenciesMs.length,
    failed: run.failed,
    duration_s: Math.round(run.elapsedS * 100) / 100,
    transfers_per_s: Math.round(run.latenciesMs.length / run.elapsedS),
    p50_ms: percentile(sorted, 0.5),
    p99_ms: percentile(sorted, 0.99),
  };
}

async function benchEngine(db: Db, store: Store, workload: Workload, fixture: Fixture, args: BenchArgs) {
  let batches = 0;
  let batchedTransfers = 0;
  const ledger = createLedger(db, {
    batchesInFlightMax: args.batchesInFlight,
    observer: {
      batchCommitted(info) {
        batches += 1;
        batchedTransfers += info.transferCount;
      },
      transfersCompleted() {},
    },
  });
  const run = await runClosedLoop(args.engineClients, args.warmupS, args.durationS, async () => {
    const [debit, credit] = pickPair(workload, fixture);
    const input: TransferInput = {
      id: newLedgerId(),
      debitAccountId: debit,
      creditAccountId: credit,
      amountMinor: 1n + BigInt(Math.floor(Math.random() * 1000)),
      currency: 'CNY',
      code: paymentCode,
    };
    const [result] = await ledger.submitTransfers([input]);
    return result?.result === 'ok';
  });
  await ledger.close();
  const summary = summarize({ workload, store, implementation: 'engine', clients: args.engineClients }, run);
  return { ...summary, mean_batch_size: Math.round(batchedTransfers / Math.max(1, batches)) };
}

/** One transfer per transaction: BEGIN, two balance UPDATEs, INSERT transfer, INSERT 2 entries, COMMIT. */
async function benchNaive(db: Db, store: Store, workload: Workload, fixture: Fixture, args: BenchArgs) {
  const clients = store === 'embedded' ? Math.min(args.naiveClients, 8) : args.naiveClients;
  const run = await runClosedLoop(clients, args.warmupS, args.durationS, async () => {
    const [debit, credit] = pickPair(workload, fixture);
    const amount = 1n + BigInt(Math.floor(Math.random() * 1000));
    const id = newLedgerId();
    return db.transaction(async (tx) => {
      // Lock in id order, as any correct implementation must, to avoid deadlocks. The naive path
      // keeps the same records as the engine: balances, the transfer, two entries in the history chain.
      const [first, second] = debit < credit ? [debit, credit] : [credit, debit];
      const seqRows = await tx.query<{ base: bigint }>("select nextval('ledger_batch_seq') * 65536 as base");
      const base = seqRows[0]!.base;
      const entries = new Map<string, { seq: bigint; prevSeq: bigint | null; balance: bigint }>();
      for (const accountId of [first, second]) {
        const isDebit = accountId === debit;
        const seq = base + (isDebit ? 1n : 2n);
        const rows = await tx.query<{ balance: bigint; prev_seq: bigint | null }>(
          `update ledger_accounts a
              set ${isDebit ? 'debits_posted = a.debits_posted + $2::bigint' : 'credits_posted = a.credits_posted + $2::bigint'},
                  last_entry_seq = $3::bigint
             from (select id, last_entry_seq from ledger_accounts where id = $1::uuid for update) old
            where a.id = old.id
              ${isDebit ? 'and (a.flags & 1 = 0 or a.debits_posted + a.debits_pending + $2::bigint <= a.credits_posted)' : ''}
           returning a.credits_posted - a.debits_posted as balance, old.last_entry_seq as prev_seq`,
          [accountId, amount, seq],
        );
        if (rows.length !== 1) throw new Error('insufficient funds in the naive baseline');
        entries.set(accountId, { seq, prevSeq: rows[0]!.prev_seq, balance: rows[0]!.balance });
      }
      await tx.query(
        `insert into ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, code, flags, timeout_s, created_at)
         values ($1::uuid, $2::uuid, $3::uuid, $4::bigint, 'CNY', $5, 0, 0, now())`,
        [id, debit, credit, amount, paymentCode],
      );
      const d = entries.get(debit)!;
      const c = entries.get(credit)!;
      await tx.query(
        `insert into ledger_entries (seq, prev_seq, transfer_id, account_id, is_credit, posted_amount, pending_amount, balance_after)
         values ($6::bigint, $7::bigint, $1::uuid, $2::uuid, false, $4::bigint, 0, $5::bigint),
                ($9::bigint, $10::bigint, $1::uuid, $3::uuid, true, $4::bigint, 0, $8::bigint)`,
        [id, debit, credit, amount, d.balance, d.seq, d.prevSeq, c.balance, c.seq, c.prevSeq],
      );
      return true;
    });
  });
  return summarize({ workload, store, implementation: 'naive', clients }, run);
}

/**
 * Every row starts from the same footing: dead account versions vacuumed and, on PostgreSQL, a
 * checkpoint taken, so that one row does not pay for the previous row's full-page writes.
 */
async function settle(db: Db, store: Store): Promise<void> {
  await db.query('vacuum analyze ledger_accounts');
  if (store === 'postgres') await db.query('checkpoint');
}

async function durabilitySettings(db: Db): Promise<Record<string, string>> {
  const settings: Record<string, string> = {};
  for (const name of ['fsync', 'synchronous_commit', 'wal_sync_method', 'server_version']) {
    const rows = await db.query<Record<string, string>>(`show ${name}`);
    settings[name] = Object.values(rows[0] ?? {})[0] ?? '?';
  }
  return settings;
}

async function withStore<T>(store: Store, fn: (db: Db) => Promise<T>): Promise<T> {
  if (store === 'postgres') {
    const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const name = `yunpay_bench_${randomBytes(5).toString('hex')}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const db = openPostgresDb({
      url: url.toString(),
      connectionCountMax: 40,
      connectTimeoutS: 10,
      statementTimeoutMs: 120_000,
    });
    try {
      await runMigrations(db, allMigrations);
      return await fn(db);
    } finally {
      await db.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    }
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'yunpay-bench-'));
  const db = await openEmbeddedDb({ dataDir });
  try {
    await runMigrations(db, allMigrations);
    return await fn(db);
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function markdownTable(results: RunResult[]): string {
  const lines = [
    '| workload | store | implementation | clients | transfers/s | p50 ms | p99 ms | transfers measured |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.workload} | ${r.store} | ${r.implementation} | ${r.clients} | ${r.transfers_per_s.toLocaleString('en-US')} | ${r.p50_ms} | ${r.p99_ms} | ${r.transfers.toLocaleString('en-US')} |`,
    );
  }
  return lines.join('\n');
}

function ratioLines(results: RunResult[]): string[] {
  const lines: string[] = [];
  for (const r of results.filter((x) => x.implementation === 'engine')) {
    const naive = results.find((x) => x.implementation === 'naive' && x.workload === r.workload && x.store === r.store);
    if (naive !== undefined && naive.transfers_per_s > 0) {
      lines.push(
        `- ${r.workload} on ${r.store}: engine / naive = ${(r.transfers_per_s / naive.transfers_per_s).toFixed(1)}×`,
      );
    }
  }
  return lines;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const results: RunResult[] = [];
  const settingsByStore: Record<string, Record<string, string>> = {};
  for (const store of args.stores) {
    await withStore(store, async (db) => {
      settingsByStore[store] = await durabilitySettings(db);
      if (
        store === 'postgres' &&
        (settingsByStore[store].fsync !== 'on' || settingsByStore[store].synchronous_commit !== 'on')
      ) {
        throw new Error(
          `the benchmark needs fsync and synchronous_commit on: ${JSON.stringify(settingsByStore[store])}`,
        );
      }
      const fixture = await prepareAccounts(db, args.accountCount);
      for (const workload of args.workloads) {
        for (const implementation of args.implementations) {
          await settle(db, store);
          const result =
            implementation === 'engine'
              ? await benchEngine(db, store, workload, fixture, args)
              : await benchNaive(db, store, workload, fixture, args);
          results.push(result);
          console.log(JSON.stringify(result));
        }
      }
    });
  }
  for (const line of ratioLines(results)) console.log(line);
  if (args.write) {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const docPath = path.resolve(here, '../../../../docs/benchmarks.md');
    const marker = '<!-- bench:ledger -->';
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const section = [
      marker,
      `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
      `Command: \`npm run bench:ledger -- ${process.argv.slice(2).join(' ')}\` (${args.durationS} s measured after ${args.warmupS} s warm-up per row, ${args.accountCount.toLocaleString('en-US')} funded accounts with the no-overdraft flag; a VACUUM of the accounts table and, on PostgreSQL, a CHECKPOINT before each row).`,
      `PostgreSQL settings: ${JSON.stringify(settingsByStore.postgres ?? {})}; embedded: PGlite (no fsync).`,
      '',
      markdownTable(results),
      '',
      ...ratioLines(results),
      marker,
    ].join('\n');
    let doc: string;
    try {
      doc = readFileSync(docPath, 'utf8');
    } catch {
      doc = '# Benchmarks\n';
    }
    const start = doc.indexOf(marker);
    const end = doc.indexOf(marker, start + marker.length);
    doc =
      start >= 0 && end > start
        ? doc.slice(0, start) + section + doc.slice(end + marker.length)
        : `${doc.trimEnd()}\n\n${section}\n`;
    writeFileSync(docPath, doc);
    console.log(`wrote ${docPath}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

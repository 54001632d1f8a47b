/**
 * `npm run bench:e2e`: payments end to end over HTTP, against the real compiled server.
 *
 * For each store (PostgreSQL with fsync on, in a fresh database dropped at the end; the embedded
 * PGlite default in a fresh data directory) it starts `yunpay start` (role all: API, worker and
 * the card network simulator in one process), creates merchants and wallet users through the API,
 * and then runs each row's load from a separate process (bench/e2e-load.ts, an undici Pool):
 * wallet-code payments (issue the code, then confirm), dynamic-QR payments, P2P transfers,
 * card payments (pm_card_visa through the ISO 8583 simulator), balance reads, intent reads and
 * the ceiling (GET /healthz: a bare route of the same server, through the same hooks).
 *
 * For every row: operations/s, p50/p99/max latency, errors by code, and the CPU seconds the
 * server and PostgreSQL spent per 1,000 operations (from /proc); on the embedded store, the
 * server's peak RSS. After the rows: `yunpay ledger verify` must exit 0, the money inside the
 * platform (wallets, merchants, fees) must have changed by exactly what card payments brought in,
 * and any error the workload did not provoke fails the run.
 *
 * Options: --stores=postgres,embedded --rows=wallet_code,qr,p2p,card,balances,intent_get,ceiling
 * --open=wallet_code@1000 (open-loop rows: row@offered rate per second, comma-separated)
 * --duration=10 --warmup=3 (seconds per row) --clients=64 --users=1000 --merchants=4
 * --write (write the table into docs/benchmarks.md) --profile=DIR (the server runs the rows under
 * node --cpu-prof, its profile written to DIR) --pg-socket=DIR (the server reaches PostgreSQL over
 * the Unix socket in DIR, e.g. /var/run/postgresql, instead of TCP). Prints one JSON line per row.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { createActiveMerchant, createWalletUsers, freePort, serverEnv, waitForReady } from '../crash/harness.js';
import { request } from '../crash/http.js';
import { accountCodes } from '../src/modules/ledger/index.js';
import { openEmbeddedDb, openPostgresDb, type Db } from '../src/platform/db.js';
import type { BenchUser, LoadConfig, LoadResult, Row } from './e2e-load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const mainJs = path.resolve(here, '../src/main.js');
const loadJs = path.resolve(here, 'e2e-load.js');
const benchmarksMd = path.resolve(here, '../../../../docs/benchmarks.md');
const pin = '246813';
const password = 'bench e2e password 2026';
const adminToken = randomBytes(32).toString('base64url');
const allRows: readonly Row[] = ['wallet_code', 'qr', 'p2p', 'card', 'balances', 'intent_get', 'ceiling'];
/** A P2P sender's PIN attempts per minute are 10 (identity's limit): the bench keeps one spare. */
const p2pSendsPerUserMax = 9;
const clockTicksPerS = 100;

type Store = 'postgres' | 'embedded';

interface Args {
  stores: Store[];
  rows: Row[];
  open: { row: Row; ratePerS: number }[];
  durationS: number;
  warmupS: number;
  clients: number;
  users: number;
  merchants: number;
  write: boolean;
  /** A directory for the server's CPU profile (node --cpu-prof) of the measured rows, or null. */
  profileDir: string | null;
  /** The server reaches PostgreSQL over this Unix-socket directory instead of TCP (--pg-socket). */
  pgSocketDir: string | null;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    stores: ['postgres', 'embedded'],
    rows: [...allRows],
    open: [{ row: 'wallet_code', ratePerS: 1_000 }],
    durationS: 10,
    warmupS: 3,
    clients: 64,
    users: 1_000,
    merchants: 4,
    write: false,
    profileDir: null,
    pgSocketDir: null,
  };
  for (const arg of argv) {
    const [key, value = ''] = arg.replace(/^--/, '').split('=');
    if (key === 'stores') args.stores = value.split(',') as Store[];
    else if (key === 'rows') args.rows = value.split(',').filter(Boolean) as Row[];
    else if (key === 'open') {
      args.open = value
        .split(',')
        .filter(Boolean)
        .map((spec) => {
          const [row, rate] = spec.split('@');
          return { row: row as Row, ratePerS: Number(rate) };
        });
    } else if (key === 'duration') args.durationS = Number(value);
    else if (key === 'warmup') args.warmupS = Number(value);
    else if (key === 'clients') args.clients = Number(value);
    else if (key === 'users') args.users = Number(value);
    else if (key === 'merchants') args.merchants = Number(value);
    else if (key === 'write') args.write = true;
    else if (key === 'profile') args.profileDir = path.resolve(value);
    else if (key === 'pg-socket') args.pgSocketDir = value;
    else throw new Error(`unknown argument ${arg}`);
  }
  for (const row of [...args.rows, ...args.open.map((open) => open.row)]) {
    if (!allRows.includes(row)) throw new Error(`unknown row ${row}`);
  }
  return args;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string, extra: Record<string, unknown> = {}) =>
  process.stderr.write(`${new Date().toISOString()} bench:e2e: ${message} ${JSON.stringify(extra)}\n`);

/** CPU seconds (user + system) a process has used, from /proc; 0 once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerS;
  } catch {
    return 0;
  }
}

/** The machine's CPU time so far, and how much of it the hypervisor gave to others (steal), in ticks. */
function machineCpu(): { totalTicks: number; stealTicks: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  return { totalTicks: fields.slice(0, 8).reduce((a, b) => a + b, 0), stealTicks: fields[7] ?? 0 };
}

function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) * 1_024;
  } catch {
    return 0;
  }
}

/** Every PostgreSQL process on this machine and its CPU seconds (the server is local and shared). */
function postgresCpu(): Map<number, number> {
  const result = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    result.set(Number(entry), cpuSeconds(Number(entry)));
  }
  return result;
}

function postgresCpuSince(before: Map<number, number>): number {
  let total = 0;
  for (const [pid, now] of postgresCpu()) total += now - (before.get(pid) ?? 0);
  return total;
}

interface Server {
  store: Store;
  baseUrl: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess;
  workDir: string;
  /** PostgreSQL: the database's URL, and how to drop it. */
  databaseUrl: string | null;
  dropDatabase: () => Promise<void>;
}

async function startServer(store: Store, args: Args): Promise<Server> {
  const workDir = mkdtempSync(path.join(tmpdir(), `yunpay-bench-e2e-${store}-`));
  const [apiPort, networkPort] = [await freePort(), await freePort()];
  let databaseUrl: string | null = null;
  let dropDatabase = async () => undefined;
  if (store === 'postgres') {
    const serverUrl = process.env.YUNPAY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
    const database = `yunpay_bench_e2e_${Date.now()}_${randomBytes(4).toString('hex')}`;
    const maintenance = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => undefined });
    const settings =
      await maintenance`select name, setting from pg_settings where name in ('fsync', 'synchronous_commit')`;
    for (const { name, setting } of settings) {
      if (setting !== 'on') throw new Error(`PostgreSQL runs with ${name}=${setting}: the benchmark needs it on`);
    }
    await maintenance.unsafe(`create database ${database}`);
    databaseUrl = `${serverUrl}/${database}${args.pgSocketDir === null ? '' : `?host=${args.pgSocketDir}`}`;
    dropDatabase = async () => {
      await maintenance.unsafe(`drop database if exists ${database} with (force)`);
      await maintenance.end();
    };
  }
  const env: NodeJS.ProcessEnv = {
    ...serverEnv({ port: apiPort, dataDir: path.join(workDir, 'data'), adminToken }),
    YUNPAY_ROLE: 'all',
    YUNPAY_NETWORK_PORT: String(networkPort),
    ...(databaseUrl === null ? {} : { DATABASE_URL: databaseUrl }),
  };
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const child = await launch(env, baseUrl);
  return { store, baseUrl, env, child, workDir, databaseUrl, dropDatabase };
}

/** Starts `yunpay start` with `env` (under `nodeArgs`, e.g. a CPU profile) and waits until it is ready. */
async function launch(
  env: NodeJS.ProcessEnv,
  baseUrl: string,
  nodeArgs: readonly string[] = [],
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeArgs, mainJs, 'start'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForReady(baseUrl, 120_000, child);
  return child;
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode === null) {
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000)]);
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  }
}

interface Seed {
  liveKeys: string[];
  testKeys: string[];
  users: BenchUser[];
  intentIds: string[];
}

async function seed(baseUrl: string, args: Args): Promise<Seed> {
  const merchants = [];
  for (let index = 0; index < args.merchants; index += 1) {
    merchants.push(await createActiveMerchant(baseUrl, adminToken, `Bench Shop ${index}`));
  }
  const users = await createWalletUsers(baseUrl, args.users, { label: 'Bench', password, pin, topupMinor: 500_000 });
  const intentIds: string[] = [];
  for (let index = 0; index < 200; index += 1) {
    const created = await request(baseUrl, {
      method: 'POST',
      path: '/v1/payment_intents',
      token: merchants[index % merchants.length]!.liveKey,
      form: { amount: '1000', currency: 'cny', 'metadata[bench]': String(index) },
    });
    if (created.status !== 200) throw new Error(`intent: ${created.status} ${JSON.stringify(created.body)}`);
    intentIds.push(created.body.id as string);
  }
  return {
    liveKeys: merchants.map((merchant) => merchant.liveKey),
    testKeys: merchants.map((merchant) => merchant.testKey),
    users,
    intentIds,
  };
}

export interface RowResult extends LoadResult {
  store: Store;
  serverCpuSPer1000: number;
  postgresCpuSPer1000: number | null;
  serverRssPeakMb: number;
  /** Share of the machine's CPU time the hypervisor took for others during the row (noise). */
  stealPercent: number;
}

async function runRow(
  server: Server,
  seeded: Seed,
  args: Args,
  row: Row,
  open: { ratePerS: number } | null,
): Promise<RowResult> {
  const config: LoadConfig = {
    baseUrl: server.baseUrl,
    row,
    mode: open === null ? 'closed' : 'open',
    clients: args.clients,
    ratePerS: open?.ratePerS ?? 0,
    warmupS: args.warmupS,
    durationS: args.durationS,
    liveKeys: seeded.liveKeys,
    testKeys: seeded.testKeys,
    pin,
    users: seeded.users,
    intentIds: seeded.intentIds,
    p2pSendsPerUserMax,
  };
  const configFile = path.join(server.workDir, `load-${row}.json`);
  writeFileSync(configFile, JSON.stringify(config));
  const pid = server.child.pid!;
  let serverCpuAtMeasure = 0;
  let postgresAtMeasure = new Map<number, number>();
  let machineAtMeasure = machineCpu();
  let rssPeak = 0;
  const rssTimer = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssBytes(pid));
  }, 200);
  // CPU is counted over the measured window only: the load tells nothing of its warm-up, so the
  // bench samples when the warm-up ends by the same clock.
  const warmupTimer = setTimeout(() => {
    serverCpuAtMeasure = cpuSeconds(pid);
    postgresAtMeasure = postgresCpu();
    machineAtMeasure = machineCpu();
  }, args.warmupS * 1_000);
  const load = fork(loadJs, [configFile], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = await new Promise<LoadResult>((resolve, reject) => {
    load.once('message', (message) => resolve(message as LoadResult));
    load.once('exit', (code) => reject(new Error(`the load exited (${code}) without a result`)));
  });
  const serverCpuS = cpuSeconds(pid) - serverCpuAtMeasure;
  const postgresCpuS = server.store === 'postgres' ? postgresCpuSince(postgresAtMeasure) : null;
  const machine = machineCpu();
  const stealPercent =
    Math.round(
      ((machine.stealTicks - machineAtMeasure.stealTicks) /
        Math.max(1, machine.totalTicks - machineAtMeasure.totalTicks)) *
        1000,
    ) / 10;
  clearTimeout(warmupTimer);
  clearInterval(rssTimer);
  const per1000 = (seconds: number) => Math.round((seconds / Math.max(1, result.operations)) * 1_000 * 1000) / 1000;
  return {
    ...result,
    store: server.store,
    serverCpuSPer1000: per1000(serverCpuS),
    postgresCpuSPer1000: postgresCpuS === null ? null : per1000(postgresCpuS),
    serverRssPeakMb: Math.round(rssPeak / 1_048_576),
    stealPercent,
  };
}

/** Opens the store's database while the server is stopped (PGlite admits one process). */
async function withDb<T>(server: Server, body: (db: Db) => Promise<T>): Promise<T> {
  const db =
    server.databaseUrl === null
      ? await openEmbeddedDb({ dataDir: server.env.YUNPAY_DATA_DIR! })
      : openPostgresDb({
          url: server.databaseUrl,
          connectionCountMax: 1,
          connectTimeoutS: 10,
          statementTimeoutMs: 60_000,
        });
  try {
    return await body(db);
  } finally {
    await db.close();
  }
}

/** Money inside the platform: wallets, merchant balances and fee revenue (credit-normal). */
const insideCodes = [accountCodes.wallet, accountCodes.merchantBalance, accountCodes.feeRevenue];

async function insideMoney(db: Db): Promise<{ insideMinor: bigint; at: Date }> {
  const rows = await db.query<{ inside: string | null; at: Date }>(
    `select sum(credits_posted - debits_posted)::text as inside, now() as at
       from ledger_accounts where code = any($1::int[])`,
    [`{${insideCodes.join(',')}}`],
  );
  return { insideMinor: BigInt(rows[0]!.inside ?? '0'), at: rows[0]!.at };
}

/** What card payments brought in since `since` (the only rows that bring money from outside). */
async function cardMoneySince(db: Db, since: Date): Promise<bigint> {
  const rows = await db.query<{ total: string | null }>(
    `select sum(amount_captured - amount_refunded)::text as total from payments_charges
      where status = 'succeeded' and payment_method_id is not null and created_at > $1`,
    [since],
  );
  return BigInt(rows[0]!.total ?? '0');
}

async function ledgerVerify(server: Server): Promise<number | null> {
  const child = spawn(process.execPath, [mainJs, 'ledger', 'verify'], {
    env: server.env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Promise((resolve) => child.once('exit', resolve));
}

interface StoreRun {
  results: RowResult[];
  failures: string[];
}

async function runStore(store: Store, args: Args): Promise<StoreRun> {
  const failures: string[] = [];
  const results: RowResult[] = [];
  let server = await startServer(store, args);
  try {
    log('server up; seeding', { store, users: args.users, merchants: args.merchants });
    const seeded = await seed(server.baseUrl, args);
    await stopServer(server);
    const before = await withDb(server, insideMoney);
    // The rows run on a restarted server (the seeding's sign-ups are not what is profiled).
    const profile = args.profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${args.profileDir}`];
    server = { ...server, child: await launch(server.env, server.baseUrl, profile) };
    const plan = [
      ...args.rows.map((row) => ({ row, open: null })),
      ...args.open.map((open) => ({ row: open.row, open: { ratePerS: open.ratePerS } })),
    ];
    for (const { row, open } of plan) {
      const result = await runRow(server, seeded, args, row, open);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      results.push(result);
      for (const [code, count] of Object.entries(result.errors)) failures.push(`${store} ${row}: ${count} × ${code}`);
    }
    await stopServer(server);
    const verified = await ledgerVerify(server);
    if (verified !== 0) failures.push(`${store}: yunpay ledger verify exited ${verified}`);
    const { insideMinor, cardMinor } = await withDb(server, async (db) => ({
      insideMinor: (await insideMoney(db)).insideMinor,
      cardMinor: await cardMoneySince(db, before.at),
    }));
    if (insideMinor - before.insideMinor !== cardMinor) {
      failures.push(
        `${store}: money inside moved by ${insideMinor - before.insideMinor}, card payments brought ${cardMinor}`,
      );
    }
    log('checked', {
      store,
      ledgerVerify: verified,
      insideChangeMinor: String(insideMinor - before.insideMinor),
      cardMinor: String(cardMinor),
    });
  } finally {
    await stopServer(server);
    await server.dropDatabase();
    rmSync(server.workDir, { recursive: true, force: true });
  }
  return { results, failures };
}

const rowNames: Record<Row, string> = {
  wallet_code: 'wallet-code payment (issue code + confirm)',
  qr: 'dynamic QR payment (create + pay with PIN)',
  p2p: 'P2P transfer (with PIN)',
  card: 'card payment, pm_card_visa over ISO 8583',
  balances: 'GET /wallet/v1/balances',
  intent_get: 'GET /v1/payment_intents/{id}',
  ceiling: 'ceiling: GET /healthz',
};

function markdownTable(results: readonly RowResult[]): string {
  const ceilings = new Map(results.filter((r) => r.row === 'ceiling').map((r) => [r.store, r.perS]));
  const header =
    '| store | row | load | ops/s | p50 ms | p99 ms | max ms | errors | server CPU s/1k ops | PostgreSQL CPU s/1k ops | server RSS peak MB | CPU steal | of ceiling |\n' +
    '| ----- | --- | ---- | ----: | -----: | -----: | -----: | ------ | ------------------: | ----------------------: | ----------------: | --------: | ---------: |\n';
  const lines = results.map((r) => {
    const load = r.mode === 'open' ? `open, ${r.offeredPerS}/s offered` : `${r.clients} clients`;
    const errors =
      Object.entries(r.errors)
        .map(([code, count]) => `${code} × ${count}`)
        .join(', ') || 'none';
    const dropped = r.dropped > 0 ? `; ${r.dropped} not sent (in-flight cap)` : '';
    const ended = r.endedEarly === null ? '' : ` (ended after ${r.measuredS} s: ${r.endedEarly})`;
    const ceiling = ceilings.get(r.store);
    const ratio = ceiling === undefined || r.row === 'ceiling' ? '' : `${((r.perS / ceiling) * 100).toFixed(1)} %`;
    return `| ${r.store} | ${rowNames[r.row]}${ended} | ${load} | ${r.perS.toLocaleString('en-US')} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${errors}${dropped} | ${r.serverCpuSPer1000} | ${r.postgresCpuSPer1000 ?? '—'} | ${r.serverRssPeakMb} | ${r.stealPercent} % | ${ratio} |`;
  });
  return header + lines.join('\n');
}

async function postgresSettings(): Promise<string> {
  const serverUrl = process.env.YUNPAY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const sql = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => undefined });
  try {
    const rows = await sql`select name, setting from pg_settings
      where name in ('fsync', 'synchronous_commit', 'wal_sync_method', 'server_version', 'max_connections')`;
    return JSON.stringify(Object.fromEntries(rows.map((row) => [row.name, row.setting])));
  } finally {
    await sql.end();
  }
}

async function writeSection(
  args: Args,
  results: readonly RowResult[],
  failures: readonly string[],
  settings: string,
): Promise<void> {
  const marker = '<!-- bench:e2e -->';
  const cpu = os.cpus();
  const command = `npm run bench:e2e -- ${process.argv.slice(2).join(' ')}`.trim();
  const body = [
    marker,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
    `Command: \`${command}\` (${args.durationS} s measured after ${args.warmupS} s of warm-up per row; ${args.users} wallet users, ${args.merchants} merchants; one server process, role all).`,
    `PostgreSQL settings: ${settings}; embedded: PGlite (no fsync).`,
    '',
    markdownTable(results),
    '',
    failures.length === 0
      ? '- After the rows: `yunpay ledger verify` exited 0 on each store, the money inside the platform moved by exactly what card payments brought in, and no answer was an error.'
      : `- Failed checks: ${failures.join('; ')}`,
    '',
    marker,
  ].join('\n');
  const text = readFileSync(benchmarksMd, 'utf8');
  const start = text.indexOf(marker);
  const end = start === -1 ? -1 : text.indexOf(marker, start + marker.length);
  const next =
    start === -1 || end === -1
      ? `${text.trimEnd()}\n\n## Payments end to end — \`npm run bench:e2e\`\n\n${body}\n`
      : `${text.slice(0, start)}${body}${text.slice(end + marker.length)}`;
  // Written as the repository's formatter would (the lint step checks docs too).
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(benchmarksMd)) ?? {};
  writeFileSync(benchmarksMd, await prettier.format(next, { ...options, filepath: benchmarksMd }));
  log('wrote', { file: benchmarksMd });
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: run npm run build first`);
  const results: RowResult[] = [];
  const failures: string[] = [];
  for (const store of args.stores) {
    const run = await runStore(store, args);
    results.push(...run.results);
    failures.push(...run.failures);
  }
  if (args.write) await writeSection(args, results, failures, await postgresSettings());
  for (const failure of failures) log(`FAILED ${failure}`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();

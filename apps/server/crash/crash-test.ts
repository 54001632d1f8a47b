/**
 * `npm run test:crash`: kill -9 the real, compiled server at random moments under a payment load,
 * restart it, let the clients retry every unanswered request with its key and body, and then
 * prove that no money was lost or moved twice (docs/crash-safety.md).
 *
 * - A fresh PostgreSQL database (fsync on, as the server runs), dropped at the end.
 * - The card network simulator in its own process (it outlives our crashes, as a real network
 *   would); an api process and a worker process (the recovery sweep), both killed together.
 * - The load (crash/load.ts) in another process: wallet-code, QR, card and P2P payments.
 * - Checks, against the database and the simulator's journal: every key produced exactly one
 *   payment, and its answer tells the truth; no card was authorized twice; no money moved without
 *   a succeeded payment; nothing is left pending after the recovery bound; `yunpay ledger verify`
 *   (the ledger's invariants and the payment cross-checks) exits 0.
 *
 * Options: --payments=N (answered payments before the load stops, default 1000), --kills=N
 * (at least, default 3), --users=N (default 120), --workers=N (default 24). Prints one JSON summary
 * line; exits 1 on any violation.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { createActiveMerchant, createWalletUsers, freePort, serverEnv, waitForReady } from './harness.js';
import type { LoadConfig, LoadUser, OpResult } from './load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const mainJs = path.resolve(here, '../src/main.js');
const loadJs = path.resolve(here, 'load.js');
const pin = '246813';
const password = 'crash test password 2026';
const adminToken = randomBytes(32).toString('base64url');
/** The card network timeout the servers run with: it sets the recovery bound (worker-jobs.ts). */
const networkTimeoutMs = 1_000;

interface Args {
  payments: number;
  kills: number;
  users: number;
  workers: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { payments: 1_000, kills: 3, users: 120, workers: 24 };
  for (const arg of argv) {
    const match = /^--(payments|kills|users|workers)=(\d+)$/.exec(arg);
    if (match === null) throw new Error(`unknown argument ${arg}`);
    args[match[1] as keyof Args] = Number(match[2]);
  }
  return args;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string, extra: Record<string, unknown> = {}) =>
  process.stderr.write(`${new Date().toISOString()} crash-test: ${message} ${JSON.stringify(extra)}\n`);

async function waitForTcp(port: number, deadlineMs: number): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on ${port} after ${deadlineMs} ms`);
}

interface Cluster {
  baseUrl: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  api: ChildProcess | null;
  worker: ChildProcess | null;
  starts: number;
}

function startServer(cluster: Cluster, role: 'api' | 'worker'): ChildProcess {
  const out = createWriteStream(path.join(cluster.logDir, `${role}-${cluster.starts}.log`));
  const child = spawn(process.execPath, [mainJs, 'start'], {
    env: { ...cluster.env, YUNPAY_ROLE: role },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  return child;
}

async function startCluster(cluster: Cluster): Promise<void> {
  cluster.starts += 1;
  cluster.api = startServer(cluster, 'api');
  cluster.worker = startServer(cluster, 'worker');
  await waitForReady(cluster.baseUrl, 60_000);
}

function killCluster(cluster: Cluster): void {
  cluster.api?.kill('SIGKILL');
  cluster.worker?.kill('SIGKILL');
  cluster.api = null;
  cluster.worker = null;
}

async function setUp(baseUrl: string, userCount: number) {
  const merchant = await createActiveMerchant(baseUrl, adminToken, 'Crash Noodles');
  const users: LoadUser[] = await createWalletUsers(baseUrl, userCount, {
    label: 'Crash',
    password,
    pin,
    topupMinor: 500_000,
  });
  return { liveKey: merchant.liveKey, testKey: merchant.testKey, accountId: merchant.accountId, users };
}

interface Violation {
  check: string;
  detail: unknown;
}

/** Every answered payment against the database: one payment per key, and the answer is the truth. */
async function checkKeys(sql: postgres.Sql, results: readonly OpResult[], violations: Violation[]): Promise<void> {
  type IntentRow = { op_key: string; id: string; status: string; succeeded_charges: number; charges: number };
  const intents = await sql<IntentRow[]>`
    select i.metadata->>'op_key' as op_key, i.id, i.status,
           count(c.id) filter (where c.status = 'succeeded')::int as succeeded_charges, count(c.id)::int as charges
      from payments_intents i left join payments_charges c on c.payment_intent_id = i.id
     where i.metadata ? 'op_key' group by i.id`;
  const byKey = new Map<string, IntentRow[]>();
  for (const row of intents) byKey.set(row.op_key, [...(byKey.get(row.op_key) ?? []), row]);
  type SentRow = { note: string; id: string; status: string };
  const sent = await sql<SentRow[]>`
    select note, id, status from wallets_transactions where type = 'p2p_sent' and note like 'crash-p2p-%'`;
  const transfers = new Map<string, SentRow[]>();
  for (const row of sent) transfers.set(row.note, [...(transfers.get(row.note) ?? []), row]);
  for (const result of results) {
    if (result.type === 'p2p') {
      const rows = transfers.get(result.key) ?? [];
      if (rows.length !== 1) violations.push({ check: 'one_payment_per_key', detail: { ...result, rows } });
      else if ((result.status === 201) !== (rows[0]!.status === 'succeeded')) {
        violations.push({ check: 'answer_is_the_truth', detail: { ...result, row: rows[0] } });
      }
      continue;
    }
    const rows = byKey.get(result.key) ?? [];
    if (rows.length !== 1) {
      violations.push({ check: 'one_payment_per_key', detail: { ...result, rows } });
      continue;
    }
    const row = rows[0]!;
    if (row.succeeded_charges > 1) violations.push({ check: 'one_charge_per_payment', detail: { ...result, row } });
    const answeredPaid = result.status === 200 && result.intentStatus === 'succeeded';
    if (answeredPaid !== (row.status === 'succeeded')) {
      violations.push({ check: 'answer_is_the_truth', detail: { ...result, row } });
    }
  }
}

/** The simulator's journal: every approved, unreversed card sale is one succeeded card charge. */
async function checkCards(
  sql: postgres.Sql,
  simDir: string,
  violations: Violation[],
): Promise<{ approvedSales: number }> {
  const journal = path.join(simDir, 'journal.jsonl');
  const approved = new Map<string, { amountMinor: string; merchantId: string }>();
  const reversed = new Set<string>();
  for (const line of readFileSync(journal, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const record = JSON.parse(line) as {
      type: string;
      effect?: {
        kind: string;
        rrn?: string;
        transaction?: { rrn: string; kind: string; responseCode: string; amountMinor: string; merchantId: string };
      };
    };
    const effect = record.effect;
    if (
      effect?.kind === 'original' &&
      effect.transaction?.kind === 'sale' &&
      effect.transaction.responseCode === '00'
    ) {
      approved.set(effect.transaction.rrn, effect.transaction);
    }
    if (effect?.kind === 'reversed' && effect.rrn !== undefined) reversed.add(effect.rrn);
  }
  const charged = [...approved.keys()].filter((rrn) => !reversed.has(rrn));
  const rows = await sql<{ rrn: string; reference: string; charge_status: string | null }[]>`
    select t.rrn, t.reference, c.status as charge_status from cards_network_transactions t
      left join payments_charges c on c.id = t.reference
     where t.kind = 'sale' and t.rrn = any(${charged})`;
  const byRrn = new Map(rows.map((row) => [row.rrn, row]));
  const chargesSeen = new Map<string, number>();
  for (const rrn of charged) {
    const row = byRrn.get(rrn);
    if (row === undefined) {
      violations.push({ check: 'card_sale_unknown', detail: { rrn } });
      continue;
    }
    chargesSeen.set(row.reference, (chargesSeen.get(row.reference) ?? 0) + 1);
    if (row.charge_status !== 'succeeded') violations.push({ check: 'card_charged_without_payment', detail: row });
  }
  for (const [reference, count] of chargesSeen) {
    if (count > 1) violations.push({ check: 'card_authorized_twice', detail: { reference, count } });
  }
  const succeeded = await sql<{ n: number }[]>`
    select count(*)::int as n from payments_charges where status = 'succeeded' and payment_method_details->>'type' = 'card'`;
  if (succeeded[0]!.n !== charged.length) {
    violations.push({ check: 'card_sales_match_charges', detail: { sales: charged.length, charges: succeeded[0]!.n } });
  }
  return { approvedSales: charged.length };
}

/** Every wallet's ledger balance is what its succeeded history says (no money moved without a record). */
async function checkWallets(sql: postgres.Sql, violations: Violation[]): Promise<void> {
  const rows = await sql<{ user_id: string; history: string; ledger: string }[]>`
    with history as (
      select user_id, sum(case when type in ('topup', 'p2p_received', 'refund') then amount else -amount end) as net
        from wallets_transactions where status = 'succeeded' and currency = 'CNY' group by user_id
    )
    select w.user_id, coalesce(h.net, 0)::text as history, (a.credits_posted - a.debits_posted)::text as ledger
      from wallets_accounts w join ledger_accounts a on a.id = w.ledger_account_id
      left join history h on h.user_id = w.user_id
     where w.currency = 'CNY'`;
  for (const row of rows) {
    if (row.history !== row.ledger) violations.push({ check: 'wallet_balance_matches_history', detail: row });
  }
}

async function ledgerVerify(env: NodeJS.ProcessEnv): Promise<{ exitCode: number; report: unknown }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, 'ledger', 'verify'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      let report: unknown = out;
      try {
        report = JSON.parse(out);
      } catch {
        // Kept as text.
      }
      resolve({ exitCode: code ?? 1, report });
    });
  });
}

/** Waits until nothing is pending anywhere (the sweep finished every middle state), or the deadline. */
async function waitForSettled(sql: postgres.Sql, deadlineMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const [row] = await sql<{ n: number }[]>`
      select ((select count(*) from payments_charges where status = 'pending')
            + (select count(*) from payments_refunds where status = 'pending')
            + (select count(*) from payments_intents where pending_action is not null)
            + (select count(*) from wallets_transactions where status = 'pending'))::int as n`;
    if (row!.n === 0 || Date.now() - started > deadlineMs) return Date.now() - started;
    await sleep(1_000);
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: run npm run build first`);
  const serverUrl = process.env.YUNPAY_CRASH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const database = `yunpay_crash_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const maintenance = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => undefined });
  await maintenance.unsafe(`create database ${database}`);
  const workDir = mkdtempSync(path.join(tmpdir(), 'yunpay-crash-'));
  const simDir = path.join(workDir, 'network-sim');
  let simulator: ChildProcess | null = null;
  let load: ChildProcess | null = null;
  const [apiPort, networkPort] = [await freePort(), await freePort()];
  const cluster: Cluster = {
    baseUrl: `http://127.0.0.1:${apiPort}`,
    logDir: workDir,
    api: null,
    worker: null,
    starts: 0,
    env: {
      ...serverEnv({ port: apiPort, dataDir: path.join(workDir, 'data'), adminToken }),
      DATABASE_URL: `${serverUrl}/${database}`,
      YUNPAY_NETWORK_HOST: '127.0.0.1',
      YUNPAY_NETWORK_PORT: String(networkPort),
      YUNPAY_NETWORK_TIMEOUT_MS: String(networkTimeoutMs),
    },
  };
  const sql = postgres(cluster.env.DATABASE_URL!, { max: 2, onnotice: () => undefined });
  let exitCode = 1;
  try {
    const { DATABASE_URL: _database, ...simulatorEnv } = cluster.env;
    simulator = spawn(process.execPath, [mainJs, 'start'], {
      env: { ...simulatorEnv, YUNPAY_ROLE: 'network-sim', YUNPAY_DATA_DIR: workDir },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitForTcp(networkPort, 30_000);
    await startCluster(cluster);
    log('cluster up', { database, users: args.users });
    const setup = await setUp(cluster.baseUrl, args.users);
    const resultsFile = path.join(workDir, 'results.jsonl');
    writeFileSync(resultsFile, '');
    const loadConfig: LoadConfig = {
      baseUrl: cluster.baseUrl,
      liveKey: setup.liveKey,
      testKey: setup.testKey,
      pin,
      users: setup.users,
      workers: args.workers,
      resultsFile,
    };
    const configFile = path.join(workDir, 'load.json');
    writeFileSync(configFile, JSON.stringify(loadConfig));
    let answered = 0;
    let retries = 0;
    let loadDone = false;
    load = fork(loadJs, [configFile], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    load.on('message', (message: { answered: number; retries: number; done?: boolean }) => {
      answered = message.answered;
      retries = message.retries;
      if (message.done === true) loadDone = true;
    });
    const loadExited = new Promise<number | null>((resolve) => load!.once('exit', resolve));
    const started = Date.now();
    let kills = 0;
    while (answered < args.payments || kills < args.kills) {
      // At a random moment: each kill lands on whatever the load has in flight.
      await sleep(2_000 + Math.floor(Math.random() * 4_000));
      killCluster(cluster);
      kills += 1;
      log('killed the api and the worker (SIGKILL)', { kill: kills, answered });
      await sleep(200 + Math.floor(Math.random() * 800));
      await startCluster(cluster);
      if (Date.now() - started > 600_000) throw new Error('the load did not reach its payments in 10 minutes');
    }
    load.send({ stop: true });
    const loadCode = await loadExited;
    if (loadCode !== 0 || !loadDone) throw new Error(`the load exited with ${loadCode}`);
    const loadSeconds = (Date.now() - started) / 1000;
    log('load finished; waiting for the recovery sweep', { answered, kills });
    const settleMs = await waitForSettled(sql, 120_000);
    const results = readFileSync(resultsFile, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as OpResult);
    const violations: Violation[] = [];
    await checkKeys(sql, results, violations);
    const cards = await checkCards(sql, simDir, violations);
    await checkWallets(sql, violations);
    const pendingLeft = await waitForSettled(sql, 0);
    const [stillPending] = await sql<{ n: number }[]>`
      select ((select count(*) from payments_charges where status = 'pending')
            + (select count(*) from payments_refunds where status = 'pending')
            + (select count(*) from payments_intents where pending_action is not null)
            + (select count(*) from wallets_transactions where status = 'pending'))::int as n`;
    if (stillPending!.n > 0) violations.push({ check: 'nothing_pending_after_the_bound', detail: stillPending });
    const verify = await ledgerVerify(cluster.env);
    if (verify.exitCode !== 0) violations.push({ check: 'ledger_verify', detail: verify.report });
    const byType = (type: string) => results.filter((result) => result.type === type).length;
    const summary = {
      ok: violations.length === 0,
      payments_answered: results.length,
      wallet_code: byType('wallet_code'),
      qr: byType('qr'),
      card: byType('card'),
      p2p: byType('p2p'),
      succeeded: results.filter((result) => result.status === 200 || result.status === 201).length,
      kills,
      retried_sends: retries,
      answered_after_a_retry: results.filter((result) => result.attempts > 1).length,
      card_sales_approved: cards.approvedSales,
      load_seconds: Math.round(loadSeconds),
      recovery_settled_ms: settleMs,
      pending_left_ms: pendingLeft,
      ledger_verify_exit_code: verify.exitCode,
      violations: violations.slice(0, 20),
      violation_count: violations.length,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    exitCode = violations.length === 0 && results.length >= args.payments && kills >= args.kills ? 0 : 1;
    if (exitCode !== 0) log('failed: server logs kept', { dir: workDir });
  } finally {
    load?.kill('SIGKILL');
    killCluster(cluster);
    simulator?.kill('SIGKILL');
    await sql.end({ timeout: 5 });
    await maintenance.unsafe(`drop database if exists ${database} with (force)`).catch(() => undefined);
    await maintenance.end({ timeout: 5 });
    if (exitCode === 0) rmSync(workDir, { recursive: true, force: true });
  }
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log('crashed', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  },
);

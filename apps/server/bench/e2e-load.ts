/**
 * bench:e2e's load generator: a child process of e2e-bench.ts, so the load's CPU is not the
 * server's. It drives one row (one kind of operation) over an undici Pool, in one of two modes:
 * - closed loop: `clients` concurrent clients, each sending its next operation when the last one
 *   is answered;
 * - open loop: operations start at a fixed offered rate whatever the answers do, and each one's
 *   latency counts from when it was due, so a stalled server shows as latency instead of as a
 *   quieter load (no coordinated omission). In-flight operations are capped; an operation that finds
 *   the cap full is counted as `dropped`.
 * It answers with one message: operations per second, latency percentiles, errors by code.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

export type Row = 'wallet_code' | 'qr' | 'p2p' | 'card' | 'balances' | 'intent_get' | 'ceiling';

export interface BenchUser {
  id: string;
  phone: string;
  token: string;
}

export interface LoadConfig {
  baseUrl: string;
  row: Row;
  mode: 'closed' | 'open';
  clients: number;
  /** Open loop: operations started per second. */
  ratePerS: number;
  warmupS: number;
  durationS: number;
  /** Live secret keys of the merchants, used in turn. */
  liveKeys: string[];
  /** Test secret keys of the same merchants: Stripe's test cards (pm_card_visa) pay in test mode. */
  testKeys: string[];
  pin: string;
  users: BenchUser[];
  /** Payment intents that GET /v1/payment_intents/{id} reads. */
  intentIds: string[];
  /** P2P: sends per user allowed in this row (the PIN attempt limit per window, with a margin). */
  p2pSendsPerUserMax: number;
}

export interface LoadResult {
  row: Row;
  mode: 'closed' | 'open';
  clients: number;
  offeredPerS: number | null;
  operations: number;
  measuredS: number;
  perS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: Record<string, number>;
  dropped: number;
  /** Why the row ended before its duration (e.g. every user spent its PIN attempts), if it did. */
  endedEarly: string | null;
}

interface Answer {
  status: number;
  body: any;
}

/** An operation that got a non-success answer: counted by `status:code`, not thrown past the loop. */
class OperationError extends Error {
  constructor(readonly label: string) {
    super(label);
  }
}

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadConfig;
const pool = new Pool(config.baseUrl, {
  connections: Math.max(config.clients, 1),
  pipelining: 1,
  keepAliveTimeout: 30_000,
});
const amount = () => 100 + Math.floor(Math.random() * 900);
const newKey = (row: string) => `bench-${row}-${randomBytes(9).toString('hex')}`;

async function send(
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string; json?: unknown; form?: Record<string, string>; idempotencyKey?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const response = await pool.request({ method, path, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.body.text();
  return { status: response.statusCode, body: text === '' ? null : JSON.parse(text) };
}

function expect(answer: Answer, status: number): any {
  if (answer.status !== status) {
    const code = answer.body?.error?.code ?? answer.body?.error?.type ?? 'no_code';
    throw new OperationError(`${answer.status}:${code}`);
  }
  return answer.body;
}

let merchantCursor = 0;
const nextLiveKey = () => config.liveKeys[merchantCursor++ % config.liveKeys.length]!;

/** Users are dealt out so that no two in-flight operations share a payer (live codes per device). */
let userCursor = 0;
const nextUser = () => config.users[userCursor++ % config.users.length]!;

async function walletCode(): Promise<void> {
  const user = nextUser();
  const code = expect(await send('POST', '/wallet/v1/payment_codes', { token: user.token }), 201).code as string;
  const key = newKey('code');
  const intent = expect(
    await send('POST', '/v1/payment_intents', {
      token: nextLiveKey(),
      idempotencyKey: key,
      form: {
        amount: String(amount()),
        currency: 'cny',
        confirm: 'true',
        'payment_method_data[type]': 'wallet',
        'payment_method_data[wallet][code]': code,
      },
    }),
    200,
  );
  if (intent.status !== 'succeeded') throw new OperationError(`200:intent_${String(intent.status)}`);
}

async function qr(): Promise<void> {
  const user = nextUser();
  const shown = expect(
    await send('POST', '/v1/payment_intents', {
      token: nextLiveKey(),
      idempotencyKey: newKey('qr'),
      form: { amount: String(amount()), currency: 'cny', confirm: 'true', 'payment_method_data[type]': 'wallet' },
    }),
    200,
  );
  const data = shown.next_action?.wallet_display_qr_code?.data as string | undefined;
  if (data === undefined) throw new OperationError('200:no_qr');
  const paid = expect(
    await send('POST', '/wallet/v1/qr/pay', {
      token: user.token,
      idempotencyKey: newKey('qrpay'),
      json: { data, pin: config.pin },
    }),
    200,
  );
  if (paid.status !== 'succeeded') throw new OperationError(`200:intent_${String(paid.status)}`);
}

const p2pSends = new Map<string, number>();
let p2pSenders = 0;

async function p2p(): Promise<void> {
  // Each sender keeps within its PIN attempts per window; when every user has spent them, the row ends.
  let from = nextUser();
  for (let tries = 0; (p2pSends.get(from.id) ?? 0) >= config.p2pSendsPerUserMax; tries += 1) {
    if (tries >= config.users.length) throw new RowExhausted('every user has spent its PIN attempts for the window');
    from = nextUser();
  }
  p2pSends.set(from.id, (p2pSends.get(from.id) ?? 0) + 1);
  p2pSenders = p2pSends.size;
  const to =
    config.users[
      (config.users.indexOf(from) + 1 + Math.floor(Math.random() * (config.users.length - 1))) % config.users.length
    ]!;
  expect(
    await send('POST', '/wallet/v1/transfers', {
      token: from.token,
      idempotencyKey: newKey('p2p'),
      json: { to: to.phone, amount: amount(), currency: 'CNY', note: 'bench', pin: config.pin },
    }),
    201,
  );
}

async function card(): Promise<void> {
  const intent = expect(
    await send('POST', '/v1/payment_intents', {
      token: config.testKeys[merchantCursor++ % config.testKeys.length]!,
      idempotencyKey: newKey('card'),
      form: { amount: String(amount()), currency: 'cny', confirm: 'true', payment_method: 'pm_card_visa' },
    }),
    200,
  );
  if (intent.status !== 'succeeded') throw new OperationError(`200:intent_${String(intent.status)}`);
}

async function balances(): Promise<void> {
  expect(await send('GET', '/wallet/v1/balances', { token: nextUser().token }), 200);
}

let intentCursor = 0;
async function intentGet(): Promise<void> {
  const index = intentCursor++ % config.intentIds.length;
  const id = config.intentIds[index]!;
  // The intents were made by the merchants in turn: each is read with its own merchant's key.
  const token = config.liveKeys[index % config.liveKeys.length]!;
  expect(await send('GET', `/v1/payment_intents/${id}`, { token }), 200);
}

async function ceiling(): Promise<void> {
  expect(await send('GET', '/healthz'), 200);
}

class RowExhausted extends Error {}

const operations: Record<Row, () => Promise<void>> = {
  wallet_code: walletCode,
  qr,
  p2p,
  card,
  balances,
  intent_get: intentGet,
  ceiling,
};

interface Recorder {
  measuring: boolean;
  latenciesMs: number[];
  errors: Record<string, number>;
  endedEarly: string | null;
}

async function timed(recorder: Recorder, operation: () => Promise<void>, dueAt: number): Promise<void> {
  let label: string | null = null;
  try {
    await operation();
  } catch (error) {
    if (error instanceof RowExhausted) {
      recorder.endedEarly ??= error.message;
      return;
    }
    label = error instanceof OperationError ? error.label : `exception:${(error as Error).name}`;
  }
  if (!recorder.measuring) return;
  recorder.latenciesMs.push(performance.now() - dueAt);
  if (label !== null) recorder.errors[label] = (recorder.errors[label] ?? 0) + 1;
}

async function closedLoop(recorder: Recorder, until: () => boolean): Promise<void> {
  const operation = operations[config.row];
  const client = async () => {
    while (!until() && recorder.endedEarly === null) await timed(recorder, operation, performance.now());
  };
  await Promise.all(Array.from({ length: config.clients }, client));
}

async function openLoop(recorder: Recorder, until: () => boolean): Promise<number> {
  const operation = operations[config.row];
  const inFlightMax = config.clients * 8;
  const intervalMs = 1_000 / config.ratePerS;
  const startedAt = performance.now();
  const running = new Set<Promise<void>>();
  let dropped = 0;
  for (let index = 0; !until() && recorder.endedEarly === null; index += 1) {
    const dueAt = startedAt + index * intervalMs;
    const waitMs = dueAt - performance.now();
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    if (running.size >= inFlightMax) {
      if (recorder.measuring) dropped += 1;
      continue;
    }
    const done = timed(recorder, operation, dueAt).finally(() => running.delete(done));
    running.add(done);
  }
  await Promise.all(running);
  return dropped;
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const recorder: Recorder = { measuring: false, latenciesMs: [], errors: {}, endedEarly: null };
  const startedAt = performance.now();
  const warmupEnd = startedAt + config.warmupS * 1_000;
  const end = warmupEnd + config.durationS * 1_000;
  let measureStart = warmupEnd;
  const warmupTimer = setTimeout(() => {
    recorder.measuring = true;
    measureStart = performance.now();
  }, config.warmupS * 1_000);
  const until = () => performance.now() >= end;
  const dropped = config.mode === 'closed' ? (await closedLoop(recorder, until), 0) : await openLoop(recorder, until);
  clearTimeout(warmupTimer);
  const measuredS = Math.max(0.001, (Math.min(performance.now(), end) - measureStart) / 1_000);
  const sorted = recorder.latenciesMs.sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 100) / 100;
  const result: LoadResult = {
    row: config.row,
    mode: config.mode,
    clients: config.clients,
    offeredPerS: config.mode === 'open' ? config.ratePerS : null,
    operations: sorted.length,
    measuredS: round(measuredS),
    perS: Math.round(sorted.length / measuredS),
    p50Ms: round(percentile(sorted, 0.5)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted.at(-1) ?? 0),
    errors: recorder.errors,
    dropped,
    endedEarly: recorder.endedEarly === null ? null : `${recorder.endedEarly} (${p2pSenders} senders)`,
  };
  await pool.close();
  process.send?.(result);
}

await main();

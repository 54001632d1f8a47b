/**
 * The crash test's load (a child process of crash-test.ts, so that killing the server never
 * touches it): closed-loop workers make wallet-code, QR, card and P2P payments, each with its own
 * Idempotency-Key, and retry every unanswered request with the same key and body until it is
 * answered. Every answered payment is appended to the results file as one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { untilAnswered, type Answer } from './http.js';

export interface LoadUser {
  id: string;
  phone: string;
  token: string;
}

export interface LoadConfig {
  baseUrl: string;
  liveKey: string;
  testKey: string;
  pin: string;
  users: LoadUser[];
  workers: number;
  resultsFile: string;
}

export type OpType = 'wallet_code' | 'qr' | 'card' | 'p2p';

/** One answered payment, as the load saw it. */
export interface OpResult {
  type: OpType;
  /** The Idempotency-Key of the payment request (also in metadata[op_key] or the P2P note). */
  key: string;
  /** QR: the merchant's create request's key is `key`; the payer's pay request's key is this. */
  payKey?: string;
  amountMinor: number;
  status: number;
  intentId: string | null;
  intentStatus: string | null;
  transactionId: string | null;
  errorCode: string | null;
  /** Sends it took (1 = answered at once). */
  attempts: number;
}

type ParentMessage = { stop: true };

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadConfig;
const baseUrl = () => config.baseUrl;
let stopping = false;
let answered = 0;
let retries = 0;
const onRetry = () => {
  retries += 1;
};

process.on('message', (message: ParentMessage) => {
  if (message.stop) stopping = true;
});

const newKey = (type: string) => `crash-${type}-${randomBytes(9).toString('hex')}`;
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const amount = () => 100 + Math.floor(Math.random() * 4_900);
const deadline = { deadlineMs: 240_000, onRetry };

function record(result: OpResult): void {
  appendFileSync(config.resultsFile, `${JSON.stringify(result)}\n`);
  answered += 1;
  process.send?.({ answered, retries });
}

function intentResult(type: OpType, key: string, amountMinor: number, answer: Answer & { attempts: number }): OpResult {
  const intent = answer.status === 200 ? answer.body : answer.body?.error?.payment_intent;
  return {
    type,
    key,
    amountMinor,
    status: answer.status,
    intentId: typeof intent?.id === 'string' ? intent.id : null,
    intentStatus: typeof intent?.status === 'string' ? intent.status : null,
    transactionId: null,
    errorCode: answer.status === 200 ? null : (answer.body?.error?.code ?? null),
    attempts: answer.attempts,
  };
}

async function issueCode(user: LoadUser): Promise<string> {
  // Issuing a code moves no money: an unanswered issue is simply issued again.
  const issued = await untilAnswered(
    baseUrl,
    { method: 'POST', path: '/wallet/v1/payment_codes', token: user.token },
    deadline,
  );
  if (issued.status !== 201) throw new Error(`payment code: ${issued.status} ${JSON.stringify(issued.body)}`);
  return issued.body.code as string;
}

async function walletCodePayment(): Promise<void> {
  const user = pick(config.users);
  const key = newKey('code');
  const amountMinor = amount();
  const code = await issueCode(user);
  const answer = await untilAnswered(
    baseUrl,
    {
      method: 'POST',
      path: '/v1/payment_intents',
      token: config.liveKey,
      idempotencyKey: key,
      form: {
        amount: String(amountMinor),
        currency: 'cny',
        confirm: 'true',
        'payment_method_data[type]': 'wallet',
        'payment_method_data[wallet][code]': code,
        'metadata[op_key]': key,
      },
    },
    deadline,
  );
  record(intentResult('wallet_code', key, amountMinor, answer));
}

async function cardPayment(): Promise<void> {
  const key = newKey('card');
  const amountMinor = amount();
  const answer = await untilAnswered(
    baseUrl,
    {
      method: 'POST',
      path: '/v1/payment_intents',
      token: config.testKey,
      idempotencyKey: key,
      form: {
        amount: String(amountMinor),
        currency: 'cny',
        confirm: 'true',
        payment_method: 'pm_card_visa',
        'metadata[op_key]': key,
      },
    },
    deadline,
  );
  record(intentResult('card', key, amountMinor, answer));
}

async function qrPayment(): Promise<void> {
  const user = pick(config.users);
  const key = newKey('qr');
  const payKey = newKey('qrpay');
  const amountMinor = amount();
  const shown = await untilAnswered(
    baseUrl,
    {
      method: 'POST',
      path: '/v1/payment_intents',
      token: config.liveKey,
      idempotencyKey: key,
      form: {
        amount: String(amountMinor),
        currency: 'cny',
        confirm: 'true',
        'payment_method_data[type]': 'wallet',
        'metadata[op_key]': key,
      },
    },
    deadline,
  );
  const data = shown.body?.next_action?.wallet_display_qr_code?.data as string | undefined;
  if (shown.status !== 200 || data === undefined)
    throw new Error(`QR intent: ${shown.status} ${JSON.stringify(shown.body)}`);
  const paid = await untilAnswered(
    baseUrl,
    {
      method: 'POST',
      path: '/wallet/v1/qr/pay',
      token: user.token,
      idempotencyKey: payKey,
      json: { data, pin: config.pin },
    },
    deadline,
  );
  record({
    type: 'qr',
    key,
    payKey,
    amountMinor,
    status: paid.status,
    intentId: shown.body.id as string,
    intentStatus: paid.status === 200 ? (paid.body.status as string) : null,
    transactionId: null,
    errorCode: paid.status === 200 ? null : (paid.body?.error?.code ?? null),
    attempts: shown.attempts + paid.attempts,
  });
}

async function p2pPayment(): Promise<void> {
  const from = pick(config.users);
  let to = pick(config.users);
  while (to.id === from.id) to = pick(config.users);
  const key = newKey('p2p');
  const amountMinor = amount();
  const answer = await untilAnswered(
    baseUrl,
    {
      method: 'POST',
      path: '/wallet/v1/transfers',
      token: from.token,
      idempotencyKey: key,
      json: { to: to.phone, amount: amountMinor, currency: 'CNY', note: key, pin: config.pin },
    },
    deadline,
  );
  record({
    type: 'p2p',
    key,
    amountMinor,
    status: answer.status,
    intentId: null,
    intentStatus: null,
    transactionId: answer.status === 201 ? (answer.body.id as string) : null,
    errorCode: answer.status === 201 ? null : (answer.body?.error?.code ?? null),
    attempts: answer.attempts,
  });
}

const kinds = [walletCodePayment, qrPayment, cardPayment, p2pPayment] as const;

async function worker(index: number): Promise<void> {
  for (let round = index; !stopping; round += 1) {
    await kinds[round % kinds.length]!();
  }
}

await Promise.all(Array.from({ length: config.workers }, (_, index) => worker(index)));
process.send?.({ answered, retries, done: true });
process.exit(0);

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { merchantSessionLimits } from '../../src/modules/merchant-sessions/index.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Merchant self sign-up (POST /merchant/v1/accounts): a test-mode account, signed in at once, with
 * no admin token; idempotent by key; bad input creates nothing; bounded per client.
 */
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startPlatform();
}, 60_000);

afterAll(async () => {
  await platform?.close();
});

interface Answer {
  status: number;
  body: any;
  cookie: string;
}

const account = { name: 'Harbour Noodles', country: 'CN', default_currency: 'CNY', mcc: '5812', city: 'Shanghai' };

async function signUp(body: unknown, options: { key?: string; ip?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(options.key === undefined ? {} : { 'idempotency-key': options.key }),
    ...options.headers,
  };
  const response = await fetch(`${platform.baseUrl}/merchant/v1/accounts`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? null : JSON.parse(text),
    cookie: (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '',
  } satisfies Answer;
}

async function merchantCount(): Promise<number> {
  const rows = await platform.db.query<{ count: string }>('select count(*)::text as count from merchants_accounts');
  return Number(rows[0]?.count);
}

it('creates a test-mode merchant, signs it in, and its test key works on /v1; no admin token needed', async () => {
  const before = await merchantCount();
  const answer = await signUp(account, { key: randomUUID() });
  expect(answer.status).toBe(201);
  expect(answer.body.secret_key).toMatch(/^sk_test_/);
  expect(answer.body.publishable_key).toMatch(/^pk_test_/);
  expect(answer.body.session).toMatchObject({
    object: 'merchant_session',
    livemode: false,
    account: { name: 'Harbour Noodles', country: 'CN', default_currency: 'cny', charges_enabled: false },
  });
  expect(answer.cookie).toMatch(/^yunpay_msess=/);
  expect(await merchantCount()).toBe(before + 1);

  const current = await fetch(`${platform.baseUrl}/merchant/v1/sessions/current`, {
    headers: { cookie: answer.cookie },
  });
  expect(current.status).toBe(200);
  expect(((await current.json()) as { account: { id: string } }).account.id).toBe(answer.body.session.account.id);

  const intent = await fetch(`${platform.baseUrl}/v1/payment_intents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${answer.body.secret_key as string}`, 'idempotency-key': randomUUID() },
    body: new URLSearchParams({ amount: '1200', currency: 'cny' }),
  });
  expect(intent.status).toBe(200);
  expect(((await intent.json()) as { livemode: boolean }).livemode).toBe(false);
});

it('answers a retry with the same key with the same account and keys, and refuses the key with other details', async () => {
  const key = randomUUID();
  const first = await signUp({ ...account, name: 'Retry Bakery' }, { key });
  const before = await merchantCount();
  const again = await signUp({ ...account, name: 'Retry Bakery' }, { key });
  expect(again.status).toBe(201);
  expect(again.body.secret_key).toBe(first.body.secret_key);
  expect(again.body.session.account.id).toBe(first.body.session.account.id);
  expect(again.body.session.id).not.toBe(first.body.session.id);
  const other = await signUp({ ...account, name: 'Another Bakery' }, { key });
  expect(other.status).toBe(400);
  expect(other.body.error.code).toBe('idempotency_key_reused');
  expect(await merchantCount()).toBe(before);
});

it('refuses bad input and a missing key, creating nothing', async () => {
  const before = await merchantCount();
  const cases: [unknown, string | undefined, number, string][] = [
    [account, undefined, 400, 'idempotency_key_required'],
    [{ ...account, country: 'XX' }, randomUUID(), 400, ''],
    [{ ...account, default_currency: 'ABC' }, randomUUID(), 400, ''],
    [{ ...account, mcc: '58' }, randomUUID(), 400, 'invalid_request'],
    [{ ...account, name: '' }, randomUUID(), 400, 'invalid_request'],
    [{ ...account, pricing: { basis_points: 0 } }, randomUUID(), 400, 'invalid_request'],
  ];
  for (const [body, key, status, code] of cases) {
    const answer = await signUp(body, key === undefined ? {} : { key });
    expect({ body, status: answer.status }).toEqual({ body, status });
    expect(answer.body.error.code).toMatch(code === '' ? /^[a-z_]+$/ : new RegExp(`^${code}$`));
    expect(answer.cookie).toBe('');
  }
  expect(await merchantCount()).toBe(before);
});

it('refuses a cross-site sign-up', async () => {
  const answer = await signUp(account, { key: randomUUID(), headers: { 'sec-fetch-site': 'cross-site' } });
  expect(answer.status).toBe(403);
  expect(answer.cookie).toBe('');
});

it('bounds sign-ups per client', async () => {
  // This file's earlier tests used some of the window; the rest, then one more, is refused.
  let refused: Answer | null = null;
  for (let attempt = 0; attempt <= merchantSessionLimits.signUpsPerClientMax; attempt += 1) {
    const answer = await signUp({ ...account, name: `Stall ${attempt}` }, { key: randomUUID() });
    if (answer.status === 429) {
      refused = answer;
      break;
    }
    expect(answer.status).toBe(201);
  }
  expect(refused?.body.error.code).toBe('rate_limited');
});

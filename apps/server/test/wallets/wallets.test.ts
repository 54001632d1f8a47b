import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyLedger } from '../../src/modules/ledger/index.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, available, newKey, signUp, testPin, topUp, type TestUser } from '../support/wallet.js';

let platform: TestPlatform;
let url: string;

beforeAll(async () => {
  platform = await startPlatform();
  url = platform.baseUrl;
});

afterAll(async () => {
  const report = await verifyLedger(platform.db);
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  await platform.close();
});

const admin = (path: string, body?: unknown) =>
  api(url, 'POST', `/admin/v1${path}`, { token: platform.adminToken, ...(body === undefined ? {} : { body }) });

async function send(
  from: TestUser,
  to: TestUser | string,
  amount: number,
  extra: Record<string, unknown> = {},
  key = newKey(),
) {
  return api(url, 'POST', '/wallet/v1/transfers', {
    token: from.accessToken,
    idempotencyKey: key,
    body: { to: typeof to === 'string' ? to : to.phone, amount, currency: 'CNY', pin: testPin, ...extra },
  });
}

/** As the SDK does: the same request (same key) again after a 429, with a little backoff. */
async function sendRetrying(from: TestUser, to: TestUser, amount: number) {
  const key = newKey();
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const result = await send(from, to, amount, {}, key);
    if (result.status !== 429) return result;
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
  }
  throw new Error('still rate limited after 500 attempts');
}

describe('top-ups', () => {
  test('a test card top-up credits the wallet once, however often it is retried', async () => {
    const alice = await signUp(url, 'Alice');
    const key = newKey();
    const body = { amount: 12_345, currency: 'CNY', source: 'tok_visa' };
    const first = await api(url, 'POST', '/wallet/v1/topups', { token: alice.accessToken, idempotencyKey: key, body });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      object: 'wallet_transaction',
      type: 'topup',
      status: 'succeeded',
      amount: 12_345,
    });
    const again = await api(url, 'POST', '/wallet/v1/topups', { token: alice.accessToken, idempotencyKey: key, body });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await available(url, alice)).toBe(12_345);
    const other = await api(url, 'POST', '/wallet/v1/topups', {
      token: alice.accessToken,
      idempotencyKey: key,
      body: { ...body, amount: 99 },
    });
    expect(other.status).toBe(400);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(await available(url, alice)).toBe(12_345);
  });

  test.each([
    ['tok_chargeDeclined', 'card_declined'],
    ['tok_insufficientFunds', 'insufficient_funds'],
  ])('%s fails with %s, is recorded as failed, and moves nothing', async (source, code) => {
    const bob = await signUp(url, 'Bob');
    const result = await api(url, 'POST', '/wallet/v1/topups', {
      token: bob.accessToken,
      idempotencyKey: newKey(),
      body: { amount: 500, currency: 'CNY', source },
    });
    expect(result.status).toBe(402);
    expect(result.body.error.code).toBe(code);
    expect(await available(url, bob)).toBe(0);
    const history = await api(url, 'GET', '/wallet/v1/transactions?status=failed', { token: bob.accessToken });
    expect(history.body.data).toHaveLength(1);
    expect(history.body.data[0]).toMatchObject({ type: 'topup', status: 'failed', failure_code: code });
  });

  test('a mutation without an Idempotency-Key is refused', async () => {
    const carol = await signUp(url);
    const result = await api(url, 'POST', '/wallet/v1/topups', {
      token: carol.accessToken,
      body: { amount: 500, currency: 'CNY', source: 'tok_visa' },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe('idempotency_key_required');
  });
});

describe('P2P transfers', () => {
  test('money moves to the recipient by phone, with history, receipts and notifications on both sides', async () => {
    const alice = await signUp(url, 'Alice');
    const bob = await signUp(url, 'Bob');
    await topUp(url, alice, 10_000);
    const sent = await send(alice, bob, 2_500, { note: 'dinner' });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({
      type: 'p2p_sent',
      status: 'succeeded',
      amount: 2_500,
      currency: 'CNY',
      fee: 0,
      note: 'dinner',
      counterparty: { user_id: bob.id, name: 'Bob' },
    });
    expect(await available(url, alice)).toBe(7_500);
    expect(await available(url, bob)).toBe(2_500);
    const bobs = await api(url, 'GET', '/wallet/v1/transactions?type=p2p_received', { token: bob.accessToken });
    expect(bobs.body.data).toHaveLength(1);
    const receipt = await api(url, 'GET', `/wallet/v1/transactions/${bobs.body.data[0].id}`, {
      token: bob.accessToken,
    });
    expect(receipt.body).toMatchObject({
      amount: 2_500,
      counterparty: { user_id: alice.id, name: 'Alice' },
      status: 'succeeded',
    });
    expect(receipt.body.reference).toBe(sent.body.reference);
    const notes = await api(url, 'GET', '/wallet/v1/notifications', { token: bob.accessToken });
    expect(notes.body.data.map((n: { type: string }) => n.type)).toContain('money.received');
  });

  test.each([
    ['a wrong PIN', { pin: '000001' }, 403, 'pin_invalid'],
    ['an unknown recipient', { to: '+8613000000000' }, 404, 'recipient_not_found'],
    ['more than the balance', { amount: 1_001 }, 402, 'insufficient_funds'],
  ])('%s is refused and nothing moves', async (_name, override, status, code) => {
    const alice = await signUp(url);
    const bob = await signUp(url);
    await topUp(url, alice, 1_000);
    const result = await send(alice, bob, 100, override);
    expect(result.status).toBe(status);
    expect(result.body.error.code).toBe(code);
    expect(await available(url, alice)).toBe(1_000);
    expect(await available(url, bob)).toBe(0);
  });

  test('sending to yourself is refused', async () => {
    const alice = await signUp(url);
    await topUp(url, alice, 1_000);
    const result = await send(alice, alice, 100);
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe('recipient_is_sender');
  });

  test('double spend: 100 concurrent transfers of the whole balance, exactly one succeeds', async () => {
    const alice = await signUp(url);
    const friends = await Promise.all([signUp(url), signUp(url), signUp(url)]);
    await topUp(url, alice, 50_000);
    const results = await Promise.all(
      // PIN checks run at most five at a time per person: the rest are told to retry (429), and do.
      Array.from({ length: 100 }, (_, index) => sendRetrying(alice, friends[index % friends.length]!, 50_000)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    for (const result of results.filter((r) => r.status !== 201)) {
      expect(['insufficient_funds', 'limit_exceeded']).toContain(result.body.error.code);
    }
    expect(await available(url, alice)).toBe(0);
    const received = await Promise.all(friends.map((friend) => available(url, friend)));
    expect(received.reduce((sum, amount) => sum + amount, 0)).toBe(50_000);
    expect((await verifyLedger(platform.db)).ok).toBe(true);
  });

  test('one transfer retried 5 times, some at the same moment, moves money once', async () => {
    const alice = await signUp(url);
    const bob = await signUp(url);
    await topUp(url, alice, 10_000);
    const key = newKey();
    const concurrent = await Promise.all([
      send(alice, bob, 700, {}, key),
      send(alice, bob, 700, {}, key),
      send(alice, bob, 700, {}, key),
    ]);
    const later = [await send(alice, bob, 700, {}, key), await send(alice, bob, 700, {}, key)];
    for (const result of [...concurrent, ...later]) {
      expect([201, 409]).toContain(result.status);
      if (result.status === 409) expect(result.body.error.code).toBe('idempotency_key_in_use');
    }
    expect(later.every((result) => result.status === 201 && result.headers.get('idempotent-replayed') === 'true')).toBe(
      true,
    );
    expect(await available(url, alice)).toBe(9_300);
    expect(await available(url, bob)).toBe(700);
    const changed = await send(alice, bob, 701, {}, key);
    expect(changed.status).toBe(400);
    expect(changed.body.error.code).toBe('idempotency_key_reused');
    expect(await available(url, alice)).toBe(9_300);
  });
});

describe('limits by verification tier', () => {
  test('two simultaneous transfers never together pass the daily limit', async () => {
    const alice = await signUp(url);
    const bob = await signUp(url);
    // Tier 0 in CNY: 2,000.00 a payment, 5,000.00 a day, balance cap 10,000.00.
    await topUp(url, alice, 900_000);
    const first = await Promise.all(Array.from({ length: 2 }, () => send(alice, bob, 200_000)));
    expect(first.map((r) => r.status)).toEqual([201, 201]);
    const racing = await Promise.all(Array.from({ length: 4 }, () => send(alice, bob, 60_000)));
    // 4,000.00 used; 1,000.00 left today: only one of the 600.00 transfers fits.
    expect(racing.filter((r) => r.status === 201)).toHaveLength(1);
    for (const result of racing.filter((r) => r.status !== 201)) {
      expect(result.status).toBe(402);
      expect(result.body.error.code).toBe('limit_exceeded');
      expect(result.body.error.details.limit).toBe('daily');
    }
    expect(await available(url, alice)).toBe(900_000 - 460_000);
  });

  test('the per-payment limit, and a higher tier lifting it', async () => {
    const alice = await signUp(url);
    const bob = await signUp(url);
    await topUp(url, alice, 900_000);
    const tooBig = await send(alice, bob, 250_000);
    expect(tooBig.status).toBe(402);
    expect(tooBig.body.error.details.limit).toBe('per_payment');
    const raised = await admin(`/users/${alice.id}/tier`, { tier: 1 });
    expect(raised.status).toBe(200);
    expect(raised.body.kyc_tier).toBe(1);
    expect((await send(alice, bob, 250_000)).status).toBe(201);
  });

  test('a top-up past the balance cap is refused', async () => {
    const alice = await signUp(url);
    const result = await api(url, 'POST', '/wallet/v1/topups', {
      token: alice.accessToken,
      idempotencyKey: newKey(),
      body: { amount: 1_000_001, currency: 'CNY', source: 'tok_visa' },
    });
    expect(result.status).toBe(402);
    expect(result.body.error).toMatchObject({ code: 'limit_exceeded', details: { limit: 'balance' } });
  });
});

describe('admin', () => {
  test('a frozen wallet can receive but not pay; unfreezing restores it', async () => {
    const alice = await signUp(url);
    const bob = await signUp(url);
    await topUp(url, alice, 5_000);
    await topUp(url, bob, 5_000);
    expect((await admin(`/users/${alice.id}/freeze`)).body.frozen).toBe(true);
    const blocked = await send(alice, bob, 100);
    expect(blocked.status).toBe(403);
    expect(blocked.body.error.code).toBe('wallet_frozen');
    expect((await send(bob, alice, 100)).status).toBe(201);
    expect((await admin(`/users/${alice.id}/unfreeze`)).body.frozen).toBe(false);
    expect((await send(alice, bob, 100)).status).toBe(201);
  });

  test('lists users with their tier, and needs the admin token', async () => {
    const alice = await signUp(url);
    const listed = await api(url, 'GET', '/admin/v1/users?limit=100', { token: platform.adminToken });
    expect(listed.status).toBe(200);
    expect(listed.body.data.find((user: { id: string }) => user.id === alice.id)).toMatchObject({
      kyc_tier: 0,
      frozen: false,
    });
    expect((await api(url, 'GET', '/admin/v1/users', { token: alice.accessToken })).status).toBe(401);
    expect((await admin('/users/usr_nope/tier', { tier: 1 })).status).toBe(404);
  });
});

describe('history', () => {
  test('pages newest first with filters, and exports CSV that no spreadsheet runs as a formula', async () => {
    const alice = await signUp(url);
    const bob = await signUp(url);
    await topUp(url, alice, 10_000);
    for (const amount of [101, 102, 103])
      await send(alice, bob, amount, { note: amount === 103 ? '=HYPERLINK("x")' : 'ok' });
    const page1 = await api(url, 'GET', '/wallet/v1/transactions?limit=2', { token: alice.accessToken });
    expect(page1.body.data.map((t: { amount: number }) => t.amount)).toEqual([103, 102]);
    expect(page1.body.has_more).toBe(true);
    const page2 = await api(url, 'GET', `/wallet/v1/transactions?limit=2&starting_after=${page1.body.data[1].id}`, {
      token: alice.accessToken,
    });
    expect(page2.body.data.map((t: { amount: number }) => t.amount)).toEqual([101, 10_000]);
    expect(page2.body.has_more).toBe(false);
    const sentOnly = await api(url, 'GET', '/wallet/v1/transactions?type=p2p_sent', { token: alice.accessToken });
    expect(sentOnly.body.data).toHaveLength(3);
    const future = Math.floor(Date.now() / 1000) + 3600;
    const none = await api(url, 'GET', `/wallet/v1/transactions?created_gte=${future}`, { token: alice.accessToken });
    expect(none.body.data).toEqual([]);
    const csv = await api(url, 'GET', '/wallet/v1/transactions.csv', { token: alice.accessToken });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('id,created,type,status,amount,currency,fee,counterparty,note,reference,failure_code');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toContain(',-1.03,CNY,0.00,');
    expect(lines[1]).toContain(`"'=HYPERLINK(""x"")"`);
    expect(lines[4]).toContain(',100.00,CNY,');
  });

  test("someone else's transaction is not found", async () => {
    const alice = await signUp(url);
    const mallory = await signUp(url);
    await topUp(url, alice, 1_000);
    const mine = await api(url, 'GET', '/wallet/v1/transactions', { token: alice.accessToken });
    const theirs = await api(url, 'GET', `/wallet/v1/transactions/${mine.body.data[0].id}`, {
      token: mallory.accessToken,
    });
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe('not_found');
    const cursor = await api(url, 'GET', `/wallet/v1/transactions?starting_after=${mine.body.data[0].id}`, {
      token: mallory.accessToken,
    });
    expect(cursor.status).toBe(400);
  });
});

describe('bad input changes nothing', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['a negative amount', { amount: -100 }, 'amount'],
    ['a zero amount', { amount: 0 }, 'amount'],
    ['a fractional amount', { amount: 1.5 }, 'amount'],
    ['a huge amount', { amount: 1e20 }, 'amount'],
    ['a numeric string amount', { amount: '100' }, 'amount'],
    ['a non-numeric amount', { amount: 'lots' }, 'amount'],
    ['an unknown currency', { currency: 'XXX' }, 'currency'],
    ['a lower-case currency', { currency: 'cny' }, 'currency'],
    ['an over-long note', { note: 'x'.repeat(141) }, 'note'],
    ['a PIN of the wrong shape', { pin: '12345' }, 'pin'],
    ['a number as recipient', { to: 13800000000 }, 'to'],
    ['an extra field', { memo: 'hi' }, 'memo'],
  ];
  test.each(cases)('%s → 400 with a stable code and a param', async (_name, override, param) => {
    const alice = await signUp(url);
    const bob = await signUp(url);
    await topUp(url, alice, 1_000);
    const result = await send(alice, bob, 100, override);
    expect(result.status).toBe(400);
    expect(['invalid_request', 'currency_unsupported']).toContain(result.body.error.code);
    expect(result.body.error.param).toBe(param);
    expect(await available(url, alice)).toBe(1_000);
    expect(await available(url, bob)).toBe(0);
    const history = await api(url, 'GET', '/wallet/v1/transactions', { token: alice.accessToken });
    expect(history.body.data).toHaveLength(1);
  });
});

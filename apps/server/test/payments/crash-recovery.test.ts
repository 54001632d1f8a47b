import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyLedger } from '../../src/modules/ledger/index.js';
import { paymentTransferCodes, paymentVerifyChecks } from '../../src/modules/payments/index.js';
import { walletVerifyChecks } from '../../src/modules/wallets/index.js';
import { crashingLedger, type CrashingLedger } from '../support/crashing-ledger.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, available, newKey, signUp, testPin, topUp, type TestUser } from '../support/wallet.js';

/**
 * A crash between a money movement's phases (simulated by a ledger that throws before or after it
 * commits) leaves a middle state. A retry with the same Idempotency-Key resumes it instead of
 * running it again, and the recovery sweep finishes what nobody retries; `ledger verify` with the
 * payments and wallets cross-checks is clean afterwards.
 */
let platform: TestPlatform;
let ledger: CrashingLedger;
let liveKey: string;
let testKey: string;

const isCharge = (inputs: readonly { code: number }[]) => inputs.some((t) => t.code === paymentTransferCodes.charge);
const isRefund = (inputs: readonly { code: number }[]) => inputs.some((t) => t.code === paymentTransferCodes.refund);

async function v1(key: string, path: string, form: Record<string, string> = {}, idempotencyKey?: string) {
  const body = new URLSearchParams(form).toString();
  const post = Object.keys(form).length > 0 || idempotencyKey !== undefined;
  const response = await fetch(`${platform.baseUrl}/v1${path}`, {
    method: post ? 'POST' : 'GET',
    headers: {
      authorization: `Bearer ${key}`,
      ...(post ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
    },
    ...(post ? { body } : {}),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function code(user: TestUser): Promise<string> {
  const issued = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: user.accessToken });
  expect(issued.status).toBe(201);
  return issued.body.code as string;
}

async function payer(amount = 100_000): Promise<TestUser> {
  const user = await signUp(platform.baseUrl, 'Payer');
  await topUp(platform.baseUrl, user, amount);
  return user;
}

async function recoverAll(): Promise<void> {
  const { services } = platform;
  const onError = (error: unknown) => {
    throw error;
  };
  await services.payments.recover({ olderThanMs: 0, batchSizeMax: 100, onError });
  await services.wallets.recover({ olderThanMs: 0, batchSizeMax: 100, onError });
}

/** The ledger's checks and the cross-checks, with no grace: nothing may be left in a middle state. */
async function expectVerifyClean(): Promise<void> {
  const report = await verifyLedger(platform.db, {
    extraChecks: [...paymentVerifyChecks({ recoveryBoundMs: 0 }), ...walletVerifyChecks({ recoveryBoundMs: 0 })],
  });
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
}

async function intentsTagged(key: string, tag: string) {
  const rows = await platform.db.query<{ id: string; status: string }>(
    `select id, status from payments_intents where metadata->>'op' = $1 and account_id = (
       select account_id from payments_intents where metadata->>'op' = $1 limit 1)`,
    [tag],
  );
  expect(key).toBeTruthy();
  return rows;
}

async function chargesOf(intentId: string) {
  return platform.db.query<{ id: string; status: string }>(
    'select id, status from payments_charges where payment_intent_id = $1',
    [intentId],
  );
}

beforeAll(async () => {
  platform = await startPlatform({ wrapLedger: crashingLedger });
  ledger = platform.services.ledger as CrashingLedger;
  const created = await api(platform.baseUrl, 'POST', '/admin/v1/merchants', {
    token: platform.adminToken,
    body: { name: 'Crash Cafe', country: 'CN', default_currency: 'cny', mcc: '5812', city: 'Shanghai' },
  });
  expect(created.status).toBe(201);
  testKey = created.body.secret_key as string;
  const activated = await api(platform.baseUrl, 'POST', `/admin/v1/merchants/${created.body.id}/activate`, {
    token: platform.adminToken,
  });
  expect(activated.status).toBe(200);
  liveKey = activated.body.secret_key as string;
  expect(liveKey).toMatch(/^sk_live_/);
});

afterAll(async () => {
  await expectVerifyClean();
  await platform.close();
});

describe('a wallet-code payment interrupted between its phases', () => {
  test('crash after the ledger posted: the retry with its key answers with the one payment', async () => {
    const user = await payer();
    const key = newKey();
    const form = {
      amount: '5000',
      currency: 'cny',
      confirm: 'true',
      'payment_method_data[type]': 'wallet',
      'payment_method_data[wallet][code]': await code(user),
      'metadata[op]': key,
    };
    ledger.crashNext('after', isCharge);
    const first = await v1(liveKey, '/payment_intents', form, key);
    expect(first.status).toBe(500);
    // The money moved before the crash; the payment is in its middle state.
    expect(await available(platform.baseUrl, user)).toBe(95_000);
    const [stuck] = await intentsTagged(key, key);
    expect(stuck?.status).toBe('processing');

    const retried = await v1(liveKey, '/payment_intents', form, key);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ id: stuck!.id, status: 'succeeded', amount: 5_000 });
    expect(await intentsTagged(key, key)).toEqual([{ id: stuck!.id, status: 'succeeded' }]);
    expect(await chargesOf(stuck!.id)).toEqual([{ id: retried.body.latest_charge, status: 'succeeded' }]);
    expect(await available(platform.baseUrl, user)).toBe(95_000);
    const history = await api(platform.baseUrl, 'GET', '/wallet/v1/transactions?type=payment', {
      token: user.accessToken,
    });
    expect(history.body.data.map((row: any) => [row.status, row.amount])).toEqual([['succeeded', 5_000]]);
    // And once more: a plain replay of the stored answer.
    const replay = await v1(liveKey, '/payment_intents', form, key);
    expect(replay.body).toMatchObject({ id: stuck!.id, status: 'succeeded' });
    await expectVerifyClean();
  });

  test('crash before the ledger: the sweep completes it, and the retry answers with it', async () => {
    const user = await payer();
    const key = newKey();
    const form = {
      amount: '4200',
      currency: 'cny',
      confirm: 'true',
      'payment_method_data[type]': 'wallet',
      'payment_method_data[wallet][code]': await code(user),
      'metadata[op]': key,
    };
    ledger.crashNext('before', isCharge);
    expect((await v1(liveKey, '/payment_intents', form, key)).status).toBe(500);
    expect(await available(platform.baseUrl, user)).toBe(100_000);
    await recoverAll();
    expect(await available(platform.baseUrl, user)).toBe(95_800);
    const [paid] = await intentsTagged(key, key);
    expect(paid?.status).toBe('succeeded');
    const retried = await v1(liveKey, '/payment_intents', form, key);
    expect(retried.body).toMatchObject({ id: paid!.id, status: 'succeeded' });
    expect(await chargesOf(paid!.id)).toHaveLength(1);
    await expectVerifyClean();
  });

  test('a payment the wallet can no longer afford when it is recovered fails, and its limits are given back', async () => {
    const user = await payer(10_000);
    const key = newKey();
    ledger.crashNext('before', isCharge);
    const first = await v1(
      liveKey,
      '/payment_intents',
      {
        amount: '8000',
        currency: 'cny',
        confirm: 'true',
        'payment_method_data[type]': 'wallet',
        'payment_method_data[wallet][code]': await code(user),
        'metadata[op]': key,
      },
      key,
    );
    expect(first.status).toBe(500);
    // Meanwhile the wallet pays someone else most of what it has.
    const friend = await signUp(platform.baseUrl, 'Friend');
    const sent = await api(platform.baseUrl, 'POST', '/wallet/v1/transfers', {
      token: user.accessToken,
      idempotencyKey: newKey(),
      body: { to: friend.phone, amount: 9_000, currency: 'CNY', pin: testPin },
    });
    expect(sent.status).toBe(201);
    await recoverAll();
    const [failed] = await intentsTagged(key, key);
    expect(failed?.status).toBe('requires_payment_method');
    expect(await available(platform.baseUrl, user)).toBe(1_000);
    const usage = await platform.db.query<{ used: bigint }>(
      "select used from wallets_limit_usage where user_id = $1 and period = 'day'",
      [user.id],
    );
    expect(usage.map((row) => row.used)).toEqual([9_000n]);
    const history = await api(platform.baseUrl, 'GET', '/wallet/v1/transactions?type=payment', {
      token: user.accessToken,
    });
    expect(history.body.data.map((row: any) => row.status)).toEqual(['failed']);
    await expectVerifyClean();
  });
});

describe('captures, cancels and refunds interrupted between their phases', () => {
  async function authorized(key: string, user: TestUser, amount: number) {
    const created = await v1(
      key,
      '/payment_intents',
      {
        amount: String(amount),
        currency: 'cny',
        capture_method: 'manual',
        confirm: 'true',
        'payment_method_data[type]': 'wallet',
        'payment_method_data[wallet][code]': await code(user),
      },
      newKey(),
    );
    expect(created.body.status).toBe('requires_capture');
    return created.body.id as string;
  }

  test('a capture left in processing is finished by the sweep, once', async () => {
    const user = await payer();
    const id = await authorized(liveKey, user, 6_000);
    const key = newKey();
    ledger.crashNext('after', isCharge);
    expect((await v1(liveKey, `/payment_intents/${id}/capture`, { amount_to_capture: '5000' }, key)).status).toBe(500);
    expect((await v1(liveKey, `/payment_intents/${id}`)).body.status).toBe('processing');
    await recoverAll();
    const captured = (await v1(liveKey, `/payment_intents/${id}`)).body;
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 5_000, amount_capturable: 0 });
    expect(await available(platform.baseUrl, user)).toBe(95_000);
    // The client's retry of the capture answers with the captured intent, not an error.
    const retried = await v1(liveKey, `/payment_intents/${id}/capture`, { amount_to_capture: '5000' }, key);
    expect(retried.body).toMatchObject({ id, status: 'succeeded' });
    await expectVerifyClean();
  });

  test('a cancel left in processing is finished by a retry with its key; the reservation is released', async () => {
    const user = await payer();
    const id = await authorized(liveKey, user, 7_000);
    expect(await available(platform.baseUrl, user)).toBe(93_000);
    const key = newKey();
    ledger.crashNext('before');
    expect(
      (await v1(liveKey, `/payment_intents/${id}/cancel`, { cancellation_reason: 'requested_by_customer' }, key))
        .status,
    ).toBe(500);
    const retried = await v1(
      liveKey,
      `/payment_intents/${id}/cancel`,
      { cancellation_reason: 'requested_by_customer' },
      key,
    );
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ id, status: 'canceled', cancellation_reason: 'requested_by_customer' });
    expect(await available(platform.baseUrl, user)).toBe(100_000);
    await expectVerifyClean();
  });

  test('a refund left pending is finished by the sweep, with the payer history row', async () => {
    const user = await payer();
    const paid = await v1(
      liveKey,
      '/payment_intents',
      {
        amount: '9000',
        currency: 'cny',
        confirm: 'true',
        'payment_method_data[type]': 'wallet',
        'payment_method_data[wallet][code]': await code(user),
      },
      newKey(),
    );
    expect(paid.body.status).toBe('succeeded');
    ledger.crashNext('before', isRefund);
    const key = newKey();
    const form = { charge: paid.body.latest_charge as string, amount: '3000' };
    expect((await v1(liveKey, '/refunds', form, key)).status).toBe(500);
    expect(await available(platform.baseUrl, user)).toBe(91_000);
    await recoverAll();
    expect(await available(platform.baseUrl, user)).toBe(94_000);
    const retried = await v1(liveKey, '/refunds', form, key);
    expect(retried.body).toMatchObject({ status: 'succeeded', amount: 3_000 });
    const refunds = await platform.db.query('select id from payments_refunds where charge_id = $1', [
      paid.body.latest_charge as string,
    ]);
    expect(refunds).toHaveLength(1);
    const history = await api(platform.baseUrl, 'GET', '/wallet/v1/transactions?type=refund', {
      token: user.accessToken,
    });
    expect(history.body.data.map((row: any) => [row.status, row.amount])).toEqual([['succeeded', 3_000]]);
    await expectVerifyClean();
  });

  test('test mode: a crash leaves nothing behind either', async () => {
    const user = await payer();
    const key = newKey();
    const form = {
      amount: '3000',
      currency: 'cny',
      confirm: 'true',
      'payment_method_data[type]': 'wallet',
      'payment_method_data[wallet][code]': await code(user),
      'metadata[op]': key,
    };
    ledger.crashNext('after', isCharge);
    expect((await v1(testKey, '/payment_intents', form, key)).status).toBe(500);
    await recoverAll();
    const [paid] = await intentsTagged(key, key);
    expect(paid?.status).toBe('succeeded');
    // Test mode never moves a wallet's money.
    expect(await available(platform.baseUrl, user)).toBe(100_000);
    await expectVerifyClean();
  });
});

describe('wallet transfers and top-ups interrupted between their phases', () => {
  test('a P2P transfer: the retry resumes it, counting the limits once, and the recipient is credited once', async () => {
    const sender = await payer();
    const recipient = await signUp(platform.baseUrl, 'Recipient');
    const key = newKey();
    const body = { to: recipient.phone, amount: 2_500, currency: 'CNY', note: 'lunch', pin: testPin };
    ledger.crashNext('after');
    const first = await api(platform.baseUrl, 'POST', '/wallet/v1/transfers', {
      token: sender.accessToken,
      idempotencyKey: key,
      body,
    });
    expect(first.status).toBe(500);
    const retried = await api(platform.baseUrl, 'POST', '/wallet/v1/transfers', {
      token: sender.accessToken,
      idempotencyKey: key,
      body,
    });
    expect(retried.status).toBe(201);
    expect(retried.body).toMatchObject({ type: 'p2p_sent', status: 'succeeded', amount: 2_500 });
    expect(await available(platform.baseUrl, sender)).toBe(97_500);
    expect(await available(platform.baseUrl, recipient)).toBe(2_500);
    const usage = await platform.db.query<{ used: bigint }>(
      "select used from wallets_limit_usage where user_id = $1 and period = 'day'",
      [sender.id],
    );
    expect(usage.map((row) => row.used)).toEqual([2_500n]);
    const received = await api(platform.baseUrl, 'GET', '/wallet/v1/transactions?type=p2p_received', {
      token: recipient.accessToken,
    });
    expect(received.body.data).toHaveLength(1);
    await expectVerifyClean();
  });

  test('a P2P transfer nobody retries is finished by the sweep', async () => {
    const sender = await payer();
    const recipient = await signUp(platform.baseUrl, 'Recipient');
    ledger.crashNext('before');
    const first = await api(platform.baseUrl, 'POST', '/wallet/v1/transfers', {
      token: sender.accessToken,
      idempotencyKey: newKey(),
      body: { to: recipient.phone, amount: 1_200, currency: 'CNY', pin: testPin },
    });
    expect(first.status).toBe(500);
    const pending = await api(platform.baseUrl, 'GET', '/wallet/v1/transactions?status=pending', {
      token: sender.accessToken,
    });
    expect(pending.body.data).toHaveLength(1);
    await recoverAll();
    expect(await available(platform.baseUrl, recipient)).toBe(1_200);
    const after = await api(platform.baseUrl, 'GET', '/wallet/v1/transactions?status=pending', {
      token: sender.accessToken,
    });
    expect(after.body.data).toEqual([]);
    await expectVerifyClean();
  });

  test('a test-card top-up left pending is finished by the sweep, once', async () => {
    const user = await signUp(platform.baseUrl, 'Topper');
    const key = newKey();
    ledger.crashNext('before');
    const body = { amount: 30_000, currency: 'CNY', source: 'tok_visa' };
    const first = await api(platform.baseUrl, 'POST', '/wallet/v1/topups', {
      token: user.accessToken,
      idempotencyKey: key,
      body,
    });
    expect(first.status).toBe(500);
    await recoverAll();
    expect(await available(platform.baseUrl, user)).toBe(30_000);
    const retried = await api(platform.baseUrl, 'POST', '/wallet/v1/topups', {
      token: user.accessToken,
      idempotencyKey: key,
      body,
    });
    expect(retried.status).toBe(201);
    expect(retried.body).toMatchObject({ type: 'topup', status: 'succeeded' });
    expect(await available(platform.baseUrl, user)).toBe(30_000);
    await expectVerifyClean();
  });
});

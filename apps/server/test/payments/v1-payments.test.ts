import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyLedger } from '../../src/modules/ledger/index.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, available, signUp, topUp, type TestUser } from '../support/wallet.js';

let platform: TestPlatform;
let url: string;
let secretKey: string;
let otherSecretKey: string;

/** A form-encoded /v1 call with a secret key, as Stripe's SDKs make them. */
async function v1(
  key: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  form: Record<string, string> = {},
  headers: Record<string, string> = {},
) {
  const body = new URLSearchParams(form).toString();
  const response = await fetch(`${url}/v1${path}${method === 'GET' && body !== '' ? `?${body}` : ''}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...headers,
    },
    ...(method === 'POST' ? { body } : {}),
  });
  return { status: response.status, body: (await response.json()) as any, headers: response.headers };
}

async function createMerchant(name: string): Promise<string> {
  const created = await api(url, 'POST', '/admin/v1/merchants', {
    token: platform.adminToken,
    body: { name, country: 'CN', default_currency: 'cny', mcc: '5812', city: 'Shanghai' },
  });
  expect(created.status).toBe(201);
  return created.body.secret_key as string;
}

async function code(user: TestUser): Promise<string> {
  const issued = await api(url, 'POST', '/wallet/v1/payment_codes', { token: user.accessToken });
  expect(issued.status).toBe(201);
  return issued.body.code as string;
}

beforeAll(async () => {
  platform = await startPlatform();
  url = platform.baseUrl;
  secretKey = await createMerchant('Corner Cafe');
  otherSecretKey = await createMerchant('Other Shop');
});

afterAll(async () => {
  const report = await verifyLedger(platform.db);
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  await platform.close();
});

describe('/v1 payment intents paid with a wallet code', () => {
  test('create, confirm with a code, balance transaction 10000 / 60 / 9940, refund in parts', async () => {
    const payer = await signUp(url, 'Payer');
    await topUp(url, payer, 100_000);
    const created = await v1(secretKey, 'POST', '/payment_intents', {
      amount: '10000',
      currency: 'cny',
      'metadata[order]': 'A-1',
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      object: 'payment_intent',
      status: 'requires_payment_method',
      amount: 10_000,
      currency: 'cny',
      livemode: false,
    });
    expect(created.body.id).toMatch(/^pi_[0-9A-Za-z]{22}$/);
    const confirmed = await v1(secretKey, 'POST', `/payment_intents/${created.body.id}/confirm`, {
      'payment_method_data[type]': 'wallet',
      'payment_method_data[wallet][code]': await code(payer),
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('succeeded');
    const charge = await v1(secretKey, 'GET', `/charges/${confirmed.body.latest_charge}`);
    expect(charge.body).toMatchObject({
      object: 'charge',
      amount: 10_000,
      captured: true,
      paid: true,
      status: 'succeeded',
    });
    const bt = await v1(secretKey, 'GET', `/balance_transactions/${charge.body.balance_transaction}`);
    expect(bt.body).toMatchObject({ amount: 10_000, fee: 60, net: 9_940, type: 'charge', currency: 'cny' });
    const balance = await v1(secretKey, 'GET', '/balance');
    expect(balance.body.pending).toEqual([{ amount: 9_940, currency: 'cny', source_types: { wallet: 9_940 } }]);
    // test mode: the wallet was not charged
    expect(await available(url, payer)).toBe(100_000);
    const first = await v1(secretKey, 'POST', '/refunds', { payment_intent: created.body.id, amount: '4000' });
    const second = await v1(secretKey, 'POST', '/refunds', { charge: charge.body.id, amount: '4000' });
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await v1(secretKey, 'POST', '/refunds', { charge: charge.body.id, amount: '4000' });
    expect(third.status).toBe(400);
    expect(third.body.error).toMatchObject({ type: 'invalid_request_error', code: 'amount_too_large' });
    const refunds = await v1(secretKey, 'GET', '/refunds', { charge: charge.body.id });
    expect(refunds.body.data.map((refund: { amount: number }) => refund.amount)).toEqual([4_000, 4_000]);
  });

  test('manual capture of part of the amount', async () => {
    const payer = await signUp(url);
    await topUp(url, payer, 50_000);
    const created = await v1(secretKey, 'POST', '/payment_intents', {
      amount: '5000',
      currency: 'cny',
      capture_method: 'manual',
      confirm: 'true',
      'payment_method_data[type]': 'wallet',
      'payment_method_data[wallet][code]': await code(payer),
    });
    expect(created.body).toMatchObject({ status: 'requires_capture', amount_capturable: 5_000 });
    const captured = await v1(secretKey, 'POST', `/payment_intents/${created.body.id}/capture`, {
      amount_to_capture: '3000',
    });
    expect(captured.body).toMatchObject({ status: 'succeeded', amount_received: 3_000, amount_capturable: 0 });
  });

  test("another merchant's intent is resource_missing; a bad code is an invalid_request_error", async () => {
    const created = await v1(secretKey, 'POST', '/payment_intents', { amount: '100', currency: 'cny' });
    const theirs = await v1(otherSecretKey, 'GET', `/payment_intents/${created.body.id}`);
    expect(theirs.status).toBe(404);
    expect(theirs.body.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing' });
    const bad = await v1(secretKey, 'POST', `/payment_intents/${created.body.id}/confirm`, {
      'payment_method_data[type]': 'wallet',
      'payment_method_data[wallet][code]': '881111111111111111',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('payment_code_invalid');
    const listed = await v1(secretKey, 'GET', '/payment_intents', { limit: '1' });
    expect(listed.body).toMatchObject({ object: 'list', has_more: true, url: '/v1/payment_intents' });
  });
});

describe('merchant-presented QR codes', () => {
  test('a dynamic QR is shown, previewed and paid once, however many wallets try at the same moment', async () => {
    const created = await v1(secretKey, 'POST', '/payment_intents', { amount: '2500', currency: 'cny' });
    const shown = await v1(secretKey, 'POST', `/payment_intents/${created.body.id}/confirm`, {
      'payment_method_data[type]': 'wallet',
    });
    expect(shown.body.status).toBe('requires_action');
    const display = shown.body.next_action.wallet_display_qr_code;
    expect(shown.body.next_action.type).toBe('wallet_display_qr_code');
    expect(display.data).toMatch(/^000201010212/);
    expect(display.data).toContain(created.body.id);
    expect(display.image_data_url).toMatch(/^data:image\/png;base64,/);
    expect(display.image_url_svg).toMatch(/^data:image\/svg\+xml;base64,/);

    const payers = await Promise.all(Array.from({ length: 10 }, () => signUp(url)));
    const preview = await api(url, 'POST', '/wallet/v1/qr/resolve', {
      token: payers[0]!.accessToken,
      body: { data: display.data },
    });
    expect(preview.body).toMatchObject({
      dynamic: true,
      amount: 2_500,
      currency: 'CNY',
      payment_intent: created.body.id,
    });

    const attempts = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        api(url, 'POST', '/wallet/v1/qr/pay', {
          token: payers[index % payers.length]!.accessToken,
          idempotencyKey: `qr-${index}`,
          body: { data: display.data, pin: '274916' },
        }),
      ),
    );
    expect(attempts.filter((attempt) => attempt.status === 200)).toHaveLength(1);
    for (const attempt of attempts.filter((a) => a.status !== 200)) {
      expect(['qr_already_paid', 'rate_limited']).toContain(attempt.body.error.code);
    }
    const paid = await v1(secretKey, 'GET', `/payment_intents/${created.body.id}`);
    expect(paid.body.status).toBe('succeeded');
    const charges = await v1(secretKey, 'GET', '/charges', { payment_intent: created.body.id });
    expect(charges.body.data).toHaveLength(1);
  });

  test('malformed payloads and bad checksums are refused and charge nothing', async () => {
    const payer = await signUp(url);
    const garbage = await api(url, 'POST', '/wallet/v1/qr/pay', {
      token: payer.accessToken,
      idempotencyKey: 'qr-garbage',
      body: { data: 'hello', amount: 100, pin: '274916' },
    });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe('qr_invalid');
    const counter = await v1(secretKey, 'GET', '/qr_codes/static');
    const tampered = `${counter.body.data.slice(0, -1)}${counter.body.data.endsWith('0') ? '1' : '0'}`;
    const badCrc = await api(url, 'POST', '/wallet/v1/qr/resolve', {
      token: payer.accessToken,
      body: { data: tampered },
    });
    expect(badCrc.body.error.code).toBe('qr_checksum_invalid');
  });

  test('the static counter QR takes the amount the payer types', async () => {
    const payer = await signUp(url);
    const counter = await v1(secretKey, 'GET', '/qr_codes/static');
    expect(counter.body.data).toMatch(/^000201010211/);
    const preview = await api(url, 'POST', '/wallet/v1/qr/resolve', {
      token: payer.accessToken,
      body: { data: counter.body.data },
    });
    expect(preview.body).toMatchObject({ dynamic: false, amount: null, merchant: { name: 'Corner Cafe' } });
    const paid = await api(url, 'POST', '/wallet/v1/qr/pay', {
      token: payer.accessToken,
      idempotencyKey: 'counter-1',
      body: { data: counter.body.data, amount: 1_234, pin: '274916' },
    });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ status: 'succeeded', amount: 1_234 });
    const again = await api(url, 'POST', '/wallet/v1/qr/pay', {
      token: payer.accessToken,
      idempotencyKey: 'counter-1',
      body: { data: counter.body.data, amount: 1_234, pin: '274916' },
    });
    expect(again.body.payment_intent).toBe(paid.body.payment_intent);
  });
});

describe('publishable keys and client secrets', () => {
  test('a publishable key retrieves and confirms an intent only with its client secret', async () => {
    const { createMerchant: create } = await import('../support/merchant.js');
    const shop = await create(url, platform.adminToken);
    const payer = await signUp(url);
    const created = await v1(shop.secretKey, 'POST', '/payment_intents', { amount: '700', currency: 'cny' });
    const secret = created.body.client_secret as string;
    expect(secret).toMatch(new RegExp(`^${created.body.id}_secret_`));
    const without = await v1(shop.publishableKey, 'GET', `/payment_intents/${created.body.id}`);
    expect(without.status).toBe(404);
    const wrong = await v1(shop.publishableKey, 'GET', `/payment_intents/${created.body.id}`, {
      client_secret: `${secret}x`,
    });
    expect(wrong.status).toBe(404);
    const retrieved = await v1(shop.publishableKey, 'GET', `/payment_intents/${created.body.id}`, {
      client_secret: secret,
    });
    expect(retrieved.status).toBe(200);
    expect(retrieved.body.status).toBe('requires_payment_method');
    const confirmed = await v1(shop.publishableKey, 'POST', `/payment_intents/${created.body.id}/confirm`, {
      client_secret: secret,
      'payment_method_data[type]': 'wallet',
      'payment_method_data[wallet][code]': await code(payer),
    });
    expect(confirmed.body.status).toBe('succeeded');
    // Everything else stays closed to publishable keys.
    const listed = await v1(shop.publishableKey, 'GET', '/payment_intents');
    expect(listed.status).toBe(403);
    const refunded = await v1(shop.publishableKey, 'POST', '/refunds', { payment_intent: created.body.id });
    expect(refunded.status).toBe(403);
  });
});

describe('isolation', () => {
  test("another merchant's objects, and test objects seen with a live key, are resource_missing on every endpoint", async () => {
    const { createMerchant: create } = await import('../support/merchant.js');
    const owner = await create(url, platform.adminToken);
    const activated = await api(url, 'POST', `/admin/v1/merchants/${owner.id}/activate`, {
      token: platform.adminToken,
    });
    expect(activated.status).toBe(200);
    const liveKey = activated.body.secret_key as string;
    expect(liveKey).toMatch(/^sk_live_/);
    const stranger = await create(url, platform.adminToken);
    const payer = await signUp(url);
    const intent = await v1(owner.secretKey, 'POST', '/payment_intents', {
      amount: '900',
      currency: 'cny',
      confirm: 'true',
      'payment_method_data[type]': 'wallet',
      'payment_method_data[wallet][code]': await code(payer),
    });
    expect(intent.body.status).toBe('succeeded');
    const chargeId = intent.body.latest_charge as string;
    const charge = await v1(owner.secretKey, 'GET', `/charges/${chargeId}`);
    const refund = await v1(owner.secretKey, 'POST', '/refunds', { charge: chargeId, amount: '100' });
    const calls: [string, 'GET' | 'POST', string, Record<string, string>][] = [
      ['retrieve intent', 'GET', `/payment_intents/${intent.body.id}`, {}],
      ['update intent', 'POST', `/payment_intents/${intent.body.id}`, { description: 'x' }],
      [
        'confirm intent',
        'POST',
        `/payment_intents/${intent.body.id}/confirm`,
        { 'payment_method_data[type]': 'wallet' },
      ],
      ['capture intent', 'POST', `/payment_intents/${intent.body.id}/capture`, {}],
      ['cancel intent', 'POST', `/payment_intents/${intent.body.id}/cancel`, {}],
      ['retrieve charge', 'GET', `/charges/${chargeId}`, {}],
      ['retrieve refund', 'GET', `/refunds/${refund.body.id}`, {}],
      ['refund charge', 'POST', '/refunds', { charge: chargeId }],
      ['retrieve balance transaction', 'GET', `/balance_transactions/${charge.body.balance_transaction}`, {}],
    ];
    for (const key of [stranger.secretKey, liveKey]) {
      for (const [name, method, path, form] of calls) {
        const result = await v1(key, method, path, form);
        expect([name, result.status, result.body.error?.code]).toEqual([name, 404, 'resource_missing']);
      }
      for (const path of ['/payment_intents', '/charges', '/refunds', '/balance_transactions']) {
        const listed = await v1(key, 'GET', path);
        expect(listed.body.data.map((object: { id: string }) => object.id)).not.toContain(intent.body.id);
        expect(listed.body.data).toEqual([]);
      }
    }
    expect((await v1(owner.secretKey, 'GET', `/charges/${chargeId}`)).body.amount_refunded).toBe(100);
  });
});

describe('refunds under concurrency', () => {
  test('50 concurrent refunds of 60.00 against a 100.00 capture refund at most 100.00', async () => {
    const payer = await signUp(url);
    const intent = await v1(secretKey, 'POST', '/payment_intents', {
      amount: '10000',
      currency: 'cny',
      confirm: 'true',
      'payment_method_data[type]': 'wallet',
      'payment_method_data[wallet][code]': await code(payer),
    });
    expect(intent.body.status).toBe('succeeded');
    const attempts = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        v1(
          secretKey,
          'POST',
          '/refunds',
          { payment_intent: intent.body.id, amount: '6000' },
          { 'idempotency-key': `refund-race-${index}` },
        ),
      ),
    );
    expect(attempts.filter((attempt) => attempt.status === 200)).toHaveLength(1);
    for (const attempt of attempts.filter((a) => a.status !== 200))
      expect(attempt.body.error.code).toBe('amount_too_large');
    const charge = await v1(secretKey, 'GET', `/charges/${intent.body.latest_charge}`);
    expect(charge.body.amount_refunded).toBe(6_000);
    expect(charge.body.refunds.data).toHaveLength(1);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockFrom } from '../../src/platform/clock.js';
import { paymentFee } from '../../src/modules/payments/index.js';
import { limits } from '../../src/platform/limits.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api } from '../support/wallet.js';
import { createMerchant, v1 } from '../support/merchant.js';

describe('merchants and API keys', () => {
  let platform: TestPlatform;
  let clockMs = Date.now();

  beforeAll(async () => {
    platform = await startPlatform({ testClocks: { merchants: clockFrom(() => clockMs) } });
  });
  afterAll(async () => {
    await platform.close();
  });

  it('creates a merchant with test keys shown once and stored only as hashes', async () => {
    const created = await api(platform.baseUrl, 'POST', '/admin/v1/merchants', {
      token: platform.adminToken,
      body: { name: 'Noodle Bar', country: 'cn', default_currency: 'cny', mcc: '5812', city: 'Shanghai' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: 'account',
      name: 'Noodle Bar',
      country: 'CN',
      default_currency: 'CNY',
      mcc: '5812',
      city: 'Shanghai',
      pricing: { basis_points: 60, fixed: {} },
      activated_at: null,
      charges_enabled: false,
    });
    expect(created.body.id).toMatch(/^acct_[0-9A-Za-z]{22,}$/);
    expect(created.body.secret_key).toMatch(/^sk_test_[0-9A-Za-z]{43}$/);
    expect(created.body.publishable_key).toMatch(/^pk_test_[0-9A-Za-z]{43}$/);
    const fetched = await api(platform.baseUrl, 'GET', `/admin/v1/merchants/${created.body.id}`, {
      token: platform.adminToken,
    });
    expect(fetched.status).toBe(200);
    expect(fetched.body.secret_key).toBeUndefined();
    const keys = await api(platform.baseUrl, 'GET', `/admin/v1/merchants/${created.body.id}/keys`, {
      token: platform.adminToken,
    });
    expect(keys.body.data.map((key: { redacted: string }) => key.redacted).sort()).toEqual(
      [`pk_test_…${created.body.publishable_key.slice(-4)}`, `sk_test_…${created.body.secret_key.slice(-4)}`].sort(),
    );
    const stored = await platform.db.query<{ key_hash: string }>(
      'select key_hash from merchants_api_keys where account_id = $1',
      [created.body.id],
    );
    expect(stored).toHaveLength(2);
    for (const row of stored) {
      expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(row)).not.toContain(created.body.secret_key.slice(8));
    }
  });

  it('refuses bad merchant fields and needs the admin token', async () => {
    const bad = [
      { country: 'XX' },
      { default_currency: 'XYZ' },
      { mcc: '58' },
      { pricing: { basis_points: 10_001 } },
      { pricing: { fixed: { XYZ: 1 } } },
    ];
    for (const override of bad) {
      const result = await api(platform.baseUrl, 'POST', '/admin/v1/merchants', {
        token: platform.adminToken,
        body: { name: 'Shop', country: 'CN', default_currency: 'CNY', mcc: '5812', ...override },
      });
      expect(result.status, JSON.stringify(override)).toBe(400);
    }
    const anonymous = await api(platform.baseUrl, 'POST', '/admin/v1/merchants', {
      body: { name: 'Shop', country: 'CN', default_currency: 'CNY', mcc: '5812' },
    });
    expect(anonymous.status).toBe(401);
  });

  it('keeps custom pricing and computes fees with integer half-up rounding', async () => {
    const merchant = await createMerchant(platform.baseUrl, platform.adminToken, {
      pricing: { basis_points: 250, fixed: { cny: 30 } },
    });
    const loaded = await platform.services.merchants.getMerchant(merchant.id);
    expect(loaded.pricing).toEqual({ basisPoints: 250, fixedMinor: { CNY: 30n } });
    expect(paymentFee(10_000n, 'CNY', loaded.pricing)).toBe(280n);
    expect(paymentFee(10_000n, 'CNY', { basisPoints: 60, fixedMinor: {} })).toBe(60n);
    // 0.6% of 75 = 0.45 → 0; of 84 = 0.504 → 1 (half up at 0.5)
    expect(paymentFee(75n, 'CNY', { basisPoints: 60, fixedMinor: {} })).toBe(0n);
    expect(paymentFee(84n, 'CNY', { basisPoints: 60, fixedMinor: {} })).toBe(1n);
    expect(paymentFee(100n, 'CNY', { basisPoints: 60, fixedMinor: { CNY: 500n } })).toBe(100n);
  });

  it('authenticates with Bearer and with Basic (key as user name), refuses unknown and missing keys', async () => {
    const merchant = await createMerchant(platform.baseUrl, platform.adminToken);
    const bearer = await v1(platform.baseUrl, 'GET', '/v1/customers', { key: merchant.secretKey });
    expect(bearer.status).toBe(200);
    const basic = await v1(platform.baseUrl, 'GET', '/v1/customers', { key: merchant.secretKey, basic: true });
    expect(basic.status).toBe(200);
    const unknown = await v1(platform.baseUrl, 'GET', '/v1/customers', {
      key: `sk_test_${'A'.repeat(43)}`,
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.type).toBe('invalid_request_error');
    expect(unknown.body.error.message).toBe('Invalid API Key provided: sk_test_…AAAA');
    const garbage = await v1(platform.baseUrl, 'GET', '/v1/customers', { key: 'hello' });
    expect(garbage.status).toBe(401);
    const missing = await v1(platform.baseUrl, 'GET', '/v1/customers');
    expect(missing.status).toBe(401);
    expect(missing.body.error.message).toMatch(/You did not provide an API key/);
    expect(missing.headers.get('request-id')).toMatch(/^req_/);
  });

  it('refuses publishable keys on secret-only routes', async () => {
    const merchant = await createMerchant(platform.baseUrl, platform.adminToken);
    for (const [method, path] of [
      ['GET', '/v1/customers'],
      ['POST', '/v1/customers'],
      ['GET', '/v1/events'],
    ] as const) {
      const result = await v1(platform.baseUrl, method, path, { key: merchant.publishableKey });
      expect(result.status).toBe(403);
      expect(result.body.error.type).toBe('invalid_request_error');
      expect(result.body.error.message).toMatch(/cannot be made with a publishable API key/);
    }
  });

  it('issues live keys only on activation, once', async () => {
    const merchant = await createMerchant(platform.baseUrl, platform.adminToken);
    const earlyRoll = await api(platform.baseUrl, 'POST', `/admin/v1/merchants/${merchant.id}/keys/roll`, {
      token: platform.adminToken,
      body: { livemode: true },
    });
    expect(earlyRoll.status).toBe(409);
    const activated = await api(platform.baseUrl, 'POST', `/admin/v1/merchants/${merchant.id}/activate`, {
      token: platform.adminToken,
    });
    expect(activated.status).toBe(200);
    expect(activated.body.secret_key).toMatch(/^sk_live_/);
    expect(activated.body.publishable_key).toMatch(/^pk_live_/);
    expect(activated.body.charges_enabled).toBe(true);
    const again = await api(platform.baseUrl, 'POST', `/admin/v1/merchants/${merchant.id}/activate`, {
      token: platform.adminToken,
    });
    expect(again.status).toBe(409);
    const live = await v1(platform.baseUrl, 'GET', '/v1/customers', { key: activated.body.secret_key });
    expect(live.status).toBe(200);
    expect(await platform.services.merchants.authenticateKey(activated.body.secret_key)).toMatchObject({
      accountId: merchant.id,
      livemode: true,
      keyKind: 'secret',
      permissions: null,
    });
  });

  it('keeps a rolled secret key working until its expiry, then answers 401', async () => {
    const merchant = await createMerchant(platform.baseUrl, platform.adminToken);
    const rolled = await api(platform.baseUrl, 'POST', `/admin/v1/merchants/${merchant.id}/keys/roll`, {
      token: platform.adminToken,
      body: { livemode: false, expires_in_s: 3_600 },
    });
    expect(rolled.status).toBe(200);
    expect(rolled.body.secret).toMatch(/^sk_test_/);
    expect(rolled.body.rolled).toHaveLength(1);
    const newKey = rolled.body.secret as string;
    expect((await v1(platform.baseUrl, 'GET', '/v1/customers', { key: merchant.secretKey })).status).toBe(200);
    expect((await v1(platform.baseUrl, 'GET', '/v1/customers', { key: newKey })).status).toBe(200);
    clockMs += 3_599_000;
    expect((await v1(platform.baseUrl, 'GET', '/v1/customers', { key: merchant.secretKey })).status).toBe(200);
    clockMs += limits.merchantKeyCacheTtlMs + 1_000;
    const expired = await v1(platform.baseUrl, 'GET', '/v1/customers', { key: merchant.secretKey });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('api_key_expired');
    expect((await v1(platform.baseUrl, 'GET', '/v1/customers', { key: newKey })).status).toBe(200);
    // expires_in_s 0: the old key stops at once (this node forgets its cached lookup on roll).
    const now = await api(platform.baseUrl, 'POST', `/admin/v1/merchants/${merchant.id}/keys/roll`, {
      token: platform.adminToken,
      body: { livemode: false, expires_in_s: 0 },
    });
    expect(now.status).toBe(200);
    expect((await v1(platform.baseUrl, 'GET', '/v1/customers', { key: newKey })).status).toBe(401);
    expect((await v1(platform.baseUrl, 'GET', '/v1/customers', { key: now.body.secret })).status).toBe(200);
  });

  it('limits restricted keys to their resources and access', async () => {
    const merchant = await createMerchant(platform.baseUrl, platform.adminToken);
    const restricted = await api(platform.baseUrl, 'POST', `/admin/v1/merchants/${merchant.id}/keys`, {
      token: platform.adminToken,
      body: { type: 'restricted', livemode: false, permissions: { customers: 'read' } },
    });
    expect(restricted.status).toBe(201);
    const key = restricted.body.secret as string;
    expect(key).toMatch(/^rk_test_/);
    expect((await v1(platform.baseUrl, 'GET', '/v1/customers', { key })).status).toBe(200);
    const write = await v1(platform.baseUrl, 'POST', '/v1/customers', { key, form: { name: 'x' } });
    expect(write.status).toBe(403);
    expect(write.body.error.type).toBe('permission_error');
    expect((await v1(platform.baseUrl, 'GET', '/v1/events', { key })).status).toBe(403);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockFrom } from '../../src/platform/clock.js';
import { merchantSessionLimits } from '../../src/modules/merchant-sessions/index.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, signUp, topUp } from '../support/wallet.js';

/** Merchant POS/dashboard sessions through the real HTTP stack: cookie, CSRF, /v1 with a session. */
let platform: TestPlatform;
let merchant: TestMerchant;
let clockOffsetMs = 0;

beforeAll(async () => {
  platform = await startPlatform({
    testClocks: { merchantSessions: clockFrom(() => Date.now() + clockOffsetMs) },
    merchantSessionSignInFailures: { failuresMax: 3, windowMs: 60_000 },
  });
  merchant = await createMerchant(platform.baseUrl, platform.adminToken);
}, 60_000);

afterAll(async () => {
  await platform?.close();
});

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function call(
  method: string,
  path: string,
  options: { cookie?: string; csrf?: string; body?: unknown; form?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  if (options.csrf !== undefined) headers['x-csrf-token'] = options.csrf;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  } else if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = options.form;
  }
  const response = await fetch(`${platform.baseUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text), headers: response.headers };
}

async function signIn(secretKey: string, headers: Record<string, string> = {}) {
  const answer = await call('POST', '/merchant/v1/sessions', { body: { secret_key: secretKey }, headers });
  expect(answer.status).toBe(201);
  const setCookie = answer.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  return { answer, setCookie, cookie, csrf: answer.body.csrf_token as string };
}

describe('merchant sessions', () => {
  it('signs in with a secret key: an httpOnly SameSite=Strict cookie, a CSRF token, the account', async () => {
    const { answer, setCookie, cookie } = await signIn(merchant.secretKey);
    expect(setCookie).toMatch(/^yunpay_msess=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toContain(`Max-Age=${merchantSessionLimits.lifetimeMs / 1000}`);
    expect(setCookie).not.toContain('Secure'); // plain http in tests
    expect(answer.body).toMatchObject({
      object: 'merchant_session',
      livemode: false,
      account: { id: merchant.id, default_currency: 'cny', object: 'account' },
    });
    expect(answer.body.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The key is not stored anywhere in the session table.
    const rows = await platform.db.query<Record<string, unknown>>('select * from merchant_sessions');
    expect(JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(
      merchant.secretKey,
    );
    expect(JSON.stringify(rows)).not.toContain(cookie.split('=')[1]);
  });

  it('refuses publishable keys and garbage with 401, and rate-limits failed attempts per client', async () => {
    const limited = await startPlatform({ merchantSessionSignInFailures: { failuresMax: 2, windowMs: 60_000 } });
    try {
      const shop = await createMerchant(limited.baseUrl, limited.adminToken);
      const post = (key: string) =>
        fetch(`${limited.baseUrl}/merchant/v1/sessions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ secret_key: key }),
        });
      const publishable = await post(shop.publishableKey);
      expect(publishable.status).toBe(401);
      expect(((await publishable.json()) as any).error.code).toBe('invalid_credentials');
      expect((await post('sk_test_nope')).status).toBe(401);
      const third = await post(shop.secretKey);
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await limited.close();
    }
  }, 60_000);

  it('returns the CSRF token again for a reload, and ends the session on sign-out', async () => {
    const { cookie, csrf } = await signIn(merchant.secretKey);
    const current = await call('GET', '/merchant/v1/sessions/current', { cookie });
    expect(current.status).toBe(200);
    expect(current.body.csrf_token).toBe(csrf);
    expect((await call('GET', '/merchant/v1/sessions/current')).status).toBe(401);
    // Sign-out needs the CSRF token like every other cookie request.
    expect((await call('DELETE', '/merchant/v1/sessions/current', { cookie })).status).toBe(403);
    const out = await call('DELETE', '/merchant/v1/sessions/current', { cookie, csrf });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await call('GET', '/merchant/v1/sessions/current', { cookie })).status).toBe(401);
    expect((await call('GET', '/v1/balance', { cookie, csrf })).status).toBe(401);
  });

  it('lets /v1 use the session with its CSRF token, same-origin only; API keys work as before', async () => {
    const { cookie, csrf } = await signIn(merchant.secretKey);
    const created = await call('POST', '/v1/customers', { cookie, csrf, form: 'name=Ada' });
    expect(created.status).toBe(200);
    expect(created.body.livemode).toBe(false);
    const listed = await call('GET', '/v1/customers', { cookie, csrf });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((c: { id: string }) => c.id)).toContain(created.body.id);
    // The same customer through the API key: one account, one mode.
    const viaKey = await v1(platform.baseUrl, 'GET', `/v1/customers/${created.body.id}`, { key: merchant.secretKey });
    expect(viaKey.status).toBe(200);

    // No header, a wrong token, a cross-site origin or Sec-Fetch-Site: 403 permission_error.
    const refusals = [
      await call('POST', '/v1/customers', { cookie, form: 'name=Eve' }),
      // The token with its last character changed (to one it surely is not).
      await call('POST', '/v1/customers', {
        cookie,
        csrf: `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`,
        form: 'name=Eve',
      }),
      await call('POST', '/v1/customers', { cookie, csrf: 'short', form: 'name=Eve' }),
      await call('POST', '/v1/customers', {
        cookie,
        csrf,
        form: 'name=Eve',
        headers: { origin: 'https://evil.example' },
      }),
      await call('POST', '/v1/customers', {
        cookie,
        csrf,
        form: 'name=Eve',
        headers: { 'sec-fetch-site': 'cross-site' },
      }),
      await call('GET', '/v1/customers', { cookie }),
    ];
    for (const refusal of refusals) {
      expect(refusal.status).toBe(403);
      expect(refusal.body.error.type).toBe('permission_error');
    }
    const afterwards = await v1(platform.baseUrl, 'GET', '/v1/customers?limit=100', { key: merchant.secretKey });
    expect(afterwards.body.data.some((c: { name: string }) => c.name === 'Eve')).toBe(false);

    // Same origin stated explicitly passes.
    const host = new URL(platform.baseUrl).host;
    const sameOrigin = await call('GET', '/v1/customers', {
      cookie,
      csrf,
      headers: { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' },
    });
    expect(sameOrigin.status).toBe(200);

    // An Authorization header wins over the cookie (a bad key is refused even with a good session).
    const badKey = await call('GET', '/v1/customers', { cookie, csrf, headers: { authorization: 'Bearer sk_test_x' } });
    expect(badKey.status).toBe(401);
    // No cookie and no key: Stripe's api_key_missing, as before.
    const none = await call('GET', '/v1/customers');
    expect(none.status).toBe(401);
    expect(none.body.error.message).toContain('You did not provide an API key');
  });

  it('refuses a cross-site sign-in', async () => {
    const answer = await call('POST', '/merchant/v1/sessions', {
      body: { secret_key: merchant.secretKey },
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('set-cookie')).toBeNull();
  });

  it('ends a session after 12 h idle and after 7 days whatever happens', async () => {
    const idle = await signIn(merchant.secretKey);
    clockOffsetMs = merchantSessionLimits.idleMs + 1_000;
    expect((await call('GET', '/merchant/v1/sessions/current', { cookie: idle.cookie })).status).toBe(401);
    clockOffsetMs = 0;

    const busy = await signIn(merchant.secretKey);
    // Used every 11 hours: still alive after 6 days …
    for (let hours = 11; hours < 6 * 24; hours += 11) {
      clockOffsetMs = hours * 3_600_000;
      expect((await call('GET', '/merchant/v1/sessions/current', { cookie: busy.cookie })).status).toBe(200);
    }
    // … but not past 7 days.
    clockOffsetMs = merchantSessionLimits.lifetimeMs + 1_000;
    expect((await call('GET', '/merchant/v1/sessions/current', { cookie: busy.cookie })).status).toBe(401);
    clockOffsetMs = 0;
  });

  it('lists keys masked and rolls the secret key: shown once, the old key refused, other sessions ended', async () => {
    const shop = await createMerchant(platform.baseUrl, platform.adminToken);
    const mine = await signIn(shop.secretKey);
    const other = await signIn(shop.secretKey);
    const keys = await call('GET', '/merchant/v1/api_keys', { cookie: mine.cookie, csrf: mine.csrf });
    expect(keys.status).toBe(200);
    expect(keys.body.data.map((k: { type: string }) => k.type).sort()).toEqual(['publishable', 'secret']);
    expect(JSON.stringify(keys.body)).not.toContain(shop.secretKey);
    expect(keys.body.data.find((k: { type: string }) => k.type === 'secret').redacted).toBe(
      `sk_test_…${shop.secretKey.slice(-4)}`,
    );

    expect((await call('POST', '/merchant/v1/api_keys/roll', { cookie: mine.cookie, body: {} })).status).toBe(403);
    const rolled = await call('POST', '/merchant/v1/api_keys/roll', { cookie: mine.cookie, csrf: mine.csrf, body: {} });
    expect(rolled.status).toBe(200);
    expect(rolled.body.secret).toMatch(/^sk_test_/);
    expect(rolled.body.rolled).toHaveLength(1);

    expect((await v1(platform.baseUrl, 'GET', '/v1/balance', { key: shop.secretKey })).status).toBe(401);
    expect((await v1(platform.baseUrl, 'GET', '/v1/balance', { key: rolled.body.secret })).status).toBe(200);
    // The session that rolled goes on; the other one (opened with the old key) has ended.
    expect((await call('GET', '/v1/balance', { cookie: mine.cookie, csrf: mine.csrf })).status).toBe(200);
    expect((await call('GET', '/v1/balance', { cookie: other.cookie, csrf: other.csrf })).status).toBe(401);
  });

  it('a key rolled by an admin ends the sessions it opened', async () => {
    const shop = await createMerchant(platform.baseUrl, platform.adminToken);
    const session = await signIn(shop.secretKey);
    expect((await call('GET', '/v1/balance', { cookie: session.cookie, csrf: session.csrf })).status).toBe(200);
    const rolled = await api(platform.baseUrl, 'POST', `/admin/v1/merchants/${shop.id}/keys/roll`, {
      token: platform.adminToken,
      body: { livemode: false, expires_in_s: 0 },
    });
    expect(rolled.status).toBeLessThan(300);
    expect((await call('GET', '/v1/balance', { cookie: session.cookie, csrf: session.csrf })).status).toBe(401);
    expect((await call('GET', '/merchant/v1/sessions/current', { cookie: session.cookie })).status).toBe(401);
  });

  it('summarises volume, refunds and fees per UTC day and currency', async () => {
    const shop = await createMerchant(platform.baseUrl, platform.adminToken);
    const session = await signIn(shop.secretKey);
    const payer = await signUp(platform.baseUrl, 'Payer');
    await topUp(platform.baseUrl, payer, 50_000);
    const intents: string[] = [];
    for (const amount of [1_000, 2_500]) {
      const code = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: payer.accessToken });
      expect(code.status).toBe(201);
      const paid = await call('POST', '/v1/payment_intents', {
        cookie: session.cookie,
        csrf: session.csrf,
        form: `amount=${amount}&currency=cny&confirm=true&payment_method_data[type]=wallet&payment_method_data[wallet][code]=${code.body.code}`,
      });
      expect(paid.status).toBe(200);
      expect(paid.body.status).toBe('succeeded');
      intents.push(paid.body.id);
    }
    const refund = await call('POST', '/v1/refunds', {
      cookie: session.cookie,
      csrf: session.csrf,
      form: `payment_intent=${intents[1]}&amount=500`,
    });
    expect(refund.status).toBe(200);
    const summary = await call('GET', '/merchant/v1/balance/daily?days=7', {
      cookie: session.cookie,
      csrf: session.csrf,
    });
    expect(summary.status).toBe(200);
    expect(summary.body.days).toBe(7);
    const today = new Date().toISOString().slice(0, 10);
    // 0.6 %: fees 6 + 15, minus 3 given back by the 5.00 refund.
    expect(summary.body.data).toEqual([
      { day: today, currency: 'cny', volume: 3_500, refunded: 500, fees: 18, net: 2_982, charge_count: 2 },
    ]);
    const tooLong = await call('GET', '/merchant/v1/balance/daily?days=91', {
      cookie: session.cookie,
      csrf: session.csrf,
    });
    expect(tooLong.status).toBe(400);
  }, 60_000);
});

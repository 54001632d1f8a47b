import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrustProxy } from '../src/platform/config.js';
import { relaxedRateLimits, startPlatform, type TestPlatform } from './support/platform.js';
import { createMerchant, type TestMerchant } from './support/merchant.js';
import { randomPhone, signUp, testPassword, type TestUser } from './support/wallet.js';

/**
 * YUNPAY_TRUST_PROXY drives Fastify's trustProxy: request.ip (per-IP rate limits) and
 * request.protocol (Secure and __Host- cookies) come from X-Forwarded-* only from a trusted peer.
 * The test server listens on 127.0.0.1, so 127.0.0.1 is the peer every request comes from.
 */
const signInsPerIpMax = 5;

interface Setup {
  platform: TestPlatform;
  merchant: TestMerchant;
  user: TestUser;
}

async function setUp(trustProxy: TrustProxy | undefined): Promise<Setup> {
  const platform = await startPlatform({
    ...(trustProxy === undefined ? {} : { trustProxy }),
    identityRateLimits: { ...relaxedRateLimits, signInsPerIp: { requestsMax: signInsPerIpMax, windowMs: 600_000 } },
  });
  const merchant = await createMerchant(platform.baseUrl, platform.adminToken);
  const user = await signUp(platform.baseUrl, 'Proxy user');
  return { platform, merchant, user };
}

async function post(setup: Setup, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${setup.platform.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  await response.text();
  return response;
}

/** A failed sign-in of an unknown login, from the client address X-Forwarded-For claims. */
async function signInFrom(setup: Setup, forwardedFor: string): Promise<number> {
  const response = await post(
    setup,
    '/wallet/v1/sessions',
    {
      login: randomPhone(),
      password: testPassword,
      device: { id: 'device-proxy-test', name: 'Phone', platform: 'android' },
    },
    { 'x-forwarded-for': forwardedFor },
  );
  return response.status;
}

/** The address Fastify logged for a request (its request.ip). */
function loggedIp(setup: Setup, requestId: string | null): unknown {
  const line = setup.platform.logs.lines.find((entry) => entry.request_id === requestId && entry.req !== undefined);
  return (line?.req as { remoteAddress?: unknown } | undefined)?.remoteAddress;
}

async function merchantSessionCookie(setup: Setup, headers: Record<string, string>): Promise<string> {
  const response = await post(setup, '/merchant/v1/sessions', { secret_key: setup.merchant.secretKey }, headers);
  expect(response.status).toBe(201);
  return response.headers.get('set-cookie') ?? '';
}

async function walletRefreshCookie(setup: Setup, headers: Record<string, string>): Promise<string> {
  const response = await post(
    setup,
    '/wallet/v1/sessions',
    {
      login: setup.user.phone,
      password: testPassword,
      device: { id: 'device-proxy-cookie', name: 'Browser', platform: 'web' },
      refresh_token_cookie: true,
    },
    { 'x-yunpay-csrf': '1', 'sec-fetch-site': 'same-origin', ...headers },
  );
  expect(response.status).toBe(200);
  return response.headers.get('set-cookie') ?? '';
}

const spoofed = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7' };

describe.each([
  { name: 'unset (the default)', trustProxy: undefined },
  { name: 'a list without the actual peer (10.0.0.0/8)', trustProxy: ['10.0.0.0/8'] },
])('trust proxy $name: X-Forwarded-* from the peer is ignored', ({ trustProxy }) => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await setUp(trustProxy);
  });
  afterAll(async () => {
    await setup?.platform.close();
  });

  it('cookies stay plain-http cookies: no Secure, no __Host- prefix', async () => {
    const merchantCookie = await merchantSessionCookie(setup, spoofed);
    expect(merchantCookie).toMatch(/^yunpay_msess=/);
    expect(merchantCookie).not.toContain('Secure');
    const refreshCookie = await walletRefreshCookie(setup, spoofed);
    expect(refreshCookie).toMatch(/^yunpay_rt=/);
    expect(refreshCookie).not.toContain('Secure');
  });

  it('request.ip is the peer, whatever X-Forwarded-For says', async () => {
    const response = await fetch(`${setup.platform.baseUrl}/healthz`, { headers: spoofed });
    expect(loggedIp(setup, response.headers.get('x-request-id'))).toBe('127.0.0.1');
  });

  it('a new X-Forwarded-For on every attempt does not escape the per-IP limit', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt <= signInsPerIpMax; attempt += 1) {
      statuses.push(await signInFrom(setup, `203.0.113.${attempt + 1}`));
    }
    expect(statuses).toContain(429);
  });
});

describe.each([
  { name: 'a hop count (1)', trustProxy: 1 },
  { name: 'a CIDR list that includes 127.0.0.1', trustProxy: ['10.0.0.0/8', '127.0.0.1'] },
  { name: 'the loopback range by name', trustProxy: ['loopback'] },
])('trust proxy $name: the trusted peer’s X-Forwarded-* is believed', ({ trustProxy }) => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await setUp(trustProxy);
  });
  afterAll(async () => {
    await setup?.platform.close();
  });

  it('X-Forwarded-Proto: https gives Secure, __Host- session cookies, which then work', async () => {
    const merchantCookie = await merchantSessionCookie(setup, spoofed);
    expect(merchantCookie).toMatch(/^__Host-yunpay_msess=/);
    expect(merchantCookie.split('; ')).toEqual(expect.arrayContaining(['Secure', 'Path=/', 'HttpOnly']));
    const current = await fetch(`${setup.platform.baseUrl}/merchant/v1/sessions/current`, {
      headers: { cookie: merchantCookie.split(';')[0]!, 'x-forwarded-proto': 'https' },
    });
    expect(current.status).toBe(200);
    const refreshCookie = await walletRefreshCookie(setup, spoofed);
    expect(refreshCookie.split('; ')).toContain('Secure');
    // Without the header the same proxy speaks plain http: no Secure flag.
    expect(await merchantSessionCookie(setup, {})).not.toContain('Secure');
  });

  it('request.ip is the client the proxy names: the last X-Forwarded-For entry', async () => {
    const response = await fetch(`${setup.platform.baseUrl}/healthz`, {
      headers: { 'x-forwarded-for': '192.0.2.1, 198.51.100.7' },
    });
    expect(loggedIp(setup, response.headers.get('x-request-id'))).toBe('198.51.100.7');
  });

  it('X-Forwarded-For drives the per-IP limits: each client has its own budget', async () => {
    const distinct: number[] = [];
    for (let attempt = 0; attempt <= signInsPerIpMax; attempt += 1) {
      distinct.push(await signInFrom(setup, `203.0.113.${attempt + 1}`));
    }
    expect(distinct).not.toContain(429);
    const same: number[] = [];
    for (let attempt = 0; attempt <= signInsPerIpMax; attempt += 1) same.push(await signInFrom(setup, '203.0.113.200'));
    expect(same.slice(0, signInsPerIpMax)).not.toContain(429);
    expect(same[signInsPerIpMax]).toBe(429);
    expect(await signInFrom(setup, '203.0.113.201')).toBe(401);
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  MemoryTokenStore,
  WalletClient,
  YunpayApiError,
  createMerchantSession,
  createYunpay,
  newDeviceId,
  type FetchInit,
  type FetchLike,
  type YunpayError,
} from '@yunpay/sdk';
import { createMerchant, type TestMerchant } from '../support/merchant.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { randomPhone, testPassword } from '../support/wallet.js';

/**
 * The SDK's browser-session modes against the real server: the wallet's cookie-kept refresh token
 * (refreshTokenCookie) and the merchant's cookie session (createMerchantSession). Node's fetch
 * keeps no cookies, so `browserFetch` plays the browser: a cookie jar honouring Path and Max-Age,
 * cookies sent only when the SDK asks for credentials, and an Origin header on every non-GET.
 */
let platform: TestPlatform;
let merchant: TestMerchant;

beforeAll(async () => {
  platform = await startPlatform();
  merchant = await createMerchant(platform.baseUrl, platform.adminToken, { name: 'Cookie Shop' });
}, 60_000);

afterAll(async () => {
  await platform?.close();
});

interface SentRequest {
  method: string;
  path: string;
  init: FetchInit;
  /** The Cookie header the "browser" attached, or null. */
  cookie: string | null;
  /** The HTTP status of the answer (0 until it came). */
  status: number;
}

interface Browser {
  fetch: FetchLike;
  jar: Map<string, { value: string; path: string }>;
  sent: SentRequest[];
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  const prefix = cookiePath.endsWith('/') ? cookiePath : `${cookiePath}/`;
  return requestPath.startsWith(prefix);
}

/** A fetch that behaves as a same-origin page's would, as far as cookies and Origin go. */
function browserFetch(origin: string, jar: Browser['jar'] = new Map()): Browser {
  const sent: SentRequest[] = [];
  const fetchLike: FetchLike = async (url, init) => {
    const target = new URL(url);
    expect(target.origin).toBe(origin);
    const sendsCookies = init.credentials === 'same-origin' || init.credentials === 'include';
    const cookie =
      [...jar]
        .filter(([, stored]) => sendsCookies && pathMatches(target.pathname, stored.path))
        .map(([name, stored]) => `${name}=${stored.value}`)
        .join('; ') || null;
    const request: SentRequest = { method: init.method, path: target.pathname, init, cookie, status: 0 };
    sent.push(request);
    const headers: Record<string, string> = { ...init.headers };
    if (init.method !== 'GET') headers.origin = origin;
    if (cookie !== null) headers.cookie = cookie;
    const response = await fetch(url, {
      method: init.method,
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
    });
    request.status = response.status;
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const equals = pair.indexOf('=');
      const name = pair.slice(0, equals);
      const value = pair.slice(equals + 1);
      const path = attributes.find((part) => /^path=/i.test(part))?.slice(5) ?? '/';
      const maxAge = attributes.find((part) => /^max-age=/i.test(part))?.slice(8);
      if (value === '' || maxAge === '0') jar.delete(name);
      else jar.set(name, { value, path });
    }
    return response;
  };
  return { fetch: fetchLike, jar, sent };
}

function lastSent(browser: Browser, method: string, path: string): SentRequest {
  const found = browser.sent.filter((request) => request.method === method && request.path === path).at(-1);
  expect(found, `${method} ${path} was sent`).toBeDefined();
  return found!;
}

async function newWalletUser(): Promise<string> {
  const phone = randomPhone();
  await new WalletClient({ baseUrl: platform.baseUrl }).signUp({ phone, password: testPassword, name: 'Mei' });
  return phone;
}

const device = () => ({ id: newDeviceId(), name: 'Browser test', platform: 'web' as const });

describe('wallet client with refreshTokenCookie', () => {
  test('signs in into an httpOnly cookie, keeps only the access token, and resumes after a "reload"', async () => {
    const phone = await newWalletUser();
    const browser = browserFetch(platform.baseUrl);
    const wallet = createYunpay({ baseUrl: platform.baseUrl, fetch: browser.fetch }).wallet({
      refreshTokenCookie: true,
    });
    expect(wallet.usesRefreshTokenCookie).toBe(true);
    const signedIn = await wallet.signIn({ login: phone, password: testPassword, device: device() });
    expect(Object.keys(signedIn).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(browser.jar.get('yunpay_rt')).toMatchObject({ path: '/wallet/v1/sessions' });
    expect(browser.jar.get('yunpay_rt')!.value).toMatch(/^rt_/);
    const signInRequest = lastSent(browser, 'POST', '/wallet/v1/sessions');
    expect(JSON.parse(signInRequest.init.body!)).toMatchObject({ login: phone, refresh_token_cookie: true });
    expect(signInRequest.init.headers['x-yunpay-csrf']).toBe('1');
    expect(signInRequest.init.credentials).toBe('same-origin');

    const me = await wallet.me();
    expect(me).toMatchObject({ object: 'user', phone });
    const meRequest = lastSent(browser, 'GET', '/wallet/v1/me');
    expect(meRequest.init.headers.authorization).toBe(`Bearer ${signedIn.access_token}`);
    // The cookie is scoped to the session routes: other calls never carry it.
    expect(meRequest.cookie).toBeNull();

    // A reload: a new client, no access token, the same cookie jar.
    const cookieBefore = browser.jar.get('yunpay_rt')!.value;
    const reloaded = new WalletClient({ baseUrl: platform.baseUrl, fetch: browser.fetch, refreshTokenCookie: true });
    expect(reloaded.hasAccessToken).toBe(false);
    expect(await reloaded.resume()).toBe(true);
    expect(reloaded.hasAccessToken).toBe(true);
    const refreshRequest = lastSent(browser, 'POST', '/wallet/v1/sessions/resume');
    expect(refreshRequest.status).toBe(200);
    expect(refreshRequest.init.body).toBe('{}');
    expect(refreshRequest.init.headers['x-yunpay-csrf']).toBe('1');
    expect(refreshRequest.init.headers.authorization).toBeUndefined();
    expect(refreshRequest.cookie).toBe(`yunpay_rt=${cookieBefore}`);
    // Rotated: a new cookie, and the response had no refresh token for the script to see.
    expect(browser.jar.get('yunpay_rt')!.value).not.toBe(cookieBefore);
    expect(await reloaded.me()).toMatchObject({ id: me.id });
    expect(await reloaded.resume()).toBe(true);

    // Sign-out ends the session on the server and clears the cookie.
    await reloaded.signOut();
    expect(reloaded.hasAccessToken).toBe(false);
    const signOutRequest = lastSent(browser, 'DELETE', '/wallet/v1/sessions/current');
    expect(signOutRequest.init.headers['x-yunpay-csrf']).toBe('1');
    expect(signOutRequest.init.credentials).toBe('same-origin');
    expect(browser.jar.has('yunpay_rt')).toBe(false);

    // Another reload finds no session: resume says so, without calling onSessionEnded.
    const ended: YunpayError[] = [];
    const signedOut = new WalletClient({
      baseUrl: platform.baseUrl,
      fetch: browser.fetch,
      refreshTokenCookie: true,
      onSessionEnded: (error) => ended.push(error),
    });
    const sentBefore = browser.sent.length;
    expect(await signedOut.resume()).toBe(false);
    expect(ended).toEqual([]);
    // Signed out is an answer, not an error: a page opened signed out logs no failed request.
    expect(browser.sent.slice(sentBefore).map((request) => [request.path, request.status])).toEqual([
      ['/wallet/v1/sessions/resume', 200],
    ]);
    await expect(signedOut.me()).rejects.toMatchObject({ status: 401 });
  });

  test('a spent cookie ends the session for the tab that still holds it', async () => {
    const phone = await newWalletUser();
    const browser = browserFetch(platform.baseUrl);
    const ended: YunpayError[] = [];
    const wallet = new WalletClient({
      baseUrl: platform.baseUrl,
      fetch: browser.fetch,
      refreshTokenCookie: true,
      onSessionEnded: (error) => ended.push(error),
    });
    await wallet.signIn({ login: phone, password: testPassword, device: device() });
    const spent = browser.jar.get('yunpay_rt')!.value;
    await wallet.refresh();
    // Put the spent cookie back, as a stale tab would present it: the server reads it as reuse.
    browser.jar.set('yunpay_rt', { value: spent, path: '/wallet/v1/sessions' });
    await expect(wallet.refresh()).rejects.toBeInstanceOf(YunpayApiError);
    expect(ended).toHaveLength(1);
    expect(ended[0]!.status).toBe(401);
    expect(wallet.hasAccessToken).toBe(false);
    expect(browser.jar.has('yunpay_rt')).toBe(false);

    // A reload that still holds the spent cookie: resume answers signed out (200) and drops it.
    browser.jar.set('yunpay_rt', { value: spent, path: '/wallet/v1/sessions' });
    const reloaded = new WalletClient({ baseUrl: platform.baseUrl, fetch: browser.fetch, refreshTokenCookie: true });
    expect(await reloaded.resume()).toBe(false);
    expect(lastSent(browser, 'POST', '/wallet/v1/sessions/resume').status).toBe(200);
    expect(browser.jar.has('yunpay_rt')).toBe(false);
  });

  test('token mode is unchanged, and resume() works there too', async () => {
    const phone = await newWalletUser();
    const store = new MemoryTokenStore();
    const wallet = new WalletClient({ baseUrl: platform.baseUrl, tokenStore: store });
    expect(await wallet.resume()).toBe(false);
    const pair = await wallet.signIn({ login: phone, password: testPassword, device: device() });
    expect(pair.refresh_token).toMatch(/^rt_/);
    expect(store.getRefreshToken()).toBe(pair.refresh_token);
    const restarted = new WalletClient({ baseUrl: platform.baseUrl, tokenStore: store });
    expect(await restarted.resume()).toBe(true);
    expect(store.getRefreshToken()).not.toBe(pair.refresh_token);
    expect(await restarted.me()).toMatchObject({ phone });
  });

  test('cookie mode refuses a token store, and the server refuses it without the browser proofs', async () => {
    expect(
      () =>
        new WalletClient({
          baseUrl: platform.baseUrl,
          refreshTokenCookie: true,
          tokenStore: new MemoryTokenStore(),
        }),
    ).toThrow(TypeError);
    const phone = await newWalletUser();
    // Node's own fetch sends neither Origin nor Sec-Fetch-Site: not a same-origin page.
    const bare = new WalletClient({ baseUrl: platform.baseUrl, refreshTokenCookie: true });
    await expect(bare.signIn({ login: phone, password: testPassword, device: device() })).rejects.toMatchObject({
      status: 403,
      code: 'forbidden',
    });
  });
});

describe('merchant session', () => {
  test('signs in with the secret key, then calls /v1 and /merchant/v1 with the cookie and CSRF token only', async () => {
    const browser = browserFetch(platform.baseUrl);
    const ended: YunpayError[] = [];
    const session = createMerchantSession({
      baseUrl: platform.baseUrl,
      fetch: browser.fetch,
      onSessionEnded: (error) => ended.push(error),
    });
    expect(await session.resume()).toBeNull();
    expect(session.current).toBeNull();
    expect(browser.sent.map((request) => [request.method, request.path, request.status])).toEqual([
      ['GET', '/merchant/v1/sessions/resume', 200],
    ]);

    const info = await session.signIn(merchant.secretKey);
    expect(info).toMatchObject({
      object: 'merchant_session',
      livemode: false,
      account: { id: merchant.id, object: 'account', name: 'Cookie Shop', default_currency: 'cny' },
    });
    expect(session.current).toEqual(info);
    expect(browser.jar.get('yunpay_msess')).toMatchObject({ path: '/' });
    // The key went in the sign-in body only.
    const signInRequest = lastSent(browser, 'POST', '/merchant/v1/sessions');
    expect(JSON.parse(signInRequest.init.body!)).toEqual({ secret_key: merchant.secretKey });

    // /v1 through the session: no Authorization, the CSRF token, the cookie.
    const intent = await session.client.paymentIntents.create({ amount: 1_234, currency: 'cny' });
    expect(intent).toMatchObject({ object: 'payment_intent', amount: 1_234, livemode: false });
    const created = lastSent(browser, 'POST', '/v1/payment_intents');
    expect(created.init.headers.authorization).toBeUndefined();
    expect(created.init.headers['x-csrf-token']).toBe(info.csrf_token);
    expect(created.init.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.cookie).toMatch(/^yunpay_msess=/);
    const listed = await session.client.paymentIntents.list({ limit: 10 });
    expect(listed.data.map((item) => item.id)).toContain(intent.id);
    expect(await session.client.balance.retrieve()).toMatchObject({ object: 'balance' });
    for (const request of browser.sent) {
      expect(request.init.headers.authorization).toBeUndefined();
      if (request.path === '/merchant/v1/sessions') continue;
      expect(JSON.stringify(request.init)).not.toContain(merchant.secretKey.slice(8));
    }

    const keys = await session.apiKeys.list();
    expect(keys.object).toBe('list');
    expect(keys.data.map((key) => key.type).sort()).toEqual(['publishable', 'secret']);
    expect(keys.data.every((key) => key.livemode === false && key.redacted.includes('…'))).toBe(true);
    expect(lastSent(browser, 'GET', '/merchant/v1/api_keys').init.headers['x-csrf-token']).toBe(info.csrf_token);

    const daily = await session.balance.daily({ days: 7 });
    expect(daily).toEqual({ object: 'list', days: 7, today: new Date().toISOString().slice(0, 10), data: [] });
    expect(lastSent(browser, 'GET', '/merchant/v1/balance/daily').init).toMatchObject({ credentials: 'same-origin' });
    expect(() => session.balance.daily({ days: 91 })).toThrow(RangeError);

    // A reload: a new session object with the same jar learns the CSRF token again.
    const reloaded = createMerchantSession({ baseUrl: platform.baseUrl, fetch: browser.fetch });
    const resumed = await reloaded.resume();
    expect(resumed).toMatchObject({ id: info.id, csrf_token: info.csrf_token });
    expect(await reloaded.client.paymentIntents.retrieve(intent.id)).toMatchObject({ id: intent.id });

    // Rolling the key: the new secret is shown once, the session moves to it and carries on.
    const rolled = await session.apiKeys.roll({ expires_in_s: 0 });
    expect(rolled.secret).toMatch(/^sk_test_/);
    expect(rolled.rolled.map((key) => key.type)).toEqual(['secret']);
    expect((await session.apiKeys.list()).data.map((key) => key.id)).toContain(rolled.id);

    // Signing out in the reloaded tab ends it for both; the first finds out on its next call.
    await reloaded.signOut();
    expect(reloaded.current).toBeNull();
    expect(browser.jar.has('yunpay_msess')).toBe(false);
    expect(lastSent(browser, 'DELETE', '/merchant/v1/sessions/current').init.headers['x-csrf-token']).toBe(
      info.csrf_token,
    );
    await expect(session.client.balance.retrieve()).rejects.toMatchObject({ status: 401 });
    expect(ended).toHaveLength(1);
    expect(session.current).toBeNull();
    expect(await session.resume()).toBeNull();
    // Signing out again is harmless.
    await session.signOut();
  });

  test('a wrong key is refused with the server code, and nothing is kept', async () => {
    const browser = browserFetch(platform.baseUrl);
    const session = createYunpay({ baseUrl: platform.baseUrl, fetch: browser.fetch }).merchantSession();
    await expect(session.signIn(merchant.publishableKey)).rejects.toMatchObject({ status: 401 });
    expect(session.current).toBeNull();
    expect(browser.jar.size).toBe(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  password,
  randomDevice,
  randomPhone,
  startIdentityHarness,
  type IdentityHarness,
} from '../identity/helpers.js';
import { refreshTokenCookie } from '../../src/modules/identity/routes.js';

/** Web clients keep the refresh token in an httpOnly cookie; cookie use needs the CSRF proofs. */
describe('cookie-kept refresh tokens', () => {
  let harness: IdentityHarness;
  let origin: string;
  const sameSite = (): Record<string, string> => ({
    'x-yunpay-csrf': '1',
    origin,
    'sec-fetch-site': 'same-origin',
  });

  beforeAll(async () => {
    harness = await startIdentityHarness();
    origin = harness.baseUrl;
  });

  afterAll(async () => {
    await harness?.close();
  });

  async function signUp(): Promise<string> {
    const phone = randomPhone();
    const created = await harness.api('POST', '/wallet/v1/users', { body: { phone, password, name: 'Mei' } });
    expect(created.status).toBe(201);
    return phone;
  }

  function cookieOf(headers: Headers): { value: string; attributes: string } {
    const header = headers.get('set-cookie');
    expect(header).not.toBeNull();
    const [pair = '', ...attributes] = String(header).split('; ');
    const [name, value = ''] = pair.split('=');
    expect(name).toBe('yunpay_rt');
    return { value, attributes: attributes.join('; ') };
  }

  async function cookieSignIn(phone: string): Promise<{ accessToken: string; cookie: string }> {
    const signedIn = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: phone, password, device: randomDevice({ platform: 'web' }), refresh_token_cookie: true },
      headers: sameSite(),
    });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.refresh_token).toBeUndefined();
    const cookie = cookieOf(signedIn.headers);
    expect(cookie.value).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    return { accessToken: signedIn.body.access_token, cookie: cookie.value };
  }

  it('signs in with the refresh token in an httpOnly, SameSite=Strict cookie scoped to the session routes', async () => {
    const phone = await signUp();
    const signedIn = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: phone, password, device: randomDevice({ platform: 'web' }), refresh_token_cookie: true },
      headers: sameSite(),
    });
    expect(signedIn.status).toBe(200);
    expect(Object.keys(signedIn.body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    const cookie = cookieOf(signedIn.headers);
    expect(cookie.attributes).toBe('Path=/wallet/v1/sessions; HttpOnly; SameSite=Strict; Max-Age=2592000');
    expect(signedIn.text).not.toContain(cookie.value);
    const me = await harness.api('GET', '/wallet/v1/me', { token: signedIn.body.access_token });
    expect(me.status).toBe(200);
  });

  it('marks the cookie Secure when the request came over https', () => {
    const https = refreshTokenCookie({ protocol: 'https' }, 'rt_x');
    expect(https).toBe('yunpay_rt=rt_x; Path=/wallet/v1/sessions; HttpOnly; SameSite=Strict; Max-Age=2592000; Secure');
    expect(refreshTokenCookie({ protocol: 'http' }, 'rt_x')).not.toContain('Secure');
    expect(refreshTokenCookie({ protocol: 'https' }, null)).toMatch(/^yunpay_rt=; .*Max-Age=0; Secure$/);
  });

  it('rotates through the cookie: new cookie, no token in the body, old cookie then counts as reuse', async () => {
    const phone = await signUp();
    const { cookie } = await cookieSignIn(phone);
    const rotated = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: {},
      headers: { ...sameSite(), cookie: `other=1; yunpay_rt=${cookie}` },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).toBeUndefined();
    const next = cookieOf(rotated.headers).value;
    expect(next).not.toBe(cookie);
    expect((await harness.api('GET', '/wallet/v1/me', { token: rotated.body.access_token })).status).toBe(200);

    const reused = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: {},
      headers: { ...sameSite(), cookie: `yunpay_rt=${cookie}` },
    });
    expect(reused.status).toBe(401);
    expect(reused.body.error.code).toBe('refresh_token_reused');
    // The useless cookie is cleared.
    expect(cookieOf(reused.headers)).toEqual({
      value: '',
      attributes: 'Path=/wallet/v1/sessions; HttpOnly; SameSite=Strict; Max-Age=0',
    });
  });

  it('refuses cookie use without the CSRF header, from another site, or without Origin and Sec-Fetch-Site', async () => {
    const phone = await signUp();
    const { cookie } = await cookieSignIn(phone);
    const refusals: Record<string, string>[] = [
      { origin, 'sec-fetch-site': 'same-origin' },
      { 'x-yunpay-csrf': '0', origin, 'sec-fetch-site': 'same-origin' },
      { 'x-yunpay-csrf': '1', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      { 'x-yunpay-csrf': '1', origin: 'https://evil.example' },
      { 'x-yunpay-csrf': '1', 'sec-fetch-site': 'same-site' },
      { 'x-yunpay-csrf': '1', origin: 'null' },
      { 'x-yunpay-csrf': '1' },
    ];
    for (const headers of refusals) {
      const refused = await harness.api('POST', '/wallet/v1/sessions/refresh', {
        body: {},
        headers: { ...headers, cookie: `yunpay_rt=${cookie}` },
      });
      expect({ headers, status: refused.status, code: refused.body.error.code }).toEqual({
        headers,
        status: 403,
        code: 'forbidden',
      });
      const signOut = await harness.api('DELETE', '/wallet/v1/sessions/current', {
        headers: { ...headers, cookie: `yunpay_rt=${cookie}` },
      });
      expect(signOut.status).toBe(403);
    }
    // Cookie sign-in (login CSRF) needs the same proofs.
    const signIn = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: phone, password, device: randomDevice(), refresh_token_cookie: true },
      headers: { origin: 'https://evil.example' },
    });
    expect(signIn.status).toBe(403);
    // The refusals spent nothing: the cookie still rotates.
    const rotated = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: {},
      headers: { ...sameSite(), cookie: `yunpay_rt=${cookie}` },
    });
    expect(rotated.status).toBe(200);
  });

  it('answers refresh_token_invalid without a body token or a cookie, and keeps body tokens working', async () => {
    const missing = await harness.api('POST', '/wallet/v1/sessions/refresh', { body: {}, headers: sameSite() });
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('refresh_token_invalid');

    const phone = await signUp();
    const plain = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: phone, password, device: randomDevice() },
    });
    expect(plain.headers.get('set-cookie')).toBeNull();
    const rotated = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: { refresh_token: plain.body.refresh_token },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).toMatch(/^rt_/);
    expect(rotated.headers.get('set-cookie')).toBeNull();
  });

  it('signs out with the cookie alone (and clears it), or with the bearer token (clearing a cookie sent along)', async () => {
    const phone = await signUp();
    const first = await cookieSignIn(phone);
    const out = await harness.api('DELETE', '/wallet/v1/sessions/current', {
      headers: { ...sameSite(), cookie: `yunpay_rt=${first.cookie}` },
    });
    expect(out.status).toBe(204);
    expect(cookieOf(out.headers).value).toBe('');
    expect((await harness.api('GET', '/wallet/v1/me', { token: first.accessToken })).status).toBe(401);
    const again = await harness.api('DELETE', '/wallet/v1/sessions/current', {
      headers: { ...sameSite(), cookie: `yunpay_rt=${first.cookie}` },
    });
    expect(again.status).toBe(204);

    const second = await cookieSignIn(phone);
    const bearerOut = await harness.api('DELETE', '/wallet/v1/sessions/current', {
      token: second.accessToken,
      headers: { cookie: `yunpay_rt=${second.cookie}` },
    });
    expect(bearerOut.status).toBe(204);
    expect(cookieOf(bearerOut.headers).value).toBe('');
    const rotated = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: {},
      headers: { ...sameSite(), cookie: `yunpay_rt=${second.cookie}` },
    });
    expect(rotated.status).toBe(401);

    const nobody = await harness.api('DELETE', '/wallet/v1/sessions/current');
    expect(nobody.status).toBe(401);
    expect(nobody.body.error.code).toBe('token_invalid');
  });
});

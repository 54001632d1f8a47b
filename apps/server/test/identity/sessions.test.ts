import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anyString,
  matching,
  password,
  randomDevice,
  randomEmail,
  randomPhone,
  signUpAndIn,
  startIdentityHarness,
  type IdentityHarness,
} from './helpers.js';

describe('sessions: sign-in, /me, refresh rotation, sign-out, lockout', () => {
  let harness: IdentityHarness;

  beforeAll(async () => {
    harness = await startIdentityHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('signs in by phone or email (any case) and returns an EdDSA access token with the agreed claims', async () => {
    const phone = randomPhone();
    const email = randomEmail();
    const created = await harness.api('POST', '/wallet/v1/users', { body: { phone, email, password, name: 'Lin' } });
    expect(created.status).toBe(201);

    const byEmail = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: email.toUpperCase(), password, device: randomDevice({ platform: 'ios' }) },
    });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body).toEqual({
      access_token: anyString,
      refresh_token: matching(/^rt_[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      expires_in: 900,
    });
    const header = decodeProtectedHeader(byEmail.body.access_token);
    expect(header).toMatchObject({ alg: 'EdDSA', kid: anyString, typ: 'at+jwt' });
    const claims = decodeJwt(byEmail.body.access_token);
    const nowS = Math.floor(harness.clock.nowMs / 1000);
    expect(claims).toMatchObject({
      iss: 'yunpay',
      aud: 'yunpay-wallet',
      sub: created.body.id,
      sid: matching(/^ses_[0-9a-f]{32}$/),
      did: matching(/^dev_[0-9a-f]{32}$/),
      jti: anyString,
      iat: nowS,
      nbf: nowS,
      exp: nowS + 900,
    });

    const byPhone = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: phone, password, device: randomDevice() },
    });
    expect(byPhone.status).toBe(200);

    const me = await harness.api('GET', '/wallet/v1/me', { token: byEmail.body.access_token });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ ...created.body, pin_set: false });
  });

  it('answers the same 401 invalid_credentials for an unknown login and a wrong password', async () => {
    const user = await signUpAndIn(harness);
    const wrong = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: user.phone, password: 'not the password at all', device: randomDevice() },
    });
    const unknown = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: randomPhone(), password, device: randomDevice() },
    });
    const garbage = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: 'nobody', password, device: randomDevice() },
    });
    for (const response of [wrong, unknown, garbage]) {
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('invalid_credentials');
      expect(response.body.error.message).toBe(wrong.body.error.message);
    }
  });

  it('refuses bad sign-in bodies with 400 and the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ login: 'x', password, device: { ...randomDevice(), id: 'short' } }, 'device.id'],
      [{ login: 'x', password, device: { ...randomDevice(), id: 'has space in it' } }, 'device.id'],
      [{ login: 'x', password, device: { ...randomDevice(), platform: 'windows' } }, 'device.platform'],
      [{ login: 'x', password, device: { ...randomDevice(), extra: 1 } }, 'device.extra'],
      [{ login: 'x', password }, 'device'],
      [{ login: 'x'.repeat(300), password, device: randomDevice() }, 'login'],
      [{ login: 'x', password, device: randomDevice(), remember: true }, 'remember'],
    ];
    for (const [body, param] of cases) {
      const response = await harness.api('POST', '/wallet/v1/sessions', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'invalid_request', param });
    }
  });

  it('rotates refresh tokens on every use and keeps the session, device and user', async () => {
    const user = await signUpAndIn(harness);
    const first = decodeJwt(user.accessToken);
    const rotated = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: { refresh_token: user.refreshToken },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(user.refreshToken);
    const second = decodeJwt(rotated.body.access_token);
    expect(second).toMatchObject({ sub: first.sub, sid: first.sid, did: first.did });
    expect(second.jti).not.toBe(first.jti);

    const again = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: { refresh_token: rotated.body.refresh_token },
    });
    expect(again.status).toBe(200);
    expect((await harness.api('GET', '/wallet/v1/me', { token: again.body.access_token })).status).toBe(200);

    const stored = await harness.testDb.db.query<{ token_hash: string }>(
      'select token_hash from identity_refresh_tokens',
    );
    for (const row of stored) expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const tokens = [user.refreshToken, rotated.body.refresh_token, again.body.refresh_token];
    const raw = JSON.stringify(stored);
    for (const token of tokens) expect(raw).not.toContain(token.slice(3));
  });

  it('treats a rotated token presented again as reuse: revokes the family and notifies', async () => {
    const user = await signUpAndIn(harness);
    const rotated = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: { refresh_token: user.refreshToken },
    });
    expect(rotated.status).toBe(200);

    const replay = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: { refresh_token: user.refreshToken },
    });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('refresh_token_reused');

    // The whole family is gone: the newest refresh token and every access token of the session.
    const newest = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: { refresh_token: rotated.body.refresh_token },
    });
    expect(newest.status).toBe(401);
    expect(newest.body.error.code).toBe('refresh_token_invalid');
    for (const token of [user.accessToken, rotated.body.access_token]) {
      const me = await harness.api('GET', '/wallet/v1/me', { token });
      expect(me.status).toBe(401);
      expect(me.body.error.code).toBe('token_invalid');
    }
    // A second replay answers reuse again but notifies only once.
    const replayAgain = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: { refresh_token: user.refreshToken },
    });
    expect(replayAgain.body.error.code).toBe('refresh_token_reused');
    const notifications = await harness.notifications(user.id);
    expect(notifications.filter((n) => n.type === 'security.refresh_token_reused')).toHaveLength(1);
  });

  it('lets exactly one of two concurrent refreshes of one token win; the other counts as reuse', async () => {
    const user = await signUpAndIn(harness);
    const [a, b] = await Promise.all([
      harness.api('POST', '/wallet/v1/sessions/refresh', { body: { refresh_token: user.refreshToken } }),
      harness.api('POST', '/wallet/v1/sessions/refresh', { body: { refresh_token: user.refreshToken } }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 401]);
    const loser = a.status === 401 ? a : b;
    const winner = a.status === 200 ? a : b;
    expect(loser.body.error.code).toBe('refresh_token_reused');
    // Reuse revoked the family, so the winner's pair is dead too.
    expect((await harness.api('GET', '/wallet/v1/me', { token: winner.body.access_token })).status).toBe(401);
    const rows = await harness.testDb.db.query<{ n: bigint }>(
      `select count(*) as n from identity_refresh_tokens r join identity_sessions s on s.id = r.session_id
        where s.user_id = $1`,
      [user.id],
    );
    expect(rows[0]?.n).toBe(2n);
  });

  it('refuses unknown, malformed and expired refresh tokens with refresh_token_invalid', async () => {
    const user = await signUpAndIn(harness);
    for (const refresh_token of [`rt_${'A'.repeat(43)}`, 'not-a-token', user.accessToken.slice(0, 120)]) {
      const response = await harness.api('POST', '/wallet/v1/sessions/refresh', { body: { refresh_token } });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('refresh_token_invalid');
    }
    harness.clock.advance(30 * 24 * 3600 * 1000 + 1000);
    try {
      const expired = await harness.api('POST', '/wallet/v1/sessions/refresh', {
        body: { refresh_token: user.refreshToken },
      });
      expect(expired.status).toBe(401);
      expect(expired.body.error.code).toBe('refresh_token_invalid');
      // Expired rows are pruned in bounded batches.
      expect(await harness.identity.deleteExpiredRefreshTokens()).toBeGreaterThanOrEqual(1);
    } finally {
      harness.clock.advance(-(30 * 24 * 3600 * 1000 + 1000));
    }
  });

  it('signs out: DELETE /sessions/current → 204, and the access and refresh tokens stop working', async () => {
    const user = await signUpAndIn(harness);
    const out = await harness.api('DELETE', '/wallet/v1/sessions/current', { token: user.accessToken });
    expect(out.status).toBe(204);
    expect(out.text).toBe('');
    const me = await harness.api('GET', '/wallet/v1/me', { token: user.accessToken });
    expect(me.status).toBe(401);
    expect(me.headers.get('www-authenticate')).toContain('invalid_token');
    const refresh = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: { refresh_token: user.refreshToken },
    });
    expect(refresh.status).toBe(401);
    expect(refresh.body.error.code).toBe('refresh_token_invalid');
    // Signing out needs a live token.
    expect((await harness.api('DELETE', '/wallet/v1/sessions/current')).status).toBe(401);
  });

  it('notifies security.new_device for a new device, but not for the very first one', async () => {
    const user = await signUpAndIn(harness);
    expect(await harness.notifications(user.id)).toEqual([]);
    // The same device again: no notification, and the old session is replaced.
    const same = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: user.phone, password, device: user.device },
    });
    expect(same.status).toBe(200);
    expect(decodeJwt(same.body.access_token).did).toBe(decodeJwt(user.accessToken).did);
    expect((await harness.api('GET', '/wallet/v1/me', { token: user.accessToken })).status).toBe(401);
    expect(await harness.notifications(user.id)).toEqual([]);

    const tablet = randomDevice({ name: 'iPad', platform: 'ios' });
    const other = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: user.phone, password, device: tablet },
    });
    expect(other.status).toBe(200);
    const notifications = await harness.notifications(user.id);
    expect(notifications).toEqual([
      {
        type: 'security.new_device',
        data: { device_id: decodeJwt(other.body.access_token).did, device_name: 'iPad', platform: 'ios' },
      },
    ]);
  });

  it('locks the account after 10 consecutive failures (423 even with the right password) for 30 minutes', async () => {
    const user = await signUpAndIn(harness);
    for (let attempt = 1; attempt <= 9; attempt += 1) {
      const response = await harness.api('POST', '/wallet/v1/sessions', {
        body: { login: user.phone, password: `wrong password ${attempt}`, device: randomDevice() },
      });
      expect(response.status).toBe(401);
    }
    const tenth = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: user.phone, password: 'wrong password 10', device: randomDevice() },
    });
    expect(tenth.status).toBe(423);
    expect(tenth.body.error.code).toBe('account_locked');

    const right = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: user.phone, password, device: randomDevice() },
    });
    expect(right.status).toBe(423);
    expect((await harness.notifications(user.id)).filter((n) => n.type === 'security.account_locked')).toHaveLength(1);

    harness.clock.advance(29 * 60 * 1000);
    try {
      const stillLocked = await harness.api('POST', '/wallet/v1/sessions', {
        body: { login: user.phone, password, device: randomDevice() },
      });
      expect(stillLocked.status).toBe(423);
      harness.clock.advance(61 * 1000);
      const unlocked = await harness.api('POST', '/wallet/v1/sessions', {
        body: { login: user.phone, password, device: user.device },
      });
      expect(unlocked.status).toBe(200);
    } finally {
      harness.clock.advance(-30 * 60 * 1000 - 1000);
    }
  });

  it('resets the failure counter on success', async () => {
    const user = await signUpAndIn(harness);
    const fail = (n: number) =>
      harness.api('POST', '/wallet/v1/sessions', {
        body: { login: user.phone, password: `nope nope nope ${n}`, device: user.device },
      });
    for (let n = 0; n < 9; n += 1) expect((await fail(n)).status).toBe(401);
    const ok = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: user.phone, password, device: user.device },
    });
    expect(ok.status).toBe(200);
    for (let n = 0; n < 9; n += 1) expect((await fail(n)).status).toBe(401);
  });

  it('never checks more than 10 guesses, even when they arrive at once', async () => {
    const user = await signUpAndIn(harness);
    const responses = await Promise.all(
      Array.from({ length: 16 }, (_, n) =>
        harness.api('POST', '/wallet/v1/sessions', {
          body: { login: user.phone, password: `concurrent guess ${n}`, device: randomDevice() },
        }),
      ),
    );
    const counts = { 401: 0, 423: 0, 429: 0 } as Record<number, number>;
    for (const response of responses) counts[response.status] = (counts[response.status] ?? 0) + 1;
    expect(counts[401]).toBeLessThanOrEqual(9);
    expect(counts[423]).toBeGreaterThanOrEqual(1);
    // Guesses that find every attempt taken by checks still in flight are told to retry (429).
    expect((counts[401] ?? 0) + (counts[423] ?? 0) + (counts[429] ?? 0)).toBe(16);
    const rows = await harness.testDb.db.query<{ failed_count: number; locked_until: Date | null }>(
      'select failed_count, locked_until from identity_credentials where user_id = $1',
      [user.id],
    );
    expect(rows[0]?.failed_count).toBe(10);
    expect(rows[0]?.locked_until).not.toBeNull();
    expect((await harness.notifications(user.id)).filter((n) => n.type === 'security.account_locked')).toHaveLength(1);
  });
});

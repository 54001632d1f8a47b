import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { password, randomDevice, signUpAndIn, startIdentityHarness, type IdentityHarness } from './helpers.js';

describe('no response ever carries a secret', () => {
  let harness: IdentityHarness;

  beforeAll(async () => {
    harness = await startIdentityHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('walks every identity route and finds no hash, PIN, password or stale refresh token in any body', async () => {
    const pin = '370915';
    const user = await signUpAndIn(harness, 'Leak Check');
    const token = user.accessToken;
    await harness.api('PUT', '/wallet/v1/pin', { token, body: { pin, password } });
    await harness.api('PUT', '/wallet/v1/pin', { token, body: { pin: '123456', password } });
    await harness.api('PUT', '/wallet/v1/pin', { token, body: { pin, password: 'wrong wrong wrong' } });
    await harness.api('GET', '/wallet/v1/me', { token });
    await harness.api('GET', '/wallet/v1/devices', { token });
    const second = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: user.phone, password, device: randomDevice() },
    });
    await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: user.phone, password: 'bad bad bad bad', device: randomDevice() },
    });
    await harness.api('POST', '/wallet/v1/users', { body: { phone: user.phone, password, name: 'Dup' } });
    await harness.api('POST', '/wallet/v1/users', { body: { phone: user.phone, password: 'short', name: 'Dup' } });
    const rotated = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: { refresh_token: user.refreshToken },
    });
    await harness.api('POST', '/wallet/v1/sessions/refresh', { body: { refresh_token: user.refreshToken } });
    await harness.api('GET', '/.well-known/jwks.json');
    await harness.api('DELETE', `/wallet/v1/devices/${String(decodeJwt(second.body.access_token).did)}`, { token });
    await harness.api('DELETE', '/wallet/v1/sessions/current', { token: rotated.body.access_token });
    await harness.api('GET', '/wallet/v1/me', { token });
    await harness.identity.verifyPaymentPin(user.id, '999990').catch(() => undefined);

    const secrets: string[] = [password, pin];
    const hashRows = await harness.testDb.db.query<{ secret: string }>(
      `select password_hash as secret from identity_credentials
       union all select pin_hash from identity_pins
       union all select token_hash from identity_refresh_tokens
       union all select private_key_pkcs8 from identity_signing_keys`,
    );
    expect(hashRows.length).toBeGreaterThanOrEqual(5);
    for (const row of hashRows) {
      secrets.push(row.secret);
      // The salt and digest parts of an argon2 hash, in case a body carried them without the prefix.
      if (row.secret.startsWith('$argon2')) secrets.push(...row.secret.split('$').slice(-2));
    }

    expect(harness.responseTexts.length).toBeGreaterThanOrEqual(15);
    for (const text of harness.responseTexts) {
      expect(text).not.toContain('$argon2');
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toMatch(/"d"\s*:/);
      for (const secret of secrets) expect(text).not.toContain(secret);
      // At most one refresh token per body: the one it just issued, in refresh_token.
      const refreshTokens = text.match(/rt_[A-Za-z0-9_-]{43}/g) ?? [];
      expect(refreshTokens.length).toBeLessThanOrEqual(1);
      if (refreshTokens.length === 1) {
        expect((JSON.parse(text) as { refresh_token?: string }).refresh_token).toBe(refreshTokens[0]);
      }
    }
  });
});

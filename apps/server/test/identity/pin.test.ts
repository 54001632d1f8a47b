import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/platform/errors.js';
import { password, signUpAndIn, startIdentityHarness, type IdentityHarness } from './helpers.js';

async function caught(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('payment PIN', () => {
  let harness: IdentityHarness;
  const pin = '274916';

  beforeAll(async () => {
    harness = await startIdentityHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('sets a PIN with the password (204), shows pin_set on /me, and verifies it', async () => {
    const user = await signUpAndIn(harness);
    expect((await caught(harness.identity.verifyPaymentPin(user.id, pin))).code).toBe('pin_not_set');
    const set = await harness.api('PUT', '/wallet/v1/pin', { token: user.accessToken, body: { pin, password } });
    expect(set.status).toBe(204);
    const me = await harness.api('GET', '/wallet/v1/me', { token: user.accessToken });
    expect(me.body.pin_set).toBe(true);
    await expect(harness.identity.verifyPaymentPin(user.id, pin)).resolves.toBeUndefined();
    const rows = await harness.testDb.db.query<{ pin_hash: string }>(
      'select pin_hash from identity_pins where user_id = $1',
      [user.id],
    );
    expect(rows[0]?.pin_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('refuses weak or malformed PINs with 400 param pin, and a wrong password with 401', async () => {
    const user = await signUpAndIn(harness);
    for (const weak of ['000000', '123456', '111111', '654321', '987654', '121212', '123123', '890123']) {
      const response = await harness.api('PUT', '/wallet/v1/pin', {
        token: user.accessToken,
        body: { pin: weak, password },
      });
      expect(response.status, weak).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'invalid_request', param: 'pin' });
    }
    for (const malformed of ['12345', '1234567', '12a456', ' 274916', 274916]) {
      const response = await harness.api('PUT', '/wallet/v1/pin', {
        token: user.accessToken,
        body: { pin: malformed, password },
      });
      expect(response.status, String(malformed)).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'invalid_request', param: 'pin' });
    }
    const extra = await harness.api('PUT', '/wallet/v1/pin', {
      token: user.accessToken,
      body: { pin, password, x: 1 },
    });
    expect(extra.body.error).toMatchObject({ code: 'invalid_request', param: 'x' });
    const wrong = await harness.api('PUT', '/wallet/v1/pin', {
      token: user.accessToken,
      body: { pin, password: 'definitely not it' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    expect((await harness.api('PUT', '/wallet/v1/pin', { body: { pin, password } })).status).toBe(401);
    expect((await harness.api('GET', '/wallet/v1/me', { token: user.accessToken })).body.pin_set).toBe(false);
  });

  it('counts wrong PINs down, locks after 5 for 30 minutes (notifying once), and a right PIN resets', async () => {
    const user = await signUpAndIn(harness);
    await harness.api('PUT', '/wallet/v1/pin', { token: user.accessToken, body: { pin, password } });

    // A right PIN in between resets the count.
    for (const wrong of ['111112', '999998']) {
      expect((await caught(harness.identity.verifyPaymentPin(user.id, wrong))).code).toBe('pin_invalid');
    }
    await harness.identity.verifyPaymentPin(user.id, pin);

    for (let attempt = 1; attempt <= 4; attempt += 1) {
      const error = await caught(harness.identity.verifyPaymentPin(user.id, '555550'));
      expect(error.code).toBe('pin_invalid');
      expect(error.status).toBe(403);
      expect(error.details).toEqual({ attempts_remaining: 5 - attempt });
    }
    const fifth = await caught(harness.identity.verifyPaymentPin(user.id, '555550'));
    expect(fifth.code).toBe('pin_locked');
    expect(fifth.status).toBe(423);
    expect((await caught(harness.identity.verifyPaymentPin(user.id, pin))).code).toBe('pin_locked');
    expect((await caught(harness.identity.verifyPaymentPin(user.id, 'abc'))).code).toBe('pin_locked');
    const locks = (await harness.notifications(user.id)).filter((n) => n.type === 'security.pin_locked');
    expect(locks).toHaveLength(1);

    harness.clock.advance(29 * 60 * 1000);
    try {
      expect((await caught(harness.identity.verifyPaymentPin(user.id, pin))).code).toBe('pin_locked');
      harness.clock.advance(61 * 1000);
      await expect(harness.identity.verifyPaymentPin(user.id, pin)).resolves.toBeUndefined();
      // A fresh count after the lock lapses.
      const error = await caught(harness.identity.verifyPaymentPin(user.id, '555550'));
      expect(error.details).toEqual({ attempts_remaining: 4 });
    } finally {
      harness.clock.advance(-(30 * 60 * 1000 + 1000));
    }
  });

  it('never checks more than 5 PINs when guesses arrive at once', async () => {
    const user = await signUpAndIn(harness);
    await harness.api('PUT', '/wallet/v1/pin', { token: user.accessToken, body: { pin, password } });
    const errors = await Promise.all(
      Array.from({ length: 9 }, () => caught(harness.identity.verifyPaymentPin(user.id, '808181'))),
    );
    const invalid = errors.filter((error) => error.code === 'pin_invalid').length;
    const locked = errors.filter((error) => error.code === 'pin_locked').length;
    // Guesses that find every attempt taken by checks still in flight are told to retry (429).
    const retry = errors.filter((error) => error.code === 'rate_limited').length;
    expect(invalid).toBeLessThanOrEqual(4);
    expect(locked).toBeGreaterThanOrEqual(1);
    expect(invalid + locked + retry).toBe(9);
    expect((await harness.notifications(user.id)).filter((n) => n.type === 'security.pin_locked')).toHaveLength(1);
  });

  it('changing the PIN (with the password) replaces the old one', async () => {
    const user = await signUpAndIn(harness);
    await harness.api('PUT', '/wallet/v1/pin', { token: user.accessToken, body: { pin, password } });
    const next = '603817';
    expect(
      (await harness.api('PUT', '/wallet/v1/pin', { token: user.accessToken, body: { pin: next, password } })).status,
    ).toBe(204);
    expect((await caught(harness.identity.verifyPaymentPin(user.id, pin))).code).toBe('pin_invalid');
    await expect(harness.identity.verifyPaymentPin(user.id, next)).resolves.toBeUndefined();
  });
});

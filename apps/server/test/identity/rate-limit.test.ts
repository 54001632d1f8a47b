import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/platform/errors.js';
import { RateLimiter, retryAfterSeconds } from '../../src/platform/rate-limit.js';
import {
  type Response,
  password,
  randomDevice,
  randomPhone,
  startIdentityHarness,
  type IdentityHarness,
} from './helpers.js';

describe('RateLimiter', () => {
  it('allows requestsMax per window, then answers with the seconds left, then opens again', () => {
    let nowMs = 1_000_000;
    const limiter = new RateLimiter({ requestsMax: 3, windowMs: 10_000, keysMax: 10, now: () => nowMs });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')].every((d) => d.allowed)).toBe(true);
    nowMs += 2_500;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterS: 8 });
    expect(limiter.take('b').allowed).toBe(true);
    nowMs += 7_499;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterS: 1 });
    nowMs += 1;
    expect(limiter.take('a').allowed).toBe(true);
  });

  it('never remembers more than keysMax keys, dropping the oldest windows first', () => {
    let nowMs = 0;
    const limiter = new RateLimiter({ requestsMax: 1, windowMs: 60_000, keysMax: 100, now: () => nowMs });
    for (let index = 0; index < 1_000; index += 1) {
      nowMs += 1;
      limiter.take(`ip-${index}`);
      expect(limiter.size).toBeLessThanOrEqual(100);
    }
    // The newest keys are still limited; the oldest were forgotten.
    expect(limiter.take('ip-999').allowed).toBe(false);
    expect(limiter.take('ip-0').allowed).toBe(true);
  });

  it('throws rate_limited carrying retry_after_s from consume', () => {
    const limiter = new RateLimiter({ requestsMax: 1, windowMs: 5_000, keysMax: 10, now: () => 0 });
    limiter.consume('k');
    let thrown: unknown;
    try {
      limiter.consume('k');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe('rate_limited');
    expect(retryAfterSeconds(thrown)).toBe(5);
  });

  it('refuses nonsense options', () => {
    expect(() => new RateLimiter({ requestsMax: 0, windowMs: 1, keysMax: 1 })).toThrow(/requestsMax/);
    expect(() => new RateLimiter({ requestsMax: 1, windowMs: 1, keysMax: 0 })).toThrow(/keysMax/);
  });
});

describe('identity rate limits over HTTP: 429 rate_limited with Retry-After', () => {
  let harness: IdentityHarness;

  beforeAll(async () => {
    harness = await startIdentityHarness({
      rateLimits: {
        signUpsPerIp: { requestsMax: 3, windowMs: 60_000 },
        signInsPerIp: { requestsMax: 6, windowMs: 60_000 },
        signInsPerLogin: { requestsMax: 2, windowMs: 60_000 },
        pinAttemptsPerUser: { requestsMax: 3, windowMs: 60_000 },
        refreshesPerIp: { requestsMax: 2, windowMs: 60_000 },
      },
    });
  });

  afterAll(async () => {
    await harness?.close();
  });

  function expect429(response: Response, label: string) {
    expect(response.status, label).toBe(429);
    expect(response.body.error.code).toBe('rate_limited');
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`).toBe(true);
  }

  it('limits sign-ups per IP', async () => {
    for (let n = 0; n < 3; n += 1) {
      const response = await harness.api('POST', '/wallet/v1/users', {
        body: { phone: randomPhone(), password, name: 'N' },
      });
      expect(response.status).toBe(201);
    }
    expect429(
      await harness.api('POST', '/wallet/v1/users', { body: { phone: randomPhone(), password, name: 'N' } }),
      'fourth sign-up',
    );
  });

  it('limits sign-ins per login and per IP, and opens again after the window', async () => {
    const signIn = (login: string) =>
      harness.api('POST', '/wallet/v1/sessions', {
        body: { login, password: 'wrong wrong wrong', device: randomDevice() },
      });
    const target = randomPhone();
    expect((await signIn(target)).status).toBe(401);
    expect((await signIn(target)).status).toBe(401);
    expect429(await signIn(target), 'third try on one login');
    // Other logins from the same IP: 3 used so far, 3 more allowed.
    for (let n = 0; n < 3; n += 1) expect((await signIn(randomPhone())).status).toBe(401);
    expect429(await signIn(randomPhone()), 'seventh sign-in from one IP');

    harness.clock.advance(60_000);
    expect((await signIn(target)).status).toBe(401);
  });

  it('limits refreshes per IP', async () => {
    harness.clock.advance(60_000);
    const refresh = () =>
      harness.api('POST', '/wallet/v1/sessions/refresh', { body: { refresh_token: `rt_${'B'.repeat(43)}` } });
    expect((await refresh()).status).toBe(401);
    expect((await refresh()).status).toBe(401);
    expect429(await refresh(), 'third refresh');
  });

  it('limits PIN attempts per user, before any PIN is checked', async () => {
    harness.clock.advance(60_000);
    const user = await harness.identity.signUp({ phone: randomPhone(), password, name: 'Pin', clientKey: 'setup' });
    const attempts: string[] = [];
    for (let n = 0; n < 4; n += 1) {
      try {
        await harness.identity.verifyPaymentPin(user.id, '274916');
        attempts.push('ok');
      } catch (error) {
        attempts.push((error as AppError).code);
      }
    }
    expect(attempts).toEqual(['pin_not_set', 'pin_not_set', 'pin_not_set', 'rate_limited']);
  });
});

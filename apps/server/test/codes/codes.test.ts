import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockFrom } from '../../src/platform/clock.js';
import { base32Decode, hotpSha256, offlineCode, totpStep, type RedeemOptions } from '../../src/modules/codes/index.js';
import { AppError } from '../../src/platform/errors.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, signUp, testPassword, type TestUser } from '../support/wallet.js';

/** The codes context's clock: tests move it instead of waiting. */
const clock = { ms: Date.UTC(2026, 10, 23, 10, 0, 0) };
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startPlatform({
    testClocks: { codes: clockFrom(() => clock.ms) },
    offlineCodeCapsJson: JSON.stringify({ CNY: { per_payment: 5_000, daily: 12_000 } }),
  });
});
afterAll(async () => {
  await platform?.close();
});

async function redeem(code: string, options: Partial<RedeemOptions> = {}) {
  return platform.services.codes.redeemPaymentCode(code, {
    amountMinor: 1_000n,
    currency: 'CNY',
    merchantAccountId: 'acct_test_merchant',
    livemode: false,
    ...options,
  });
}

/** The error code a redemption fails with, or 'ok'. */
async function outcome(code: string, options: Partial<RedeemOptions> = {}): Promise<string> {
  try {
    await redeem(code, options);
    return 'ok';
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

async function issue(user: TestUser) {
  const response = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: user.accessToken });
  expect(response.status).toBe(201);
  return response.body as { code: string; object: string; expires_at: number; mode: string };
}

async function currentDeviceId(user: TestUser): Promise<string> {
  const devices = await api(platform.baseUrl, 'GET', '/wallet/v1/devices', { token: user.accessToken });
  const current = (devices.body.data as Array<{ id: string; current: boolean }>).find((device) => device.current);
  expect(current).toBeDefined();
  return current!.id;
}

async function enroll(user: TestUser, deviceId: string) {
  return api(platform.baseUrl, 'POST', `/wallet/v1/devices/${deviceId}/offline_key`, { token: user.accessToken });
}

async function enrolledDevice(user: TestUser) {
  const deviceId = await currentDeviceId(user);
  const response = await enroll(user, deviceId);
  expect(response.status).toBe(200);
  const secret = base32Decode(response.body.secret as string);
  expect(secret).not.toBeNull();
  return { deviceId, deviceNumber: response.body.device_number as string, secret: secret!, body: response.body };
}

function codeAt(device: { deviceNumber: string; secret: Buffer }, stepOffset: number, atMs = clock.ms) {
  return offlineCode({
    deviceNumber: device.deviceNumber,
    secret: device.secret,
    step: totpStep(atMs) + BigInt(stepOffset),
  });
}

describe('online payment codes', () => {
  let alice: TestUser;
  beforeAll(async () => {
    alice = await signUp(platform.baseUrl, 'Alice');
  });

  it('are issued over HTTP, bound to the person and device, and stored only as an HMAC', async () => {
    const issued = await issue(alice);
    expect(issued.code).toMatch(/^88\d{16}$/);
    expect(issued).toEqual({
      code: issued.code,
      object: 'payment_code',
      expires_at: Math.floor((clock.ms + 60_000) / 1_000),
      mode: 'online',
    });
    const rows = await platform.db.query<Record<string, unknown>>('select * from codes_online');
    const row = rows.find((candidate) => candidate.last4 === issued.code.slice(-4));
    expect(row).toBeDefined();
    expect(JSON.stringify(rows)).not.toContain(issued.code);
    expect(JSON.stringify(rows)).not.toContain(issued.code.slice(2));
    expect(row!.code_hash).not.toBe(createHash('sha256').update(issued.code).digest('hex'));
    expect(row!.device_id).toBe(await currentDeviceId(alice));

    const redemption = await redeem(issued.code);
    expect(redemption).toEqual({
      userId: alice.id,
      deviceId: await currentDeviceId(alice),
      mode: 'online',
      redemptionId: expect.stringMatching(/^pcr_[0-9a-f]{32}$/),
      pinExempt: false,
    });
  });

  it('need a valid access token', async () => {
    const response = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: 'nope' });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('token_invalid');
  });

  it('expire 60 s after issuance', async () => {
    const early = await issue(alice);
    const late = await issue(alice);
    expect(await outcome(early.code, { nowMs: clock.ms + 59_999 })).toBe('ok');
    expect(await outcome(late.code, { nowMs: clock.ms + 60_000 })).toBe('payment_code_expired');
    // An expired code stays refused, even when the clock is wound back afterwards.
    expect(await outcome(late.code, { nowMs: clock.ms + 120_000 })).toBe('payment_code_expired');
  });

  it('are single use', async () => {
    const { code } = await issue(alice);
    expect(await outcome(code)).toBe('ok');
    expect(await outcome(code)).toBe('payment_code_used');
    expect(await outcome(code, { nowMs: clock.ms + 3_600_000 })).toBe('payment_code_used');
  });

  it('20 simultaneous redemptions of one code: exactly one succeeds', async () => {
    const { code } = await issue(alice);
    const count = async () =>
      (await platform.db.query<{ count: number }>('select count(*)::int as count from codes_redemptions'))[0]!.count;
    const before = await count();
    const results = await Promise.all(Array.from({ length: 20 }, () => outcome(code)));
    expect(results.filter((result) => result === 'ok')).toHaveLength(1);
    expect(results.filter((result) => result === 'payment_code_used')).toHaveLength(19);
    expect(await count()).toBe(before + 1);
  });

  it('refuse unknown and malformed codes, and unknown currencies', async () => {
    expect(await outcome('881111111111111111')).toBe('payment_code_invalid');
    expect(await outcome('8811')).toBe('payment_code_invalid');
    expect(await outcome('771234567890123456')).toBe('payment_code_invalid');
    const { code } = await issue(alice);
    expect(await outcome(code, { currency: 'XYZ' })).toBe('currency_unsupported');
    // A refused request does not burn the code.
    expect(await outcome(code)).toBe('ok');
  });

  it('a device holds at most 5 live codes, even when asked concurrently', async () => {
    const carol = await signUp(platform.baseUrl, 'Carol');
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: carol.accessToken }),
      ),
    );
    expect(responses.filter((response) => response.status === 201)).toHaveLength(5);
    const refused = responses.filter((response) => response.status === 429);
    expect(refused).toHaveLength(3);
    expect(refused[0]!.body.error.code).toBe('rate_limited');
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
    // Using one frees a slot; so does time.
    expect(await outcome(responses.find((response) => response.status === 201)!.body.code)).toBe('ok');
    expect((await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: carol.accessToken })).status).toBe(
      201,
    );
    expect((await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: carol.accessToken })).status).toBe(
      429,
    );
    clock.ms += 60_000;
    expect((await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: carol.accessToken })).status).toBe(
      201,
    );
  });
});

describe('offline codes', () => {
  it('enrollment returns the key parameters; the secret is stored only encrypted', async () => {
    const dave = await signUp(platform.baseUrl, 'Dave');
    const device = await enrolledDevice(dave);
    expect(device.body).toEqual({
      object: 'offline_key',
      device_id: device.deviceId,
      device_number: expect.stringMatching(/^\d{8}$/),
      secret: expect.stringMatching(/^[A-Z2-7]{52}$/),
      algorithm: 'HMAC-SHA256',
      digits: 8,
      period_s: 30,
      t0: 0,
      format: `89${device.deviceNumber}{totp}`,
      enrolled_at: Math.floor(clock.ms / 1_000),
      offline_limits: [{ currency: 'CNY', per_payment: 5_000, daily: 12_000 }],
    });
    expect(device.secret).toHaveLength(32);
    const rows = await platform.db.query<Record<string, unknown>>(
      'select * from codes_offline_keys where device_id = $1',
      [device.deviceId],
    );
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(device.body.secret);
    expect(stored).not.toContain(device.secret.toString('hex'));
    expect(stored).not.toContain(device.secret.toString('base64'));
    expect(String(rows[0]!.secret_ciphertext)).toMatch(/^v1:/);
  });

  it('accepts the current step, two before and one after; refuses −3 and +2', async () => {
    const erin = await signUp(platform.baseUrl, 'Erin');
    const device = await enrolledDevice(erin);
    for (const offset of [-2, -1, 0, 1]) {
      const redemption = await redeem(codeAt(device, offset), { amountMinor: 100n });
      expect(redemption).toMatchObject({
        userId: erin.id,
        deviceId: device.deviceId,
        mode: 'offline',
        pinExempt: true,
      });
    }
    expect(await outcome(codeAt(device, -3), { amountMinor: 100n })).toBe('payment_code_expired');
    expect(await outcome(codeAt(device, +2), { amountMinor: 100n })).toBe('payment_code_invalid');
    // A wrong TOTP for a real device number.
    const good = codeAt(device, 0);
    const wrong = good.slice(0, 10) + String((Number(good.slice(10)) + 1) % 100_000_000).padStart(8, '0');
    expect(await outcome(wrong)).toBe('payment_code_invalid');
    expect(await outcome(`89${device.deviceNumber === '00000000' ? '00000001' : '00000000'}${good.slice(10)}`)).toBe(
      'payment_code_invalid',
    );
  });

  it('each (device, step) pays once, even with 20 simultaneous redemptions', async () => {
    const frank = await signUp(platform.baseUrl, 'Frank');
    const device = await enrolledDevice(frank);
    const code = codeAt(device, 0);
    const results = await Promise.all(Array.from({ length: 20 }, () => outcome(code, { amountMinor: 100n })));
    expect(results.filter((result) => result === 'ok')).toHaveLength(1);
    expect(results.filter((result) => result === 'payment_code_used')).toHaveLength(19);
    // The same step is refused later too, within its whole window.
    expect(await outcome(code, { amountMinor: 100n, nowMs: clock.ms + 30_000 })).toBe('payment_code_used');
    const rows = await platform.db.query<{ count: number }>(
      `select count(*)::int as count from codes_redemptions where device_id = $1`,
      [device.deviceId],
    );
    expect(rows[0]!.count).toBe(1);
  });

  it('are capped per payment, per day and per currency; a refused payment does not burn the code', async () => {
    const grace = await signUp(platform.baseUrl, 'Grace');
    const device = await enrolledDevice(grace);
    const capOf = async (code: string, amountMinor: bigint, currency = 'CNY') => {
      try {
        await redeem(code, { amountMinor, currency });
        return 'ok';
      } catch (error) {
        return error instanceof AppError ? `${error.code}:${String(error.details?.limit)}` : 'thrown';
      }
    };
    expect(await capOf(codeAt(device, -2), 5_001n)).toBe('offline_limit_exceeded:per_payment');
    expect(await capOf(codeAt(device, -2), 100n, 'USD')).toBe('offline_limit_exceeded:currency');
    expect(await capOf(codeAt(device, -2), 5_000n)).toBe('ok');
    expect(await capOf(codeAt(device, -1), 5_000n)).toBe('ok');
    expect(await capOf(codeAt(device, 0), 5_000n)).toBe('offline_limit_exceeded:daily');
    expect(await capOf(codeAt(device, 0), 2_000n)).toBe('ok');
    expect(await capOf(codeAt(device, 1), 1n)).toBe('offline_limit_exceeded:daily');
    // A new UTC day starts a new count.
    clock.ms += 86_400_000;
    expect(await capOf(codeAt(device, 0), 5_000n)).toBe('ok');
  });

  it('concurrent offline payments of one device cannot together pass the daily cap', async () => {
    const heidi = await signUp(platform.baseUrl, 'Heidi');
    const device = await enrolledDevice(heidi);
    // Four distinct steps of 5,000 each against a 12,000 daily cap: at most two succeed.
    const results = await Promise.all(
      [-2, -1, 0, 1].map((offset) => outcome(codeAt(device, offset), { amountMinor: 5_000n })),
    );
    expect(results.filter((result) => result === 'ok')).toHaveLength(2);
    expect(results.filter((result) => result === 'offline_limit_exceeded')).toHaveLength(2);
  });

  it('re-enrolling keeps the device number and replaces the secret', async () => {
    const ivan = await signUp(platform.baseUrl, 'Ivan');
    const first = await enrolledDevice(ivan);
    const second = await enrolledDevice(ivan);
    expect(second.deviceNumber).toBe(first.deviceNumber);
    expect(second.secret.equals(first.secret)).toBe(false);
    expect(await outcome(codeAt(first, 0))).toBe('payment_code_invalid');
    expect(await outcome(codeAt(second, 0))).toBe('ok');
  });

  it("another person's device, an unknown one and another of one's own devices are refused", async () => {
    const judy = await signUp(platform.baseUrl, 'Judy');
    const mallory = await signUp(platform.baseUrl, 'Mallory');
    const judyDevice = await currentDeviceId(judy);
    const response = await enroll(mallory, judyDevice);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
    expect((await enroll(mallory, 'dev_00000000000000000000000000000000')).status).toBe(404);
    expect((await enroll(mallory, 'not-a-device')).status).toBe(404);

    // Judy signs in on a second phone: that phone cannot fetch the first phone's secret.
    const second = await api(platform.baseUrl, 'POST', '/wallet/v1/sessions', {
      body: {
        login: judy.phone,
        password: testPassword,
        device: { id: 'judy-second-phone', name: 'P2', platform: 'ios' },
      },
    });
    expect(second.status).toBe(200);
    const fromSecond = await api(platform.baseUrl, 'POST', `/wallet/v1/devices/${judyDevice}/offline_key`, {
      token: second.body.access_token,
    });
    expect(fromSecond.status).toBe(403);
    expect(fromSecond.body.error.code).toBe('forbidden');
  });
});

describe('a revoked device', () => {
  it('takes its online codes and its offline key with it', async () => {
    const kim = await signUp(platform.baseUrl, 'Kim');
    const device = await enrolledDevice(kim);
    const online = await issue(kim);
    const offline = codeAt(device, 0);
    // Kim removes the phone from a second device.
    const other = await api(platform.baseUrl, 'POST', '/wallet/v1/sessions', {
      body: {
        login: kim.phone,
        password: testPassword,
        device: { id: 'kim-laptop-01', name: 'Laptop', platform: 'web' },
      },
    });
    expect(other.status).toBe(200);
    const removed = await api(platform.baseUrl, 'DELETE', `/wallet/v1/devices/${device.deviceId}`, {
      token: other.body.access_token,
    });
    expect(removed.status).toBe(204);

    expect(await outcome(online.code)).toBe('payment_code_invalid');
    expect(await outcome(offline)).toBe('payment_code_invalid');
    expect(await outcome(codeAt(device, 1))).toBe('payment_code_invalid');
    // The revoked device's token no longer works, and nobody can enroll the revoked device again.
    expect((await enroll(kim, device.deviceId)).status).toBe(401);
    const fromOther = await api(platform.baseUrl, 'POST', `/wallet/v1/devices/${device.deviceId}/offline_key`, {
      token: other.body.access_token,
    });
    expect(fromOther.status).toBe(404);
    const keys = await platform.db.query<{ revoked_at: Date | null }>(
      'select revoked_at from codes_offline_keys where device_id = $1',
      [device.deviceId],
    );
    expect(keys[0]!.revoked_at).not.toBeNull();
  });

  it('is refused even when the revocation hook did not run (identity is checked at redemption)', async () => {
    const leo = await signUp(platform.baseUrl, 'Leo');
    const device = await enrolledDevice(leo);
    const online = await issue(leo);
    // Revoke the device row directly, bypassing identity's hook.
    await platform.db.query('update identity_devices set revoked_at = now() where id = $1', [device.deviceId]);
    expect(await outcome(online.code)).toBe('payment_code_invalid');
    expect(await outcome(codeAt(device, 0))).toBe('payment_code_invalid');
  });
});

describe('housekeeping', () => {
  it('deleteExpiredCodes removes online codes a day past expiry, and only those', async () => {
    const mia = await signUp(platform.baseUrl, 'Mia');
    const { code } = await issue(mia);
    const before = await platform.db.query<{ count: number }>('select count(*)::int as count from codes_online');
    clock.ms += 86_400_000 + 61_000;
    const fresh = await issue(await signUp(platform.baseUrl, 'Nia'));
    const deleted = await platform.services.codes.deleteExpiredCodes();
    expect(deleted).toBeGreaterThanOrEqual(1);
    const after = await platform.db.query<{ count: number }>('select count(*)::int as count from codes_online');
    expect(after[0]!.count).toBe(before[0]!.count + 1 - deleted);
    expect(await outcome(code)).toBe('payment_code_invalid');
    expect(await outcome(fresh.code)).toBe('ok');
    // Offline redemptions are not touched: they guard against replays.
    const redemptions = await platform.db.query<{ count: number }>(
      `select count(*)::int as count from codes_redemptions where mode = 'offline'`,
    );
    expect(redemptions[0]!.count).toBeGreaterThan(0);
  });
});

it('hotpSha256 is what the server checks (sanity link between test helpers and server)', () => {
  const secret = Buffer.alloc(32, 1);
  expect(offlineCode({ deviceNumber: '00000001', secret, step: 5n })).toBe(`8900000001${hotpSha256(secret, 5n)}`);
});

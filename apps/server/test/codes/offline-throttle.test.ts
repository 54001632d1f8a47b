import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockFrom } from '../../src/platform/clock.js';
import { base32Decode, offlineCode, totpStep, type RedeemOptions } from '../../src/modules/codes/index.js';
import { offlineTotp } from '../../src/modules/codes/totp.js';
import { AppError } from '../../src/platform/errors.js';
import { limits } from '../../src/platform/limits.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { api, signUp, type TestUser } from '../support/wallet.js';

/**
 * Offline codes carry their device number in clear: redemption attempts are throttled per device
 * number (the key is suspended) and per merchant (429), with counts in PostgreSQL.
 */
const clock = { ms: Date.UTC(2026, 10, 23, 10, 0, 0) };
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startPlatform({ testClocks: { codes: clockFrom(() => clock.ms) } });
});
afterAll(async () => {
  await platform?.close();
});

interface Device {
  user: TestUser;
  deviceId: string;
  deviceNumber: string;
  secret: Buffer;
}

async function enrolledDevice(name: string, user?: TestUser): Promise<Device> {
  const owner = user ?? (await signUp(platform.baseUrl, name));
  const devices = await api(platform.baseUrl, 'GET', '/wallet/v1/devices', { token: owner.accessToken });
  const deviceId = (devices.body.data as { id: string; current: boolean }[]).find((device) => device.current)!.id;
  const enrolled = await api(platform.baseUrl, 'POST', `/wallet/v1/devices/${deviceId}/offline_key`, {
    token: owner.accessToken,
  });
  expect(enrolled.status).toBe(200);
  return {
    user: owner,
    deviceId,
    deviceNumber: enrolled.body.device_number as string,
    secret: base32Decode(enrolled.body.secret as string)!,
  };
}

function validCode(device: Device, stepOffset = 0): string {
  return offlineCode({
    deviceNumber: device.deviceNumber,
    secret: device.secret,
    step: totpStep(clock.ms) + BigInt(stepOffset),
  });
}

/** A code of the device that no accepted step (nor a recognised expired one) matches. */
function wrongCodes(device: Device, count: number): string[] {
  const current = totpStep(clock.ms);
  const taken = new Set<string>();
  for (
    let step = current - BigInt(offlineTotp.stepsBehindMax + limits.codesOfflineExpiredLookbackSteps);
    step <= current + BigInt(offlineTotp.stepsAheadMax);
    step += 1n
  ) {
    taken.add(offlineCode({ deviceNumber: device.deviceNumber, secret: device.secret, step }));
  }
  const codes: string[] = [];
  for (let guess = 0; codes.length < count; guess += 1) {
    const code = `89${device.deviceNumber}${String(guess * 7_919).padStart(8, '0')}`;
    if (!taken.has(code)) codes.push(code);
  }
  return codes;
}

async function redeem(code: string, merchantAccountId: string, options: Partial<RedeemOptions> = {}): Promise<string> {
  try {
    await platform.services.codes.redeemPaymentCode(code, {
      amountMinor: 1_000n,
      currency: 'CNY',
      merchantAccountId,
      livemode: false,
      ...options,
    });
    return 'ok';
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

async function count(sql: string, params: (string | boolean)[] = []): Promise<number> {
  const rows = await platform.db.query<{ count: number }>(sql, params);
  return Number(rows[0]!.count);
}

async function suspended(device: Device): Promise<boolean> {
  const rows = await platform.db.query<{ suspended_at: Date | null }>(
    'select suspended_at from codes_offline_keys where device_id = $1',
    [device.deviceId],
  );
  return rows[0]!.suspended_at !== null;
}

async function notificationsOf(device: Device) {
  const listed = await api(platform.baseUrl, 'GET', '/wallet/v1/notifications', { token: device.user.accessToken });
  expect(listed.status).toBe(200);
  return listed.body.data as { type: string; data: Record<string, unknown> }[];
}

describe('300 rapid guesses at one device number through POST /v1/payment_intents/:id/confirm', () => {
  let attacker: TestMerchant;
  let honest: TestMerchant;
  let victim: Device;
  let bystander: Device;
  let intentId: string;
  const statuses: number[] = [];
  const retryAfters: (string | null)[] = [];

  beforeAll(async () => {
    attacker = await createMerchant(platform.baseUrl, platform.adminToken);
    honest = await createMerchant(platform.baseUrl, platform.adminToken);
    victim = await enrolledDevice('Victim');
    bystander = await enrolledDevice('Bystander');
    const intent = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
      key: attacker.secretKey,
      form: { amount: 1000, currency: 'cny' },
    });
    expect(intent.status).toBe(200);
    intentId = intent.body.id as string;
    const answers = await Promise.all(
      wrongCodes(victim, 300).map((code) =>
        v1(platform.baseUrl, 'POST', `/v1/payment_intents/${intentId}/confirm`, {
          key: attacker.secretKey,
          form: { payment_method_data: { type: 'wallet', wallet: { code } } },
        }),
      ),
    );
    for (const answer of answers) {
      statuses.push(answer.status);
      if (answer.status === 429) {
        expect(answer.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit' });
        retryAfters.push(answer.headers.get('retry-after'));
      } else {
        expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'payment_code_invalid' });
      }
    }
  });

  it('only the merchant’s allowance is answered at all; the rest is 429 with Retry-After', () => {
    const refused = statuses.filter((status) => status === 400).length;
    expect(refused).toBe(limits.codesOfflineFailuresPerMerchantMax);
    expect(statuses.filter((status) => status === 429)).toHaveLength(300 - refused);
    for (const value of retryAfters) {
      expect(Number(value)).toBeGreaterThanOrEqual(1);
      expect(Number(value)).toBeLessThanOrEqual(limits.codesOfflineFailuresPerMerchantWindowMs / 1_000);
    }
  });

  it('the device number has its 5 failures, the merchant its 30, and the key is suspended', async () => {
    expect(
      await count(
        `select failures as count from codes_offline_attempts where kind = 'device_number' and subject = $1`,
        [victim.deviceNumber],
      ),
    ).toBe(limits.codesOfflineFailuresPerDeviceMax);
    expect(
      await count(`select failures as count from codes_offline_attempts where kind = 'merchant' and subject = $1`, [
        attacker.id,
      ]),
    ).toBe(limits.codesOfflineFailuresPerMerchantMax);
    expect(await suspended(victim)).toBe(true);
  });

  it('the person is told, once, in a notification', async () => {
    const told = (await notificationsOf(victim)).filter(
      (notification) => notification.type === 'offline_key.suspended',
    );
    expect(told).toHaveLength(1);
    expect(told[0]!.data).toMatchObject({ device_id: victim.deviceId, device_number: victim.deviceNumber });
  });

  it('the guesses left the intent as it was: no charge, no redemption, no approval', async () => {
    const intent = await v1(platform.baseUrl, 'GET', `/v1/payment_intents/${intentId}`, { key: attacker.secretKey });
    expect(intent.body).toMatchObject({
      status: 'requires_payment_method',
      latest_charge: null,
      last_payment_error: null,
    });
    expect(
      await count('select count(*)::int as count from payments_charges where payment_intent_id = $1', [intentId]),
    ).toBe(0);
    expect(
      await count('select count(*)::int as count from payments_approvals where payment_intent_id = $1', [intentId]),
    ).toBe(0);
    expect(
      await count('select count(*)::int as count from codes_redemptions where merchant_account_id = $1', [attacker.id]),
    ).toBe(0);
  });

  it('a valid code of another device still pays (at another merchant); the victim’s own valid code does not', async () => {
    const paid = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
      key: honest.secretKey,
      form: {
        amount: 1000,
        currency: 'cny',
        confirm: true,
        payment_method_data: { type: 'wallet', wallet: { code: validCode(bystander) } },
      },
    });
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe('succeeded');
    expect(await redeem(validCode(victim), honest.id)).toBe('payment_code_invalid');
  });

  it('the throttled merchant is answered again in its next window', async () => {
    expect(await redeem(validCode(bystander, 1), attacker.id)).toBe('rate_limited');
    clock.ms += limits.codesOfflineFailuresPerMerchantWindowMs;
    expect(await redeem(validCode(bystander), attacker.id)).toBe('ok');
    // Still suspended: a new window does not revive the victim's key.
    expect(await redeem(validCode(victim), attacker.id)).toBe('payment_code_invalid');
  });

  it('enrolling again lifts the suspension and clears the count', async () => {
    const again = await enrolledDevice('Victim', victim.user);
    expect(again.deviceNumber).toBe(victim.deviceNumber);
    expect(await suspended(again)).toBe(false);
    expect(await redeem(validCode(again), honest.id)).toBe('ok');
    expect(
      await count(
        `select coalesce(sum(failures), 0)::int as count from codes_offline_attempts where kind = 'device_number' and subject = $1`,
        [again.deviceNumber],
      ),
    ).toBe(0);
  });
});

describe('failures per device number', () => {
  it('a correct code after a few failures still pays; the 5th failure in the window suspends', async () => {
    const device = await enrolledDevice('Few mistakes');
    const merchant = `acct_throttle_${device.deviceNumber}`;
    const wrong = wrongCodes(device, limits.codesOfflineFailuresPerDeviceMax);
    for (const code of wrong.slice(0, 3)) expect(await redeem(code, merchant)).toBe('payment_code_invalid');
    expect(await redeem(validCode(device, 0), merchant)).toBe('ok');
    expect(await redeem(wrong[3]!, merchant)).toBe('payment_code_invalid');
    expect(await redeem(validCode(device, -1), merchant)).toBe('ok');
    expect(await suspended(device)).toBe(false);
    expect(await redeem(wrong[4]!, merchant)).toBe('payment_code_invalid');
    expect(await suspended(device)).toBe(true);
    expect(await redeem(validCode(device, 1), merchant)).toBe('payment_code_invalid');
    const told = (await notificationsOf(device)).filter(
      (notification) => notification.type === 'offline_key.suspended',
    );
    expect(told).toHaveLength(1);
  });

  it('codes that are not guesses (expired, used, over a cap) are not counted as failures', async () => {
    const device = await enrolledDevice('Honest mistakes');
    const merchant = `acct_throttle_${device.deviceNumber}`;
    for (let index = 0; index < limits.codesOfflineFailuresPerDeviceMax + 1; index += 1) {
      expect(await redeem(validCode(device, -3 - index), merchant)).toBe('payment_code_expired');
      expect(await redeem(validCode(device, 0), merchant, { amountMinor: 10_000_000n })).toBe('offline_limit_exceeded');
    }
    expect(await redeem(validCode(device, 0), merchant)).toBe('ok');
    expect(await redeem(validCode(device, 0), merchant)).toBe('payment_code_used');
    expect(await suspended(device)).toBe(false);
    expect(
      await count(`select failures as count from codes_offline_attempts where kind = 'merchant' and subject = $1`, [
        merchant,
      ]),
    ).toBe(0);
  });

  it('20 simultaneous wrong codes for one device (from 20 merchants) count 5 failures and suspend it once', async () => {
    const device = await enrolledDevice('Burst');
    const results = await Promise.all(wrongCodes(device, 20).map((code, index) => redeem(code, `acct_burst_${index}`)));
    expect(new Set(results)).toEqual(new Set(['payment_code_invalid']));
    expect(
      await count(
        `select failures as count from codes_offline_attempts where kind = 'device_number' and subject = $1`,
        [device.deviceNumber],
      ),
    ).toBe(limits.codesOfflineFailuresPerDeviceMax);
    expect(await suspended(device)).toBe(true);
    expect((await notificationsOf(device)).filter((n) => n.type === 'offline_key.suspended')).toHaveLength(1);
  });

  it('20 simultaneous redemptions of one valid code: one pays, 19 are payment_code_used, none counted', async () => {
    const device = await enrolledDevice('Replay');
    const merchant = `acct_replay_${device.deviceNumber}`;
    const code = validCode(device, 0);
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem(code, merchant, { amountMinor: 100n })));
    expect(results.filter((result) => result === 'ok')).toHaveLength(1);
    expect(results.filter((result) => result === 'payment_code_used')).toHaveLength(19);
    expect(
      await count(`select failures as count from codes_offline_attempts where kind = 'merchant' and subject = $1`, [
        merchant,
      ]),
    ).toBe(0);
  });

  it('ended windows are purged', async () => {
    clock.ms +=
      2 * Math.max(limits.codesOfflineFailuresPerDeviceWindowMs, limits.codesOfflineFailuresPerMerchantWindowMs);
    expect(await platform.services.codes.deleteExpiredAttempts()).toBeGreaterThan(0);
    expect(
      await count('select count(*)::int as count from codes_offline_attempts where window_start < $1', [
        new Date(clock.ms - limits.codesOfflineFailuresPerDeviceWindowMs).toISOString(),
      ]),
    ).toBe(0);
  });
});

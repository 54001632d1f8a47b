import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Db, SqlExecutor } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import { limits } from '../../platform/limits.js';
import { isKnownCurrency } from '../../platform/money.js';
import { rateLimitedError } from '../../platform/rate-limit.js';
import type { NotificationWriter } from '../events/index.js';
import type { Device } from '../identity/index.js';
import { createOfflineAttempts, type OfflineAttemptLimits } from './attempts.js';
import { defaultOfflineCaps, type OfflineCap, type OfflineCapsTable } from './caps.js';
import { decryptSecret, encryptSecret, hmacHex, loadCodeKeys, type CodeKeys } from './secrets.js';
import { base32Encode, hotpSha256, offlineTotp, totpStep } from './totp.js';

/** What codes need from identity: whether a device exists, whose it is, and whether it is revoked. */
export interface CodesIdentity {
  getDevice(deviceId: string): Promise<Device | null>;
}

export interface CodeServiceDeps {
  db: Db;
  identity: CodesIdentity;
  /** Milliseconds since the epoch (Date.now by default): issuance, expiry and TOTP steps use it. */
  now?: () => number;
  offlineCaps?: OfflineCapsTable;
  /** Tells a person their offline key was suspended after too many wrong codes (attempts.ts). */
  notifications?: NotificationWriter;
  /** Offline code guessing limits; limits.ts codesOfflineFailures… by default. */
  offlineAttemptLimits?: OfflineAttemptLimits;
}

export type CodeMode = 'online' | 'offline';

export interface OnlineCode {
  code: string;
  /** Unix seconds. */
  expiresAt: number;
  mode: 'online';
}

export interface OfflineKeyEnrollment {
  deviceId: string;
  deviceNumber: string;
  /** RFC 4648 base32 without padding of the 32-byte secret: shown once, stored only encrypted. */
  secret: string;
  /** Unix seconds. */
  enrolledAt: number;
  caps: ReadonlyArray<{ currency: string } & OfflineCap>;
}

export interface RedeemOptions {
  amountMinor: bigint;
  currency: string;
  merchantAccountId: string;
  livemode: boolean;
  /**
   * The payment the code pays. Redeeming the same code again for the same payment and amount (a
   * retry after a crash) answers with the first redemption instead of payment_code_used.
   */
  paymentIntentId?: string;
  /** The moment of redemption (tests); the service clock by default. */
  nowMs?: number;
}

export interface Redemption {
  userId: string;
  deviceId: string;
  mode: CodeMode;
  /** pcr_…: names this redemption in the payment that consumed the code. */
  redemptionId: string;
  /**
   * The payer-side PIN decision: true for offline codes (the amount is within the offline caps,
   * checked here, and the phone cannot be reached for a PIN); false for online codes, where the
   * payments context applies the person's own no-PIN threshold.
   */
  pinExempt: boolean;
}

export interface CodeService {
  /** Issues an online code bound to the person and the device of their access token. */
  issueOnlineCode(principal: { userId: string; deviceId: string }): Promise<OnlineCode>;
  /**
   * Enrolls (or re-enrolls, replacing the secret) the offline key of a device. The device must be
   * the caller's, live, and the one making the request: not_found or forbidden otherwise.
   */
  enrollOfflineKey(input: { userId: string; callerDeviceId: string; deviceId: string }): Promise<OfflineKeyEnrollment>;
  /**
   * Consumes a code for one payment. Throws payment_code_invalid, payment_code_expired,
   * payment_code_used, offline_limit_exceeded or currency_unsupported. A used code stays used.
   */
  redeemPaymentCode(code: string, options: RedeemOptions): Promise<Redemption>;
  /** The offline cap of a currency, or null when it cannot be paid offline. */
  offlineCapFor(currency: string): OfflineCap | null;
  /** Deletes up to codesPurgeBatchMax online codes expired longer than the retention; returns how many. */
  deleteExpiredCodes(): Promise<number>;
  /** Deletes up to codesOfflineAttemptsPurgeBatchMax ended offline attempt windows; returns how many. */
  deleteExpiredAttempts(): Promise<number>;
}

/** The two consumer code formats: online "88" + 16 digits, offline "89" + 8 + 8 digits. */
export type CodeFormat =
  { mode: 'online'; code: string } | { mode: 'offline'; code: string; deviceNumber: string; totp: string };

/** Pure syntax check of a consumer payment code; null when it is neither format. */
export function validateCodeFormat(code: string): CodeFormat | null {
  if (typeof code !== 'string' || !/^\d{18}$/.test(code)) return null;
  if (code.startsWith('88')) return { mode: 'online', code };
  if (code.startsWith('89')) return { mode: 'offline', code, deviceNumber: code.slice(2, 10), totp: code.slice(10) };
  return null;
}

/**
 * Runs inside the transaction that revokes a device (identity's onDeviceRevoked): the device's
 * unused online codes and its offline key stop working with the revocation, atomically.
 */
export async function revokeCodesOfDevice(tx: SqlExecutor, device: { userId: string; deviceId: string }) {
  await tx.query(
    `update codes_online set revoked_at = now()
      where device_id = $1 and used_at is null and revoked_at is null`,
    [device.deviceId],
  );
  await tx.query(`update codes_offline_keys set revoked_at = now() where device_id = $1 and revoked_at is null`, [
    device.deviceId,
  ]);
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

function newRedemptionId(): string {
  return `pcr_${randomBytes(16).toString('hex')}`;
}

/** 16 uniformly random digits (randomInt draws below 2^48, so two draws of 8 digits). */
function randomDigits16(): string {
  return `${String(randomInt(0, 100_000_000)).padStart(8, '0')}${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

const invalidCode = () => new AppError('payment_code_invalid', { param: 'code' });

export function createCodeService(deps: CodeServiceDeps): CodeService {
  const { db, identity } = deps;
  const now = deps.now ?? Date.now;
  const caps = deps.offlineCaps ?? defaultOfflineCaps;
  const attempts = createOfflineAttempts({
    db,
    ...(deps.notifications === undefined ? {} : { notifications: deps.notifications }),
    ...(deps.offlineAttemptLimits === undefined ? {} : { limits: deps.offlineAttemptLimits }),
  });
  let keysPromise: Promise<CodeKeys> | null = null;

  /** The derived keys, loaded (or created) once per process; a failed load is retried next time. */
  function codeKeys(): Promise<CodeKeys> {
    if (keysPromise === null) {
      keysPromise = loadCodeKeys(db).catch((error: unknown) => {
        keysPromise = null;
        throw error;
      });
    }
    return keysPromise;
  }

  async function liveDevice(deviceId: string): Promise<Device | null> {
    const device = await identity.getDevice(deviceId);
    return device === null || device.revokedAt !== null ? null : device;
  }

  async function issueOnlineCode(principal: { userId: string; deviceId: string }): Promise<OnlineCode> {
    const keys = await codeKeys();
    const at = now();
    const expiresAtMs = at + limits.codesOnlineCodeLifetimeMs;
    const code = await db.transaction(async (tx) => {
      // Serialises issuance per device so that the live-code count below cannot be raced past.
      await tx.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`codes_online:${principal.deviceId}`]);
      const live = await tx.query<{ count: number; first_expiry: Date | null }>(
        `select count(*)::int as count, min(expires_at) as first_expiry from codes_online
          where device_id = $1 and expires_at > $2 and used_at is null and revoked_at is null`,
        [principal.deviceId, new Date(at)],
      );
      const { count, first_expiry: firstExpiry } = live[0] ?? { count: 0, first_expiry: null };
      if (count >= limits.codesOnlineLiveCodesPerDeviceMax) {
        const waitMs = firstExpiry === null ? 1_000 : firstExpiry.getTime() - at;
        throw rateLimitedError(Math.max(1, Math.ceil(waitMs / 1_000)));
      }
      for (let draw = 0; draw < limits.codesOnlineCodeDrawsMax; draw += 1) {
        const candidate = `88${randomDigits16()}`;
        // A candidate equal to a stored code (live or kept after expiry) is drawn again.
        const inserted = await tx.query(
          `insert into codes_online (code_hash, user_id, device_id, last4, created_at, expires_at)
           values ($1, $2, $3, $4, $5, $6)
           on conflict (code_hash) do nothing
           returning code_hash`,
          [
            hmacHex(keys.onlineCodeHmac, candidate),
            principal.userId,
            principal.deviceId,
            candidate.slice(-4),
            new Date(at),
            new Date(expiresAtMs),
          ],
        );
        if (inserted.length === 1) return candidate;
      }
      throw new Error(`no free online code after ${limits.codesOnlineCodeDrawsMax} draws`);
    });
    assert(validateCodeFormat(code)?.mode === 'online', 'an issued online code has the online format');
    return { code, expiresAt: Math.floor(expiresAtMs / 1_000), mode: 'online' };
  }

  function capsList(): Array<{ currency: string } & OfflineCap> {
    return [...caps.entries()].map(([currency, cap]) => ({ currency, ...cap }));
  }

  async function enrollOfflineKey(input: {
    userId: string;
    callerDeviceId: string;
    deviceId: string;
  }): Promise<OfflineKeyEnrollment> {
    const device = await liveDevice(input.deviceId);
    // Another person's device, an unknown one and a revoked one look the same: 404.
    if (device === null || device.userId !== input.userId) {
      throw new AppError('not_found', { message: 'No such device.', param: 'id' });
    }
    if (input.deviceId !== input.callerDeviceId) {
      // The secret goes only to the device that will use it.
      throw new AppError('forbidden', {
        message: 'An offline key can only be enrolled from the device itself.',
        param: 'id',
      });
    }
    const keys = await codeKeys();
    const secret = randomBytes(offlineTotp.secretBytes);
    const ciphertext = encryptSecret(keys.offlineKeyEncryption, secret, input.deviceId);
    const at = new Date(now());
    for (let draw = 0; draw < limits.codesDeviceNumberDrawsMax; draw += 1) {
      const candidate = String(randomInt(0, 100_000_000)).padStart(8, '0');
      try {
        // Re-enrolling keeps the device number and replaces the secret; a revoked key stays revoked.
        // It also lifts a suspension for wrong codes and clears their count (attempts.ts), atomically.
        const rows = await db.query<{ device_number: string }>(
          `with enrolled as (
             insert into codes_offline_keys
               (device_id, user_id, device_number, secret_ciphertext, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $5)
             on conflict (device_id) do update
               set secret_ciphertext = excluded.secret_ciphertext, updated_at = excluded.updated_at,
                   suspended_at = null
               where codes_offline_keys.revoked_at is null and codes_offline_keys.user_id = excluded.user_id
             returning device_number
           ), forgotten as (
             delete from codes_offline_attempts
              where kind = 'device_number' and subject in (select device_number from enrolled)
           )
           select device_number from enrolled`,
          [input.deviceId, input.userId, candidate, ciphertext, at],
        );
        const deviceNumber = rows[0]?.device_number;
        if (deviceNumber === undefined) throw new AppError('not_found', { message: 'No such device.', param: 'id' });
        assert(/^\d{8}$/.test(deviceNumber), 'a device number is 8 digits');
        return {
          deviceId: input.deviceId,
          deviceNumber,
          secret: base32Encode(secret),
          enrolledAt: Math.floor(at.getTime() / 1_000),
          caps: capsList(),
        };
      } catch (error) {
        // The only unique key the upsert can break is device_number: draw another.
        if (!isUniqueViolation(error)) throw error;
      }
    }
    throw new Error(`no free device number after ${limits.codesDeviceNumberDrawsMax} draws`);
  }

  async function redeemOnline(code: string, options: RedeemOptions, at: number): Promise<Redemption> {
    const keys = await codeKeys();
    const codeHash = hmacHex(keys.onlineCodeHmac, code);
    const found = await db.query<{
      user_id: string;
      device_id: string;
      expires_at: Date;
      used_at: Date | null;
      revoked_at: Date | null;
    }>(`select user_id, device_id, expires_at, used_at, revoked_at from codes_online where code_hash = $1`, [codeHash]);
    const row = found[0];
    if (row === undefined || row.revoked_at !== null) throw invalidCode();
    if (row.used_at !== null) {
      const earlier = await sameRedemption(
        db,
        { sql: 'id = (select redemption_id from codes_online where code_hash = $1)', params: [codeHash] },
        options,
      );
      if (earlier === null) throw new AppError('payment_code_used', { param: 'code' });
      return {
        userId: earlier.user_id,
        deviceId: earlier.device_id,
        mode: 'online',
        redemptionId: earlier.id,
        pinExempt: false,
      };
    }
    if (row.expires_at.getTime() <= at) throw new AppError('payment_code_expired', { param: 'code' });
    // The revocation hook already voids a revoked device's codes; this also covers a missing hook.
    const device = await liveDevice(row.device_id);
    if (device === null || device.userId !== row.user_id) throw invalidCode();

    const redemptionId = newRedemptionId();
    const userId = await db.transaction(async (tx) => {
      // The conditional update is the single-use guarantee: of concurrent redemptions, one updates.
      const claimed = await tx.query<{ user_id: string; device_id: string }>(
        `update codes_online set used_at = $2, redemption_id = $3
          where code_hash = $1 and used_at is null and revoked_at is null and expires_at > $2
          returning user_id, device_id`,
        [codeHash, new Date(at), redemptionId],
      );
      const claim = claimed[0];
      if (claim === undefined) return null;
      assert(claim.user_id === row.user_id && claim.device_id === row.device_id, 'a code keeps its owner');
      await insertRedemption(tx, {
        id: redemptionId,
        mode: 'online',
        userId: claim.user_id,
        deviceId: claim.device_id,
        offlineStep: null,
        options,
        at,
      });
      return claim.user_id;
    });
    if (userId === null) {
      // Lost a race: the code was used (or revoked, or expired) since it was read.
      const after = await db.query<{ used_at: Date | null; revoked_at: Date | null }>(
        `select used_at, revoked_at from codes_online where code_hash = $1`,
        [codeHash],
      );
      const current = after[0];
      if (current === undefined || current.revoked_at !== null) throw invalidCode();
      if (current.used_at !== null) throw new AppError('payment_code_used', { param: 'code' });
      throw new AppError('payment_code_expired', { param: 'code' });
    }
    return { userId, deviceId: row.device_id, mode: 'online', redemptionId, pinExempt: false };
  }

  async function insertRedemption(
    tx: SqlExecutor,
    redemption: {
      id: string;
      mode: CodeMode;
      userId: string;
      deviceId: string;
      offlineStep: bigint | null;
      options: RedeemOptions;
      at: number;
    },
  ): Promise<boolean> {
    const rows = await tx.query(
      `insert into codes_redemptions
         (id, mode, user_id, device_id, offline_step, amount_minor, currency, merchant_account_id, livemode, created_at,
          payment_intent_id)
       values ($1, $2, $3, $4, $5::bigint, $6::bigint, $7, $8, $9, $10, $11)
       on conflict (device_id, offline_step) where mode = 'offline' do nothing
       returning id`,
      [
        redemption.id,
        redemption.mode,
        redemption.userId,
        redemption.deviceId,
        redemption.offlineStep,
        redemption.options.amountMinor,
        redemption.options.currency,
        redemption.options.merchantAccountId,
        redemption.options.livemode,
        new Date(redemption.at),
        redemption.options.paymentIntentId ?? null,
      ],
    );
    return rows.length === 1;
  }

  /**
   * The earlier redemption a retry of the same payment made: same payment, amount, currency,
   * merchant and mode; null when the code was used for anything else.
   */
  async function sameRedemption(
    executor: SqlExecutor,
    where: { sql: string; params: (string | bigint)[] },
    options: RedeemOptions,
  ): Promise<{ id: string; user_id: string; device_id: string; mode: CodeMode } | null> {
    if (options.paymentIntentId === undefined) return null;
    const rows = await executor.query<{ id: string; user_id: string; device_id: string; mode: CodeMode }>(
      `select id, user_id, device_id, mode from codes_redemptions
        where ${where.sql} and payment_intent_id = $${where.params.length + 1}
          and amount_minor = $${where.params.length + 2}::bigint and currency = $${where.params.length + 3}
          and merchant_account_id = $${where.params.length + 4} and livemode = $${where.params.length + 5}`,
      [
        ...where.params,
        options.paymentIntentId,
        options.amountMinor,
        options.currency,
        options.merchantAccountId,
        options.livemode,
      ],
    );
    return rows[0] ?? null;
  }

  /** Which step of the accepted window (current −2 … +1) the TOTP is for, or why none is. */
  function matchStep(secret: Buffer, totp: string, at: number): { step: bigint } | { refused: 'expired' | 'invalid' } {
    const current = totpStep(at);
    const presented = Buffer.from(totp, 'utf8');
    const matches = (step: bigint) =>
      step >= 0n && timingSafeEqual(Buffer.from(hotpSha256(secret, step), 'utf8'), presented);
    for (let offset = BigInt(offlineTotp.stepsAheadMax); offset >= -BigInt(offlineTotp.stepsBehindMax); offset -= 1n) {
      if (matches(current + offset)) return { step: current + offset };
    }
    // Recognising a recent older step only changes the error a cashier sees; it accepts nothing.
    const oldest = current - BigInt(offlineTotp.stepsBehindMax + limits.codesOfflineExpiredLookbackSteps);
    for (let step = current - BigInt(offlineTotp.stepsBehindMax) - 1n; step >= oldest; step -= 1n) {
      if (matches(step)) return { refused: 'expired' };
    }
    return { refused: 'invalid' };
  }

  async function redeemOffline(
    format: { deviceNumber: string; totp: string },
    options: RedeemOptions,
    at: number,
  ): Promise<Redemption> {
    const found = await db.query<{
      device_id: string;
      user_id: string;
      secret_ciphertext: string;
      revoked_at: Date | null;
    }>(`select device_id, user_id, secret_ciphertext, revoked_at from codes_offline_keys where device_number = $1`, [
      format.deviceNumber,
    ]);
    const key = found[0];
    if (key === undefined || key.revoked_at !== null) throw invalidCode();
    const device = await liveDevice(key.device_id);
    if (device === null || device.userId !== key.user_id) throw invalidCode();

    const keys = await codeKeys();
    const secret = decryptSecret(keys.offlineKeyEncryption, key.secret_ciphertext, key.device_id);
    const matched = matchStep(secret, format.totp, at);
    if ('refused' in matched) {
      throw matched.refused === 'expired' ? new AppError('payment_code_expired', { param: 'code' }) : invalidCode();
    }

    const cap = caps.get(options.currency);
    if (cap === undefined) {
      throw new AppError('offline_limit_exceeded', {
        message: `Payments in ${options.currency} cannot be made with an offline code.`,
        details: { limit: 'currency' },
      });
    }
    if (options.amountMinor > cap.perPaymentMax) {
      throw new AppError('offline_limit_exceeded', {
        message: 'This payment is over the per-payment limit of offline codes.',
        details: { limit: 'per_payment', limit_amount: Number(cap.perPaymentMax) },
      });
    }

    const redemptionId = newRedemptionId();
    const replayed = await db.transaction(async (tx) => {
      // FOR SHARE makes a concurrent device revocation wait for this payment, or this payment see it.
      const live = await tx.query(
        `select 1 from codes_offline_keys where device_id = $1 and revoked_at is null and suspended_at is null for share`,
        [key.device_id],
      );
      if (live.length === 0) throw invalidCode();
      const inserted = await insertRedemption(tx, {
        id: redemptionId,
        mode: 'offline',
        userId: key.user_id,
        deviceId: key.device_id,
        offlineStep: matched.step,
        options,
        at,
      });
      if (!inserted) {
        const earlier = await sameRedemption(
          tx,
          { sql: 'device_id = $1 and offline_step = $2::bigint', params: [key.device_id, matched.step] },
          options,
        );
        if (earlier === null) throw new AppError('payment_code_used', { param: 'code' });
        return earlier.id;
      }
      const usage = await tx.query(
        `insert into codes_offline_usage (device_id, currency, livemode, day, used)
         select $1, $2, $3, $4::date, $5::bigint where $5::bigint <= $6::bigint
         on conflict (device_id, currency, livemode, day)
           do update set used = codes_offline_usage.used + excluded.used
           where codes_offline_usage.used + excluded.used <= $6::bigint
         returning used`,
        [key.device_id, options.currency, options.livemode, utcDay(at), options.amountMinor, cap.dailyMax],
      );
      if (usage.length === 0) {
        // Throwing rolls the redemption back too: the code may still pay a smaller amount.
        throw new AppError('offline_limit_exceeded', {
          message: 'This payment is over the daily limit of offline codes on this device.',
          details: { limit: 'daily', limit_amount: Number(cap.dailyMax) },
        });
      }
      return redemptionId;
    });
    return { userId: key.user_id, deviceId: key.device_id, mode: 'offline', redemptionId: replayed, pinExempt: true };
  }

  async function redeemPaymentCode(code: string, options: RedeemOptions): Promise<Redemption> {
    assert(typeof options.amountMinor === 'bigint' && options.amountMinor > 0n, 'amountMinor must be positive');
    assert(
      typeof options.merchantAccountId === 'string' && options.merchantAccountId.length > 0,
      'merchantAccountId is required',
    );
    assert(typeof options.livemode === 'boolean', 'livemode is required');
    if (!isKnownCurrency(options.currency)) throw new AppError('currency_unsupported', { param: 'currency' });
    const at = options.nowMs ?? now();
    assert(Number.isSafeInteger(at) && at > 0, 'nowMs must be a positive integer');
    const format = validateCodeFormat(code);
    if (format === null) throw invalidCode();
    const redemption =
      format.mode === 'online'
        ? await redeemOnline(format.code, options, at)
        : await attempts.guard(
            { deviceNumber: format.deviceNumber, merchantAccountId: options.merchantAccountId, at },
            () => redeemOffline(format, options, at),
          );
    assert(redemption.redemptionId.startsWith('pcr_'), 'a redemption id is pcr_…');
    return redemption;
  }

  return {
    issueOnlineCode,
    enrollOfflineKey,
    redeemPaymentCode,
    offlineCapFor(currency) {
      return caps.get(currency) ?? null;
    },
    async deleteExpiredCodes() {
      const rows = await db.query(
        `delete from codes_online where code_hash in (
           select code_hash from codes_online where expires_at < $1 order by expires_at limit $2)
         returning 1`,
        [new Date(now() - limits.codesOnlineCodeRetentionMs), limits.codesPurgeBatchMax],
      );
      return rows.length;
    },
    deleteExpiredAttempts() {
      return attempts.deleteExpired(now());
    },
  };
}

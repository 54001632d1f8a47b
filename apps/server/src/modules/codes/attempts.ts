import type { Db } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import { limits } from '../../platform/limits.js';
import { rateLimitedError } from '../../platform/rate-limit.js';
import type { NotificationWriter } from '../events/index.js';

/**
 * The throttle on offline code redemption. An offline code names its device number in clear, so a
 * merchant could otherwise try TOTPs for a device until one pays. Counts live in PostgreSQL
 * (codes_offline_attempts, fixed windows), so every node sees the same ones:
 *
 * - Per merchant, before anything is looked up or verified, one conditional upsert claims an
 *   attempt while the merchant is under its limit; over it: 429 rate_limited with Retry-After.
 *   An attempt that was not a guess (paid, expired, used, over a cap) is given back afterwards, so
 *   what stays counted are the failures. Because claims are taken before the check, concurrent
 *   guesses can never check more codes than the merchant's allowance.
 * - Per device number, the failures: a device number at its limit, or whose key is suspended, is
 *   refused unverified (payment_code_invalid, counted for the merchant). A wrong code is counted
 *   with a conditional upsert, and the failure that reaches the limit suspends the key and tells
 *   the person (offline_key.suspended) in one transaction. Enrolling again lifts the suspension and
 *   clears the count (enrollOfflineKey). A correct code under the limit still pays.
 *
 * "Failure" here means payment_code_invalid: a wrong TOTP, or an unknown, revoked or suspended key.
 */
export interface OfflineAttemptLimits {
  deviceFailuresMax: number;
  deviceWindowMs: number;
  merchantFailuresMax: number;
  merchantWindowMs: number;
}

export const defaultOfflineAttemptLimits: OfflineAttemptLimits = {
  deviceFailuresMax: limits.codesOfflineFailuresPerDeviceMax,
  deviceWindowMs: limits.codesOfflineFailuresPerDeviceWindowMs,
  merchantFailuresMax: limits.codesOfflineFailuresPerMerchantMax,
  merchantWindowMs: limits.codesOfflineFailuresPerMerchantWindowMs,
};

export interface OfflineAttemptInput {
  deviceNumber: string;
  merchantAccountId: string;
  /** The moment of redemption, milliseconds since the epoch (the codes service's clock). */
  at: number;
}

export interface OfflineAttempts {
  /** Runs redeem under the throttle (see above); its result or its error, or a refusal of ours. */
  guard<T>(input: OfflineAttemptInput, redeem: () => Promise<T>): Promise<T>;
  /** Deletes up to codesOfflineAttemptsPurgeBatchMax windows that ended; returns how many. */
  deleteExpired(nowMs: number): Promise<number>;
}

function windowStart(atMs: number, windowMs: number): Date {
  return new Date(Math.floor(atMs / windowMs) * windowMs);
}

const invalidCode = () => new AppError('payment_code_invalid', { param: 'code' });

export function createOfflineAttempts(deps: {
  db: Db;
  notifications?: NotificationWriter;
  limits?: OfflineAttemptLimits;
}): OfflineAttempts {
  const { db } = deps;
  const table = deps.limits ?? defaultOfflineAttemptLimits;
  for (const value of Object.values(table)) {
    assert(Number.isSafeInteger(value) && value > 0, 'offline attempt limits are positive integers');
  }

  /** Claims the merchant's attempt and reads the device number's standing, in one statement. */
  async function claim(input: OfflineAttemptInput, windows: { merchant: Date; device: Date }) {
    const rows = await db.query<{
      merchant_failures: number | null;
      device_failures: number | null;
      suspended: boolean;
    }>(
      `with merchant as (
         insert into codes_offline_attempts as a (kind, subject, window_start, failures)
         values ('merchant', $1, $2, 1)
         on conflict (kind, subject, window_start)
           do update set failures = a.failures + 1 where a.failures < $3
         returning failures
       )
       select (select failures from merchant) as merchant_failures,
              (select failures from codes_offline_attempts
                where kind = 'device_number' and subject = $4 and window_start = $5) as device_failures,
              exists (select 1 from codes_offline_keys where device_number = $4 and suspended_at is not null)
                as suspended`,
      [input.merchantAccountId, windows.merchant, table.merchantFailuresMax, input.deviceNumber, windows.device],
    );
    const row = rows[0];
    assert(row !== undefined, 'the attempt claim returns one row');
    return {
      merchantFailures: row.merchant_failures === null ? null : Number(row.merchant_failures),
      deviceFailures: row.device_failures === null ? 0 : Number(row.device_failures),
      suspended: row.suspended,
    };
  }

  /** Gives the merchant's claim back: the attempt was not a guess. */
  async function release(input: OfflineAttemptInput, windows: { merchant: Date }): Promise<void> {
    await db.query(
      `update codes_offline_attempts set failures = failures - 1
        where kind = 'merchant' and subject = $1 and window_start = $2 and failures > 0`,
      [input.merchantAccountId, windows.merchant],
    );
  }

  /** Counts a wrong code for the device number while under the limit; the count after it, or null. */
  async function recordDeviceFailure(input: OfflineAttemptInput, windows: { device: Date }): Promise<number | null> {
    const rows = await db.query<{ failures: number }>(
      `insert into codes_offline_attempts as a (kind, subject, window_start, failures)
       values ('device_number', $1, $2, 1)
       on conflict (kind, subject, window_start)
         do update set failures = a.failures + 1 where a.failures < $3
       returning failures`,
      [input.deviceNumber, windows.device, table.deviceFailuresMax],
    );
    const failures = rows[0]?.failures;
    return failures === undefined ? null : Number(failures);
  }

  /** The failure that filled the device number's window: its key stops paying, its owner is told. */
  async function suspend(input: OfflineAttemptInput): Promise<void> {
    await db.transaction(async (tx) => {
      const rows = await tx.query<{ device_id: string; user_id: string }>(
        `update codes_offline_keys set suspended_at = $2
          where device_number = $1 and revoked_at is null and suspended_at is null
          returning device_id, user_id`,
        [input.deviceNumber, new Date(input.at)],
      );
      const key = rows[0];
      // An unknown device number has no key to suspend; a suspended or revoked one is done already.
      if (key === undefined) return;
      await deps.notifications?.write(tx, {
        userId: key.user_id,
        type: 'offline_key.suspended',
        data: {
          device_id: key.device_id,
          device_number: input.deviceNumber,
          failures: table.deviceFailuresMax,
          window_s: Math.round(table.deviceWindowMs / 1_000),
        },
      });
    });
  }

  return {
    async guard<T>(input: OfflineAttemptInput, redeem: () => Promise<T>): Promise<T> {
      assert(/^\d{8}$/.test(input.deviceNumber), 'a device number is 8 digits');
      assert(input.merchantAccountId.length > 0, 'a merchant account id is required');
      const windows = {
        merchant: windowStart(input.at, table.merchantWindowMs),
        device: windowStart(input.at, table.deviceWindowMs),
      };
      const claimed = await claim(input, windows);
      if (claimed.merchantFailures === null) {
        const endMs = windows.merchant.getTime() + table.merchantWindowMs;
        throw rateLimitedError(Math.max(1, Math.ceil((endMs - input.at) / 1_000)));
      }
      assert(claimed.merchantFailures <= table.merchantFailuresMax, 'merchant failures stay within the limit');
      assert(claimed.deviceFailures <= table.deviceFailuresMax, 'device failures stay within the limit');
      // At its limit, or suspended: refused unverified; the merchant's claim stays a failure.
      if (claimed.deviceFailures >= table.deviceFailuresMax || claimed.suspended) throw invalidCode();
      let result: T;
      try {
        result = await redeem();
      } catch (error) {
        if (error instanceof AppError && error.code === 'payment_code_invalid') {
          const failures = await recordDeviceFailure(input, windows);
          if (failures === table.deviceFailuresMax) await suspend(input);
        } else {
          // Not a guess (expired, used, over a cap, a failure of ours): the attempt is given back.
          await release(input, windows).catch(() => undefined);
        }
        throw error;
      }
      // The code paid: a failed give-back leaves one failure counted too many, and undoes no payment.
      await release(input, windows).catch(() => undefined);
      return result;
    },

    async deleteExpired(nowMs) {
      const windowMsMax = Math.max(table.deviceWindowMs, table.merchantWindowMs);
      const rows = await db.query(
        `delete from codes_offline_attempts where (kind, subject, window_start) in (
           select kind, subject, window_start from codes_offline_attempts
            where window_start < $1 order by window_start limit $2)
         returning 1`,
        [new Date(nowMs - windowMsMax), limits.codesOfflineAttemptsPurgeBatchMax],
      );
      return rows.length;
    },
  };
}

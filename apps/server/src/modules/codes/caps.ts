import { AppError } from '../../platform/errors.js';
import { currencyInfo } from '../../platform/money.js';

/** Offline payments of one device in one currency, in minor units. */
export interface OfflineCap {
  perPaymentMax: bigint;
  dailyMax: bigint;
}

/** currency → cap. A currency not listed cannot be paid offline (offline_limit_exceeded). */
export type OfflineCapsTable = ReadonlyMap<string, OfflineCap>;

function inMajorUnits(currency: string, perPayment: number, daily: number): [string, OfflineCap] {
  const info = currencyInfo(currency);
  if (info === undefined) throw new Error(`unknown currency ${currency}`);
  const scale = 10n ** BigInt(info.exponent);
  return [currency, { perPaymentMax: BigInt(perPayment) * scale, dailyMax: BigInt(daily) * scale }];
}

/**
 * Defaults in whole units: a payment made with an offline code needs no PIN, so the amount at
 * risk when a phone is lost is bounded by these (per payment, per device per UTC day).
 */
export const defaultOfflineCaps: OfflineCapsTable = new Map([
  inMajorUnits('CNY', 200, 1_000),
  inMajorUnits('HKD', 200, 1_000),
  inMajorUnits('USD', 30, 150),
  inMajorUnits('EUR', 25, 130),
  inMajorUnits('JPY', 4_000, 20_000),
  inMajorUnits('KWD', 9, 45),
]);

/**
 * Parses an offline caps table: JSON mapping a currency to {per_payment, daily} in minor units,
 * e.g. {"CNY": {"per_payment": 20000, "daily": 100000}}. Throws config_invalid naming the problem.
 */
export function parseOfflineCaps(text: string, source = 'offline code caps'): OfflineCapsTable {
  const fail = (message: string): never => {
    throw new AppError('config_invalid', { message: `${source}: ${message}` });
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('must be a JSON object');
  const table = new Map<string, OfflineCap>();
  for (const [currency, cap] of Object.entries(parsed as Record<string, unknown>)) {
    if (currencyInfo(currency) === undefined) fail(`${currency} is not a supported ISO 4217 currency`);
    if (cap === null || typeof cap !== 'object' || Array.isArray(cap)) return fail(`${currency} must be an object`);
    const record = cap as Record<string, unknown>;
    const extra = Object.keys(record).filter((key) => key !== 'per_payment' && key !== 'daily');
    if (extra.length > 0) fail(`${currency} has unknown keys ${extra.join(', ')}`);
    const amount = (key: 'per_payment' | 'daily'): bigint => {
      const value = record[key];
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
        return fail(`${currency} ${key} must be a positive integer of minor units`);
      }
      return BigInt(value);
    };
    const perPaymentMax = amount('per_payment');
    const dailyMax = amount('daily');
    if (perPaymentMax > dailyMax) fail(`${currency} per_payment exceeds daily`);
    table.set(currency, { perPaymentMax, dailyMax });
  }
  return table;
}

import { AppError } from '../../platform/errors.js';
import { currencyInfo } from '../../platform/money.js';

/** Limits of one verification tier in one currency, in minor units; null = no limit. */
export interface TierLimits {
  perPaymentMax: bigint;
  dailyMax: bigint;
  monthlyMax: bigint;
  balanceMax: bigint | null;
  /** Scanned-code payments up to this need no PIN (undefined/null: the PIN is always asked). */
  noPinMax?: bigint | null;
}

export type KycTier = 0 | 1 | 2;
export const kycTiers: readonly KycTier[] = [0, 1, 2];

/** currency → the limits of tiers 0, 1 and 2. The currencies listed are the ones wallets hold. */
export type WalletLimitsTable = ReadonlyMap<string, readonly [TierLimits, TierLimits, TierLimits]>;

function tiersInMajorUnits(
  currency: string,
  tiers: readonly (readonly [number, number, number, number | null])[],
): [TierLimits, TierLimits, TierLimits] {
  const info = currencyInfo(currency);
  if (info === undefined) throw new Error(`unknown currency ${currency}`);
  const scale = 10n ** BigInt(info.exponent);
  const toMinor = (major: number) => BigInt(major) * scale;
  const built = tiers.map(([perPayment, daily, monthly, balance]) => ({
    perPaymentMax: toMinor(perPayment),
    dailyMax: toMinor(daily),
    monthlyMax: toMinor(monthly),
    balanceMax: balance === null ? null : toMinor(balance),
    // Small scanned payments go through without a PIN: a tenth of the per-payment limit.
    noPinMax: toMinor(perPayment) / 10n,
  }));
  return [built[0]!, built[1]!, built[2]!];
}

/**
 * Defaults, in whole units of each currency: [per payment, daily, monthly, balance cap] for
 * tiers 0 (unverified), 1 and 2. Operators replace them with YUNPAY_WALLET_LIMITS.
 */
export const defaultWalletLimits: WalletLimitsTable = new Map([
  [
    'CNY',
    tiersInMajorUnits('CNY', [
      [2_000, 5_000, 20_000, 10_000],
      [20_000, 50_000, 200_000, 200_000],
      [200_000, 500_000, 2_000_000, null],
    ]),
  ],
  [
    'USD',
    tiersInMajorUnits('USD', [
      [300, 700, 3_000, 1_500],
      [3_000, 7_000, 30_000, 30_000],
      [30_000, 70_000, 300_000, null],
    ]),
  ],
  [
    'EUR',
    tiersInMajorUnits('EUR', [
      [250, 650, 2_500, 1_500],
      [2_500, 6_500, 25_000, 25_000],
      [25_000, 65_000, 250_000, null],
    ]),
  ],
  [
    'HKD',
    tiersInMajorUnits('HKD', [
      [2_000, 5_000, 20_000, 10_000],
      [20_000, 50_000, 200_000, 200_000],
      [200_000, 500_000, 2_000_000, null],
    ]),
  ],
  [
    'JPY',
    tiersInMajorUnits('JPY', [
      [40_000, 100_000, 400_000, 200_000],
      [400_000, 1_000_000, 4_000_000, 4_000_000],
      [4_000_000, 10_000_000, 40_000_000, null],
    ]),
  ],
  [
    'KWD',
    tiersInMajorUnits('KWD', [
      [90, 200, 900, 450],
      [900, 2_000, 9_000, 9_000],
      [9_000, 20_000, 90_000, null],
    ]),
  ],
]);

const limitKeys = ['per_payment', 'daily', 'monthly', 'balance', 'no_pin'] as const;

/**
 * Parses YUNPAY_WALLET_LIMITS: JSON mapping a currency to three tiers, each
 * {per_payment, daily, monthly, balance} in minor units (integers; balance may be null).
 * Throws an AppError('config_invalid') naming the first problem.
 */
export function parseWalletLimits(text: string): WalletLimitsTable {
  const fail = (message: string): never => {
    throw new AppError('config_invalid', { message: `YUNPAY_WALLET_LIMITS: ${message}` });
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('must be a JSON object');
  const table = new Map<string, readonly [TierLimits, TierLimits, TierLimits]>();
  for (const [currency, tiers] of Object.entries(parsed)) {
    if (currencyInfo(currency) === undefined) fail(`${currency} is not a supported ISO 4217 currency`);
    if (!Array.isArray(tiers) || tiers.length !== 3) fail(`${currency} must list exactly three tiers`);
    const built = (tiers as unknown[]).map((tier, index) => {
      if (tier === null || typeof tier !== 'object') return fail(`${currency} tier ${index} must be an object`);
      const record = tier as Record<string, unknown>;
      const extra = Object.keys(record).filter((key) => !(limitKeys as readonly string[]).includes(key));
      if (extra.length > 0) fail(`${currency} tier ${index} has unknown keys ${extra.join(', ')}`);
      const amount = (key: (typeof limitKeys)[number], nullable: boolean): bigint | null => {
        const value = record[key];
        if (value === null && nullable) return null;
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
          return fail(`${currency} tier ${index} ${key} must be a positive integer of minor units`);
        }
        return BigInt(value);
      };
      return {
        perPaymentMax: amount('per_payment', false)!,
        dailyMax: amount('daily', false)!,
        monthlyMax: amount('monthly', false)!,
        balanceMax: amount('balance', true),
        ...(record.no_pin === undefined ? {} : { noPinMax: amount('no_pin', true) }),
      };
    });
    table.set(currency, [built[0]!, built[1]!, built[2]!]);
  }
  if (table.size === 0) fail('must name at least one currency');
  return table;
}

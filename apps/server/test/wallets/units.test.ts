import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { defaultWalletLimits, parseWalletLimits } from '../../src/modules/wallets/index.js';
import { csvCell, formatMinor } from '../../src/modules/wallets/routes.js';

describe('wallet limits configuration', () => {
  test('parses minor units per currency and tier', () => {
    const table = parseWalletLimits(
      JSON.stringify({
        JPY: [
          { per_payment: 10_000, daily: 20_000, monthly: 50_000, balance: 100_000 },
          { per_payment: 20_000, daily: 40_000, monthly: 90_000, balance: null },
          { per_payment: 30_000, daily: 60_000, monthly: 99_000, balance: null },
        ],
      }),
    );
    expect([...table.keys()]).toEqual(['JPY']);
    expect(table.get('JPY')![0]).toEqual({
      perPaymentMax: 10_000n,
      dailyMax: 20_000n,
      monthlyMax: 50_000n,
      balanceMax: 100_000n,
    });
    expect(table.get('JPY')![1].balanceMax).toBeNull();
  });

  test.each([
    ['{', /not valid JSON/],
    ['[]', /JSON object/],
    ['{}', /at least one currency/],
    ['{"XYZ":[]}', /XYZ is not a supported/],
    ['{"CNY":[{}]}', /exactly three tiers/],
    ['{"CNY":[{"per_payment":1.5,"daily":1,"monthly":1,"balance":1},{},{}]}', /per_payment must be a positive integer/],
    ['{"CNY":[{"per_payment":1,"daily":1,"monthly":1,"balance":1,"weekly":1},{},{}]}', /unknown keys weekly/],
  ])('%s is refused', (text, message) => {
    expect(() => parseWalletLimits(text)).toThrow(message);
  });

  test('defaults scale by each currency exponent', () => {
    expect(defaultWalletLimits.get('CNY')![0].perPaymentMax).toBe(200_000n); // 2,000.00
    expect(defaultWalletLimits.get('JPY')![0].perPaymentMax).toBe(40_000n); // ¥40,000
    expect(defaultWalletLimits.get('KWD')![0].perPaymentMax).toBe(90_000n); // 90.000
  });
});

describe('CSV formatting', () => {
  test('minor units become decimals by the currency exponent, without floats', () => {
    expect(formatMinor(12_345n, 'CNY')).toBe('123.45');
    expect(formatMinor(-5n, 'CNY')).toBe('-0.05');
    expect(formatMinor(12_345n, 'JPY')).toBe('12345');
    expect(formatMinor(1n, 'KWD')).toBe('0.001');
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (amount) => {
        const text = formatMinor(amount, 'CNY');
        expect(BigInt(text.replace('.', ''))).toBe(amount);
      }),
    );
  });

  test('cells are quoted when needed and never start a formula', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('-12.50')).toBe('-12.50');
  });
});

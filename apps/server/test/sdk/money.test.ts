import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  AmountParseError,
  currencyExponents,
  formatAmount,
  parseAmount,
  toDecimalString,
  tryParseAmount,
} from '@yunpay/sdk';
import { currencies } from '../../src/platform/money.js';

const exponents = { JPY: 0, CNY: 2, KWD: 3 } as const;
const locales = ['en', 'zh-CN'] as const;

describe('currency table', () => {
  test("mirrors the server's currencies and exponents exactly", () => {
    const server = Object.fromEntries([...currencies.values()].map((info) => [info.code, info.exponent]));
    expect({ ...currencyExponents }).toEqual(server);
  });
});

describe('formatAmount', () => {
  test.each([
    [123_456, 'CNY', 'zh-CN', '¥1,234.56'],
    [1_250, 'CNY', 'en', 'CN¥12.50'],
    [-50, 'CNY', 'zh-CN', '-¥0.50'],
    [1_500, 'JPY', 'en', '¥1,500'],
    [1_234_567, 'KWD', 'en', 'KWD 1,234.567'],
    [5, 'KWD', 'en', 'KWD 0.005'],
    [0, 'USD', 'en', '$0.00'],
  ])('%d %s in %s → %s', (amount, currency, locale, expected) => {
    expect(formatAmount(amount, currency, locale).replace(/\u00a0/g, ' ')).toBe(expected);
  });

  test('bigint amounts past 2^53 stay exact', () => {
    expect(formatAmount(12_345_678_901_234_567_891n, 'CNY', 'en')).toBe('CN¥123,456,789,012,345,678.91');
    expect(toDecimalString(9_007_199_254_740_993n, 'KWD')).toBe('9007199254740.993');
  });

  test("uses the locale's digits for the fraction too", () => {
    expect(formatAmount(123_456, 'EGP', 'ar-EG')).toContain('١٬٢٣٤٫٥٦');
  });

  test('refuses floats and unknown currencies', () => {
    expect(() => formatAmount(12.5, 'CNY', 'en')).toThrow(RangeError);
    expect(() => formatAmount(100, 'XXX', 'en')).toThrow(RangeError);
  });

  test('property: the digits printed are exactly the digits of the amount (en)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 24n }), fc.constantFrom('JPY', 'CNY', 'KWD'), (amount, currency) => {
        const printed = formatAmount(amount, currency, 'en').replace(/[^0-9]/g, '');
        expect(BigInt(printed)).toBe(amount);
      }),
    );
  });
});

describe('parseAmount', () => {
  test.each([
    ['12.5', 'CNY', 1_250],
    ['12,50', 'CNY', 1_250],
    ['12,5', 'CNY', 1_250],
    ['¥1,234.56', 'CNY', 123_456],
    ['￥1,234.56', 'CNY', 123_456],
    ['CN¥ 1,234.56', 'CNY', 123_456],
    ['1.234,56', 'CNY', 123_456],
    ['1 234,56', 'CNY', 123_456],
    ['１２．５', 'CNY', 1_250],
    ['12元', 'CNY', 1_200],
    ['RMB 12', 'CNY', 1_200],
    ['CNY 0.01', 'CNY', 1],
    ['1,234', 'CNY', 123_400],
    ['1,234', 'JPY', 1_234],
    ['¥1,500', 'JPY', 1_500],
    ['1.234', 'KWD', 1_234],
    ['KWD 1,234.567', 'KWD', 1_234_567],
    ['.5', 'CNY', 50],
    ['7', 'KWD', 7_000],
    ['90071992547409.91', 'CNY', 9_007_199_254_740_991],
  ])('%s %s → %d', (text, currency, expected) => {
    expect(parseAmount(text, currency)).toBe(expected);
  });

  test.each([
    ['12.5', 'JPY', 'amount_too_precise'],
    ['12.00', 'JPY', 'amount_too_precise'],
    ['1.005', 'CNY', 'amount_too_precise'],
    ['1.2345', 'KWD', 'amount_too_precise'],
    ['-12', 'CNY', 'amount_negative'],
    ['USD 12', 'CNY', 'currency_mismatch'],
    ['', 'CNY', 'amount_invalid'],
    // Letters that are no currency code are no amount (issue 14: not "in another currency").
    ['abc', 'CNY', 'amount_invalid'],
    ['12 yuan please', 'CNY', 'amount_invalid'],
    ['12a3', 'CNY', 'amount_invalid'],
    ['1,2,3', 'CNY', 'amount_invalid'],
    ['12.5.6', 'CNY', 'amount_invalid'],
    ['1e5', 'CNY', 'amount_invalid'],
    ['90071992547409.92', 'CNY', 'amount_too_large'],
    ['12', 'XXX', 'currency_unsupported'],
    ['1'.repeat(65), 'CNY', 'amount_invalid'],
  ])('%s %s → %s', (text, currency, code) => {
    expect(tryParseAmount(text, currency)).toMatchObject({ ok: false, code });
    expect(() => parseAmount(text, currency)).toThrow(AmountParseError);
  });

  test('property: formatAmount → parseAmount round-trips for JPY, CNY and KWD in en and zh-CN', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom(...(Object.keys(exponents) as (keyof typeof exponents)[])),
        fc.constantFrom(...locales),
        fc.constantFrom<'symbol' | 'code' | 'narrowSymbol'>('symbol', 'code', 'narrowSymbol'),
        (amount, currency, locale, currencyDisplay) => {
          const text = formatAmount(amount, currency, locale, { currencyDisplay });
          const parsed = parseAmount(text, currency);
          expect(Number.isSafeInteger(parsed)).toBe(true);
          expect(parsed).toBe(amount);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test('property: a plain decimal with up to the exponent digits parses to the exact integer, never a float', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.constantFrom(...(Object.keys(exponents) as (keyof typeof exponents)[])),
        fc.nat({ max: 3 }),
        fc.constantFrom('.', ','),
        (whole, currency, fractionLength, separator) => {
          const exponent = exponents[currency];
          const digits = Math.min(fractionLength, exponent);
          const fraction = digits === 0 ? '' : String(Number(whole % 10n ** BigInt(digits))).padStart(digits, '0');
          // A lone comma followed by exactly 3 digits reads as grouping: use a dot there.
          const mark = separator === ',' && digits === 3 ? '.' : separator;
          const text = digits === 0 ? whole.toString() : `${whole.toString()}${mark}${fraction}`;
          const expected =
            whole * 10n ** BigInt(exponent) + (digits === 0 ? 0n : BigInt(fraction) * 10n ** BigInt(exponent - digits));
          const result = tryParseAmount(text, currency);
          if (expected > BigInt(Number.MAX_SAFE_INTEGER)) {
            expect(result).toMatchObject({ ok: false, code: 'amount_too_large' });
          } else {
            expect(result).toEqual({ ok: true, amountMinor: Number(expected) });
          }
        },
      ),
    );
  });

  test('property: more decimals than the currency has are always refused', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1_000_000 }),
        fc.constantFrom(...(Object.keys(exponents) as (keyof typeof exponents)[])),
        fc.integer({ min: 1, max: 3 }),
        (whole, currency, extra) => {
          const fraction = '1'.repeat(exponents[currency] + extra);
          expect(tryParseAmount(`${whole}.${fraction}`, currency)).toMatchObject({
            ok: false,
            code: 'amount_too_precise',
          });
        },
      ),
    );
  });
});

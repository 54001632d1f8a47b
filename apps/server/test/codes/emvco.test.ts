import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crc16CcittFalse,
  emvText,
  encodeMerchantQr,
  formatEmvAmount,
  parseEmvAmount,
  parseMerchantQr,
  yunpayQrGuid,
  type MerchantQrInput,
} from '../../src/modules/codes/index.js';
import { AppError } from '../../src/platform/errors.js';
import { currencies } from '../../src/platform/money.js';

function errorCode(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

/** Builds a payload from raw TLV parts with a correct CRC (to test what parse does past the CRC). */
function withCrc(body: string): string {
  const text = `${body}6304`;
  return text + crc16CcittFalse(text);
}
const tlv = (id: string, value: string) => `${id}${String(value.length).padStart(2, '0')}${value}`;

const dynamicInput: MerchantQrInput = {
  merchantAccountId: 'acct_1Yunpay0Demo',
  merchantName: 'Lucky Noodles',
  city: 'Shanghai',
  mcc: '5812',
  currencyNumeric: '156',
  countryCode: 'CN',
  amountMinor: 10_000n,
  exponent: 2,
  paymentIntentId: 'pi_3Nz7Yunpay0Demo0001',
  dynamic: true,
};

describe('CRC-16/CCITT-FALSE', () => {
  it.each([
    ['123456789', '29B1'],
    ['', 'FFFF'],
    ['A', 'B915'],
  ])('%j → %s', (text, crc) => {
    expect(crc16CcittFalse(text)).toBe(crc);
  });

  it('matches the CRC of a published EMV payload (the Pix manual of Banco Central do Brasil)', () => {
    const payload =
      '00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000' +
      '5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***6304';
    expect(crc16CcittFalse(payload)).toBe('1D3D');
  });
});

describe('encode', () => {
  it('writes the documented dynamic example', () => {
    const payload = encodeMerchantQr(dynamicInput);
    expect(payload).toBe(
      '000201010212' +
        `2657${tlv('00', yunpayQrGuid)}${tlv('01', 'acct_1Yunpay0Demo')}` +
        '5204581253031565406100.005802CN5913Lucky Noodles6008Shanghai' +
        `6226${tlv('05', 'pi_3Nz7Yunpay0Demo0001')}` +
        '6304BE90',
    );
    expect(payload.slice(-4)).toBe(crc16CcittFalse(payload.slice(0, -4)));
  });

  it('writes a static code without amount or reference', () => {
    const { amountMinor: _amount, paymentIntentId: _intent, ...rest } = dynamicInput;
    const payload = encodeMerchantQr({ ...rest, dynamic: false });
    expect(payload).toContain('010211');
    expect(payload).not.toContain('5406');
    const parsed = parseMerchantQr(payload);
    expect(parsed.dynamic).toBe(false);
    expect(parsed.amountMinor).toBeNull();
    expect(parsed.paymentIntentId).toBeNull();
  });

  it.each([
    [10_000n, 2, '100.00'],
    [1n, 2, '0.01'],
    [100n, 0, '100'],
    [1_500n, 3, '1.500'],
    [5n, 3, '0.005'],
  ] as const)('amount %s with exponent %i is %s', (minor, exponent, text) => {
    expect(formatEmvAmount(minor, exponent)).toBe(text);
    expect(parseEmvAmount(text, exponent)).toBe(minor);
  });

  it('refuses inputs that cannot be encoded', () => {
    expect(() => encodeMerchantQr({ ...dynamicInput, merchantName: 'x'.repeat(26) })).toThrow(/merchantName/);
    expect(() => encodeMerchantQr({ ...dynamicInput, city: 'Café' })).toThrow(/city/);
    expect(() => encodeMerchantQr({ ...dynamicInput, exponent: 0 })).toThrow(/exponent/);
    expect(() => encodeMerchantQr({ ...dynamicInput, paymentIntentId: `pi_${'a'.repeat(23)}` })).toThrow(/intent/);
    expect(() => encodeMerchantQr({ ...dynamicInput, amountMinor: 0n })).toThrow(/amount/);
    expect(() => encodeMerchantQr({ ...dynamicInput, dynamic: false })).toThrow(/static/);
  });

  it('emvText fits names into EMV fields', () => {
    expect(emvText('Café Zürich  Bahnhof', 15)).toBe('Cafe Zurich Bah');
    expect(emvText('小笼包', 25)).toBeNull();
    expect(emvText('  Lucky\tNoodles ', 25)).toBe('Lucky Noodles');
  });
});

describe('parse', () => {
  it('returns everything a wallet preview needs', () => {
    expect(parseMerchantQr(encodeMerchantQr(dynamicInput))).toEqual({
      dynamic: true,
      merchantAccountId: 'acct_1Yunpay0Demo',
      merchantName: 'Lucky Noodles',
      city: 'Shanghai',
      mcc: '5812',
      currency: 'CNY',
      currencyNumeric: '156',
      exponent: 2,
      countryCode: 'CN',
      amountMinor: 10_000n,
      paymentIntentId: 'pi_3Nz7Yunpay0Demo0001',
      crc: expect.stringMatching(/^[0-9A-F]{4}$/),
    });
  });

  const merchant = tlv('26', tlv('00', yunpayQrGuid) + tlv('01', 'acct_1'));
  const base = (overrides: Record<string, string | null> = {}) => {
    const fields: Array<[string, string]> = [
      ['00', '01'],
      ['01', '12'],
      ['26', tlv('00', yunpayQrGuid) + tlv('01', 'acct_1')],
      ['52', '5812'],
      ['53', '156'],
      ['54', '12.50'],
      ['58', 'CN'],
      ['59', 'Shop'],
      ['60', 'Beijing'],
      ['62', tlv('05', 'pi_1')],
    ];
    return withCrc(
      fields
        .map(([id, value]) =>
          (id in overrides ? overrides[id] : value) === null ? '' : tlv(id, overrides[id] ?? value),
        )
        .join(''),
    );
  };

  it('accepts the hand-built baseline, with other schemes alongside and fewer decimals', () => {
    expect(parseMerchantQr(base()).amountMinor).toBe(1_250n);
    expect(parseMerchantQr(base({ '54': '12.5' })).amountMinor).toBe(1_250n);
    expect(parseMerchantQr(base({ '54': '12' })).amountMinor).toBe(1_200n);
    const twoSchemes = withCrc(
      '000201010212' +
        tlv('29', tlv('00', 'A000000677010111') + tlv('01', '0066896007802')) +
        merchant +
        '520458125303156540512.5058' +
        '02CN5904Shop6007Beijing' +
        tlv('62', tlv('05', 'pi_1') + tlv('07', 'T1')),
    );
    expect(parseMerchantQr(twoSchemes).merchantAccountId).toBe('acct_1');
  });

  const rejections: Array<[string, () => string, string]> = [
    ['bad CRC', () => base().slice(0, -4) + '0000', 'qr_checksum_invalid'],
    [
      'lower-case CRC',
      () =>
        base().slice(0, -4) +
        base()
          .slice(-4)
          .toLowerCase()
          .replace(/^[0-9]+$/, 'abcd'),
      'qr_',
    ],
    ['no CRC tag', () => base().slice(0, -8), 'qr_invalid'],
    ['format indicator 02', () => base({ '00': '02' }), 'qr_invalid'],
    ['initiation 13', () => base({ '01': '13' }), 'qr_invalid'],
    ['missing initiation', () => base({ '01': null }), 'qr_invalid'],
    ['missing MCC', () => base({ '52': null }), 'qr_invalid'],
    ['missing currency', () => base({ '53': null }), 'qr_invalid'],
    ['unknown currency', () => base({ '53': '999' }), 'qr_invalid'],
    ['missing country', () => base({ '58': null }), 'qr_invalid'],
    ['missing name', () => base({ '59': null }), 'qr_invalid'],
    ['missing city', () => base({ '60': null }), 'qr_invalid'],
    ['name over 25', () => base({ '59': 'n'.repeat(26) }), 'qr_invalid'],
    ['city over 15', () => base({ '60': 'c'.repeat(16) }), 'qr_invalid'],
    ['not Yunpay', () => base({ '26': tlv('00', 'com.example') + tlv('01', 'm1') }), 'qr_invalid'],
    ['Yunpay without merchant', () => base({ '26': tlv('00', yunpayQrGuid) }), 'qr_invalid'],
    ['three decimals for CNY', () => base({ '54': '12.500' }), 'qr_invalid'],
    ['decimals for JPY', () => base({ '53': '392', '54': '100.5' }), 'qr_invalid'],
    ['negative amount', () => base({ '54': '-12.50' }), 'qr_invalid'],
    ['zero amount', () => base({ '54': '0.00' }), 'qr_invalid'],
    ['exponent notation', () => base({ '54': '1e3' }), 'qr_invalid'],
    ['dynamic without amount', () => base({ '54': null }), 'qr_invalid'],
    ['dynamic without reference', () => base({ '62': null }), 'qr_invalid'],
    ['static with amount', () => base({ '01': '11', '62': null }), 'qr_invalid'],
    ['reference over 25', () => base({ '62': tlv('05', 'p'.repeat(26)) }), 'qr_invalid'],
    ['length beyond the end', () => withCrc('000201010212269900'), 'qr_invalid'],
    ['non-digit length', () => withCrc('0002010102AB'), 'qr_invalid'],
    ['duplicate tag', () => withCrc('000201000201'), 'qr_invalid'],
    ['tag 00 not first', () => withCrc('010212000201'), 'qr_invalid'],
    ['non-ASCII', () => base({ '59': 'Café' }), 'qr_invalid'],
    ['too long', () => 'x'.repeat(600), 'qr_invalid'],
  ];
  it.each(rejections)('rejects %s', (_name, payload, code) => {
    expect(errorCode(() => parseMerchantQr(payload()))).toMatch(new RegExp(`^${code}`));
  });
});

const asciiText = (lengthMax: number) =>
  fc
    .string({
      minLength: 1,
      maxLength: lengthMax,
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    })
    .filter((text) => text.length >= 1);

const validInput: fc.Arbitrary<MerchantQrInput> = fc
  .record({
    merchantAccountId: asciiText(59),
    merchantName: asciiText(25),
    city: asciiText(15),
    mcc: fc.integer({ min: 0, max: 9_999 }).map((n) => String(n).padStart(4, '0')),
    currency: fc.constantFrom(...currencies.values()),
    countryCode: fc.stringMatching(/^[A-Z]{2}$/),
    amountMinor: fc.bigInt({ min: 1n, max: 999_999_999_999n }),
    paymentIntentId: asciiText(25),
    dynamic: fc.boolean(),
  })
  .map((value) => ({
    merchantAccountId: value.merchantAccountId,
    merchantName: value.merchantName,
    city: value.city,
    mcc: value.mcc,
    currencyNumeric: value.currency.numeric,
    countryCode: value.countryCode,
    exponent: value.currency.exponent,
    dynamic: value.dynamic,
    ...(value.dynamic ? { amountMinor: value.amountMinor, paymentIntentId: value.paymentIntentId } : {}),
  }));

describe('properties', () => {
  it('encode → parse round-trips every valid input', () => {
    fc.assert(
      fc.property(validInput, (input) => {
        const parsed = parseMerchantQr(encodeMerchantQr(input));
        expect(parsed.merchantAccountId).toBe(input.merchantAccountId);
        expect(parsed.merchantName).toBe(input.merchantName);
        expect(parsed.city).toBe(input.city);
        expect(parsed.mcc).toBe(input.mcc);
        expect(parsed.currencyNumeric).toBe(input.currencyNumeric);
        expect(parsed.exponent).toBe(input.exponent);
        expect(parsed.countryCode).toBe(input.countryCode);
        expect(parsed.dynamic).toBe(input.dynamic);
        expect(parsed.amountMinor).toBe(input.amountMinor ?? null);
        expect(parsed.paymentIntentId).toBe(input.paymentIntentId ?? null);
      }),
      { numRuns: 500 },
    );
  });

  it('any single-character change is rejected', () => {
    fc.assert(
      fc.property(validInput, fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), (input, position, replacement) => {
        const payload = encodeMerchantQr(input);
        const index = position % payload.length;
        const character = String.fromCharCode(replacement);
        fc.pre(payload[index] !== character);
        const changed = payload.slice(0, index) + character + payload.slice(index + 1);
        expect(errorCode(() => parseMerchantQr(changed))).toMatch(/^qr_(invalid|checksum_invalid)$/);
      }),
      { numRuns: 2_000 },
    );
  });
});

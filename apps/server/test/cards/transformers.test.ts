import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildAuthorizationRequest,
  buildCompletionRequest,
  buildRefundRequest,
  buildReversalRequest,
  buildSaleRequest,
  cardAcceptorIdOf,
  checkEcho,
  currencyAlphaOf,
  currencyNumericOf,
  declineOf,
  echoedFields,
  originalDataElementsOf,
  parseOriginalDataElements,
  parseResponse,
  rrnOf,
  stanOf,
  type OriginalRequestInput,
} from '../../src/modules/cards/gateway/index.js';
import { packIso8583, unpackIso8583, type Iso8583Message } from '../../src/modules/cards/iso8583/index.js';
import { responseCodes } from '../../src/modules/cards/response-codes.js';
import { AppError } from '../../src/platform/errors.js';
import { currencies } from '../../src/platform/money.js';

const fieldsOriginal = [2, 3, 4, 7, 11, 12, 13, 14, 22, 32, 37, 41, 42, 49];
const fieldsCompletion = [2, 3, 4, 7, 11, 12, 13, 14, 32, 37, 38, 41, 42, 49, 90];
const fieldsReversal = [2, 3, 4, 7, 11, 12, 13, 14, 32, 37, 41, 42, 49, 90];

const digits = (lengthMin: number, lengthMax: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: lengthMin, maxLength: lengthMax });

const dateArbitrary = fc.date({
  min: new Date(Date.UTC(2000, 0, 1)),
  max: new Date(Date.UTC(2099, 11, 31)),
  noInvalidDate: true,
});

const inputArbitrary: fc.Arbitrary<OriginalRequestInput> = fc.record({
  pan: digits(12, 19),
  expMonth: fc.integer({ min: 1, max: 12 }),
  expYear: fc.integer({ min: 2000, max: 2099 }),
  amountMinor: fc.bigInt({ min: 0n, max: 999_999_999_999n }),
  currency: fc.constantFrom(...currencies.keys()),
  stan: fc.bigInt({ min: 0n, max: 10n ** 15n }).map(stanOf),
  rrn: fc.bigInt({ min: 1n, max: 999_999_999_999n }).map(rrnOf),
  transmittedAt: dateArbitrary,
  merchantAccountId: fc.string({ minLength: 1, maxLength: 40 }).map((text) => `acct_${text}`),
  terminalId: fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: 1,
    maxLength: 8,
  }),
  acquirerId: digits(1, 11),
  authenticated: fc.boolean(),
});

function fieldNumbers(message: Iso8583Message): number[] {
  return [...message.fields.keys()].sort((left, right) => left - right);
}

/** The network's answer: the echoed fields of the request, plus 39 (and 38 when given). */
function answer(request: Iso8583Message, responseCode: string, authCode?: string): Iso8583Message {
  const fields = new Map<number, string>();
  for (const fieldNumber of echoedFields) {
    const value = request.fields.get(fieldNumber);
    if (value !== undefined) fields.set(fieldNumber, value);
  }
  if (authCode !== undefined) fields.set(38, authCode);
  fields.set(39, responseCode);
  return { mti: String(Number(request.mti) + 10).padStart(4, '0'), fields };
}

function roundTrip(message: Iso8583Message): Iso8583Message {
  return unpackIso8583(packIso8583(message));
}

describe('request builders', () => {
  it('build 0100, 0200 sale and 0200 refund with every contract field, unchanged through the codec', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        const cases: [Iso8583Message, string, string][] = [
          [buildAuthorizationRequest(input), '0100', '000000'],
          [buildSaleRequest(input), '0200', '000000'],
          [buildRefundRequest(input), '0200', '200000'],
        ];
        for (const [message, mti, processingCode] of cases) {
          expect(message.mti).toBe(mti);
          expect(fieldNumbers(message)).toEqual(fieldsOriginal);
          expect(roundTrip(message)).toEqual(message);
          expect(message.fields.get(2)).toBe(input.pan);
          expect(message.fields.get(3)).toBe(processingCode);
          expect(BigInt(message.fields.get(4)!)).toBe(input.amountMinor);
          expect(message.fields.get(11)).toBe(input.stan);
          expect(message.fields.get(37)).toBe(input.rrn);
          expect(message.fields.get(22)).toBe(input.authenticated === true ? '812' : '010');
          expect(message.fields.get(32)).toBe(input.acquirerId);
          expect(message.fields.get(41)).toBe(input.terminalId.padEnd(8, ' '));
          expect(message.fields.get(42)).toBe(cardAcceptorIdOf(input.merchantAccountId));
          expect(currencyAlphaOf(message.fields.get(49)!)).toBe(input.currency);
          expect(message.fields.get(14)).toBe(
            String(input.expYear % 100).padStart(2, '0') + String(input.expMonth).padStart(2, '0'),
          );
        }
      }),
    );
  });

  it('formats field 7 as MMDDhhmmss and fields 12/13 as the transaction time, in UTC', () => {
    const message = buildSaleRequest({
      pan: '4242424242424242',
      expMonth: 3,
      expYear: 2031,
      amountMinor: 1_050n,
      currency: 'USD',
      stan: '000042',
      rrn: '000000000007',
      transmittedAt: new Date(Date.UTC(2026, 5, 12, 14, 30, 15)),
      merchantAccountId: 'acct_1',
      terminalId: 'YUNPAY01',
      acquirerId: '999001',
    });
    expect(Object.fromEntries(message.fields)).toMatchObject({
      3: '000000',
      4: '000000001050',
      7: '0612143015',
      12: '143015',
      13: '0612',
      14: '3103',
      22: '010',
      49: '840',
    });
  });

  it('build 0220 completions with 38 and 90, and 0400 reversals with their own STAN and 90', () => {
    fc.assert(
      fc.property(
        inputArbitrary,
        digits(6, 6).filter((stan) => stan !== '000000'),
        dateArbitrary,
        fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'), minLength: 6, maxLength: 6 }),
        (input, originalStan, originalAt, authCode) => {
          const authorization = {
            mti: '0100' as const,
            stan: originalStan,
            transmittedAt: originalAt,
            acquirerId: input.acquirerId,
          };
          const completion = buildCompletionRequest({ ...input, authCode, authorization, transactionAt: originalAt });
          expect(completion.mti).toBe('0220');
          expect(fieldNumbers(completion)).toEqual(fieldsCompletion);
          expect(roundTrip(completion)).toEqual(completion);
          expect(completion.fields.get(38)).toBe(authCode);
          expect(completion.fields.get(90)).toBe(originalDataElementsOf(authorization));
          fc.pre(input.stan !== originalStan);
          const reversal = buildReversalRequest({
            ...input,
            processingCode: '200000',
            original: { ...authorization, mti: '0200' },
          });
          expect(reversal.mti).toBe('0400');
          expect(fieldNumbers(reversal)).toEqual(fieldsReversal);
          expect(roundTrip(reversal)).toEqual(reversal);
          expect(reversal.fields.get(3)).toBe('200000');
          expect(parseOriginalDataElements(reversal.fields.get(90)!)).toEqual({
            mti: '0200',
            stan: originalStan,
            transmissionDateTime: completion.fields.get(90)!.slice(10, 20),
            acquirerId: input.acquirerId.replace(/^0+(?=.)/, ''),
          });
        },
      ),
    );
  });

  it('refuse a reversal that reuses its original STAN (a programmer error)', () => {
    const input = fc.sample(inputArbitrary, { numRuns: 1, seed: 7 })[0]!;
    expect(() =>
      buildReversalRequest({
        ...input,
        processingCode: '000000',
        original: { mti: '0200', stan: input.stan, transmittedAt: input.transmittedAt, acquirerId: '1' },
      }),
    ).toThrow(/own STAN/);
  });
});

describe('field 90', () => {
  it('is MTI (4) + STAN (6) + field 7 (10) + acquirer id zero-filled (11) + 11 zeros', () => {
    expect(
      originalDataElementsOf({
        mti: '0100',
        stan: '000123',
        transmittedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
        acquirerId: '999001',
      }),
    ).toBe('0100' + '000123' + '0102030405' + '00000999001' + '00000000000');
  });

  it('has that layout for every original', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('0100' as const, '0200' as const, '0220' as const),
        digits(6, 6),
        dateArbitrary,
        digits(1, 11),
        (mti, stan, transmittedAt, acquirerId) => {
          const value = originalDataElementsOf({ mti, stan, transmittedAt, acquirerId });
          expect(value).toMatch(/^[0-9]{42}$/);
          expect(value.slice(0, 4)).toBe(mti);
          expect(value.slice(4, 10)).toBe(stan);
          expect(value.slice(20, 31)).toBe(acquirerId.padStart(11, '0'));
          expect(value.slice(31)).toBe('0'.repeat(11));
          expect(parseOriginalDataElements(value)?.stan).toBe(stan);
        },
      ),
    );
  });
});

describe('checkEcho and parseResponse', () => {
  it('accept a faithful echo and catch each altered or missing echoed field', () => {
    fc.assert(
      fc.property(inputArbitrary, fc.constantFrom(...echoedFields), fc.boolean(), (input, fieldNumber, drop) => {
        const request = buildSaleRequest(input);
        const response = answer(request, '00', 'A1B2C3');
        expect(checkEcho(request, response)).toEqual({ ok: true });
        const altered = { mti: response.mti, fields: new Map(response.fields) };
        if (drop) {
          altered.fields.delete(fieldNumber);
        } else {
          const value = request.fields.get(fieldNumber)!;
          const last = value.at(-1)!;
          const replacement = /[0-9]/.test(last) ? String((Number(last) + 1) % 10) : last === 'A' ? 'B' : 'A';
          altered.fields.set(fieldNumber, value.slice(0, -1) + replacement);
        }
        expect(checkEcho(request, altered)).toEqual({ ok: false, mtiMatches: true, mismatchedFields: [fieldNumber] });
        expect(parseResponse(request, altered)).toMatchObject({ valid: false, reason: 'echo_mismatch' });
      }),
    );
  });

  it('catch a response with the wrong MTI', () => {
    const request = buildAuthorizationRequest(fc.sample(inputArbitrary, { numRuns: 1, seed: 3 })[0]!);
    const response = { ...answer(request, '00', 'ABC123'), mti: '0210' };
    expect(checkEcho(request, response)).toMatchObject({ ok: false, mtiMatches: false });
    expect(parseResponse(request, response)).toMatchObject({ valid: false, reason: 'mti_mismatch' });
  });

  it('ignore echoed fields the request did not carry', () => {
    const request: Iso8583Message = {
      mti: '0800',
      fields: new Map([
        [7, '0612143015'],
        [11, '000042'],
        [70, '301'],
      ]),
    };
    expect(
      checkEcho(request, {
        mti: '0810',
        fields: new Map([
          [7, '0612143015'],
          [11, '000042'],
          [39, '00'],
        ]),
      }),
    ).toEqual({
      ok: true,
    });
  });

  it('read approvals, declines, and refuse an approval without an authorization code', () => {
    const request = buildSaleRequest(fc.sample(inputArbitrary, { numRuns: 1, seed: 5 })[0]!);
    expect(parseResponse(request, answer(request, '00', 'XY12Z9'))).toEqual({
      valid: true,
      responseCode: '00',
      authCode: 'XY12Z9',
      approved: true,
    });
    expect(parseResponse(request, answer(request, '51'))).toEqual({
      valid: true,
      responseCode: '51',
      authCode: null,
      approved: false,
    });
    expect(parseResponse(request, answer(request, '00'))).toMatchObject({ valid: false, reason: 'auth_code_invalid' });
    expect(parseResponse(request, answer(request, '0'))).toMatchObject({
      valid: false,
      reason: 'response_code_invalid',
    });
    const noCode = answer(request, '05');
    noCode.fields.delete(39);
    expect(parseResponse(request, noCode)).toMatchObject({ valid: false, reason: 'response_code_invalid' });
  });
});

describe('declineOf', () => {
  const table = Object.entries(responseCodes).filter(([code]) => code !== '00');

  it.each(table)('maps %s to its Stripe code and decline code', (responseCode, entry) => {
    const decline = declineOf(responseCode);
    expect(decline.code).toBe(entry.code);
    expect(decline.declineCode).toBe(entry.declineCode);
    expect(decline.message.length).toBeGreaterThan(0);
  });

  it('maps the issuer decline codes the network answers', () => {
    expect(declineOf('51')).toMatchObject({ code: 'card_declined', declineCode: 'insufficient_funds' });
    expect(declineOf('54')).toMatchObject({ code: 'expired_card', declineCode: 'expired_card' });
    expect(declineOf('N7')).toMatchObject({ code: 'incorrect_cvc', declineCode: 'incorrect_cvc' });
    expect(declineOf('65')).toMatchObject({ code: 'authentication_required', declineCode: 'authentication_required' });
  });

  it('maps a code it does not know to processing_error', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'), minLength: 2, maxLength: 2 }),
        (responseCode) => {
          fc.pre(!Object.hasOwn(responseCodes, responseCode));
          expect(declineOf(responseCode)).toMatchObject({ code: 'processing_error', declineCode: 'processing_error' });
        },
      ),
    );
  });

  it('refuses 00, which is not a decline', () => {
    expect(() => declineOf('00')).toThrow(/not a decline/);
  });
});

describe('identifiers and currencies', () => {
  it('derive a 15-character base32 card acceptor id, the same for the same account', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), (accountId) => {
        const id = cardAcceptorIdOf(accountId);
        expect(id).toMatch(/^[A-Z2-7]{15}$/);
        expect(cardAcceptorIdOf(accountId)).toBe(id);
      }),
    );
    const ids = new Set(Array.from({ length: 2_000 }, (_, index) => cardAcceptorIdOf(`acct_${index}`)));
    expect(ids.size).toBe(2_000);
  });

  it('keep STANs in 000001-999999 and RRNs at 12 digits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), (value) => {
        const stan = stanOf(value);
        expect(stan).toMatch(/^[0-9]{6}$/);
        expect(Number(stan)).toBeGreaterThanOrEqual(1);
      }),
    );
    expect(stanOf(0n)).toBe('000001');
    expect(stanOf(999_998n)).toBe('999999');
    expect(stanOf(999_999n)).toBe('000001');
    expect(rrnOf(1n)).toBe('000000000001');
    expect(rrnOf(999_999_999_999n)).toBe('999999999999');
    expect(() => rrnOf(10n ** 12n)).toThrow(/12 digits/);
  });

  it('convert every currency alpha ↔ numeric, and refuse unknown ones', () => {
    for (const info of currencies.values()) {
      expect(currencyNumericOf(info.code)).toBe(info.numeric);
      expect(currencyAlphaOf(info.numeric)).toBe(info.code);
    }
    expect(currencyAlphaOf('999')).toBeNull();
    expect(() => currencyNumericOf('XXX')).toThrow(AppError);
  });
});

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createIso8583Message,
  frameIso8583,
  iso8583BodyBytesMax,
  iso8583ErrorReason,
  iso8583FieldSpecs,
  Iso8583FrameReader,
  iso8583Mtis,
  iso8583ResponseMtiFor,
  maskPan,
  normalizeIso8583Message,
  packIso8583,
  packIso8583Frame,
  redactIso8583ForLog,
  unpackIso8583,
  unpackIso8583Frame,
  type Iso8583FieldSpec,
  type Iso8583Message,
} from '../../src/modules/cards/iso8583/index.js';
import { AppError } from '../../src/platform/errors.js';
import { limits } from '../../src/platform/limits.js';

const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

/** The code and reason of the ISO 8583 error fn throws; fails the test on success or on any other error. */
function rejection(fn: () => unknown): { code: string; reason: string | null; field: unknown } {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    expect(error.status).toBe(400);
    return { code: error.code, reason: iso8583ErrorReason(error), field: error.details?.field };
  }
  throw new Error('expected an ISO 8583 error, got none');
}

const digits = '0123456789';
const alphanumeric = `${digits}ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz `;
const printable = Array.from({ length: 0x7f - 0x20 }, (_, index) => String.fromCharCode(0x20 + index)).join('');
const charsetOf = { n: digits, an: alphanumeric, ans: printable } as const;

/** Any valid value of a field: fixed fields also get shorter values, which pack pads. */
function valueArbitrary(spec: Iso8583FieldSpec): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...charsetOf[spec.format]), minLength: 0, maxLength: spec.lengthMax });
}

/** What a value becomes on the wire (independent of the codec: the padding rules of the format). */
function padded(spec: Iso8583FieldSpec, value: string): string {
  if (spec.lengthKind !== 'fixed') return value;
  return spec.format === 'n' ? value.padStart(spec.lengthMax, '0') : value.padEnd(spec.lengthMax, ' ');
}

const mtiArbitrary = fc.constantFrom(...iso8583Mtis);

/** A message with a random subset of the supported fields (any of them may be absent, or all). */
const messageArbitrary: fc.Arbitrary<Iso8583Message> = fc
  .tuple(mtiArbitrary, ...iso8583FieldSpecs.map((spec) => fc.option(valueArbitrary(spec), { nil: undefined })))
  .map(([mti, ...values]) => {
    const fields = new Map<number, string>();
    values.forEach((value, index) => {
      if (value !== undefined) fields.set(iso8583FieldSpecs[index]!.number, value);
    });
    return { mti, fields };
  });

function expectedAfterRoundTrip(message: Iso8583Message): Iso8583Message {
  const fields = new Map<number, string>();
  for (const [fieldNumber, value] of message.fields) {
    fields.set(
      fieldNumber,
      padded(
        iso8583FieldSpecs.find((spec) => spec.number === fieldNumber)!,
        value,
      ),
    );
  }
  return { mti: message.mti, fields };
}

function sortedEntries(message: Iso8583Message): [number, string][] {
  return [...message.fields.entries()].sort(([left], [right]) => left - right);
}

describe('ISO 8583 round trip', () => {
  it('supports the five request/response pairs', () => {
    expect(iso8583Mtis).toEqual(['0100', '0110', '0200', '0210', '0220', '0230', '0400', '0410', '0800', '0810']);
    expect(iso8583ResponseMtiFor('0400')).toBe('0410');
  });

  it('random messages of every MTI and any subset of fields survive pack → unpack → pack', () => {
    fc.assert(
      fc.property(messageArbitrary, (message) => {
        const body = packIso8583(message);
        const decoded = unpackIso8583(body);
        const expected = expectedAfterRoundTrip(message);
        expect(decoded.mti).toBe(expected.mti);
        expect(sortedEntries(decoded)).toEqual(sortedEntries(expected));
        // The canonical form packs to the same bytes: one message, one encoding.
        expect(text(packIso8583(decoded))).toBe(text(body));
        expect(unpackIso8583Frame(packIso8583Frame(message))).toEqual(decoded);
        // Bit 1 (secondary bitmap) is set exactly when a field above 64 is present.
        const secondary = [...message.fields.keys()].some((fieldNumber) => fieldNumber > 64);
        expect(text(body).length >= 36 && /^[0-9A-F]$/.test(text(body)[4]!)).toBe(true);
        expect((Number.parseInt(text(body)[4]!, 16) & 8) !== 0).toBe(secondary);
        expect(body.length).toBeLessThanOrEqual(iso8583BodyBytesMax);
      }),
      { numRuns: 1_000 },
    );
  });

  for (const spec of iso8583FieldSpecs) {
    it(`field ${spec.number} (${spec.format} ${spec.lengthKind} ${spec.lengthMax}) round-trips in every MTI`, () => {
      fc.assert(
        fc.property(mtiArbitrary, valueArbitrary(spec), messageArbitrary, (mti, value, others) => {
          const fields = new Map(others.fields);
          fields.set(spec.number, value);
          const decoded = unpackIso8583(packIso8583({ mti, fields }));
          expect(decoded.mti).toBe(mti);
          expect(decoded.fields.get(spec.number)).toBe(padded(spec, value));
          expect(decoded.fields.size).toBe(fields.size);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('a message with every field at its longest packs within the frame limit and round-trips', () => {
    const fields = new Map(iso8583FieldSpecs.map((spec) => [spec.number, '9'.repeat(spec.lengthMax)]));
    const body = packIso8583({ mti: '0200', fields });
    expect(body.length).toBe(iso8583BodyBytesMax);
    expect(body.length).toBeLessThanOrEqual(limits.cardsIso8583FrameBytesMax);
    expect(unpackIso8583(body).fields).toEqual(fields);
  });

  it('a message without fields is MTI + an empty primary bitmap', () => {
    expect(text(packIso8583({ mti: '0810', fields: new Map() }))).toBe('08100000000000000000');
    expect(unpackIso8583(ascii('08100000000000000000'))).toEqual({ mti: '0810', fields: new Map() });
  });

  it('normalizeIso8583Message pads fixed fields as the wire does', () => {
    const normalized = normalizeIso8583Message(createIso8583Message('0110', { 4: '1000', 38: 'A1', 39: '0' }));
    expect(sortedEntries(normalized)).toEqual([
      [4, '000000001000'],
      [38, 'A1    '],
      [39, '0 '],
    ]);
  });
});

describe('ISO 8583 known answers (computed by hand)', () => {
  it('0200 purchase with PAN, processing code, amount, STAN, terminal and currency', () => {
    const message = createIso8583Message('0200', {
      2: '4242424242424242',
      3: '000000',
      4: '1000',
      11: '1',
      41: 'TERM0001',
      49: '156',
    });
    // Bits 2, 3, 4 → first byte 0100 0000 | 0010 0000 | 0001 0000 = 0x70 ("70").
    // Bit 11 → second byte (bits 9–16), third bit from the left: 0010 0000 = 0x20 ("20").
    // Bit 41 → sixth byte (bits 41–48), first bit: 0x80; bit 49 → seventh byte, first bit: 0x80.
    // Primary bitmap 70 20 00 00 00 80 80 00; bit 1 clear, so no secondary bitmap.
    const expectedBody =
      '0200' + // MTI
      '7020000000808000' + // primary bitmap
      '16' + // field 2 LLVAR length
      '4242424242424242' + // field 2
      '000000' + // field 3, n6
      '000000001000' + // field 4, n12, zero-padded left (10.00 in minor units)
      '000001' + // field 11, n6, zero-padded left
      'TERM0001' + // field 41, ans8
      '156'; // field 49, n3 (CNY)
    expect(expectedBody.length).toBe(73);
    const frame = packIso8583Frame(message);
    // 73 = 0x0049: big-endian, high byte first.
    expect([...frame.subarray(0, 2)]).toEqual([0x00, 0x49]);
    expect(text(frame.subarray(2))).toBe(expectedBody);
    expect(sortedEntries(unpackIso8583Frame(frame))).toEqual([
      [2, '4242424242424242'],
      [3, '000000'],
      [4, '000000001000'],
      [11, '000001'],
      [41, 'TERM0001'],
      [49, '156'],
    ]);
  });

  it('0800 echo test with field 70 in the secondary bitmap', () => {
    const message = createIso8583Message('0800', { 7: '0612143015', 11: '000042', 70: '301' });
    // Bit 1 (secondary follows) → 0x80 and bit 7 → 0x02 in the first byte: 0x82. Bit 11 → 0x20.
    // Secondary bitmap covers bits 65–128: bit 70 is the sixth, 0000 0100 = 0x04 in its first byte.
    const expectedBody = '0800' + '8220000000000000' + '0400000000000000' + '0612143015' + '000042' + '301';
    expect(expectedBody.length).toBe(55); // 0x37
    const frame = packIso8583Frame(message);
    expect([...frame.subarray(0, 2)]).toEqual([0x00, 0x37]);
    expect(text(frame.subarray(2))).toBe(expectedBody);
    expect(unpackIso8583Frame(frame)).toEqual(message);
  });

  it('lower-case bitmap hex is accepted on input', () => {
    expect(
      unpackIso8583(ascii('0800' + '8220000000000000'.toLowerCase() + '0400000000000000' + '0612143015000042301')),
    ).toEqual(createIso8583Message('0800', { 7: '0612143015', 11: '000042', 70: '301' }));
  });
});

describe('ISO 8583 rejects malformed input', () => {
  const primaryOnly = (bitmap: string, fields: string) => ascii(`0200${bitmap}${fields}`);
  // Field 2 only: bitmap 4000000000000000.
  const panBitmap = '4000000000000000';
  // Field 54 only (LLLVAR): bit 54 is the sixth bit of the seventh byte → 0x04.
  const field54Bitmap = '0000000000000400';

  const bodyCases: [string, Uint8Array, string, number | undefined][] = [
    ['empty body', ascii(''), 'mti_invalid', undefined],
    ['short MTI', ascii('08'), 'mti_invalid', undefined],
    ['non-digit MTI', ascii('08A00000000000000000'), 'mti_invalid', undefined],
    ['unsupported MTI', ascii('01200000000000000000'), 'mti_unsupported', undefined],
    ['truncated primary bitmap', ascii('08008220'), 'bitmap_truncated', undefined],
    ['bad primary bitmap hex', ascii('0800G000000000000000'), 'bitmap_invalid', undefined],
    ['bad bitmap hex (space)', ascii('0800 000000000000000'), 'bitmap_invalid', undefined],
    ['secondary bitmap flagged but missing', ascii('08008000000000000000'), 'bitmap_truncated', undefined],
    ['bad secondary bitmap hex', ascii('080080000000000000000400000000000Z00301'), 'bitmap_invalid', undefined],
    ['empty secondary bitmap', ascii('080080000000000000000000000000000000'), 'bitmap_invalid', undefined],
    ['bit set for unsupported field 5', primaryOnly('0800000000000000', '000000000000'), 'field_unsupported', 5],
    [
      'bit set for field 65 (tertiary bitmap)',
      ascii('08008000000000000000' + '8000000000000000'),
      'field_unsupported',
      65,
    ],
    [
      'bit set for field 128',
      ascii('08008000000000000000' + '0000000000000001' + '0'.repeat(16)),
      'field_unsupported',
      128,
    ],
    ['truncated fixed field', primaryOnly('1000000000000000', '00000000100'), 'field_truncated', 4],
    ['truncated LLVAR value', primaryOnly(panBitmap, '16424242424242'), 'field_truncated', 2],
    ['truncated LLVAR length', primaryOnly(panBitmap, '1'), 'field_truncated', 2],
    ['missing field', primaryOnly(panBitmap, ''), 'field_truncated', 2],
    ['bad LL digits', primaryOnly(panBitmap, '1A4242424242424242'), 'field_length_invalid', 2],
    ['LL with a space', primaryOnly(panBitmap, ' 9424242424'), 'field_length_invalid', 2],
    ['bad LLL digits', primaryOnly(field54Bitmap, '0x5ABCDE'), 'field_length_invalid', 54],
    ['LLVAR length over max', primaryOnly(panBitmap, '20' + '4'.repeat(20)), 'field_too_long', 2],
    ['LLLVAR length over max', primaryOnly(field54Bitmap, '121' + 'A'.repeat(121)), 'field_too_long', 54],
    ['wrong charset in n field', primaryOnly('1000000000000000', '00000000100A'), 'field_charset', 4],
    ['wrong charset in LLVAR n field', primaryOnly(panBitmap, '04424X'), 'field_charset', 2],
    ['trailing bytes', primaryOnly('1000000000000000', '000000001000X'), 'message_trailing_bytes', undefined],
    ['non-ASCII byte', new Uint8Array([...ascii('0200'), 0xc3, 0xa9]), 'message_not_ascii', undefined],
    ['control byte', new Uint8Array([...ascii('08000000000000000000'), 0x00]), 'message_not_ascii', undefined],
  ];
  it.each(bodyCases)('%s', (_name, body, reason, field) => {
    const result = rejection(() => unpackIso8583(body));
    expect(result).toEqual({ code: 'iso8583_invalid', reason, field });
  });

  it('a body over the frame limit', () => {
    const body = ascii('0'.repeat(limits.cardsIso8583FrameBytesMax + 1));
    expect(rejection(() => unpackIso8583(body)).reason).toBe('message_too_large');
  });

  const valid = packIso8583Frame(createIso8583Message('0800', { 11: '000001', 70: '301' }));
  const frameCases: [string, Uint8Array, string][] = [
    ['no bytes', new Uint8Array([]), 'frame_length_invalid'],
    ['one byte of length', new Uint8Array([0x00]), 'frame_length_invalid'],
    ['zero length', new Uint8Array([0x00, 0x00, 0x30]), 'frame_length_invalid'],
    ['length over the limit', new Uint8Array([0xff, 0xff, 0x30]), 'frame_too_large'],
    ['truncated body', valid.subarray(0, valid.length - 1), 'frame_truncated'],
    ['length prefix only', valid.subarray(0, 2), 'frame_truncated'],
    ['trailing bytes after the frame', new Uint8Array([...valid, 0x30]), 'frame_trailing_bytes'],
  ];
  it.each(frameCases)('frame: %s', (_name, frame, reason) => {
    expect(rejection(() => unpackIso8583Frame(frame))).toEqual({
      code: 'iso8583_frame_invalid',
      reason,
      field: undefined,
    });
  });

  it('a frame whose length is too small for its body is a body error', () => {
    const frame = new Uint8Array(valid);
    frame[1] = frame[1]! - 1;
    expect(rejection(() => unpackIso8583Frame(frame.subarray(0, frame.length - 1))).reason).toBe('field_truncated');
  });

  it('any byte string is either a message or an ISO 8583 error, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          unpackIso8583Frame(bytes);
          unpackIso8583(bytes);
        } catch (error) {
          expect(iso8583ErrorReason(error)).not.toBeNull();
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('any corruption of a valid body is either a message that re-packs identically or an ISO 8583 error', () => {
    fc.assert(
      fc.property(
        messageArbitrary,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat({ max: 3 }),
        (message, position, byte, drop) => {
          const body = packIso8583(message);
          const corrupt = new Uint8Array(body);
          corrupt[position % corrupt.length] = byte;
          const input = corrupt.subarray(0, corrupt.length - drop);
          let decoded: Iso8583Message;
          try {
            decoded = unpackIso8583(input);
          } catch (error) {
            expect(iso8583ErrorReason(error)).not.toBeNull();
            return;
          }
          // Accepted: must be canonical, except that bitmap hex may be lower case on input.
          const inputText = text(input);
          const bitmapEnd = [...decoded.fields.keys()].some((fieldNumber) => fieldNumber > 64) ? 36 : 20;
          const canonical =
            inputText.slice(0, 4) + inputText.slice(4, bitmapEnd).toUpperCase() + inputText.slice(bitmapEnd);
          expect(text(packIso8583(decoded))).toBe(canonical);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  const packCases: [string, () => unknown, string, number | undefined][] = [
    [
      'missing MTI',
      () => packIso8583({ mti: undefined as unknown as string, fields: new Map() }),
      'mti_invalid',
      undefined,
    ],
    ['empty MTI', () => packIso8583({ mti: '', fields: new Map() }), 'mti_invalid', undefined],
    ['non-digit MTI', () => packIso8583({ mti: '02x0', fields: new Map() }), 'mti_invalid', undefined],
    ['unsupported MTI', () => packIso8583({ mti: '0120', fields: new Map() }), 'mti_unsupported', undefined],
    ['field 1 (the bitmap flag)', () => packIso8583(createIso8583Message('0200', { 1: '1' })), 'field_unsupported', 1],
    ['unknown field 5', () => packIso8583(createIso8583Message('0200', { 5: '1' })), 'field_unsupported', 5],
    ['field 52 (PIN block)', () => packIso8583(createIso8583Message('0200', { 52: '1' })), 'field_unsupported', 52],
    ['field 129', () => packIso8583(createIso8583Message('0200', { 129: '1' })), 'field_unsupported', 129],
    ['field 2.5', () => packIso8583({ mti: '0200', fields: new Map([[2.5, '1']]) }), 'field_unsupported', 2.5],
    ['letter in a PAN', () => packIso8583(createIso8583Message('0200', { 2: '42424242x' })), 'field_charset', 2],
    ['dash in an an field', () => packIso8583(createIso8583Message('0210', { 37: 'AB-1' })), 'field_charset', 37],
    ['non-ASCII in an ans field', () => packIso8583(createIso8583Message('0200', { 41: 'TÉRM' })), 'field_charset', 41],
    [
      'control character in an ans field',
      () => packIso8583(createIso8583Message('0200', { 42: 'A\nB' })),
      'field_charset',
      42,
    ],
    [
      'non-string value',
      () => packIso8583({ mti: '0200', fields: new Map([[4, 1000 as unknown as string]]) }),
      'field_charset',
      4,
    ],
    ['fixed field too long', () => packIso8583(createIso8583Message('0200', { 3: '1234567' })), 'field_too_long', 3],
    ['LLVAR too long', () => packIso8583(createIso8583Message('0200', { 2: '4'.repeat(20) })), 'field_too_long', 2],
    ['LLLVAR too long', () => packIso8583(createIso8583Message('0200', { 54: 'A'.repeat(121) })), 'field_too_long', 54],
  ];
  it.each(packCases)('pack: %s', (_name, fn, reason, field) => {
    expect(rejection(fn)).toEqual({ code: 'iso8583_invalid', reason, field });
  });

  it('errors never carry the value of a field', () => {
    const pan = '4242424242424242';
    for (const fn of [
      () => packIso8583(createIso8583Message('0200', { 2: `${pan}x` })),
      () => packIso8583(createIso8583Message('0200', { 2: `${pan}4242` })),
      () => unpackIso8583(ascii(`0200${panBitmap}20${pan}4242`)),
      () => unpackIso8583(ascii(`0200${panBitmap}16${pan}X`)),
    ]) {
      try {
        fn();
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        expect(JSON.stringify({ ...(error as AppError), message: (error as AppError).message })).not.toContain(
          '424242',
        );
      }
    }
  });
});

/** Frames of random bodies, and the bodies. */
const framedBodiesArbitrary = fc
  .array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 0, maxLength: 12 })
  .map((bodies) => ({ bodies, stream: Buffer.concat(bodies.map((body) => frameIso8583(body))) }));

function readAll(reader: Iso8583FrameReader, chunks: Uint8Array[]): Uint8Array[] {
  return chunks.flatMap((chunk) => reader.push(chunk));
}

describe('Iso8583FrameReader', () => {
  it('fed one byte at a time returns the same bodies', () => {
    const messages = [
      createIso8583Message('0200', { 2: '4242424242424242', 4: '1000', 11: '1' }),
      createIso8583Message('0800', { 70: '301' }),
      createIso8583Message('0410', { 39: '00', 90: '0200000001' }),
    ];
    const stream = Buffer.concat(messages.map((message) => packIso8583Frame(message)));
    const reader = new Iso8583FrameReader();
    const bodies: Uint8Array[] = [];
    for (const byte of stream) {
      bodies.push(...reader.push(new Uint8Array([byte])));
    }
    expect(bodies.map((body) => unpackIso8583(body))).toEqual(messages.map(normalizeIso8583Message));
    expect(reader.pendingBytes).toBe(0);
  });

  it('returns the same bodies however the stream is cut into chunks (property)', () => {
    fc.assert(
      fc.property(framedBodiesArbitrary, fc.array(fc.nat(), { maxLength: 40 }), ({ bodies, stream }, cutSeeds) => {
        const cuts = [...new Set(cutSeeds.map((seed) => (stream.length === 0 ? 0 : seed % (stream.length + 1))))].sort(
          (left, right) => left - right,
        );
        const points = [0, ...cuts, stream.length];
        const chunks = points.slice(1).map((end, index) => stream.subarray(points[index], end));
        const reader = new Iso8583FrameReader();
        const read = readAll(reader, chunks);
        expect(read.map((body) => [...body])).toEqual(bodies.map((body) => [...body]));
        expect(reader.pendingBytes).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('several frames in one chunk, and a frame split inside its length prefix', () => {
    const first = ascii('08100000000000000000');
    const second = ascii('0800' + '8000000000000000' + '0400000000000000' + '301');
    const stream = Buffer.concat([frameIso8583(first), frameIso8583(second), frameIso8583(first)]);
    const reader = new Iso8583FrameReader();
    const splitAt = stream.length - first.length - 1; // between the two bytes of the third prefix
    expect(reader.push(stream.subarray(0, splitAt)).map(text)).toEqual([text(first), text(second)]);
    expect(reader.pendingBytes).toBe(1);
    expect(reader.push(stream.subarray(splitAt, splitAt + 5)).map(text)).toEqual([]);
    expect(reader.pendingBytes).toBe(6);
    expect(reader.push(stream.subarray(splitAt + 5)).map(text)).toEqual([text(first)]);
    expect(reader.push(new Uint8Array([])).length).toBe(0);
  });

  it('a zero length fails the reader for good', () => {
    const reader = new Iso8583FrameReader();
    const good = frameIso8583(ascii('08100000000000000000'));
    expect(rejection(() => reader.push(new Uint8Array([...good, 0x00, 0x00, 0x30]))).reason).toBe(
      'frame_length_invalid',
    );
    expect(reader.failed).toBe(true);
    // The stream is out of sync: even a good frame is refused now.
    expect(rejection(() => reader.push(good))).toEqual({
      code: 'iso8583_frame_invalid',
      reason: 'frame_length_invalid',
      field: undefined,
    });
  });

  it('an oversize length is refused before any body byte is buffered', () => {
    const reader = new Iso8583FrameReader();
    const tooLong = limits.cardsIso8583FrameBytesMax + 1;
    expect(rejection(() => reader.push(new Uint8Array([tooLong >> 8, tooLong & 0xff]))).reason).toBe('frame_too_large');
    const small = new Iso8583FrameReader({ frameBytesMax: 10 });
    expect(small.push(frameIso8583(ascii('0123456789'))).length).toBe(1);
    expect(rejection(() => small.push(frameIso8583(ascii('01234567890')))).reason).toBe('frame_too_large');
  });

  it('a frame limit above the global limit is a programmer error', () => {
    expect(() => new Iso8583FrameReader({ frameBytesMax: limits.cardsIso8583FrameBytesMax + 1 })).toThrow(
      /assertion failed/,
    );
    expect(() => new Iso8583FrameReader({ frameBytesMax: 0 })).toThrow(/assertion failed/);
  });

  it('frameIso8583 refuses an empty or oversize body', () => {
    expect(rejection(() => frameIso8583(new Uint8Array([]))).reason).toBe('frame_length_invalid');
    expect(rejection(() => frameIso8583(new Uint8Array(limits.cardsIso8583FrameBytesMax + 1))).reason).toBe(
      'frame_too_large',
    );
    const body = new Uint8Array(limits.cardsIso8583FrameBytesMax).fill(0x30);
    const frame = frameIso8583(body);
    expect([frame[0], frame[1]]).toEqual([
      limits.cardsIso8583FrameBytesMax >> 8,
      limits.cardsIso8583FrameBytesMax & 0xff,
    ]);
  });
});

describe('redaction for logs', () => {
  it('masks the PAN to BIN + last 4 and drops track and PIN data', () => {
    const message: Iso8583Message = {
      mti: '0100',
      fields: new Map([
        [2, '4242424242424242'],
        [4, '000000001000'],
        [35, '4242424242424242=29121010000000000000'],
        [45, 'B4242424242424242^DOE/JANE^2912101'],
        [52, '0123456789ABCDEF'],
        [41, 'TERM0001'],
      ]),
    };
    const view = redactIso8583ForLog(message);
    expect(view).toEqual({ mti: '0100', fields: { 2: '424242******4242', 4: '000000001000', 41: 'TERM0001' } });
    const logged = JSON.stringify(view);
    expect(logged).not.toContain('4242424242424242');
    expect(logged).not.toContain('0123456789ABCDEF');
    expect(logged).not.toContain('DOE');
    // The message itself is left as it was.
    expect(message.fields.get(2)).toBe('4242424242424242');
    expect(message.fields.size).toBe(6);
  });

  it('masks any PAN: at most the first 6 and last 4 digits show, short ones not at all', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...digits), minLength: 1, maxLength: 19 }), (pan) => {
        const masked = maskPan(pan);
        expect(masked.length).toBe(pan.length);
        const shown = [...masked].filter((character) => character !== '*').length;
        expect(shown).toBeLessThanOrEqual(10);
        if (pan.length >= 13) {
          expect(masked).toBe(pan.slice(0, 6) + '*'.repeat(pan.length - 10) + pan.slice(-4));
        } else {
          expect(masked).toBe('*'.repeat(pan.length));
        }
        expect(redactIso8583ForLog({ mti: '0200', fields: new Map([[2, pan]]) }).fields['2']).toBe(masked);
      }),
    );
  });
});

describe('docs/iso8583.md', () => {
  it('has a field table that matches fields.ts exactly', () => {
    const doc = readFileSync(new URL('../../../../docs/iso8583.md', import.meta.url), 'utf8');
    const rows = doc
      .split('\n')
      .filter((line) => /^\|\s*\d+\s*\|/.test(line))
      .map((line) =>
        line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    const expected = iso8583FieldSpecs.map((spec) => [
      String(spec.number),
      spec.name,
      spec.format,
      spec.lengthKind === 'fixed' ? String(spec.lengthMax) : `..${spec.lengthMax}`,
      spec.lengthKind === 'fixed' ? 'fixed' : spec.lengthKind.toUpperCase(),
    ]);
    expect(rows).toEqual(expected);
  });
});

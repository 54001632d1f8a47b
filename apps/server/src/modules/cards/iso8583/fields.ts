/**
 * The ISO 8583:1987 data elements Yunpay's card network speaks, and the message types it allows.
 * docs/iso8583.md repeats this table; a test checks that the two agree.
 *
 * Formats: `n` digits 0–9; `an` letters, digits and space (space is what pads fixed `an` fields);
 * `ans` printable ASCII 0x20–0x7E. Fixed `n` fields are zero-padded on the left, fixed `an`/`ans`
 * fields space-padded on the right. LLVAR and LLLVAR fields carry their length as 2 or 3 ASCII
 * digits before the value.
 */
import { assert } from '../../../platform/errors.js';

export type Iso8583Format = 'n' | 'an' | 'ans';
export type Iso8583LengthKind = 'fixed' | 'llvar' | 'lllvar';

export interface Iso8583FieldSpec {
  /** Data element number, 2–128 (bit 1 is the secondary-bitmap flag, not a field). */
  readonly number: number;
  readonly name: string;
  readonly format: Iso8583Format;
  readonly lengthKind: Iso8583LengthKind;
  /** Exact length of a fixed field; longest value of a variable one (in characters). */
  readonly lengthMax: number;
}

function field(
  number: number,
  name: string,
  format: Iso8583Format,
  lengthKind: Iso8583LengthKind,
  lengthMax: number,
): Iso8583FieldSpec {
  return { number, name, format, lengthKind, lengthMax };
}

/** In field-number order (the order fields appear on the wire). */
export const iso8583FieldSpecs: readonly Iso8583FieldSpec[] = [
  field(2, 'Primary account number (PAN)', 'n', 'llvar', 19),
  field(3, 'Processing code', 'n', 'fixed', 6),
  field(4, 'Amount, transaction', 'n', 'fixed', 12),
  field(7, 'Transmission date and time (MMDDhhmmss)', 'n', 'fixed', 10),
  field(11, 'System trace audit number (STAN)', 'n', 'fixed', 6),
  field(12, 'Time, local transaction (hhmmss)', 'n', 'fixed', 6),
  field(13, 'Date, local transaction (MMDD)', 'n', 'fixed', 4),
  field(14, 'Date, expiration (YYMM)', 'n', 'fixed', 4),
  field(22, 'Point of service entry mode', 'n', 'fixed', 3),
  field(32, 'Acquiring institution identification code', 'n', 'llvar', 11),
  field(37, 'Retrieval reference number (RRN)', 'an', 'fixed', 12),
  field(38, 'Authorization identification response', 'an', 'fixed', 6),
  field(39, 'Response code', 'an', 'fixed', 2),
  field(41, 'Card acceptor terminal identification', 'ans', 'fixed', 8),
  field(42, 'Card acceptor identification code', 'ans', 'fixed', 15),
  field(49, 'Currency code, transaction', 'n', 'fixed', 3),
  field(54, 'Additional amounts', 'an', 'lllvar', 120),
  field(70, 'Network management information code', 'n', 'fixed', 3),
  field(90, 'Original data elements', 'n', 'fixed', 42),
  field(95, 'Replacement amounts', 'an', 'fixed', 42),
];

export const iso8583FieldSpecsByNumber: ReadonlyMap<number, Iso8583FieldSpec> = new Map(
  iso8583FieldSpecs.map((spec) => [spec.number, spec]),
);

/** Message type indicators: each request and the response that answers it. */
export const iso8583ResponseMtiByRequestMti = {
  '0100': '0110', // authorization
  '0200': '0210', // financial transaction
  '0220': '0230', // completion (advice)
  '0400': '0410', // reversal
  '0800': '0810', // network management: echo, sign-on, sign-off
} as const;

export type Iso8583RequestMti = keyof typeof iso8583ResponseMtiByRequestMti;
export type Iso8583ResponseMti = (typeof iso8583ResponseMtiByRequestMti)[Iso8583RequestMti];
export type Iso8583Mti = Iso8583RequestMti | Iso8583ResponseMti;

export const iso8583Mtis: readonly Iso8583Mti[] = Object.entries(iso8583ResponseMtiByRequestMti).flatMap(
  ([request, response]) => [request as Iso8583RequestMti, response],
);

const mtiSet: ReadonlySet<string> = new Set(iso8583Mtis);

export function isIso8583Mti(value: string): value is Iso8583Mti {
  return mtiSet.has(value);
}

export function isIso8583RequestMti(value: string): value is Iso8583RequestMti {
  return Object.hasOwn(iso8583ResponseMtiByRequestMti, value);
}

/** The MTI that answers a request: 0100 → 0110, 0800 → 0810. */
export function iso8583ResponseMtiFor(requestMti: Iso8583RequestMti): Iso8583ResponseMti {
  return iso8583ResponseMtiByRequestMti[requestMti];
}

const charsetPatterns: Record<Iso8583Format, RegExp> = {
  n: /^[0-9]*$/,
  an: /^[A-Za-z0-9 ]*$/,
  ans: /^[\x20-\x7e]*$/,
};

/** Whether every character of value belongs to the format's character set. */
export function isIso8583Charset(format: Iso8583Format, value: string): boolean {
  return charsetPatterns[format].test(value);
}

/** Characters the length prefix of a variable field takes (0 for a fixed field). */
export function iso8583LengthPrefixDigits(lengthKind: Iso8583LengthKind): 0 | 2 | 3 {
  return lengthKind === 'fixed' ? 0 : lengthKind === 'llvar' ? 2 : 3;
}

// The table is code: a bad edit crashes at import, before any message is packed with it.
for (const [index, spec] of iso8583FieldSpecs.entries()) {
  assert(Number.isInteger(spec.number) && spec.number >= 2 && spec.number <= 128, `field ${spec.number} out of range`);
  assert(index === 0 || iso8583FieldSpecs[index - 1]!.number < spec.number, `field ${spec.number} out of order`);
  assert(spec.number !== 65, 'field 65 is the tertiary bitmap flag, not supported');
  const prefixDigits = iso8583LengthPrefixDigits(spec.lengthKind);
  assert(
    Number.isInteger(spec.lengthMax) &&
      spec.lengthMax >= 1 &&
      (prefixDigits === 0 || spec.lengthMax < 10 ** prefixDigits),
    `field ${spec.number} lengthMax must fit its length prefix`,
  );
}

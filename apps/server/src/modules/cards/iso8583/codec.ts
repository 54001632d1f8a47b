/**
 * ISO 8583:1987 pack and unpack, ASCII variant: pure functions, no I/O.
 *
 * Body = MTI (4 ASCII digits) + primary bitmap (16 hex characters) + secondary bitmap (16 more,
 * present exactly when bit 1 is set) + the fields whose bits are set, in field-number order. A
 * frame is the body behind a 2-byte big-endian length (framing.ts reads frames from a stream).
 *
 * Errors are values of AppError: `iso8583_invalid` for a bad message, `iso8583_frame_invalid` for a
 * bad frame, with `details.reason` (and `details.field` when one field is at fault). They never
 * carry a field's value, which may be a card number.
 */
import { AppError, assert } from '../../../platform/errors.js';
import { limits } from '../../../platform/limits.js';
import {
  iso8583FieldSpecs,
  iso8583FieldSpecsByNumber,
  iso8583LengthPrefixDigits,
  isIso8583Charset,
  isIso8583Mti,
  type Iso8583FieldSpec,
} from './fields.js';

/** A message as the codec sees it: field values are the exact characters of the field on the wire. */
export interface Iso8583Message {
  mti: string;
  /** Field number → value. Field 1 (the secondary-bitmap flag) is never in here: pack derives it. */
  fields: Map<number, string>;
}

/** A message from a record of field values (handier to write than a Map). */
export function createIso8583Message(mti: string, fields: Readonly<Record<number, string>>): Iso8583Message {
  return { mti, fields: new Map(Object.entries(fields).map(([fieldNumber, value]) => [Number(fieldNumber), value])) };
}

/** Why a message or frame was rejected (stable: callers and tests match on these). */
export type Iso8583ErrorReason =
  // frames (code iso8583_frame_invalid)
  | 'frame_length_invalid'
  | 'frame_too_large'
  | 'frame_truncated'
  | 'frame_trailing_bytes'
  // messages (code iso8583_invalid)
  | 'message_not_ascii'
  | 'message_too_large'
  | 'mti_invalid'
  | 'mti_unsupported'
  | 'bitmap_truncated'
  | 'bitmap_invalid'
  | 'field_unsupported'
  | 'field_charset'
  | 'field_too_long'
  | 'field_length_invalid'
  | 'field_truncated'
  | 'message_trailing_bytes';

const frameReasons: ReadonlySet<Iso8583ErrorReason> = new Set([
  'frame_length_invalid',
  'frame_too_large',
  'frame_truncated',
  'frame_trailing_bytes',
]);

export function iso8583Error(reason: Iso8583ErrorReason, facts: { field?: number; offset?: number } = {}): AppError {
  const details: Record<string, unknown> = { reason };
  if (facts.field !== undefined) details.field = facts.field;
  if (facts.offset !== undefined) details.offset = facts.offset;
  const code = frameReasons.has(reason) ? 'iso8583_frame_invalid' : 'iso8583_invalid';
  const where = facts.field === undefined ? '' : ` (field ${facts.field})`;
  return new AppError(code, { message: `ISO 8583: ${reason.replaceAll('_', ' ')}${where}.`, details });
}

/** The reason of an ISO 8583 error, or null for any other value. */
export function iso8583ErrorReason(error: unknown): Iso8583ErrorReason | null {
  if (!(error instanceof AppError)) return null;
  if (error.code !== 'iso8583_invalid' && error.code !== 'iso8583_frame_invalid') return null;
  return (error.details?.reason as Iso8583ErrorReason | undefined) ?? null;
}

const mtiLength = 4;
const bitmapHexLength = 16;
const lengthPrefixBytes = 2;

/** The longest body the field table allows: every field present at its maximum length. */
export const iso8583BodyBytesMax =
  mtiLength +
  2 * bitmapHexLength +
  iso8583FieldSpecs.reduce((sum, spec) => sum + iso8583LengthPrefixDigits(spec.lengthKind) + spec.lengthMax, 0);

/** Run at start-up by checkAllLimits: any message pack accepts must fit in a frame the other side accepts. */
export function checkIso8583Limits(frameBytesMax: number = limits.cardsIso8583FrameBytesMax): void {
  assert(
    iso8583BodyBytesMax <= frameBytesMax,
    'limits.cardsIso8583FrameBytesMax is smaller than the largest message the field table allows',
  );
}

function specOf(fieldNumber: number): Iso8583FieldSpec {
  const spec = Number.isInteger(fieldNumber) ? iso8583FieldSpecsByNumber.get(fieldNumber) : undefined;
  if (spec === undefined) throw iso8583Error('field_unsupported', { field: fieldNumber });
  return spec;
}

/** The wire form of one value: padded when fixed, behind its length digits when variable. */
function encodeField(spec: Iso8583FieldSpec, value: unknown): string {
  if (typeof value !== 'string' || !isIso8583Charset(spec.format, value)) {
    throw iso8583Error('field_charset', { field: spec.number });
  }
  if (value.length > spec.lengthMax) throw iso8583Error('field_too_long', { field: spec.number });
  if (spec.lengthKind === 'fixed') {
    return spec.format === 'n' ? value.padStart(spec.lengthMax, '0') : value.padEnd(spec.lengthMax, ' ');
  }
  return String(value.length).padStart(iso8583LengthPrefixDigits(spec.lengthKind), '0') + value;
}

function bitmapHex(bits: readonly boolean[], firstBit: number): string {
  let hex = '';
  for (let nibble = 0; nibble < bitmapHexLength; nibble += 1) {
    let digit = 0;
    for (let bit = 0; bit < 4; bit += 1) {
      if (bits[firstBit + nibble * 4 + bit] === true) digit |= 8 >> bit;
    }
    hex += digit.toString(16).toUpperCase();
  }
  return hex;
}

/**
 * The canonical form of a message: fixed fields padded to their length, exactly what unpack
 * returns for the bytes pack produces. Throws iso8583_invalid like pack.
 */
export function normalizeIso8583Message(message: Iso8583Message): Iso8583Message {
  const body = packIso8583(message);
  return unpackIso8583(body);
}

/** Packs a message into its body (no length prefix). Throws iso8583_invalid for a bad message. */
export function packIso8583(message: Iso8583Message): Uint8Array {
  if (typeof message.mti !== 'string' || !/^[0-9]{4}$/.test(message.mti)) throw iso8583Error('mti_invalid');
  if (!isIso8583Mti(message.mti)) throw iso8583Error('mti_unsupported');
  // bits[n] is bit n (1-based, as in the standard); index 0 is unused.
  const bits: boolean[] = new Array<boolean>(129).fill(false);
  const encoded = new Map<number, string>();
  for (const [fieldNumber, value] of message.fields) {
    const spec = specOf(fieldNumber);
    encoded.set(spec.number, encodeField(spec, value));
    bits[spec.number] = true;
  }
  const secondary = bits.some((set, bit) => set && bit > 64);
  bits[1] = secondary;
  let text = message.mti + bitmapHex(bits, 1) + (secondary ? bitmapHex(bits, 65) : '');
  for (const spec of iso8583FieldSpecs) {
    const value = encoded.get(spec.number);
    if (value !== undefined) text += value;
  }
  if (text.length > limits.cardsIso8583FrameBytesMax) throw iso8583Error('message_too_large');
  const body = Buffer.from(text, 'latin1');
  assert(body.length === text.length, 'an ISO 8583 body is one byte per character');
  return new Uint8Array(body.buffer, body.byteOffset, body.length);
}

function readBitmap(text: string, offset: number, firstBit: number, bits: boolean[]): void {
  if (text.length < offset + bitmapHexLength) throw iso8583Error('bitmap_truncated', { offset });
  const hex = text.slice(offset, offset + bitmapHexLength);
  if (!/^[0-9A-Fa-f]{16}$/.test(hex)) throw iso8583Error('bitmap_invalid', { offset });
  for (let nibble = 0; nibble < bitmapHexLength; nibble += 1) {
    const digit = Number.parseInt(hex[nibble]!, 16);
    for (let bit = 0; bit < 4; bit += 1) bits[firstBit + nibble * 4 + bit] = (digit & (8 >> bit)) !== 0;
  }
}

/**
 * Unpacks a body (no length prefix). Throws iso8583_invalid for anything that is not exactly one
 * well-formed message with supported fields; never reads past the input.
 */
export function unpackIso8583(body: Uint8Array): Iso8583Message {
  if (body.length > limits.cardsIso8583FrameBytesMax) throw iso8583Error('message_too_large');
  for (let index = 0; index < body.length; index += 1) {
    const byte = body[index]!;
    if (byte < 0x20 || byte > 0x7e) throw iso8583Error('message_not_ascii', { offset: index });
  }
  const text = Buffer.from(body.buffer, body.byteOffset, body.length).toString('latin1');

  const mti = text.slice(0, mtiLength);
  if (!/^[0-9]{4}$/.test(mti)) throw iso8583Error('mti_invalid', { offset: 0 });
  if (!isIso8583Mti(mti)) throw iso8583Error('mti_unsupported', { offset: 0 });

  const bits: boolean[] = new Array<boolean>(129).fill(false);
  let offset = mtiLength;
  readBitmap(text, offset, 1, bits);
  offset += bitmapHexLength;
  if (bits[1] === true) {
    readBitmap(text, offset, 65, bits);
    // An empty secondary bitmap would give the same message a second encoding.
    if (!bits.some((set, bit) => set && bit > 64)) throw iso8583Error('bitmap_invalid', { offset });
    offset += bitmapHexLength;
  }

  const fields = new Map<number, string>();
  for (let fieldNumber = 2; fieldNumber <= 128; fieldNumber += 1) {
    if (bits[fieldNumber] !== true) continue;
    const spec = iso8583FieldSpecsByNumber.get(fieldNumber);
    if (spec === undefined) throw iso8583Error('field_unsupported', { field: fieldNumber });
    let length = spec.lengthMax;
    const prefixDigits = iso8583LengthPrefixDigits(spec.lengthKind);
    if (prefixDigits > 0) {
      if (text.length < offset + prefixDigits) throw iso8583Error('field_truncated', { field: fieldNumber, offset });
      const digits = text.slice(offset, offset + prefixDigits);
      if (!/^[0-9]+$/.test(digits)) throw iso8583Error('field_length_invalid', { field: fieldNumber, offset });
      length = Number.parseInt(digits, 10);
      if (length > spec.lengthMax) throw iso8583Error('field_too_long', { field: fieldNumber, offset });
      offset += prefixDigits;
    }
    if (text.length < offset + length) throw iso8583Error('field_truncated', { field: fieldNumber, offset });
    const value = text.slice(offset, offset + length);
    if (!isIso8583Charset(spec.format, value)) throw iso8583Error('field_charset', { field: fieldNumber, offset });
    fields.set(fieldNumber, value);
    offset += length;
  }
  if (offset !== text.length) throw iso8583Error('message_trailing_bytes', { offset });
  return { mti, fields };
}

/** Prefixes a body with its 2-byte big-endian length. Throws iso8583_frame_invalid if it cannot fit. */
export function frameIso8583(body: Uint8Array): Uint8Array {
  if (body.length === 0) throw iso8583Error('frame_length_invalid');
  if (body.length > limits.cardsIso8583FrameBytesMax) throw iso8583Error('frame_too_large');
  const frame = new Uint8Array(lengthPrefixBytes + body.length);
  frame[0] = body.length >> 8;
  frame[1] = body.length & 0xff;
  frame.set(body, lengthPrefixBytes);
  return frame;
}

/** pack + frame: the bytes to write to the socket. */
export function packIso8583Frame(message: Iso8583Message): Uint8Array {
  return frameIso8583(packIso8583(message));
}

/**
 * Unpacks one whole frame held in one buffer (length prefix + body, nothing else). For a stream,
 * use Iso8583FrameReader and unpackIso8583 on each body.
 */
export function unpackIso8583Frame(frame: Uint8Array): Iso8583Message {
  if (frame.length < lengthPrefixBytes) throw iso8583Error('frame_length_invalid', { offset: 0 });
  const length = (frame[0]! << 8) | frame[1]!;
  if (length === 0) throw iso8583Error('frame_length_invalid', { offset: 0 });
  if (length > limits.cardsIso8583FrameBytesMax) throw iso8583Error('frame_too_large', { offset: 0 });
  if (frame.length < lengthPrefixBytes + length) throw iso8583Error('frame_truncated', { offset: frame.length });
  if (frame.length > lengthPrefixBytes + length) {
    throw iso8583Error('frame_trailing_bytes', { offset: lengthPrefixBytes + length });
  }
  return unpackIso8583(frame.subarray(lengthPrefixBytes));
}

/** Fields never written to a log, even redacted: track 2 (35), track 1 (45), PIN block (52). */
const fieldsNeverLogged: ReadonlySet<number> = new Set([35, 45, 52]);

/** A message as it may appear in a log line: JSON-friendly, card number masked. */
export interface Iso8583LogView {
  mti: string;
  fields: Record<string, string>;
}

/**
 * PAN → first 6 + asterisks + last 4 (PCI DSS 3.4.1's most that may be shown). A PAN shorter than
 * 13 digits would show nearly all of itself that way, so it is masked whole.
 */
export function maskPan(pan: string): string {
  if (pan.length < 13) return '*'.repeat(pan.length);
  return pan.slice(0, 6) + '*'.repeat(pan.length - 10) + pan.slice(-4);
}

/** What may be logged of a message: field 2 masked, fields 35, 45 and 52 dropped. */
export function redactIso8583ForLog(message: Iso8583Message): Iso8583LogView {
  const fields: Record<string, string> = {};
  const numbers = [...message.fields.keys()].sort((left, right) => left - right);
  for (const fieldNumber of numbers) {
    if (fieldsNeverLogged.has(fieldNumber)) continue;
    const value = message.fields.get(fieldNumber)!;
    fields[String(fieldNumber)] = fieldNumber === 2 ? maskPan(String(value)) : String(value);
  }
  return { mti: String(message.mti), fields };
}

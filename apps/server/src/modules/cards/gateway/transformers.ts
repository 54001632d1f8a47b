/**
 * The card gateway's transformers: Yunpay's card transactions ↔ ISO 8583 messages, following the
 * contract in docs/card-network.md. Pure: no I/O, no clock, no randomness. Every input is checked
 * with assert (a bad value here is the gateway's bug: it validates what callers send first), so a
 * message that leaves these functions has every field the contract requires, in its wire form.
 */
import { createHash } from 'node:crypto';
import { AppError, assert } from '../../../platform/errors.js';
import { currencies, currencyInfo } from '../../../platform/money.js';
import {
  iso8583FieldSpecsByNumber,
  iso8583ResponseMtiFor,
  isIso8583RequestMti,
  type Iso8583Message,
} from '../iso8583/index.js';
import { isResponseCode, responseCodes } from '../response-codes.js';

/** Processing codes (field 3) the gateway sends. */
export const processingCodes = { purchase: '000000', refund: '200000' } as const;
export type ProcessingCode = (typeof processingCodes)[keyof typeof processingCodes];

/** POS entry mode (field 22): card not present, without or with cardholder authentication (3-D Secure). */
export const posEntryModes = { cardNotPresent: '010', cardNotPresentAuthenticated: '812' } as const;

/** Field 4 holds 12 digits. */
export const amountMinorMaxOnWire = 999_999_999_999n;
/** The STAN (field 11) is 6 digits, 000001–999999. */
export const stanMax = 999_999n;
/** The RRN (field 37) is 12 digits. */
export const rrnMax = 999_999_999_999n;

/** Fields a response must echo from its request (when the request has them): docs/card-network.md. */
export const echoedFields: readonly number[] = [3, 4, 7, 11, 37, 41, 42, 49];

const stanPattern = /^[0-9]{6}$/;
const rrnPattern = /^[0-9]{12}$/;
const acquirerIdPattern = /^[0-9]{1,11}$/;
const terminalIdPattern = /^[\x20-\x7e]{1,8}$/;
const panPattern = /^[0-9]{12,19}$/;
const authCodePattern = /^[0-9A-Za-z ]{6}$/;
const responseCodePattern = /^[0-9A-Z]{2}$/;

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}

/** Field 7: MMDDhhmmss in UTC. */
export function transmissionDateTimeOf(at: Date): string {
  assert(!Number.isNaN(at.getTime()), 'a transmission time is a valid date');
  return (
    pad2(at.getUTCMonth() + 1) +
    pad2(at.getUTCDate()) +
    pad2(at.getUTCHours()) +
    pad2(at.getUTCMinutes()) +
    pad2(at.getUTCSeconds())
  );
}

/** Field 12: hhmmss, the acquirer's local time, which is UTC. */
function localTimeOf(at: Date): string {
  return pad2(at.getUTCHours()) + pad2(at.getUTCMinutes()) + pad2(at.getUTCSeconds());
}

/** Field 13: MMDD, UTC. */
function localDateOf(at: Date): string {
  return pad2(at.getUTCMonth() + 1) + pad2(at.getUTCDate());
}

/** Field 14: YYMM. */
export function expiryDateOf(expMonth: number, expYear: number): string {
  assert(Number.isInteger(expMonth) && expMonth >= 1 && expMonth <= 12, 'an expiry month is 1-12');
  assert(Number.isInteger(expYear) && expYear >= 2000 && expYear <= 9999, 'an expiry year has four digits');
  return pad2(expYear % 100) + pad2(expMonth);
}

/** Field 4: the amount in minor units, 12 digits. */
export function amountFieldOf(amountMinor: bigint): string {
  assert(amountMinor >= 0n && amountMinor <= amountMinorMaxOnWire, 'an amount fits field 4 (12 digits)');
  return amountMinor.toString().padStart(12, '0');
}

/** A STAN from a sequence value: value mod 999999 + 1, so it runs 000001–999999 and wraps. */
export function stanOf(sequenceValue: bigint): string {
  assert(sequenceValue >= 0n, 'a sequence value is not negative');
  return ((sequenceValue % stanMax) + 1n).toString().padStart(6, '0');
}

/** An RRN from a sequence value: the value, zero-padded to 12 digits. */
export function rrnOf(sequenceValue: bigint): string {
  assert(sequenceValue >= 1n && sequenceValue <= rrnMax, 'an RRN sequence value fits 12 digits');
  return sequenceValue.toString().padStart(12, '0');
}

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * Field 42, the card acceptor id, from a Yunpay merchant account id: the first 75 bits of
 * SHA-256("yunpay card acceptor v1|" + account id) in RFC 4648 base32 (A–Z, 2–7), 15 characters.
 * Deterministic, so every message of one merchant carries the same id and settlement can map a
 * clearing line back to its account; 75 bits make a collision between two accounts negligible.
 * Base32 has no run of digits long enough to look like a card number.
 */
export function cardAcceptorIdOf(merchantAccountId: string): string {
  assert(merchantAccountId.length > 0, 'a merchant account id is not empty');
  const digest = createHash('sha256').update(`yunpay card acceptor v1|${merchantAccountId}`, 'utf8').digest();
  let bits = 0n;
  for (const byte of digest.subarray(0, 10)) bits = (bits << 8n) | BigInt(byte);
  bits >>= 5n; // 80 bits → the top 75
  let text = '';
  for (let index = 0; index < 15; index += 1) {
    text = base32Alphabet[Number(bits & 31n)] + text;
    bits >>= 5n;
  }
  return text;
}

/** ISO 4217 alpha (USD) → numeric (840). Throws currency_unsupported for a currency we do not take. */
export function currencyNumericOf(currencyAlpha: string): string {
  const info = currencyInfo(currencyAlpha.toUpperCase());
  if (info === undefined) throw new AppError('currency_unsupported', { param: 'currency' });
  return info.numeric;
}

const alphaByNumeric: ReadonlyMap<string, string> = new Map([...currencies.values()].map((c) => [c.numeric, c.code]));

/** ISO 4217 numeric (840) → alpha (USD); null for a numeric code we do not know. */
export function currencyAlphaOf(currencyNumeric: string): string | null {
  return alphaByNumeric.get(currencyNumeric) ?? null;
}

/** What every card message needs: the card, the amount and the identifiers of this message. */
export interface CardMessageInput {
  pan: string;
  expMonth: number;
  /** Four digits. */
  expYear: number;
  amountMinor: bigint;
  /** ISO 4217 alpha code (USD). */
  currency: string;
  /** Field 11: 6 digits, new for every message (see stanOf). */
  stan: string;
  /** Field 37: 12 digits (see rrnOf). */
  rrn: string;
  /** Field 7: when this message is sent. */
  transmittedAt: Date;
  /**
   * Fields 12/13: when the card transaction happened (the original's time for a completion or a
   * reversal). Defaults to transmittedAt.
   */
  transactionAt?: Date;
  /** Field 42 is derived from it (cardAcceptorIdOf). */
  merchantAccountId: string;
  /** Field 41: up to 8 printable characters, space-padded. */
  terminalId: string;
  /** Field 32: up to 11 digits. */
  acquirerId: string;
}

export interface OriginalRequestInput extends CardMessageInput {
  /** The cardholder passed 3-D Secure: field 22 is 812 instead of 010. */
  authenticated?: boolean;
}

/** The original message a completion or reversal refers to (field 90). */
export interface OriginalDataElements {
  mti: '0100' | '0200' | '0220';
  stan: string;
  transmittedAt: Date;
  acquirerId: string;
}

function assertCommon(input: CardMessageInput): void {
  assert(panPattern.test(input.pan), 'a PAN is 12-19 digits');
  assert(stanPattern.test(input.stan) && input.stan !== '000000', 'a STAN is 6 digits, 000001-999999');
  assert(rrnPattern.test(input.rrn), 'an RRN is 12 digits');
  assert(acquirerIdPattern.test(input.acquirerId), 'an acquirer id is 1-11 digits');
  assert(terminalIdPattern.test(input.terminalId), 'a terminal id is 1-8 printable characters');
}

/** The fields every card request carries (2, 3, 4, 7, 11, 12, 13, 14, 32, 37, 41, 42, 49). */
function commonFields(input: CardMessageInput, processingCode: ProcessingCode): Map<number, string> {
  assertCommon(input);
  const transactionAt = input.transactionAt ?? input.transmittedAt;
  return new Map<number, string>([
    [2, input.pan],
    [3, processingCode],
    [4, amountFieldOf(input.amountMinor)],
    [7, transmissionDateTimeOf(input.transmittedAt)],
    [11, input.stan],
    [12, localTimeOf(transactionAt)],
    [13, localDateOf(transactionAt)],
    [14, expiryDateOf(input.expMonth, input.expYear)],
    [32, input.acquirerId],
    [37, input.rrn],
    [41, input.terminalId.padEnd(8, ' ')],
    [42, cardAcceptorIdOf(input.merchantAccountId)],
    [49, currencyNumericOf(input.currency)],
  ]);
}

function sorted(mti: string, fields: Map<number, string>): Iso8583Message {
  return { mti, fields: new Map([...fields].sort(([left], [right]) => left - right)) };
}

function originalRequest(mti: '0100' | '0200', input: OriginalRequestInput, processingCode: ProcessingCode) {
  const fields = commonFields(input, processingCode);
  fields.set(
    22,
    input.authenticated === true ? posEntryModes.cardNotPresentAuthenticated : posEntryModes.cardNotPresent,
  );
  return sorted(mti, fields);
}

/** 0100 authorization (manual capture: the issuer holds the funds). */
export function buildAuthorizationRequest(input: OriginalRequestInput): Iso8583Message {
  return originalRequest('0100', input, processingCodes.purchase);
}

/** 0200 sale (automatic capture). */
export function buildSaleRequest(input: OriginalRequestInput): Iso8583Message {
  return originalRequest('0200', input, processingCodes.purchase);
}

/** 0200 refund: a credit to the card, processing code 200000, with its own RRN. */
export function buildRefundRequest(input: OriginalRequestInput): Iso8583Message {
  return originalRequest('0200', input, processingCodes.refund);
}

/**
 * Field 90 (42 digits): original MTI (4) + original STAN (6) + original field 7 (10) + original
 * acquirer id right-justified zero-filled (11) + 11 zeros.
 */
export function originalDataElementsOf(original: OriginalDataElements): string {
  assert(stanPattern.test(original.stan), 'an original STAN is 6 digits');
  assert(acquirerIdPattern.test(original.acquirerId), 'an original acquirer id is 1-11 digits');
  const value =
    original.mti +
    original.stan +
    transmissionDateTimeOf(original.transmittedAt) +
    original.acquirerId.padStart(11, '0') +
    '0'.repeat(11);
  assert(value.length === 42, 'field 90 is 42 digits');
  return value;
}

/** Field 90 read back (field 7 stays as MMDDhhmmss: it has no year). */
export interface ParsedOriginalDataElements {
  mti: string;
  stan: string;
  transmissionDateTime: string;
  acquirerId: string;
}

export function parseOriginalDataElements(value: string): ParsedOriginalDataElements | null {
  if (!/^[0-9]{42}$/.test(value) || !value.endsWith('0'.repeat(11))) return null;
  return {
    mti: value.slice(0, 4),
    stan: value.slice(4, 10),
    transmissionDateTime: value.slice(10, 20),
    acquirerId: value.slice(20, 31).replace(/^0+(?=.)/, ''),
  };
}

export interface CompletionInput extends CardMessageInput {
  /** Field 38 of the approved 0110. */
  authCode: string;
  /** The 0100 being completed (field 90). input.rrn is its RRN. */
  authorization: OriginalDataElements;
}

/** 0220 completion of an approved 0100: the captured amount (≤ authorized), the authorization's RRN. */
export function buildCompletionRequest(input: CompletionInput): Iso8583Message {
  assert(authCodePattern.test(input.authCode), 'an authorization code is 6 alphanumeric characters');
  assert(input.authorization.mti === '0100', 'a completion completes an 0100');
  const fields = commonFields(input, processingCodes.purchase);
  fields.set(38, input.authCode);
  fields.set(90, originalDataElementsOf(input.authorization));
  return sorted('0220', fields);
}

export interface ReversalInput extends CardMessageInput {
  /** Field 3 of the original. */
  processingCode: ProcessingCode;
  /** The message being reversed (field 90). input.rrn and input.amountMinor are the original's. */
  original: OriginalDataElements;
}

/** 0400 full reversal of an 0100, 0200 or 0220: its own STAN, the original's RRN and amount. */
export function buildReversalRequest(input: ReversalInput): Iso8583Message {
  assert(input.stan !== input.original.stan, 'a reversal has its own STAN');
  const fields = commonFields(input, input.processingCode);
  fields.set(90, originalDataElementsOf(input.original));
  return sorted('0400', fields);
}

/** A field value as it is on the wire (fixed fields padded), for comparing a sent and a received value. */
function wireValueOf(fieldNumber: number, value: string): string {
  const spec = iso8583FieldSpecsByNumber.get(fieldNumber);
  if (spec === undefined || spec.lengthKind !== 'fixed') return value;
  return spec.format === 'n' ? value.padStart(spec.lengthMax, '0') : value.padEnd(spec.lengthMax, ' ');
}

export type EchoCheck = { ok: true } | { ok: false; mtiMatches: boolean; mismatchedFields: number[] };

/**
 * Whether a response answers this request: the response MTI, and fields 3, 4, 7, 11, 37, 41, 42
 * and 49 equal to the request's (those the request has). A response that differs is treated as
 * no answer at all (the original is reversed).
 */
export function checkEcho(request: Iso8583Message, response: Iso8583Message): EchoCheck {
  const mtiMatches = isIso8583RequestMti(request.mti) && iso8583ResponseMtiFor(request.mti) === response.mti;
  const mismatchedFields: number[] = [];
  for (const fieldNumber of echoedFields) {
    const sent = request.fields.get(fieldNumber);
    if (sent === undefined) continue;
    const received = response.fields.get(fieldNumber);
    if (received === undefined || wireValueOf(fieldNumber, received) !== wireValueOf(fieldNumber, sent)) {
      mismatchedFields.push(fieldNumber);
    }
  }
  return mtiMatches && mismatchedFields.length === 0 ? { ok: true } : { ok: false, mtiMatches, mismatchedFields };
}

export type ResponseInvalidReason = 'mti_mismatch' | 'echo_mismatch' | 'response_code_invalid' | 'auth_code_invalid';

export type ParsedResponse =
  | { valid: true; responseCode: string; authCode: string | null; approved: boolean }
  | { valid: false; reason: ResponseInvalidReason; mismatchedFields: number[] };

/**
 * A response read against its request. Valid means: it echoes the request (checkEcho), carries a
 * well-formed response code (39), and, when it approves an 0100 or 0200, a 6-character
 * authorization code (38). Anything else is not an answer.
 */
export function parseResponse(request: Iso8583Message, response: Iso8583Message): ParsedResponse {
  const echo = checkEcho(request, response);
  if (!echo.ok) {
    return {
      valid: false,
      reason: echo.mtiMatches ? 'echo_mismatch' : 'mti_mismatch',
      mismatchedFields: echo.mismatchedFields,
    };
  }
  const responseCode = response.fields.get(39);
  if (responseCode === undefined || !responseCodePattern.test(responseCode)) {
    return { valid: false, reason: 'response_code_invalid', mismatchedFields: [39] };
  }
  const approved = responseCode === '00';
  const rawAuthCode = response.fields.get(38);
  const authCode = rawAuthCode !== undefined && rawAuthCode.trim() !== '' ? rawAuthCode : null;
  if (authCode !== null && !authCodePattern.test(authCode)) {
    return { valid: false, reason: 'auth_code_invalid', mismatchedFields: [38] };
  }
  if (approved && (request.mti === '0100' || request.mti === '0200') && authCode === null) {
    return { valid: false, reason: 'auth_code_invalid', mismatchedFields: [38] };
  }
  return { valid: true, responseCode, authCode, approved };
}

/** Stripe `code`s a decline can carry (from responseCodes), and the message each shows. */
type DeclineErrorCode = Exclude<(typeof responseCodes)[keyof typeof responseCodes]['code'], null>;

const declineMessages: Record<DeclineErrorCode, string> = {
  card_declined: 'Your card was declined.',
  incorrect_number: 'Your card number is incorrect.',
  processing_error: 'An error occurred while processing your card. Try again in a little bit.',
  expired_card: 'Your card has expired.',
  authentication_required: 'Your card was declined. This transaction requires authentication.',
  incorrect_cvc: "Your card's security code is incorrect.",
};

export interface Decline {
  /** Stripe's error code (card_declined, expired_card, processing_error…). */
  code: string;
  /** Stripe's decline_code (insufficient_funds, lost_card…). */
  declineCode: string;
  message: string;
}

/**
 * What a non-approving response code means to a merchant, from the response-code table. A code
 * the table does not know is a processing_error (the mapping is exhaustive; unknown is explicit).
 */
export function declineOf(responseCode: string): Decline {
  assert(responseCode !== '00', '00 approves: it is not a decline');
  if (!isResponseCode(responseCode)) {
    return {
      code: 'processing_error',
      declineCode: 'processing_error',
      message: declineMessages.processing_error,
    };
  }
  const entry = responseCodes[responseCode];
  assert(entry.code !== null && entry.declineCode !== null, 'every code but 00 declines');
  return { code: entry.code, declineCode: entry.declineCode, message: declineMessages[entry.code] };
}

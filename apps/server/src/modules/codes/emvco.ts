/**
 * EMVCo merchant-presented QR (EMV QRCPS-MPM) payloads: pure functions, no I/O.
 *
 * A payload is a flat list of TLV data objects: a 2-digit id, a 2-digit length (00–99) and that
 * many characters of value. Ids 26–51 are merchant account templates whose value is itself TLV;
 * 62 (additional data) too. The payload starts with 00 and ends with 63, the CRC-16/CCITT-FALSE of
 * everything before the CRC value (including "6304"). docs/payment-codes.md has the tags table.
 */
import { AppError, assert } from '../../platform/errors.js';
import { checkLimitTable, limits } from '../../platform/limits.js';
import { currencies, type CurrencyInfo } from '../../platform/money.js';

/** Sub-tag 00 of merchant account template 26: identifies Yunpay (a random UUID, hex, no dashes). */
export const yunpayQrGuid = '94FDF785B0AC4BFD8888ED20D9815121';

/** The template id Yunpay writes its merchant account information under. */
export const yunpayMerchantTemplateId = '26';

/** EMV QRCPS-MPM field sizes Yunpay enforces when encoding and parsing. */
export const emvLimits = {
  /** A whole payload (EMV allows 512 characters). */
  payloadLengthMax: limits.codesQrPayloadLengthMax,
  /** Tag 59. */
  merchantNameLengthMax: 25,
  /** Tag 60. */
  merchantCityLengthMax: 15,
  /** Tag 62 sub-tag 05 (reference label): Yunpay puts the payment intent id here. */
  referenceLabelLengthMax: 25,
  /** Tag 54: digits and at most one '.', 13 characters. */
  amountLengthMax: 13,
  /** Merchant id in template 26 sub-tag 01, so that the template fits in 99 characters with the GUID. */
  merchantAccountIdLengthMax: 99 - 8 - yunpayQrGuid.length,
} as const;

/** Run at start-up by checkAllLimits: the codes context's own bounds (the rest are in platform/limits.ts). */
export function checkCodesLimits(table: { readonly [Name in keyof typeof emvLimits]: number } = emvLimits): void {
  checkLimitTable('emvLimits', table);
}

export interface MerchantQrInput {
  merchantAccountId: string;
  /** Printable ASCII, 1–25 characters (see emvText for arbitrary names). */
  merchantName: string;
  /** Printable ASCII, 1–15 characters. */
  city: string;
  /** ISO 18245 merchant category code, 4 digits. */
  mcc: string;
  /** ISO 4217 numeric code, 3 digits (156 for CNY). */
  currencyNumeric: string;
  /** ISO 3166-1 alpha-2, upper case. */
  countryCode: string;
  /** Required when dynamic, absent when static. Positive. */
  amountMinor?: bigint;
  /** The currency's minor-unit exponent (2 for CNY, 0 for JPY, 3 for KWD). */
  exponent: 0 | 2 | 3;
  /** Required when dynamic: goes to tag 62 sub-tag 05 (at most 25 characters). */
  paymentIntentId?: string;
  /** true: point of initiation "12", one payment; false: "11", the counter's reusable code. */
  dynamic: boolean;
}

/** Everything a wallet needs to preview (and then pay) a Yunpay merchant QR. */
export interface MerchantQr {
  dynamic: boolean;
  merchantAccountId: string;
  merchantName: string;
  city: string;
  mcc: string;
  /** ISO 4217 alphabetic code (from tag 53's numeric code). */
  currency: string;
  currencyNumeric: string;
  exponent: 0 | 2 | 3;
  countryCode: string;
  /** null for a static QR: the payer types the amount. */
  amountMinor: bigint | null;
  /** Tag 62 sub-tag 05; null for a static QR. */
  paymentIntentId: string | null;
  /** The 4 upper-case hex digits of tag 63. */
  crc: string;
}

const currenciesByNumeric: ReadonlyMap<string, CurrencyInfo> = new Map(
  [...currencies.values()].map((info) => [info.numeric, info]),
);

const printableAscii = /^[\x20-\x7e]+$/;

// --- CRC ---------------------------------------------------------------------------------------

const crcTable: readonly number[] = (() => {
  const table: number[] = [];
  for (let byte = 0; byte < 256; byte += 1) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table.push(crc);
  }
  return table;
})();

/**
 * CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) over the UTF-8 bytes
 * of text, as 4 upper-case hex digits: "123456789" → "29B1".
 */
export function crc16CcittFalse(text: string): string {
  let crc = 0xffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc = ((crc << 8) & 0xffff) ^ (crcTable[((crc >> 8) ^ byte) & 0xff] ?? 0);
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

// --- TLV ---------------------------------------------------------------------------------------

function tlv(id: string, value: string): string {
  assert(/^\d{2}$/.test(id), `TLV id ${id} must be 2 digits`);
  assert(value.length >= 1 && value.length <= 99, `TLV ${id} value length ${value.length} must be 1–99`);
  return `${id}${String(value.length).padStart(2, '0')}${value}`;
}

function invalid(message: string): AppError {
  return new AppError('qr_invalid', { message, param: 'data' });
}

/** Splits a TLV string into [id, value] pairs in order; throws qr_invalid on any structural fault. */
function readTlv(text: string, where: string): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  const seen = new Set<string>();
  let offset = 0;
  // Each iteration consumes at least 5 characters, so the loop is bounded by text.length / 5.
  while (offset < text.length) {
    const header = text.slice(offset, offset + 4);
    if (!/^\d{4}$/.test(header)) throw invalid(`The ${where} has a malformed data object at position ${offset}.`);
    const id = header.slice(0, 2);
    const length = Number(header.slice(2));
    if (length === 0) throw invalid(`The ${where} has an empty data object ${id}.`);
    const value = text.slice(offset + 4, offset + 4 + length);
    if (value.length !== length) throw invalid(`The ${where}'s data object ${id} is cut short.`);
    if (seen.has(id)) throw invalid(`The ${where} has data object ${id} twice.`);
    seen.add(id);
    fields.push([id, value]);
    offset += 4 + length;
  }
  return fields;
}

// --- amounts -----------------------------------------------------------------------------------

/** Minor units as EMV tag 54 writes them: exactly `exponent` decimals ("100.00", "100", "1.500"). */
export function formatEmvAmount(amountMinor: bigint, exponent: 0 | 2 | 3): string {
  assert(amountMinor > 0n, 'amountMinor must be positive');
  const digits = amountMinor.toString().padStart(exponent + 1, '0');
  return exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/**
 * Tag 54 back to minor units. Accepts up to `exponent` decimals ("100.5" is 10050 for CNY, as other
 * encoders write it); more decimals than the currency has, signs, exponents or zero are refused.
 */
export function parseEmvAmount(text: string, exponent: 0 | 2 | 3): bigint {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (match === null || text.length > emvLimits.amountLengthMax) {
    throw invalid('The amount (tag 54) is not a decimal number.');
  }
  const whole = match[1] ?? '';
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) {
    throw invalid(`The amount (tag 54) has more decimals than the currency's ${exponent}.`);
  }
  const amountMinor = BigInt(whole + fraction.padEnd(exponent, '0'));
  if (amountMinor <= 0n) throw invalid('The amount (tag 54) must be positive.');
  return amountMinor;
}

// --- text --------------------------------------------------------------------------------------

/**
 * Fits arbitrary text into an EMV "ans" field: strips accents (NFKD), drops what is not printable
 * ASCII, collapses spaces and truncates. Returns null when nothing printable is left.
 */
export function emvText(value: string, lengthMax: number): string | null {
  const ascii = value
    .normalize('NFKD')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim()
    .slice(0, lengthMax)
    .trim();
  return ascii === '' ? null : ascii;
}

// --- encode ------------------------------------------------------------------------------------

/** Builds the payload. Inputs are the caller's responsibility: a bad one is a programmer error. */
export function encodeMerchantQr(input: MerchantQrInput): string {
  const fitsText = (value: string, lengthMax: number) =>
    value.length >= 1 && value.length <= lengthMax && printableAscii.test(value);
  assert(
    fitsText(input.merchantAccountId, emvLimits.merchantAccountIdLengthMax),
    'merchantAccountId must be printable ASCII that fits template 26',
  );
  assert(fitsText(input.merchantName, emvLimits.merchantNameLengthMax), 'merchantName must be 1–25 ASCII characters');
  assert(fitsText(input.city, emvLimits.merchantCityLengthMax), 'city must be 1–15 ASCII characters');
  assert(/^\d{4}$/.test(input.mcc), 'mcc must be 4 digits');
  assert(/^\d{3}$/.test(input.currencyNumeric), 'currencyNumeric must be 3 digits');
  const known = currenciesByNumeric.get(input.currencyNumeric);
  assert(known !== undefined, `currency ${input.currencyNumeric} is not one Yunpay knows`);
  assert(known.exponent === input.exponent, `currency ${known.code} has exponent ${known.exponent}`);
  assert(/^[A-Z]{2}$/.test(input.countryCode), 'countryCode must be 2 upper-case letters');
  if (input.dynamic) {
    assert(input.amountMinor !== undefined && input.amountMinor > 0n, 'a dynamic QR needs a positive amount');
    assert(
      input.paymentIntentId !== undefined && fitsText(input.paymentIntentId, emvLimits.referenceLabelLengthMax),
      'a dynamic QR needs a payment intent id of 1–25 ASCII characters',
    );
  } else {
    assert(
      input.amountMinor === undefined && input.paymentIntentId === undefined,
      'a static QR carries no amount and no payment intent',
    );
  }

  const parts = [
    tlv('00', '01'),
    tlv('01', input.dynamic ? '12' : '11'),
    tlv(yunpayMerchantTemplateId, tlv('00', yunpayQrGuid) + tlv('01', input.merchantAccountId)),
    tlv('52', input.mcc),
    tlv('53', input.currencyNumeric),
    ...(input.amountMinor === undefined ? [] : [tlv('54', formatEmvAmount(input.amountMinor, input.exponent))]),
    tlv('58', input.countryCode),
    tlv('59', input.merchantName),
    tlv('60', input.city),
    ...(input.paymentIntentId === undefined ? [] : [tlv('62', tlv('05', input.paymentIntentId))]),
  ];
  const withoutCrc = `${parts.join('')}6304`;
  const payload = withoutCrc + crc16CcittFalse(withoutCrc);
  assert(payload.length <= emvLimits.payloadLengthMax, 'payload exceeds 512 characters');
  return payload;
}

// --- parse -------------------------------------------------------------------------------------

/**
 * Parses and checks a Yunpay merchant QR payload. Throws qr_checksum_invalid when the CRC does not
 * match, qr_invalid for anything else (structure, lengths, missing tags, unknown currency, an
 * amount that does not fit the currency, a QR of another scheme).
 */
export function parseMerchantQr(payload: string): MerchantQr {
  if (payload.length > emvLimits.payloadLengthMax) throw invalid('The QR payload is too long.');
  if (!printableAscii.test(payload)) throw invalid('The QR payload must be printable ASCII.');
  // The CRC comes first: a one-character change anywhere is reported as what it is.
  if (payload.length < 8 || payload.slice(-8, -4) !== '6304') {
    throw invalid('The QR payload does not end with a CRC (tag 63).');
  }
  const crc = payload.slice(-4);
  if (!/^[0-9A-F]{4}$/.test(crc)) throw invalid('The CRC (tag 63) is not 4 upper-case hex digits.');
  if (crc16CcittFalse(payload.slice(0, -4)) !== crc) {
    throw new AppError('qr_checksum_invalid', { param: 'data' });
  }

  const fields = readTlv(payload, 'QR payload');
  if (fields[0]?.[0] !== '00') throw invalid('The QR payload must start with tag 00.');
  if (fields[fields.length - 1]?.[0] !== '63') throw invalid('The CRC (tag 63) must be the last data object.');
  const tags = new Map(fields);
  const required = (id: string, name: string): string => {
    const value = tags.get(id);
    if (value === undefined) throw invalid(`The QR payload has no ${name} (tag ${id}).`);
    return value;
  };

  if (required('00', 'payload format indicator') !== '01') {
    throw invalid('The payload format indicator (tag 00) must be "01".');
  }
  const initiation = required('01', 'point of initiation method');
  if (initiation !== '11' && initiation !== '12') {
    throw invalid('The point of initiation method (tag 01) must be "11" or "12".');
  }
  const dynamic = initiation === '12';

  // A QR may carry several schemes' templates (26–51): Yunpay's is the one with our GUID.
  let merchantAccountId: string | null = null;
  for (const [id, value] of fields) {
    const number = Number(id);
    if (number < 26 || number > 51) continue;
    const template = new Map(readTlv(value, `merchant account template ${id}`));
    if (template.get('00')?.toUpperCase() !== yunpayQrGuid) continue;
    if (merchantAccountId !== null) throw invalid('The QR payload has two Yunpay merchant account templates.');
    const merchant = template.get('01');
    if (merchant === undefined) throw invalid(`Merchant account template ${id} has no merchant id (sub-tag 01).`);
    merchantAccountId = merchant;
  }
  if (merchantAccountId === null) throw invalid('This QR code is not a Yunpay merchant code.');

  const mcc = required('52', 'merchant category code');
  if (!/^\d{4}$/.test(mcc)) throw invalid('The merchant category code (tag 52) must be 4 digits.');
  const currencyNumeric = required('53', 'transaction currency');
  const currency = currenciesByNumeric.get(currencyNumeric);
  if (!/^\d{3}$/.test(currencyNumeric) || currency === undefined) {
    throw invalid('The transaction currency (tag 53) is not one Yunpay supports.');
  }
  const countryCode = required('58', 'country code');
  if (!/^[A-Z]{2}$/.test(countryCode)) throw invalid('The country code (tag 58) must be 2 upper-case letters.');
  const merchantName = required('59', 'merchant name');
  if (merchantName.length > emvLimits.merchantNameLengthMax) {
    throw invalid('The merchant name (tag 59) is longer than 25 characters.');
  }
  const city = required('60', 'merchant city');
  if (city.length > emvLimits.merchantCityLengthMax) {
    throw invalid('The merchant city (tag 60) is longer than 15 characters.');
  }

  const amountText = tags.get('54');
  const amountMinor = amountText === undefined ? null : parseEmvAmount(amountText, currency.exponent);
  let paymentIntentId: string | null = null;
  const additional = tags.get('62');
  if (additional !== undefined) {
    const reference = new Map(readTlv(additional, 'additional data (tag 62)')).get('05');
    if (reference !== undefined) {
      if (reference.length > emvLimits.referenceLabelLengthMax) {
        throw invalid('The reference label (tag 62, sub-tag 05) is longer than 25 characters.');
      }
      paymentIntentId = reference;
    }
  }
  if (dynamic && (amountMinor === null || paymentIntentId === null)) {
    throw invalid('A dynamic QR code must carry an amount (tag 54) and a payment reference (tag 62/05).');
  }
  if (!dynamic && (amountMinor !== null || paymentIntentId !== null)) {
    throw invalid('A static Yunpay QR code carries no amount and no payment reference.');
  }

  const result: MerchantQr = {
    dynamic,
    merchantAccountId,
    merchantName,
    city,
    mcc,
    currency: currency.code,
    currencyNumeric,
    exponent: currency.exponent,
    countryCode,
    amountMinor,
    paymentIntentId,
    crc,
  };
  return result;
}

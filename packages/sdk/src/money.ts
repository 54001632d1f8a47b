/**
 * Money for people: amounts are integers in minor units (fen, yen, fils) everywhere in the API;
 * these helpers turn them into text and back without ever going through a float.
 */

/**
 * ISO 4217 minor-unit exponents of the currencies the server accepts. Mirrors
 * apps/server/src/platform/money.ts; a test checks the two agree.
 */
export const currencyExponents: Readonly<Record<string, 0 | 2 | 3>> = Object.freeze({
  CLP: 0, ISK: 0, JPY: 0, KRW: 0, RWF: 0, UGX: 0, VND: 0, XAF: 0, XOF: 0,
  AED: 2, ARS: 2, AUD: 2, BDT: 2, BRL: 2, CAD: 2, CHF: 2, CNY: 2, COP: 2, CZK: 2, DKK: 2, EGP: 2, EUR: 2,
  GBP: 2, GHS: 2, HKD: 2, HUF: 2, IDR: 2, ILS: 2, INR: 2, KES: 2, LKR: 2, MAD: 2, MOP: 2, MXN: 2, MYR: 2,
  NGN: 2, NOK: 2, NZD: 2, PEN: 2, PHP: 2, PKR: 2, PLN: 2, QAR: 2, RON: 2, RUB: 2, SAR: 2, SEK: 2, SGD: 2,
  THB: 2, TRY: 2, TWD: 2, TZS: 2, UAH: 2, USD: 2, ZAR: 2,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
}); // prettier-ignore

/** The currency's minor-unit exponent (case-insensitive: /v1 sends `cny`), or undefined when unknown. */
export function currencyExponent(currency: string): 0 | 2 | 3 | undefined {
  const code = currency.toUpperCase();
  return Object.prototype.hasOwnProperty.call(currencyExponents, code) ? currencyExponents[code] : undefined;
}

function exponentOrThrow(currency: string): 0 | 2 | 3 {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) throw new RangeError(`unknown currency: ${currency}`);
  return exponent;
}

function toBigInt(amountMinor: number | bigint): bigint {
  if (typeof amountMinor === 'bigint') return amountMinor;
  if (!Number.isSafeInteger(amountMinor)) throw new RangeError('amountMinor must be a safe integer (minor units)');
  return BigInt(amountMinor);
}

/** Splits minor units into sign, whole units and the fraction digits (exactly `exponent` of them). */
function split(amountMinor: bigint, exponent: number): { negative: boolean; whole: bigint; fraction: string } {
  const negative = amountMinor < 0n;
  const magnitude = negative ? -amountMinor : amountMinor;
  const scale = 10n ** BigInt(exponent);
  const fraction = exponent === 0 ? '' : (magnitude % scale).toString().padStart(exponent, '0');
  return { negative, whole: magnitude / scale, fraction };
}

/** `123456, 'CNY'` → `"1234.56"`; `-5, 'KWD'` → `"-0.005"`. Plain ASCII, no grouping. */
export function toDecimalString(amountMinor: number | bigint, currency: string): string {
  const { negative, whole, fraction } = split(toBigInt(amountMinor), exponentOrThrow(currency));
  return `${negative ? '-' : ''}${whole.toString()}${fraction === '' ? '' : `.${fraction}`}`;
}

const digitCache = new Map<string, readonly string[]>();

/** The ten digits of a locale's numbering system (Latin for en and zh-CN, Arabic-Indic for ar-EG …). */
function localeDigits(locale: string, numberingSystem: string): readonly string[] {
  const key = `${locale}|${numberingSystem}`;
  let digits = digitCache.get(key);
  if (digits === undefined) {
    const format = new Intl.NumberFormat(locale, { useGrouping: false, numberingSystem });
    digits = Array.from({ length: 10 }, (_, digit) => format.format(digit));
    if (digitCache.size < 64) digitCache.set(key, digits);
  }
  return digits;
}

export interface FormatAmountOptions {
  /** How the currency shows: `symbol` (default: ¥, US$), `narrowSymbol` ($), `code` (CNY) or `name`. */
  currencyDisplay?: 'symbol' | 'narrowSymbol' | 'code' | 'name';
}

/**
 * Formats minor units for people with Intl.NumberFormat, exactly: the whole part is formatted as
 * a bigint and the fraction digits are put in from the integer, so no float is ever involved and
 * amounts past 2^53 stay exact. The fraction always has the currency's exponent's digits
 * (`formatAmount(1250, 'CNY', 'zh-CN')` → `¥12.50`; `formatAmount(1500, 'JPY', 'en')` → `¥1,500`).
 */
export function formatAmount(
  amountMinor: number | bigint,
  currency: string,
  locale?: string | string[],
  options: FormatAmountOptions = {},
): string {
  const code = currency.toUpperCase();
  const exponent = exponentOrThrow(code);
  const { negative, whole, fraction } = split(toBigInt(amountMinor), exponent);
  const format = new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: code,
    currencyDisplay: options.currencyDisplay ?? 'symbol',
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  });
  const resolved = format.resolvedOptions();
  const digits = localeDigits(resolved.locale, resolved.numberingSystem);
  const localFraction = Array.from(fraction, (digit) => digits[Number(digit)]!).join('');
  // -0 keeps the sign of an amount below one unit (-0.50); Intl shows negative zero with a sign.
  const value = negative ? (whole === 0n ? -0 : -whole) : whole;
  let fractionSeen = false;
  const text = format
    .formatToParts(value)
    .map((part) => {
      if (part.type !== 'fraction') return part.value;
      fractionSeen = true;
      return localFraction;
    })
    .join('');
  if (exponent > 0 && !fractionSeen) throw new Error('assertion failed: Intl printed the fraction digits');
  return text;
}

export type ParseAmountErrorCode =
  | 'amount_invalid'
  | 'amount_negative'
  | 'amount_too_precise'
  | 'amount_too_large'
  | 'currency_unsupported'
  | 'currency_mismatch';

export type ParseAmountResult =
  { ok: true; amountMinor: number } | { ok: false; code: ParseAmountErrorCode; message: string };

/** What parseAmount throws; tryParseAmount returns the same facts as a value. */
export class AmountParseError extends Error {
  override readonly name = 'AmountParseError';
  constructor(
    readonly code: ParseAmountErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const textLengthMax = 64;
const amountMinorMax = BigInt(Number.MAX_SAFE_INTEGER);

function fail(code: ParseAmountErrorCode, message: string): ParseAmountResult {
  return { ok: false, code, message };
}

/** `1,234` / `1.234.567` / `12,34,567`: groups after the first have 2–3 digits and the last has 3. */
function validGrouping(integer: string, separator: string): boolean {
  if (separator === '') return /^\d*$/.test(integer);
  const groups = integer.split(separator);
  if (groups.length < 2) return /^\d*$/.test(integer);
  const [first, ...rest] = groups;
  const last = rest[rest.length - 1]!;
  return (
    /^\d{1,3}$/.test(first!) && /^\d{3}$/.test(last) && rest.slice(0, -1).every((group) => /^\d{2,3}$/.test(group))
  );
}

/**
 * Reads an amount a person typed, for `currency`, into integer minor units, without floats.
 * Accepts `12.5`, `12,50`, `1,234.56`, `1.234,56`, `1 234,56`, `¥1,234.56`, `CNY 12`, `12元` and
 * full-width digits (`１２．５`). The decimal separator is the last `.` or `,` when both appear;
 * a lone `.` is decimal; a lone `,` is decimal unless exactly three digits follow it (`1,234` is
 * one thousand two hundred thirty-four). Refuses negative amounts, more decimals than the
 * currency has (`12.5` JPY, `1.005` CNY), another currency's code, and amounts above 2^53 − 1.
 */
export function tryParseAmount(text: string, currency: string): ParseAmountResult {
  const code = currency.toUpperCase();
  const exponent = currencyExponent(code);
  if (exponent === undefined) return fail('currency_unsupported', `Unknown currency ${currency}.`);
  if (typeof text !== 'string' || text.length > textLengthMax) {
    return fail('amount_invalid', `Type an amount of at most ${textLengthMax} characters.`);
  }
  // NFKC folds full-width digits and punctuation (１２．５, ￥) into ASCII; spaces and ' group digits.
  const folded = text.normalize('NFKC').replace(/[\s'’_]/g, '');
  const match = /^([^\d.,]*)([\d.,]*)([^\d.,]*)$/.exec(folded);
  if (match === null) return fail('amount_invalid', 'This is not an amount.');
  const [, prefix = '', number = '', suffix = ''] = match;
  const affixes = `${prefix} ${suffix}`;
  if (/[-−‐–(]/.test(affixes)) return fail('amount_negative', 'The amount must not be negative.');
  for (const other of affixes.toUpperCase().match(/[A-Z]{3,}/g) ?? []) {
    if (other === code || (other === 'RMB' && code === 'CNY')) continue;
    // Only a currency code makes it another currency's amount; other letters ("abc") are no amount.
    if (currencyExponent(other) === undefined && other !== 'RMB') {
      return fail('amount_invalid', 'This is not an amount.');
    }
    return fail('currency_mismatch', `This amount is in ${other}, not ${code}.`);
  }
  if (/[0-9]/.test(affixes)) return fail('amount_invalid', 'This is not an amount.');
  if (!/\d/.test(number)) return fail('amount_invalid', 'Type an amount.');

  const lastDot = number.lastIndexOf('.');
  const lastComma = number.lastIndexOf(',');
  let decimal = '';
  let grouping = '';
  if (lastDot !== -1 && lastComma !== -1) {
    decimal = lastDot > lastComma ? '.' : ',';
    grouping = decimal === '.' ? ',' : '.';
  } else if (lastDot !== -1 || lastComma !== -1) {
    const separator = lastDot !== -1 ? '.' : ',';
    const count = number.split(separator).length - 1;
    const digitsAfter = number.length - number.lastIndexOf(separator) - 1;
    if (count > 1) grouping = separator;
    else if (separator === ',' && digitsAfter === 3) grouping = separator;
    else decimal = separator;
  }
  const decimalAt = decimal === '' ? -1 : number.lastIndexOf(decimal);
  const integerText = decimalAt === -1 ? number : number.slice(0, decimalAt);
  const fractionText = decimalAt === -1 ? '' : number.slice(decimalAt + 1);
  if (!/^\d*$/.test(fractionText)) return fail('amount_invalid', 'This is not an amount.');
  if (!validGrouping(integerText, grouping)) return fail('amount_invalid', 'The digit grouping is not valid.');
  if (fractionText.length > exponent) {
    return fail(
      'amount_too_precise',
      exponent === 0 ? `${code} has no decimals.` : `${code} has at most ${exponent} decimals.`,
    );
  }
  const integerDigits = grouping === '' ? integerText : integerText.split(grouping).join('');
  if (integerDigits.length > 20) return fail('amount_too_large', 'The amount is too large.');
  const scale = 10n ** BigInt(exponent);
  const minor =
    BigInt(integerDigits === '' ? '0' : integerDigits) * scale +
    BigInt(fractionText === '' ? '0' : fractionText.padEnd(exponent, '0'));
  if (minor > amountMinorMax) return fail('amount_too_large', 'The amount is too large.');
  const amountMinor = Number(minor);
  if (!Number.isSafeInteger(amountMinor)) throw new Error('assertion failed: a parsed amount is a safe integer');
  return { ok: true, amountMinor };
}

/** tryParseAmount that throws an AmountParseError. */
export function parseAmount(text: string, currency: string): number {
  const result = tryParseAmount(text, currency);
  if (!result.ok) throw new AmountParseError(result.code, result.message);
  return result.amountMinor;
}

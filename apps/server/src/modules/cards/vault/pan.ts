import { AppError } from '../../../platform/errors.js';
import { limits } from '../../../platform/limits.js';

/**
 * Pure checks on card data. Nothing here logs, and no error message ever contains the number: a
 * primary account number (PAN) leaves this file only as the BIN and the last 4 digits.
 */

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'unionpay' | 'diners' | 'unknown';

export const cardBrands: readonly CardBrand[] = [
  'visa',
  'mastercard',
  'amex',
  'discover',
  'jcb',
  'unionpay',
  'diners',
  'unknown',
];

const panLengthMin = 12;
const panLengthMax = 19;

function lengthsBetween(min: number, max: number): readonly number[] {
  const lengths: number[] = [];
  for (let length = min; length <= max; length += 1) lengths.push(length);
  return lengths;
}

/** Lengths each brand issues; a number of another length is refused even when Luhn-valid. */
export const cardBrandLengths: Readonly<Record<CardBrand, readonly number[]>> = {
  visa: [13, 16, 19],
  mastercard: [16],
  amex: [15],
  discover: lengthsBetween(16, 19),
  jcb: lengthsBetween(16, 19),
  unionpay: lengthsBetween(16, 19),
  diners: lengthsBetween(14, 19),
  unknown: lengthsBetween(panLengthMin, panLengthMax),
};

const digitsPattern = /^[0-9]+$/;

/** The Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  if (!digitsPattern.test(digits)) return false;
  let sum = 0;
  let doubled = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let digit = digits.charCodeAt(index) - 48;
    if (doubled) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    doubled = !doubled;
  }
  return sum % 10 === 0;
}

function between(value: number, low: number, high: number): boolean {
  return value >= low && value <= high;
}

/** The brand a number's leading digits (its BIN range) belong to; it checks neither length nor Luhn. */
export function cardBrandOf(digits: string): CardBrand {
  if (!digitsPattern.test(digits) || digits.length < 4) return 'unknown';
  const prefix1 = Number(digits.slice(0, 1));
  const prefix2 = Number(digits.slice(0, 2));
  const prefix3 = Number(digits.slice(0, 3));
  const prefix4 = Number(digits.slice(0, 4));
  if (prefix2 === 34 || prefix2 === 37) return 'amex';
  if (between(prefix4, 3528, 3589)) return 'jcb';
  if (prefix2 === 36 || between(prefix3, 300, 305) || between(prefix2, 38, 39)) return 'diners';
  if (prefix1 === 4) return 'visa';
  if (between(prefix2, 51, 55) || between(prefix4, 2221, 2720)) return 'mastercard';
  if (prefix4 === 6011 || between(prefix3, 644, 649) || prefix2 === 65) return 'discover';
  if (prefix2 === 62) return 'unionpay';
  return 'unknown';
}

export interface CheckedPan {
  brand: CardBrand;
}

/**
 * Checks a PAN: digits only (no spaces), 12 to 19 of them, a length the brand issues, and the Luhn
 * check. Throws invalid_number (the message never repeats the number).
 */
export function checkPan(pan: unknown): CheckedPan {
  if (typeof pan !== 'string' || !digitsPattern.test(pan)) {
    throw new AppError('invalid_number', { param: 'number', message: 'The card number must be digits only.' });
  }
  if (pan.length < panLengthMin || pan.length > panLengthMax) {
    throw new AppError('invalid_number', {
      param: 'number',
      message: `The card number must have ${panLengthMin} to ${panLengthMax} digits.`,
    });
  }
  const brand = cardBrandOf(pan);
  if (!cardBrandLengths[brand].includes(pan.length)) {
    throw new AppError('invalid_number', {
      param: 'number',
      message: 'The card number has the wrong number of digits for its brand.',
    });
  }
  if (!luhnValid(pan)) {
    throw new AppError('invalid_number', { param: 'number', message: 'The card number is not a valid card number.' });
  }
  return { brand };
}

/** True when checkPan accepts the number. */
export function panValid(pan: string): boolean {
  try {
    checkPan(pan);
    return true;
  } catch {
    return false;
  }
}

export interface MaskedPan {
  /** The first 6 digits (issuer identification number). */
  bin: string;
  last4: string;
  /** BIN, one '*' per hidden digit, last 4: `424242******4242`. */
  display: string;
}

/** The most of a PAN that may be shown (PCI DSS 3.4.1: at most the BIN and the last 4 digits). */
export function maskPan(pan: string): MaskedPan {
  checkPan(pan);
  const bin = pan.slice(0, 6);
  const last4 = pan.slice(-4);
  return { bin, last4, display: `${bin}${'*'.repeat(pan.length - 10)}${last4}` };
}

/**
 * Checks a card verification code's format: 4 digits for amex, 3 for every other brand. The CVC is
 * used for one authorization and never stored (PCI DSS 3.3.1); this file only looks at it.
 */
export function checkCvc(cvc: unknown, brand: CardBrand): void {
  const length = brand === 'amex' ? 4 : 3;
  if (typeof cvc !== 'string' || cvc.length !== length || !digitsPattern.test(cvc)) {
    throw new AppError('invalid_cvc', { param: 'cvc', message: `The card's security code must be ${length} digits.` });
  }
}

export interface ExpiryInput {
  expMonth: number;
  /** Four digits. */
  expYear: number;
  /** The current time; an expiry before the current UTC month is refused. */
  nowMs: number;
}

/** Checks an expiry date: month 1–12, year not in the past and not absurdly far ahead. */
export function checkExpiry(input: ExpiryInput): void {
  const now = new Date(input.nowMs);
  const currentYear = now.getUTCFullYear();
  const currentMonth = now.getUTCMonth() + 1;
  if (!Number.isSafeInteger(input.expMonth) || input.expMonth < 1 || input.expMonth > 12) {
    throw new AppError('invalid_expiry_month', { param: 'exp_month' });
  }
  if (
    !Number.isSafeInteger(input.expYear) ||
    input.expYear < currentYear ||
    input.expYear > currentYear + limits.cardVaultExpiryYearsAheadMax
  ) {
    throw new AppError('invalid_expiry_year', { param: 'exp_year' });
  }
  if (input.expYear === currentYear && input.expMonth < currentMonth) {
    throw new AppError('invalid_expiry_month', {
      param: 'exp_month',
      message: "The card's expiration date is in the past.",
    });
  }
}

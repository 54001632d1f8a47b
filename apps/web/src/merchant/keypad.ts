import { currencyExponent, formatAmount } from '@yunpay/sdk';

/**
 * The POS keypad: digits typed build an amount in minor units, as on a card terminal
 * ("1", "2", "5", "0" → 12.50). Integers only: no float is ever involved.
 */
export const keypadDigitsMax = 11;

export type KeypadKey = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '00' | 'backspace' | 'clear';

/** The digits after a key press (no leading zeros; at most keypadDigitsMax digits). */
export function pressKey(digits: string, key: KeypadKey): string {
  if (key === 'clear') return '';
  if (key === 'backspace') return digits.slice(0, -1);
  const next = (digits + key).replace(/^0+/, '');
  return next.length > keypadDigitsMax ? digits : next;
}

export function amountMinorOf(digits: string): number {
  const value = digits === '' ? 0 : Number.parseInt(digits, 10);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error('assertion failed: keypad amount is a safe integer');
  return value;
}

/** The amount for people, e.g. ¥12.50 (zh-CN) or CN¥12.50 (en). */
export function formatMoney(amountMinor: number, currency: string, locale: string): string {
  if (currencyExponent(currency) === undefined) return `${amountMinor} ${currency.toUpperCase()}`;
  return formatAmount(amountMinor, currency, locale);
}

/** Unix seconds as local date and time. */
export function formatTime(unixS: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(unixS * 1000));
}

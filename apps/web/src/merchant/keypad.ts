import { currencyExponent, formatAmount } from '@yunpay/sdk';

/**
 * The POS keypad: digits typed build an amount in minor units, as on a card terminal
 * ("1", "2", "5", "0" → 12.50). A decimal point switches to whole units and a fraction
 * ("12.5" → 12.50), as a cashier typing on a physical keyboard expects. Integers only: the entry
 * is a string and the amount is built from its digits; no float is ever involved.
 */
export const keypadDigitsMax = 11;

export type KeypadKey = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '00' | '.' | 'backspace' | 'clear';

/** The keypad key a physical keyboard's key stands for (null: not a keypad key). */
export function keypadKeyOf(key: string): KeypadKey | null {
  if (/^[0-9]$/.test(key)) return key as KeypadKey;
  if (key === '.' || key === ',' || key === 'Decimal') return '.';
  if (key === 'Backspace') return 'backspace';
  if (key === 'Escape' || key === 'Delete') return 'clear';
  return null;
}

/**
 * The entry after a key press: no leading zeros, at most keypadDigitsMax digits in all, one
 * decimal point (none for a currency without minor units) and at most `exponent` digits after it.
 */
export function pressKey(entry: string, key: KeypadKey, exponent = 2): string {
  if (key === 'clear') return '';
  if (key === 'backspace') return entry.slice(0, -1);
  const point = entry.indexOf('.');
  if (key === '.') {
    if (point !== -1 || exponent === 0) return entry;
    return entry === '' ? '0.' : `${entry}.`;
  }
  const next = point === -1 ? (entry + key).replace(/^0+/, '') : entry + key;
  const fractionLength = point === -1 ? 0 : next.length - point - 1;
  const digitCount = next.replace('.', '').replace(/^0+/, '').length;
  if (fractionLength > exponent || digitCount > keypadDigitsMax) return entry;
  return next;
}

/** The amount in minor units an entry stands for ("1250" → 1250; "12.5" → 1250 with exponent 2). */
export function amountMinorOf(entry: string, exponent = 2): number {
  const point = entry.indexOf('.');
  const digits =
    point === -1
      ? entry
      : entry.slice(0, point) +
        entry
          .slice(point + 1)
          .padEnd(exponent, '0')
          .slice(0, exponent);
  if (!/^\d*$/.test(digits)) throw new Error('assertion failed: a keypad entry holds digits and one point');
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

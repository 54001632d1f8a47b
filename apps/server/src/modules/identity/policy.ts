import { randomBytes } from 'node:crypto';
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { AppError, assert } from '../../platform/errors.js';
import { limits } from '../../platform/limits.js';
import { commonPasswordsText } from './common-passwords.js';

/** A prefixed id with 128 random bits (hex): usr_…, dev_…, ses_…. */
export function newId(prefix: 'usr' | 'dev' | 'ses' | 'tok'): string {
  return `${prefix}_${randomBytes(16).toString('hex')}`;
}

export const userIdPattern = /^usr_[0-9a-f]{32}$/;
export const deviceIdPattern = /^dev_[0-9a-f]{32}$/;
export const sessionIdPattern = /^ses_[0-9a-f]{32}$/;

const phoneSeparators = /[\s\-().]/g;
/** What a phone number may be written with: digits, a leading + or 00, spaces, dashes, dots, brackets. */
const phoneCharacters = /^[+\d\s\-().]+$/;

/** Whether libphonenumber knows this ISO 3166 alpha-2 region (upper case), e.g. CN, HK, GB. */
export function isPhoneRegion(region: string): region is CountryCode {
  return /^[A-Z]{2}$/.test(region) && isSupportedCountry(region);
}

/** Whether the text is written like a phone number (digits and separators), valid or not. */
export function looksLikePhone(input: string): boolean {
  return input.length <= limits.identityPhoneInputLengthMax && phoneCharacters.test(input) && /\d/.test(input);
}

/**
 * A phone number as E.164 (+8613800000001), however it was typed: international (`+86 138 0000
 * 0001`, `0086…`) or national in the operator's region (`13800000001` with region CN). Null when
 * it is not a valid number there (libphonenumber's full metadata: length and number ranges).
 */
export function normalizePhone(input: string, region: CountryCode): string | null {
  const text = input.trim();
  if (!looksLikePhone(text)) return null;
  const parsed = parsePhoneNumberFromString(text, region);
  if (parsed === undefined || !parsed.isValid()) return null;
  const e164 = parsed.number;
  assert(/^\+[1-9][0-9]{7,14}$/.test(e164), 'libphonenumber answers E.164');
  return e164;
}

/**
 * A phone number for someone else to see: country code, the first three and the last four digits
 * (`+86 138****0001`), the way Chinese wallets show a payer. Null for what is not a valid E.164 number.
 */
export function maskPhone(e164: string): string | null {
  const parsed = parsePhoneNumberFromString(e164);
  if (parsed === undefined) return null;
  const national = String(parsed.nationalNumber);
  if (national.length < 8) return `+${parsed.countryCallingCode} ****${national.slice(-2)}`;
  return `+${parsed.countryCallingCode} ${national.slice(0, 3)}****${national.slice(-4)}`;
}

// Deliberately plain: one @, no spaces or control characters, a dot in the domain. Whether the
// address works is for a verification mail to find out, not a regular expression.
const emailPattern = /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}]+\.[^\s@\p{Cc}.]+$/u;

/** Lower-cased and trimmed; null when it does not look like an address. */
export function normalizeEmail(input: string): string | null {
  const email = input.trim().toLowerCase();
  if (email.length > limits.identityEmailLengthMax || !emailPattern.test(email)) return null;
  if (
    email
      .split('@')[1]!
      .split('.')
      .some((label) => label === '')
  )
    return null;
  return email;
}

export type NormalizedLogin = { kind: 'phone' | 'email' | 'id'; value: string };

/** A login as typed: an email (has @), a user id (usr_…) or a phone number (national ones in `region`). */
export function normalizeLogin(login: string, region: CountryCode): NormalizedLogin | null {
  if (login.includes('@')) {
    const email = normalizeEmail(login);
    return email === null ? null : { kind: 'email', value: email };
  }
  if (userIdPattern.test(login)) return { kind: 'id', value: login };
  const phone = normalizePhone(login, region);
  return phone === null ? null : { kind: 'phone', value: phone };
}

/** Display names: trimmed, no control characters. */
export function normalizeName(input: string): string | null {
  const name = input.trim();
  if (name.length === 0 || name.length > limits.identityNameLengthMax || /\p{Cc}/u.test(name)) return null;
  return name;
}

/**
 * Unicode passwords are compared after NFKC (NIST SP 800-63B 5.1.1.2), so the same password typed on
 * two keyboards matches. Changing this normalisation would lock everyone out: it is fixed.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

const commonPasswords: ReadonlySet<string> = new Set(
  commonPasswordsText.split(/\s+/).filter((word) => word.length > 0),
);

export function commonPasswordCount(): number {
  return commonPasswords.size;
}

/** Throws password_too_weak (param password) for a password nobody should be allowed to pick. */
export function checkPasswordPolicy(password: string, personal: readonly (string | null | undefined)[]): void {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  const weak = (message: string) => new AppError('password_too_weak', { message, param: 'password' });
  if (length < limits.identityPasswordLengthMin) {
    throw weak(`The password must have at least ${limits.identityPasswordLengthMin} characters.`);
  }
  if (length > limits.identityPasswordLengthMax) {
    throw weak(`The password must have at most ${limits.identityPasswordLengthMax} characters.`);
  }
  const lower = normalized.toLowerCase();
  if (commonPasswords.has(lower)) throw weak('This password is too common: choose another one.');
  if (new Set(lower).size < 4) throw weak('This password repeats too few characters: choose another one.');
  for (const value of personal) {
    if (value === null || value === undefined || value.trim() === '') continue;
    const candidates = [value.toLowerCase(), value.toLowerCase().replace(phoneSeparators, '')];
    if (value.startsWith('+')) candidates.push(value.slice(1));
    if (candidates.includes(lower)) throw weak('The password must not be your phone number, email or name.');
  }
}

const pinPattern = /^[0-9]{6}$/;
// Beyond repeats and runs, the six-digit PINs people pick most (Berkeley/Bonneau 2017 PIN study).
const commonPins: ReadonlySet<string> = new Set([
  '121212',
  '112233',
  '123123',
  '123321',
  '654321',
  '111222',
  '159753',
  '147258',
  '258369',
  '789456',
  '101010',
  '131313',
  '202020',
  '520520',
  '520131',
  '696969',
  '112211',
  '000123',
]);

export type PinProblem = { code: 'pin_format' | 'pin_too_weak'; message: string };

/** What is wrong with a new PIN: not 6 digits, or trivially guessable; null when it may be used. */
export function pinPolicyProblem(pin: string): PinProblem | null {
  if (!pinPattern.test(pin)) return { code: 'pin_format', message: 'The PIN must be exactly 6 digits.' };
  const digits = [...pin].map(Number);
  const steps = digits.slice(1).map((digit, index) => (digit - digits[index]! + 10) % 10);
  const allSame = steps.every((step) => step === 0);
  const ascending = steps.every((step) => step === 1);
  const descending = steps.every((step) => step === 9);
  const halves = pin.slice(0, 3) === pin.slice(3) || pin.slice(0, 2).repeat(3) === pin;
  if (allSame || ascending || descending || halves || commonPins.has(pin)) {
    return { code: 'pin_too_weak', message: 'This PIN is too easy to guess: avoid repeats and sequences.' };
  }
  return null;
}

/** Throws invalid_request (param pin) for a PIN that is not 6 digits or trivially guessable. */
export function checkPinPolicy(pin: string): void {
  const problem = pinPolicyProblem(pin);
  if (problem !== null) throw new AppError('invalid_request', { message: problem.message, param: 'pin' });
}

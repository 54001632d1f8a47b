/**
 * Offline code arithmetic (pure): RFC 4648 base32, RFC 4226 HOTP with HMAC-SHA256 and dynamic
 * truncation, RFC 6238 time steps. What a phone computes without the server.
 */
import { createHmac } from 'node:crypto';
import { assert } from '../../platform/errors.js';

/** Parameters of Yunpay offline codes; a phone app uses exactly these (docs/payment-codes.md). */
export const offlineTotp = {
  algorithm: 'HMAC-SHA256',
  digits: 8,
  periodS: 30,
  t0S: 0,
  /** Steps before the current one that are still accepted (a code scanned a little after display). */
  stepsBehindMax: 2,
  /** Steps after the current one that are accepted (the phone's clock runs ahead). */
  stepsAheadMax: 1,
  secretBytes: 32,
} as const;

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, upper case, without padding. */
export function base32Encode(bytes: Uint8Array): string {
  let output = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += base32Alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) output += base32Alphabet[(buffer << (5 - bits)) & 31];
  return output;
}

/** RFC 4648 base32 (case-insensitive, padding optional); null for anything else. */
export function base32Decode(text: string): Buffer | null {
  const clean = text.toUpperCase().replace(/=+$/, '');
  if (!/^[A-Z2-7]*$/.test(clean)) return null;
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    buffer = (buffer << 5) | base32Alphabet.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bytes.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  return Buffer.from(bytes);
}

/** RFC 4226 HOTP over an 8-byte big-endian counter, with HMAC-SHA256 and dynamic truncation. */
export function hotpSha256(secret: Uint8Array, counter: bigint, digits: number = offlineTotp.digits): string {
  assert(counter >= 0n && counter < 2n ** 64n, 'HOTP counter must fit 8 bytes');
  assert(Number.isSafeInteger(digits) && digits >= 6 && digits <= 9, 'HOTP digits must be 6–9');
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(counter);
  const mac = createHmac('sha256', secret).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 time step of a moment: floor((unix seconds − T0) / period). */
export function totpStep(nowMs: number): bigint {
  assert(Number.isSafeInteger(nowMs) && nowMs >= 0, 'nowMs must be a non-negative integer');
  return BigInt(Math.floor((nowMs / 1000 - offlineTotp.t0S) / offlineTotp.periodS));
}

/** The 18-digit offline code a phone shows: "89" + device number + TOTP of the step. */
export function offlineCode(options: { deviceNumber: string; secret: Uint8Array; step: bigint }): string {
  assert(/^\d{8}$/.test(options.deviceNumber), 'device number must be 8 digits');
  return `89${options.deviceNumber}${hotpSha256(options.secret, options.step)}`;
}

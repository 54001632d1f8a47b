/**
 * Offline payment codes in the browser (docs/payment-codes.md): RFC 6238 TOTP with HMAC-SHA256,
 * 8 digits, 30 s steps, T0 = 0, and code = "89" + device number + TOTP. The HMAC key is imported
 * into Web Crypto as non-extractable, so once stored (IndexedDB keeps CryptoKey objects as they
 * are) no script can read the secret back.
 */
export const offlinePeriodS = 30;
const digits = 8;
const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, upper case, padding optional; null when malformed. */
export function base32Decode(text: string): Uint8Array<ArrayBuffer> | null {
  const clean = text.replace(/=+$/, '');
  if (!/^[A-Z2-7]*$/.test(clean) || clean.length > 1024) return null;
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    buffer = (buffer << 5) | base32Alphabet.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
    buffer &= 0xff;
  }
  return new Uint8Array(bytes);
}

export function importOfflineSecret(secretBase32: string): Promise<CryptoKey> {
  const raw = base32Decode(secretBase32);
  if (raw === null || raw.length !== 32) throw new Error('assertion failed: an offline secret is 32 bytes of base32');
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

/** The TOTP of one time step (RFC 4226 dynamic truncation over HMAC-SHA256). */
export async function totpSha256(key: CryptoKey, step: number): Promise<string> {
  if (!Number.isSafeInteger(step) || step < 0)
    throw new Error('assertion failed: a time step is a non-negative integer');
  const message = new DataView(new ArrayBuffer(8));
  message.setBigUint64(0, BigInt(step));
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, message.buffer));
  if (mac.length !== 32) throw new Error('assertion failed: HMAC-SHA256 gives 32 bytes');
  const offset = mac[31]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

export function offlineStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / offlinePeriodS);
}

/** "89" + device number (8 digits) + TOTP (8 digits): 18 digits. */
export async function offlineCode(options: { key: CryptoKey; deviceNumber: string; nowMs: number }): Promise<string> {
  if (!/^\d{8}$/.test(options.deviceNumber)) throw new Error('assertion failed: a device number is 8 digits');
  const code = `89${options.deviceNumber}${await totpSha256(options.key, offlineStep(options.nowMs))}`;
  if (!/^89\d{16}$/.test(code)) throw new Error('assertion failed: an offline code is 18 digits');
  return code;
}

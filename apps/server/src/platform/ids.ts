import { createHmac, randomBytes } from 'node:crypto';
import { assert } from './errors.js';

/**
 * Random ids and tokens in base62 ([0-9A-Za-z]): one generator for every context. Base62 rather
 * than hex: shorter, and a run of digits in a hex string could look like a card number.
 */
export const base62Alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` characters drawn uniformly from [0-9A-Za-z] (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  assert(Number.isSafeInteger(length) && length > 0 && length <= 1_024, 'randomBase62 length out of range');
  let text = '';
  while (text.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 62 * 4: bytes at or above it would favour the first characters.
      if (byte < 248) text += base62Alphabet[byte % 62];
      if (text.length === length) break;
    }
  }
  return text;
}

/** Base62 characters carrying at least `bits` random bits. */
export function base62LengthFor(bits: number): number {
  return Math.ceil(bits / Math.log2(62));
}

/** An object id: `prefix_` + ≥ 128 random bits (Stripe-style ids, e.g. `acct_…`, `cus_…`). */
export function newObjectId(prefix: string): string {
  assert(/^[a-z]{2,8}$/.test(prefix), `object id prefix ${prefix} must be 2-8 lower-case letters`);
  return `${prefix}_${randomBase62(base62LengthFor(128))}`;
}

/**
 * A deterministic object id: `prefix_` + 22 base62 characters drawn from HMAC-SHA256(key, material)
 * (counter mode, rejection sampling). The same material always gives the same id; without the key
 * it cannot be predicted. For ids that a retry must find again (what an idempotent request created).
 */
export function derivedObjectId(prefix: string, key: Buffer, material: string): string {
  assert(/^[a-z]{2,8}$/.test(prefix), `object id prefix ${prefix} must be 2-8 lower-case letters`);
  assert(key.length >= 32, 'a derived id needs a key of at least 32 bytes');
  const length = base62LengthFor(128);
  let text = '';
  for (let block = 0; text.length < length; block += 1) {
    assert(block < 16, 'derived id: rejection sampling ran out of blocks');
    const bytes = createHmac('sha256', key).update(`${block}\u0000${prefix}\u0000${material}`).digest();
    for (const byte of bytes) {
      if (byte < 248) text += base62Alphabet[byte % 62];
      if (text.length === length) break;
    }
  }
  return `${prefix}_${text}`;
}

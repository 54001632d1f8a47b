import { createHash } from 'node:crypto';
import { assert } from '../../platform/errors.js';
import { limits } from '../../platform/limits.js';

import { base62LengthFor, randomBase62 } from '../../platform/ids.js';

export { base62LengthFor, newObjectId, randomBase62 } from '../../platform/ids.js';

export type ApiKeyKind = 'secret' | 'publishable' | 'restricted';

const kindPrefix: Record<ApiKeyKind, string> = { secret: 'sk', publishable: 'pk', restricted: 'rk' };
const keyBodyLength = base62LengthFor(limits.merchantApiKeyBytes * 8);
const keyPattern = new RegExp(`^(sk|pk|rk)_(test|live)_[0-9A-Za-z]{${keyBodyLength}}$`);

export interface ParsedApiKey {
  kind: ApiKeyKind;
  livemode: boolean;
}

/** The kind and mode a raw key claims, or null when it is not shaped like one of our keys. */
export function parseApiKey(raw: string): ParsedApiKey | null {
  const match = keyPattern.exec(raw);
  if (match === null) return null;
  const kind = match[1] === 'sk' ? 'secret' : match[1] === 'pk' ? 'publishable' : 'restricted';
  return { kind, livemode: match[2] === 'live' };
}

export interface NewApiKey {
  raw: string;
  hash: string;
  displayPrefix: string;
  last4: string;
}

/** A fresh key (≥ 256 random bits): shown once; only its SHA-256 is stored. */
export function generateApiKey(kind: ApiKeyKind, livemode: boolean): NewApiKey {
  const displayPrefix = `${kindPrefix[kind]}_${livemode ? 'live' : 'test'}_`;
  const raw = `${displayPrefix}${randomBase62(keyBodyLength)}`;
  assert(keyPattern.test(raw), 'generated API key must match its own pattern');
  return { raw, hash: hashApiKey(raw), displayPrefix, last4: raw.slice(-4) };
}

/** Keys are high-entropy random strings, so a fast hash is enough (no password stretching needed). */
export function hashApiKey(raw: string): string {
  return createHash('sha256').update(raw, 'utf8').digest('hex');
}

/** How a key is shown after creation: `sk_test_…AbCd`. */
export function redactApiKey(raw: string): string {
  const parsed = keyPattern.exec(raw);
  if (parsed !== null) return `${parsed[1]}_${parsed[2]}_…${raw.slice(-4)}`;
  // Something else: show no more of it than Stripe does (a prefix and the last 4 characters).
  const printable = raw.replace(/[^\x21-\x7e]/g, '?');
  return printable.length > 12 ? `${printable.slice(0, 8)}…${printable.slice(-4)}` : '****';
}

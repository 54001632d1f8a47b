import { createHmac, randomBytes } from 'node:crypto';
import { loadInstallKeys, open, seal, type SecretKey } from '../../../platform/secret-box.js';
import type { SqlExecutor } from '../../../platform/db.js';
import { assert } from '../../../platform/errors.js';

/**
 * Endpoint signing secrets at rest, sealed with platform/secret-box.ts under a key derived from
 * this install's webhooks secret (table webhooks_secrets, created on first use).
 */

/** The key that seals endpoint signing secrets (derived from the install secret in webhooks_secrets). */
export type EncryptionKey = SecretKey;

const label = 'yunpay webhooks endpoint secret v1';

export async function loadSecretEncryptionKey(db: SqlExecutor): Promise<EncryptionKey> {
  return (await loadInstallKeys(db, 'webhooks_secrets', [label]))[label];
}

/** A new endpoint signing secret, as Stripe shapes it. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** Sealed to its endpoint row (the endpoint id is the associated data). */
export function encryptSigningSecret(key: EncryptionKey, secret: string, endpointId: string): string {
  return seal(key, Buffer.from(secret, 'utf8'), endpointId);
}

export function decryptSigningSecret(key: EncryptionKey, stored: string, endpointId: string): string {
  const secret = open(key, stored, endpointId).toString('utf8');
  assert(secret.startsWith('whsec_'), 'a decrypted signing secret starts with whsec_');
  return secret;
}

/**
 * Stripe's signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The
 * whole `whsec_…` string is the HMAC key, as stripe.webhooks.constructEvent expects.
 */
export function signatureHeader(options: { secret: string; body: string; timestampS: number }): string {
  assert(Number.isSafeInteger(options.timestampS) && options.timestampS > 0, 'signature timestamp is unix seconds');
  const signature = createHmac('sha256', options.secret)
    .update(`${options.timestampS}.${options.body}`, 'utf8')
    .digest('hex');
  return `t=${options.timestampS},v1=${signature}`;
}

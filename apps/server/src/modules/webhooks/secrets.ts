import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { SqlExecutor } from '../../platform/db.js';
import { assert } from '../../platform/errors.js';

/**
 * Endpoint signing secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256) from this
 * install's webhooks secret (table webhooks_secrets, created on first use). The same construction
 * as the codes context's offline keys (modules/codes/secrets.ts, not exported by its index).
 */

/** Key material that never prints. */
export class EncryptionKey {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    assert(bytes.length === 32, 'an encryption key is 32 bytes');
    this.#bytes = bytes;
  }

  reveal(): Buffer {
    return this.#bytes;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'EncryptionKey [redacted]';
  }
}

/** Reads the install's webhooks secret, creating it on first use (concurrent first uses agree). */
export async function loadSecretEncryptionKey(db: SqlExecutor): Promise<EncryptionKey> {
  await db.query(`insert into webhooks_secrets (id, secret) values (1, $1) on conflict (id) do nothing`, [
    randomBytes(32).toString('base64'),
  ]);
  const rows = await db.query<{ secret: string }>(`select secret from webhooks_secrets where id = 1`);
  const secret = rows[0]?.secret;
  assert(secret !== undefined, 'webhooks_secrets has its row after the insert');
  const master = Buffer.from(secret, 'base64');
  assert(master.length === 32, 'the webhooks secret is 32 bytes');
  return new EncryptionKey(
    Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'yunpay webhooks endpoint secret v1', 32)),
  );
}

/** A new endpoint signing secret, as Stripe shapes it. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

const ciphertextVersion = 'v1';

/** "v1:" + base64(nonce ‖ ciphertext ‖ tag); the endpoint id is the associated data. */
export function encryptSigningSecret(key: EncryptionKey, secret: string, endpointId: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.reveal(), nonce);
  cipher.setAAD(Buffer.from(endpointId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return `${ciphertextVersion}:${Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]).toString('base64')}`;
}

export function decryptSigningSecret(key: EncryptionKey, stored: string, endpointId: string): string {
  const [version, body] = stored.split(':');
  assert(version === ciphertextVersion && body !== undefined, 'unknown signing secret ciphertext version');
  const bytes = Buffer.from(body, 'base64');
  assert(bytes.length > 28, 'signing secret ciphertext is too short');
  const decipher = createDecipheriv('aes-256-gcm', key.reveal(), bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(endpointId, 'utf8'));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  const secret = Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString(
    'utf8',
  );
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

import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { SqlExecutor } from '../../platform/db.js';
import { assert } from '../../platform/errors.js';

/** Key material that never prints: toString, toJSON and util.inspect show a placeholder. */
export class SecretKey {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    assert(bytes.length === 32, 'a secret key is 32 bytes');
    this.#bytes = bytes;
  }

  /** The raw bytes, for a crypto call; never log or return them. */
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
    return 'SecretKey [redacted]';
  }
}

/** The keys the codes context derives from the install's secret (HKDF-SHA256, distinct labels). */
export interface CodeKeys {
  /** Keys the HMAC-SHA256 stored for each online code. */
  onlineCodeHmac: SecretKey;
  /** AES-256-GCM key for offline secrets at rest. */
  offlineKeyEncryption: SecretKey;
}

function derive(master: Buffer, label: string): SecretKey {
  return new SecretKey(Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `yunpay codes ${label} v1`, 32)));
}

/**
 * Reads the install's codes secret, creating it on first use. Concurrent first uses on several
 * nodes are safe: one insert wins and every caller reads the same row.
 */
export async function loadCodeKeys(db: SqlExecutor): Promise<CodeKeys> {
  await db.query(`insert into codes_secrets (id, secret) values (1, $1) on conflict (id) do nothing`, [
    randomBytes(32).toString('base64'),
  ]);
  const rows = await db.query<{ secret: string }>(`select secret from codes_secrets where id = 1`);
  const secret = rows[0]?.secret;
  assert(secret !== undefined, 'codes_secrets has its row after the insert');
  const master = Buffer.from(secret, 'base64');
  assert(master.length === 32, 'the codes secret is 32 bytes');
  return {
    onlineCodeHmac: derive(master, 'online code hmac'),
    offlineKeyEncryption: derive(master, 'offline key encryption'),
  };
}

export function hmacHex(key: SecretKey, text: string): string {
  return createHmac('sha256', key.reveal()).update(text).digest('hex');
}

const ciphertextVersion = 'v1';

/**
 * AES-256-GCM with a random 96-bit nonce; the associated data (the device id) binds the
 * ciphertext to its row, so a ciphertext copied to another device's row does not decrypt.
 * Output: "v1:" + base64(nonce ‖ ciphertext ‖ tag).
 */
export function encryptSecret(key: SecretKey, plaintext: Buffer, associatedData: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.reveal(), nonce);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `${ciphertextVersion}:${Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]).toString('base64')}`;
}

export function decryptSecret(key: SecretKey, stored: string, associatedData: string): Buffer {
  const [version, body] = stored.split(':');
  assert(version === ciphertextVersion && body !== undefined, 'unknown offline key ciphertext version');
  const bytes = Buffer.from(body, 'base64');
  assert(bytes.length > 28, 'offline key ciphertext is too short');
  const decipher = createDecipheriv('aes-256-gcm', key.reveal(), bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
}

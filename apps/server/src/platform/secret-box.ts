import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { SqlExecutor } from './db.js';
import { assert } from './errors.js';

/**
 * Secrets at rest: each context keeps one random 32-byte install secret in a table of its own
 * (created on first use; concurrent first uses agree), derives keys from it with HKDF-SHA256 and
 * distinct labels, and seals values with AES-256-GCM under a random 96-bit nonce, the row's id as
 * associated data (a ciphertext copied to another row does not open).
 */

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

const tablePattern = /^[a-z_]+_secrets$/;

/**
 * Reads the install secret kept in `table` (columns id = 1, secret base64), creating it on first
 * use, and derives one key per label.
 */
export async function loadInstallKeys<Label extends string>(
  db: SqlExecutor,
  table: string,
  labels: readonly Label[],
): Promise<Record<Label, SecretKey>> {
  assert(tablePattern.test(table), 'install secrets live in a *_secrets table');
  await db.query(`insert into ${table} (id, secret) values (1, $1) on conflict (id) do nothing`, [
    randomBytes(32).toString('base64'),
  ]);
  const rows = await db.query<{ secret: string }>(`select secret from ${table} where id = 1`);
  const secret = rows[0]?.secret;
  assert(secret !== undefined, `${table} has its row after the insert`);
  const master = Buffer.from(secret, 'base64');
  assert(master.length === 32, `the secret in ${table} is 32 bytes`);
  const keys = {} as Record<Label, SecretKey>;
  for (const label of labels) {
    keys[label] = new SecretKey(Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), label, 32)));
  }
  return keys;
}

const sealedVersion = 'v1';

/** AES-256-GCM: "v1:" + base64(nonce ‖ ciphertext ‖ tag). */
export function seal(key: SecretKey, plaintext: Buffer, associatedData: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.reveal(), nonce);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `${sealedVersion}:${Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]).toString('base64')}`;
}

/** Opens what seal produced; a wrong key, row or a tampered value throws. */
export function open(key: SecretKey, sealed: string, associatedData: string): Buffer {
  const [version, body] = sealed.split(':');
  assert(version === sealedVersion && body !== undefined, 'unknown sealed secret version');
  const bytes = Buffer.from(body, 'base64');
  assert(bytes.length > 28, 'sealed secret is too short');
  const decipher = createDecipheriv('aes-256-gcm', key.reveal(), bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
}

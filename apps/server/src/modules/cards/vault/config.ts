import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import type { Env } from '../../../platform/config.js';
import { AppError, assert } from '../../../platform/errors.js';
import { randomBase62 } from '../../../platform/ids.js';
import { parseVaultKeys, vaultKeys, type VaultKeyRing, type VaultKeys } from './keys.js';

/**
 * Where the vault's keys come from (docs/card-vault.md, "Configuration"), in this order:
 *
 * 1. YUNPAY_VAULT_KEYS (`id:base64,…`), YUNPAY_VAULT_KEY_ID (the current id) and
 *    YUNPAY_VAULT_FINGERPRINT_KEY (`id:base64`), all three;
 * 2. YUNPAY_VAULT_KEYS_FILE: a key file (format below), which must exist;
 * 3. `<data dir>/vault-keys.json`, created with random keys on first use.
 *
 * A key file must not be readable or writable by group or others. Every error is config_invalid
 * and names a variable, a file or a key id, never key material.
 */

export type VaultKeySource = 'env' | 'file' | 'generated';

export interface LoadedVaultKeys {
  keys: VaultKeys;
  source: VaultKeySource;
  /** The key file read or written; null for keys from the environment. */
  filePath: string | null;
}

/**
 * The key file. Keys are 32 random bytes in standard base64, as in the environment variables.
 * ```json
 * { "version": 1,
 *   "encryption": { "current": "kek-2026a", "keys": { "kek-2026a": "<base64>" } },
 *   "fingerprint": { "current": "fp-2026a", "keys": { "fp-2026a": "<base64>" } } }
 * ```
 */
export interface VaultKeyFile {
  version: 1;
  encryption: { current: string; keys: Record<string, string> };
  fingerprint: { current: string; keys: Record<string, string> };
}

export const vaultKeysFileName = 'vault-keys.json';
/** A key file is a few hundred bytes; anything much larger is not one. */
const keyFileBytesMax = 64 * 1024;
const keyIdPattern = /^[A-Za-z0-9_-]{1,32}$/;

export function vaultKeysPath(dataDir: string): string {
  return path.join(dataDir, vaultKeysFileName);
}

function invalid(message: string): AppError {
  return new AppError('config_invalid', { message });
}

/** Runs a parse and prefixes its config_invalid message with where the text came from. */
function within<T>(where: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof AppError && error.code === 'config_invalid') throw invalid(`${where}: ${error.message}`);
    throw error;
  }
}

function setting(env: Env, name: string): string | null {
  const value = env[name];
  return value === undefined || value.trim() === '' ? null : value.trim();
}

/** A single `id:base64` key, as a ring whose current key is that one. */
function parseSingleKey(text: string): VaultKeyRing {
  const entries = text.split(',').filter((entry) => entry.trim() !== '');
  if (entries.length !== 1) throw invalid('expected exactly one key, id:base64.');
  const entry = entries[0] ?? '';
  const separator = entry.indexOf(':');
  if (separator < 0) throw invalid('expected one key of the form id:base64.');
  return parseVaultKeys(entry, entry.slice(0, separator).trim());
}

function ringFromFile(section: unknown): VaultKeyRing {
  if (section === null || typeof section !== 'object' || Array.isArray(section)) throw invalid('not an object.');
  const { current, keys } = section as { current?: unknown; keys?: unknown };
  if (typeof current !== 'string' || !keyIdPattern.test(current)) {
    throw invalid('"current" must be a key id (1 to 32 letters, digits, _ or -).');
  }
  if (keys === null || typeof keys !== 'object' || Array.isArray(keys)) throw invalid('"keys" must be an object.');
  const entries = Object.entries(keys as Record<string, unknown>);
  for (const [id, key] of entries) {
    // Checked here because ':' or ',' in an id would split the id:base64 text differently.
    if (!keyIdPattern.test(id)) throw invalid('a key id is not 1 to 32 letters, digits, _ or -.');
    if (typeof key !== 'string') throw invalid(`key ${id} is not a base64 string.`);
  }
  return parseVaultKeys(entries.map(([id, key]) => `${id}:${key as string}`).join(','), current);
}

function checkPrivate(filePath: string, stats: Stats): void {
  if (!stats.isFile()) throw invalid(`The vault key file ${filePath} is not a regular file.`);
  // POSIX permissions only: Windows has none to check here.
  if (process.platform !== 'win32' && (stats.mode & 0o077) !== 0) {
    const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
    throw invalid(
      `The vault key file ${filePath} is accessible to other users (mode ${mode}). Its keys may have been exposed: check who could read it, then run chmod 600 on it (and rotate the keys if in doubt).`,
    );
  }
}

/** Reads and checks a key file; null when it does not exist. */
export function readVaultKeyFile(filePath: string): VaultKeys | null {
  let stats: Stats;
  try {
    stats = statSync(filePath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw invalid(`The vault key file ${filePath} cannot be read (${(error as NodeJS.ErrnoException).code}).`);
  }
  checkPrivate(filePath, stats);
  if (stats.size > keyFileBytesMax)
    throw invalid(`The vault key file ${filePath} is larger than ${keyFileBytesMax} bytes.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(filePath, 'utf8'));
  } catch {
    // JSON.parse's message quotes the text around the fault, which may be key material: not kept.
    throw invalid(`The vault key file ${filePath} is not valid JSON.`);
  }
  if (parsed === null || typeof parsed !== 'object' || (parsed as { version?: unknown }).version !== 1) {
    throw invalid(`The vault key file ${filePath} is not a version 1 key file.`);
  }
  const file = parsed as Partial<VaultKeyFile>;
  const encryption = within(`The vault key file ${filePath}, "encryption"`, () => ringFromFile(file.encryption));
  const fingerprint = within(`The vault key file ${filePath}, "fingerprint"`, () => ringFromFile(file.fingerprint));
  return within(`The vault key file ${filePath}`, () => vaultKeys(encryption, fingerprint));
}

/**
 * A key id unique to this generation (`kek-20260115-x7Qa9Zk2`): two nodes that each generated keys
 * by mistake fail with card_vault_key_unknown naming the other's key, instead of colliding on an id.
 */
function generatedKeyId(prefix: string, nowMs: number): string {
  const date = new Date(nowMs).toISOString().slice(0, 10).replaceAll('-', '');
  return `${prefix}-${date}-${randomBase62(8)}`;
}

function newKeyFile(nowMs: number): VaultKeyFile {
  const encryptionId = generatedKeyId('kek', nowMs);
  const fingerprintId = generatedKeyId('fp', nowMs);
  return {
    version: 1,
    encryption: { current: encryptionId, keys: { [encryptionId]: randomBytes(32).toString('base64') } },
    fingerprint: { current: fingerprintId, keys: { [fingerprintId]: randomBytes(32).toString('base64') } },
  };
}

/**
 * Writes a new key file atomically: a private temporary file, flushed, then hard-linked to its name
 * (which fails if another process got there first). False when one already existed.
 */
function writeNewKeyFile(filePath: string, file: VaultKeyFile): boolean {
  const directory = path.dirname(filePath);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const temporaryPath = `${filePath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const descriptor = openSync(temporaryPath, 'wx', 0o600);
  try {
    try {
      writeSync(descriptor, `${JSON.stringify(file, null, 2)}\n`);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    try {
      linkSync(temporaryPath, filePath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  } finally {
    unlinkSync(temporaryPath);
  }
  try {
    // Makes the new name durable; not every platform lets a directory be opened for this.
    const directoryDescriptor = openSync(directory, 'r');
    try {
      fsyncSync(directoryDescriptor);
    } finally {
      closeSync(directoryDescriptor);
    }
  } catch {
    // Best effort.
  }
  return true;
}

export interface LoadVaultKeysOptions {
  /**
   * Create `<data dir>/vault-keys.json` when no keys are configured (default true). Commands that
   * only work on existing cards (`yunpay cards rewrap`) pass false: new keys could open nothing.
   */
  generate?: boolean;
  /** The clock in generated key ids. */
  nowMs?: number;
}

/** The vault's keys from the environment, a key file, or a key file generated in the data directory. */
export function loadVaultKeysFromEnv(env: Env, dataDir: string, options: LoadVaultKeysOptions = {}): LoadedVaultKeys {
  const keysText = setting(env, 'YUNPAY_VAULT_KEYS');
  const currentId = setting(env, 'YUNPAY_VAULT_KEY_ID');
  const fingerprintText = setting(env, 'YUNPAY_VAULT_FINGERPRINT_KEY');
  const filePath = setting(env, 'YUNPAY_VAULT_KEYS_FILE');
  const fromEnv = {
    YUNPAY_VAULT_KEYS: keysText,
    YUNPAY_VAULT_KEY_ID: currentId,
    YUNPAY_VAULT_FINGERPRINT_KEY: fingerprintText,
  };
  const given = Object.entries(fromEnv).filter(([, value]) => value !== null);

  if (given.length > 0) {
    if (filePath !== null) {
      throw invalid(
        'Set the vault keys either in YUNPAY_VAULT_KEYS and its companions or in YUNPAY_VAULT_KEYS_FILE, not both.',
      );
    }
    const absent = Object.entries(fromEnv)
      .filter(([, value]) => value === null)
      .map(([name]) => name);
    if (absent.length > 0 || keysText === null || currentId === null || fingerprintText === null) {
      throw invalid(
        `The vault keys need YUNPAY_VAULT_KEYS, YUNPAY_VAULT_KEY_ID and YUNPAY_VAULT_FINGERPRINT_KEY together; missing: ${absent.join(', ')}.`,
      );
    }
    const encryption = within('YUNPAY_VAULT_KEYS', () => parseVaultKeys(keysText, currentId));
    const fingerprint = within('YUNPAY_VAULT_FINGERPRINT_KEY', () => parseSingleKey(fingerprintText));
    return { keys: vaultKeys(encryption, fingerprint), source: 'env', filePath: null };
  }

  if (filePath !== null) {
    const keys = readVaultKeyFile(filePath);
    // A named file that is missing is a mistake (a wrong path, an unmounted volume): generating
    // keys there would make every stored card unreadable.
    if (keys === null) throw invalid(`YUNPAY_VAULT_KEYS_FILE names ${filePath}, which does not exist.`);
    return { keys, source: 'file', filePath };
  }

  const defaultPath = vaultKeysPath(dataDir);
  const existing = readVaultKeyFile(defaultPath);
  if (existing !== null) return { keys: existing, source: 'file', filePath: defaultPath };
  if (options.generate === false) {
    throw invalid(
      `No vault keys are configured: set YUNPAY_VAULT_KEYS, YUNPAY_VAULT_KEY_ID and YUNPAY_VAULT_FINGERPRINT_KEY, or YUNPAY_VAULT_KEYS_FILE, or run with the data directory that holds ${vaultKeysFileName}.`,
    );
  }
  const file = newKeyFile(options.nowMs ?? Date.now());
  const written = writeNewKeyFile(defaultPath, file);
  const keys = readVaultKeyFile(defaultPath);
  assert(keys !== null, 'the key file exists once written');
  if (written) {
    // The same keys on both sides of the write.
    assert(keys.encryption.currentId === file.encryption.current, 'the generated key file reads back');
  }
  return { keys, source: written ? 'generated' : 'file', filePath: defaultPath };
}

/** What may be logged about the keys: ids only. */
export function describeVaultKeys(keys: VaultKeys): {
  currentEncryptionKeyId: string;
  encryptionKeyIds: string[];
  fingerprintKeyId: string;
} {
  return {
    currentEncryptionKeyId: keys.encryption.currentId,
    encryptionKeyIds: [...keys.encryption.keys.keys()].sort(),
    fingerprintKeyId: keys.fingerprint.currentId,
  };
}

import { AppError } from '../../../platform/errors.js';
import { limits } from '../../../platform/limits.js';
import { SecretKey } from '../../../platform/secret-box.js';

export { SecretKey };

/**
 * Keys come from configuration as `id:base64,id:base64` (each key 32 random bytes, standard
 * base64) plus the id of the current one. Errors name the entry at fault, never its key material.
 */
export interface VaultKeyRing {
  /** The key new records use. */
  readonly currentId: string;
  readonly current: SecretKey;
  /** Every configured key by id, the current one included (older ones open older records). */
  readonly keys: ReadonlyMap<string, SecretKey>;
}

export interface VaultKeys {
  /** Key-encryption keys (KEKs): wrap each record's data key. */
  readonly encryption: VaultKeyRing;
  /** Keys the HMAC fingerprint of a PAN; only the current one is used. */
  readonly fingerprint: VaultKeyRing;
}

const keyIdPattern = /^[A-Za-z0-9_-]+$/;
const base64Pattern = /^[A-Za-z0-9+/]{43}=$/;

function invalid(message: string): AppError {
  return new AppError('config_invalid', { message });
}

/** Parses `kid1:base64,kid2:base64` and the current id into a key ring; throws config_invalid. */
export function parseVaultKeys(text: string, currentId: string): VaultKeyRing {
  if (text.length > limits.cardVaultKeysTextLengthMax) {
    throw invalid(`The vault key list is longer than ${limits.cardVaultKeysTextLengthMax} characters.`);
  }
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) throw invalid('The vault key list is empty: expected id:base64[,id:base64…].');
  if (entries.length > limits.cardVaultKeysMax) {
    throw invalid(`The vault key list has more than ${limits.cardVaultKeysMax} keys.`);
  }
  const keys = new Map<string, SecretKey>();
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const separator = entry.indexOf(':');
    if (separator < 0) throw invalid(`Vault key entry ${index + 1} is not of the form id:base64.`);
    const id = entry.slice(0, separator).trim();
    const encoded = entry.slice(separator + 1).trim();
    if (id.length === 0 || id.length > limits.cardVaultKeyIdLengthMax || !keyIdPattern.test(id)) {
      throw invalid(
        `Vault key entry ${index + 1} has an invalid id: use 1 to ${limits.cardVaultKeyIdLengthMax} letters, digits, '_' or '-'.`,
      );
    }
    if (keys.has(id)) throw invalid(`Vault key id ${id} is listed twice.`);
    if (!base64Pattern.test(encoded)) {
      throw invalid(`Vault key ${id} is not 32 bytes of standard base64 (44 characters ending in '=').`);
    }
    const bytes = Buffer.from(encoded, 'base64');
    if (bytes.length !== 32) throw invalid(`Vault key ${id} is not 32 bytes.`);
    const hex = bytes.toString('hex');
    if (seen.has(hex)) throw invalid(`Vault key ${id} repeats the bytes of another key.`);
    if (bytes.every((byte) => byte === 0)) throw invalid(`Vault key ${id} is all zero bytes.`);
    seen.add(hex);
    keys.set(id, new SecretKey(bytes));
  });
  const current = keys.get(currentId);
  if (current === undefined) throw invalid(`The current vault key id "${currentId}" is not in the key list.`);
  return { currentId, current, keys };
}

/**
 * Both key rings, checked together: a fingerprint key must not also be an encryption key (one key,
 * one purpose).
 */
export function vaultKeys(encryption: VaultKeyRing, fingerprint: VaultKeyRing): VaultKeys {
  for (const [fingerprintId, fingerprintKey] of fingerprint.keys) {
    for (const [encryptionId, encryptionKey] of encryption.keys) {
      if (fingerprintKey.reveal().equals(encryptionKey.reveal())) {
        throw invalid(`Vault fingerprint key ${fingerprintId} is the same as encryption key ${encryptionId}.`);
      }
    }
  }
  return { encryption, fingerprint };
}

import { createHmac } from 'node:crypto';
import type { SqlExecutor } from '../../platform/db.js';
import { loadInstallKeys, open, seal, SecretKey } from '../../platform/secret-box.js';

export { SecretKey };

/** The keys the codes context derives from its install secret (table codes_secrets). */
export interface CodeKeys {
  /** Keys the HMAC-SHA256 stored for each online code. */
  onlineCodeHmac: SecretKey;
  /** AES-256-GCM key for offline secrets at rest. */
  offlineKeyEncryption: SecretKey;
}

const labels = {
  hmac: 'yunpay codes online code hmac v1',
  encryption: 'yunpay codes offline key encryption v1',
} as const;

export async function loadCodeKeys(db: SqlExecutor): Promise<CodeKeys> {
  const keys = await loadInstallKeys(db, 'codes_secrets', [labels.hmac, labels.encryption]);
  return { onlineCodeHmac: keys[labels.hmac], offlineKeyEncryption: keys[labels.encryption] };
}

export function hmacHex(key: SecretKey, text: string): string {
  return createHmac('sha256', key.reveal()).update(text).digest('hex');
}

/** Offline secrets sealed to their device row (the device id is the associated data). */
export function encryptSecret(key: SecretKey, plaintext: Buffer, associatedData: string): string {
  return seal(key, plaintext, associatedData);
}

export function decryptSecret(key: SecretKey, stored: string, associatedData: string): Buffer {
  return open(key, stored, associatedData);
}

import { createHash, randomBytes } from 'node:crypto';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Lower-case canonical UUID text: the only form the ledger accepts (it sorts like PostgreSQL's uuid). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && uuidPattern.test(value);
}

function format(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A deterministic transfer or account id from a namespace and a key (UUID version 8 over
 * SHA-256), so that a context can turn its own idempotency key into ledger ids: the same request
 * retried maps to the same transfers, and the ledger applies them once.
 */
export function transferIdFrom(namespace: string, key: string): string {
  const digest = createHash('sha256').update(namespace).update('\u0000').update(key).digest();
  const bytes = digest.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return format(bytes);
}

// Random bytes are drawn in blocks: one system call per 4096 ids instead of one per id.
const randomPoolIds = 4096;
let randomPool = Buffer.alloc(0);
let randomPoolOffset = 0;

/** A new time-ordered id (UUID version 7): 48-bit milliseconds then 74 random bits. */
export function newLedgerId(nowMs: number = Date.now()): string {
  if (randomPoolOffset >= randomPool.length) {
    randomPool = randomBytes(16 * randomPoolIds);
    randomPoolOffset = 0;
  }
  const bytes = Buffer.from(randomPool.subarray(randomPoolOffset, randomPoolOffset + 16));
  randomPoolOffset += 16;
  bytes.writeUIntBE(nowMs, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return format(bytes);
}

/** Web Crypto as far as the SDK needs it; present in browsers and in Node 20 as globalThis.crypto. */
interface RandomSource {
  randomUUID?: () => string;
  getRandomValues<T extends Uint8Array>(array: T): T;
}

function randomSource(): RandomSource {
  const source = (globalThis as { crypto?: RandomSource }).crypto;
  if (source === undefined || typeof source.getRandomValues !== 'function') {
    throw new Error('assertion failed: globalThis.crypto.getRandomValues is required (browsers, Node 20+)');
  }
  return source;
}

/** Cryptographically random bytes. */
export function randomBytes(length: number): Uint8Array {
  return randomSource().getRandomValues(new Uint8Array(length));
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A random UUID v4 (122 random bits). crypto.randomUUID exists only in secure contexts in
 * browsers (https, localhost), so a phone on http://192.168.x.x falls back to getRandomValues.
 */
export function uuidV4(): string {
  const source = randomSource();
  if (typeof source.randomUUID === 'function') return source.randomUUID();
  const bytes = source.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  if (!uuidPattern.test(uuid)) throw new Error('assertion failed: a generated UUID is v4');
  return uuid;
}

/** A new Idempotency-Key: a UUID v4. */
export function newIdempotencyKey(): string {
  return uuidV4();
}

/**
 * A device id for sign-in (`[A-Za-z0-9_-]{8,64}`): make it once per install and keep it (the
 * server ties sessions, offline payment keys and device revocation to it).
 */
export function newDeviceId(): string {
  return `web-${uuidV4().replaceAll('-', '')}`;
}

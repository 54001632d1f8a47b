import { sdkLimits } from './limits.js';

/** Web Crypto's HMAC as far as this file uses it (typed here so that it compiles without the DOM library). */
interface HmacSubtle {
  importKey(
    format: 'raw',
    keyData: Uint8Array,
    algorithm: { name: 'HMAC'; hash: 'SHA-256' },
    extractable: false,
    usages: ['sign'],
  ): Promise<unknown>;
  sign(algorithm: 'HMAC', key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
}

/**
 * Verifies a webhook's `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
 * with Web Crypto (browsers, Node 20, edge runtimes). Pass the body exactly as received (the raw
 * text, before any JSON parsing). Resolves to the parsed event, or rejects with a reason.
 */
export async function verifyWebhookSignature<E = unknown>(input: {
  payload: string;
  header: string | null | undefined;
  /** whsec_… from the endpoint's create response. */
  secret: string;
  /** Refuse signatures older (or newer) than this; default 300 s. */
  toleranceS?: number;
  /** Unix seconds now (tests). */
  nowS?: number;
}): Promise<E> {
  const header = input.header ?? '';
  let timestamp: string | null = null;
  const signatures: string[] = [];
  for (const item of header.split(',').slice(0, 32)) {
    const [name, value = ''] = item.trim().split('=', 2);
    if (name === 't') timestamp = value;
    else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === null || !/^\d{1,12}$/.test(timestamp) || signatures.length === 0) {
    throw new Error('webhook signature header is missing or malformed');
  }
  const toleranceS = input.toleranceS ?? sdkLimits.webhookToleranceSDefault;
  const nowS = input.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(nowS - Number(timestamp)) > toleranceS) throw new Error('webhook signature is outside the tolerance');
  const subtle = (globalThis as { crypto?: { subtle?: HmacSubtle } }).crypto?.subtle;
  if (subtle === undefined) throw new Error('assertion failed: Web Crypto (crypto.subtle) is required');
  const encoder = new TextEncoder();
  const key = await subtle.importKey('raw', encoder.encode(input.secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const mac = new Uint8Array(await subtle.sign('HMAC', key, encoder.encode(`${timestamp}.${input.payload}`)));
  const expected = Array.from(mac, (byte) => byte.toString(16).padStart(2, '0')).join('');
  // Constant-time comparison of equal-length hex strings.
  const matches = signatures.some((signature) => {
    let difference = 0;
    for (let index = 0; index < expected.length; index += 1) {
      difference |= expected.charCodeAt(index) ^ signature.charCodeAt(index);
    }
    return difference === 0;
  });
  if (!matches) throw new Error('webhook signature does not match');
  return JSON.parse(input.payload) as E;
}

import { randomBytes, randomInt } from 'node:crypto';
import { WalletClient } from '@yunpay/sdk';

/** A signed-up person with a session, for tests that go through the real HTTP API. */
export interface TestUser {
  id: string;
  phone: string;
  name: string;
  accessToken: string;
  refreshToken: string;
}

export const testPassword = 'correct horse battery staple 42';
export const testPin = '274916';

export function randomPhone(): string {
  return `+8613${String(randomInt(0, 1_000_000_000)).padStart(9, '0')}`;
}

export async function api(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; idempotencyKey?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('application/json') && text !== '') body = JSON.parse(text);
  return { status: response.status, body, headers: response.headers, text };
}

export function newKey(): string {
  return `key_${randomBytes(12).toString('hex')}`;
}

/** A wallet client for test set-up (the SDK; no retries, so a failure shows at once). */
function walletClient(baseUrl: string, accessToken?: string): WalletClient {
  return new WalletClient({
    baseUrl,
    retries: { maxRetries: 0 },
    ...(accessToken === undefined ? {} : { accessToken }),
  });
}

/** Signs up, signs in on a device and sets the payment PIN (through the SDK). */
export async function signUp(baseUrl: string, name = 'Test Person'): Promise<TestUser> {
  const phone = randomPhone();
  const wallet = walletClient(baseUrl);
  const created = await wallet.signUp({ phone, password: testPassword, name });
  const tokens = await wallet.signIn({
    login: phone,
    password: testPassword,
    device: { id: `device-${randomBytes(6).toString('hex')}`, name: 'Test phone', platform: 'android' },
  });
  await wallet.setPin({ pin: testPin, password: testPassword });
  return { id: created.id, phone, name, accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
}

/** Tops up from the test Visa token (through the SDK, with an Idempotency-Key of its own). */
export async function topUp(baseUrl: string, user: TestUser, amount: number, currency = 'CNY'): Promise<void> {
  await walletClient(baseUrl, user.accessToken).topups.create({ amount, currency, source: 'tok_visa' });
}

export async function available(baseUrl: string, user: TestUser, currency = 'CNY'): Promise<number> {
  const result = await api(baseUrl, 'GET', '/wallet/v1/balances', { token: user.accessToken });
  if (result.status !== 200) throw new Error(`balances failed: ${result.status} ${result.text}`);
  return (
    (result.body as { currency: string; available: number }[]).find((b) => b.currency === currency)?.available ?? 0
  );
}

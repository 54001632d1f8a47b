import { randomBytes, randomInt } from 'node:crypto';

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

/** Signs up, signs in on a device and sets the payment PIN. */
export async function signUp(baseUrl: string, name = 'Test Person'): Promise<TestUser> {
  const phone = randomPhone();
  const created = await api(baseUrl, 'POST', '/wallet/v1/users', { body: { phone, password: testPassword, name } });
  if (created.status !== 201) throw new Error(`sign-up failed: ${created.status} ${created.text}`);
  const session = await api(baseUrl, 'POST', '/wallet/v1/sessions', {
    body: {
      login: phone,
      password: testPassword,
      device: { id: `device-${randomBytes(6).toString('hex')}`, name: 'Test phone', platform: 'android' },
    },
  });
  if (session.status !== 200) throw new Error(`sign-in failed: ${session.status} ${session.text}`);
  const token = session.body.access_token as string;
  const pin = await api(baseUrl, 'PUT', '/wallet/v1/pin', { token, body: { pin: testPin, password: testPassword } });
  if (pin.status !== 204) throw new Error(`set PIN failed: ${pin.status} ${pin.text}`);
  return { id: created.body.id, phone, name, accessToken: token, refreshToken: session.body.refresh_token };
}

export async function topUp(baseUrl: string, user: TestUser, amount: number, currency = 'CNY'): Promise<void> {
  const result = await api(baseUrl, 'POST', '/wallet/v1/topups', {
    token: user.accessToken,
    idempotencyKey: newKey(),
    body: { amount, currency, source: 'tok_visa' },
  });
  if (result.status !== 201) throw new Error(`top-up failed: ${result.status} ${result.text}`);
}

export async function available(baseUrl: string, user: TestUser, currency = 'CNY'): Promise<number> {
  const result = await api(baseUrl, 'GET', '/wallet/v1/balances', { token: user.accessToken });
  if (result.status !== 200) throw new Error(`balances failed: ${result.status} ${result.text}`);
  return (
    (result.body as { currency: string; available: number }[]).find((b) => b.currency === currency)?.available ?? 0
  );
}

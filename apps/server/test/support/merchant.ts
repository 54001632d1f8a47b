import { randomBytes } from 'node:crypto';
import { AdminClient } from '@yunpay/sdk';

/** Stripe's form encoding with bracket notation and indexed arrays, as stripe-node sends it. */
export function toForm(value: Record<string, unknown>): string {
  const pairs: string[] = [];
  const walk = (prefix: string, node: unknown): void => {
    if (Array.isArray(node)) node.forEach((item, index) => walk(`${prefix}[${index}]`, item));
    else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) walk(prefix === '' ? key : `${prefix}[${key}]`, child);
    } else {
      const text =
        typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean' ? String(node) : '';
      pairs.push(`${encodeURIComponent(prefix)}=${encodeURIComponent(text)}`);
    }
  };
  walk('', value);
  return pairs.join('&');
}

export interface V1Response {
  status: number;
  body: any;
  headers: Headers;
}

/** One /v1 call: form body by default (as Stripe's SDKs send), JSON with `json`. */
export async function v1(
  baseUrl: string,
  method: string,
  path: string,
  options: {
    key?: string;
    basic?: boolean;
    form?: Record<string, unknown> | string;
    json?: unknown;
    idempotencyKey?: string;
  } = {},
): Promise<V1Response> {
  const headers: Record<string, string> = {};
  if (options.key !== undefined) {
    headers.authorization = options.basic
      ? `Basic ${Buffer.from(`${options.key}:`).toString('base64')}`
      : `Bearer ${options.key}`;
  }
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = typeof options.form === 'string' ? options.form : toForm(options.form);
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text), headers: response.headers };
}

export interface TestMerchant {
  id: string;
  secretKey: string;
  publishableKey: string;
}

/** A merchant with test keys, created through the SDK's admin client. */
export async function createMerchant(
  baseUrl: string,
  adminToken: string,
  overrides: Record<string, unknown> = {},
): Promise<TestMerchant> {
  const admin = new AdminClient({ baseUrl, adminToken, retries: { maxRetries: 0 } });
  const created = await admin.merchants.create({
    name: `Shop ${randomBytes(3).toString('hex')}`,
    country: 'CN',
    default_currency: 'CNY',
    mcc: '5812',
    ...overrides,
  });
  return { id: created.id, secretKey: created.secret_key, publishableKey: created.publishable_key };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nulCharacterPath } from '../src/platform/nul-characters.js';
import { startPlatform, type TestPlatform } from './support/platform.js';
import { createMerchant, v1, type TestMerchant } from './support/merchant.js';
import { api, newKey, randomPhone, signUp, testPassword, testPin, type TestUser } from './support/wallet.js';

/** Rows of every table a rejected request could have written to. */
const watchedTables = [
  'customers_customers',
  'payments_intents',
  'merchants_accounts',
  'identity_users',
  'wallets_transactions',
  'idempotency_keys',
  'merchant_sessions',
  'merchant_events',
];

describe('a NUL character (U+0000) anywhere in a request', () => {
  let platform: TestPlatform;
  let shop: TestMerchant;
  let alice: TestUser;
  let bob: TestUser;
  let customerId: string;

  beforeAll(async () => {
    platform = await startPlatform();
    shop = await createMerchant(platform.baseUrl, platform.adminToken);
    alice = await signUp(platform.baseUrl, 'Alice');
    bob = await signUp(platform.baseUrl, 'Bob');
    const created = await v1(platform.baseUrl, 'POST', '/v1/customers', { key: shop.secretKey, form: { name: 'Ann' } });
    expect(created.status).toBe(200);
    customerId = created.body.id as string;
  });
  afterAll(async () => {
    await platform?.close();
  });

  async function rowCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of watchedTables) {
      const rows = await platform.db.query<{ count: number }>(`select count(*)::int as count from ${table}`);
      counts[table] = rows[0]!.count;
    }
    return counts;
  }

  const stripeCases: {
    name: string;
    method: string;
    path: string;
    options: Parameters<typeof v1>[3];
    param: string;
  }[] = [
    {
      name: 'customer name, JSON body',
      method: 'POST',
      path: '/v1/customers',
      options: { json: { name: 'Ann\u0000Lee' } },
      param: 'name',
    },
    {
      name: 'customer name, form body',
      method: 'POST',
      path: '/v1/customers',
      options: { form: 'name=Ann%00Lee', idempotencyKey: newKey() },
      param: 'name',
    },
    {
      name: 'metadata value, form body',
      method: 'POST',
      path: '/v1/customers',
      options: { form: 'metadata[order_id]=67%0035' },
      param: 'metadata[order_id]',
    },
    {
      name: 'metadata key, JSON body',
      method: 'POST',
      path: '/v1/customers',
      options: { json: { metadata: { 'order\u0000id': '6735' } } },
      param: 'metadata[order\\u0000id]',
    },
    {
      name: 'customer update, JSON body',
      method: 'POST',
      path: '/v1/customers/{customer}',
      options: { json: { description: '\u0000' } },
      param: 'description',
    },
    {
      name: 'payment intent description, form body',
      method: 'POST',
      path: '/v1/payment_intents',
      options: { form: 'amount=1000&currency=cny&description=Noodles%00' },
      param: 'description',
    },
    {
      name: 'starting_after on the customers list',
      method: 'GET',
      path: '/v1/customers?starting_after=%00',
      options: {},
      param: 'starting_after',
    },
    {
      name: 'starting_after on the payment intents list',
      method: 'GET',
      path: '/v1/payment_intents?limit=3&starting_after=pi_%00abc',
      options: {},
      param: 'starting_after',
    },
    {
      name: 'a customer id in the path',
      method: 'GET',
      path: '/v1/customers/cus_%00',
      options: {},
      param: 'id',
    },
  ];

  it.each(stripeCases)('/v1: $name → 400 parameter_invalid_characters, Stripe-shaped', async (testCase) => {
    const before = await rowCounts();
    const response = await v1(platform.baseUrl, testCase.method, testCase.path.replace('{customer}', customerId), {
      key: shop.secretKey,
      ...testCase.options,
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'parameter_invalid_characters',
      param: testCase.param,
    });
    expect(response.body.error.message).toContain(testCase.param);
    expect(response.body.error.message).toContain('NUL');
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(await rowCounts()).toEqual(before);
  });

  it('/v1: the customer was not changed by the refused update', async () => {
    const fetched = await v1(platform.baseUrl, 'GET', `/v1/customers/${customerId}`, { key: shop.secretKey });
    expect(fetched.body).toMatchObject({ name: 'Ann', description: null });
  });

  const ourCases: {
    name: string;
    method: string;
    path: string;
    token: 'alice' | 'admin' | 'none';
    body?: unknown;
    headers?: Record<string, string>;
    param: string;
  }[] = [
    {
      name: 'wallet transfer note',
      method: 'POST',
      path: '/wallet/v1/transfers',
      token: 'alice',
      body: { to: '{bob}', amount: 100, currency: 'CNY', note: 'lunch\u0000', pin: testPin },
      param: 'note',
    },
    {
      name: 'wallet history starting_after',
      method: 'GET',
      path: '/wallet/v1/transactions?starting_after=%00',
      token: 'alice',
      param: 'starting_after',
    },
    {
      name: 'wallet transaction id in the path',
      method: 'GET',
      path: '/wallet/v1/transactions/wtx_%00',
      token: 'alice',
      param: 'id',
    },
    {
      name: 'sign-up name (no token needed)',
      method: 'POST',
      path: '/wallet/v1/users',
      token: 'none',
      body: { phone: '{phone}', password: testPassword, name: 'Eve\u0000' },
      param: 'name',
    },
    {
      name: 'admin: merchant name',
      method: 'POST',
      path: '/admin/v1/merchants',
      token: 'admin',
      body: { name: 'Shop\u0000', country: 'CN', default_currency: 'CNY', mcc: '5812' },
      param: 'name',
    },
    {
      name: 'admin: pricing key, nested',
      method: 'POST',
      path: '/admin/v1/merchants',
      token: 'admin',
      body: {
        name: 'Shop',
        country: 'CN',
        default_currency: 'CNY',
        mcc: '5812',
        pricing: { fixed: { 'C\u0000NY': 1 } },
      },
      param: 'pricing.fixed.C\\u0000NY',
    },
    {
      name: 'admin: users list starting_after',
      method: 'GET',
      path: '/admin/v1/users?starting_after=usr_%00',
      token: 'admin',
      param: 'starting_after',
    },
    {
      name: 'admin: merchant id in the path',
      method: 'GET',
      path: '/admin/v1/merchants/acct_%00',
      token: 'admin',
      param: 'id',
    },
    {
      name: 'merchant session sign-in',
      method: 'POST',
      path: '/merchant/v1/sessions',
      token: 'none',
      body: { secret_key: 'sk_test_\u0000' },
      headers: { 'sec-fetch-site': 'same-origin' },
      param: 'secret_key',
    },
  ];

  it.each(ourCases)('$name → 400 parameter_invalid_characters in our envelope', async (testCase) => {
    const before = await rowCounts();
    const token =
      testCase.token === 'alice' ? alice.accessToken : testCase.token === 'admin' ? platform.adminToken : undefined;
    const body =
      testCase.body === undefined
        ? undefined
        : JSON.parse(JSON.stringify(testCase.body).replace('{bob}', bob.phone).replace('{phone}', randomPhone()));
    const response = await api(platform.baseUrl, testCase.method, testCase.path, {
      ...(token === undefined ? {} : { token }),
      ...(body === undefined ? {} : { body }),
      ...(testCase.method === 'POST' ? { idempotencyKey: newKey() } : {}),
      ...(testCase.headers === undefined ? {} : { headers: testCase.headers }),
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'parameter_invalid_characters', param: testCase.param });
    expect(response.body.error.message).toContain('NUL');
    expect(response.body.error.request_id).toBe(response.headers.get('x-request-id'));
    expect(await rowCounts()).toEqual(before);
  });

  it('a NUL in a path outside any parameter is refused too (a wildcard route)', async () => {
    const response = await api(platform.baseUrl, 'GET', '/app/a%00b.js');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('parameter_invalid_characters');
  });

  it('ordinary text, "\\0" spelled out and %2500 (a literal %00) still pass', async () => {
    const created = await v1(platform.baseUrl, 'POST', '/v1/customers', {
      key: shop.secretKey,
      form: 'name=%5C0%20and%20%2500&metadata[k]=%E4%BD%A0%E5%A5%BD',
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: '\\0 and %00', metadata: { k: '你好' } });
  });
});

describe('nulCharacterPath', () => {
  it('finds a NUL at any depth, in keys and values, and nothing in binary or clean values', () => {
    expect(nulCharacterPath('a\u0000')).toEqual([]);
    expect(nulCharacterPath({ a: [{ b: 'x' }, { c: 'y\u0000' }] })).toEqual(['a', '1', 'c']);
    expect(nulCharacterPath({ a: { 'k\u0000': 1 } })).toEqual(['a', 'k\u0000']);
    expect(nulCharacterPath(Buffer.from([0, 0]))).toBeNull();
    expect(nulCharacterPath({ a: 1, b: null, c: true, d: ['x'] })).toBeNull();
    // Deep nesting cannot overflow the stack.
    let deep: unknown = 'end\u0000';
    for (let level = 0; level < 100_000; level += 1) deep = [deep];
    expect(nulCharacterPath(deep)).toHaveLength(100_000);
  });
});

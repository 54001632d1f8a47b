import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { api, signUp, type TestUser } from '../support/wallet.js';

/** Ids a /v1 request names in its parameters must be the caller's own objects. */
let platform: TestPlatform;
let shop: TestMerchant;
let liveKey: string;
let stranger: TestMerchant;
let payer: TestUser;

beforeAll(async () => {
  platform = await startPlatform();
  shop = await createMerchant(platform.baseUrl, platform.adminToken);
  stranger = await createMerchant(platform.baseUrl, platform.adminToken);
  const activated = await api(platform.baseUrl, 'POST', `/admin/v1/merchants/${shop.id}/activate`, {
    token: platform.adminToken,
  });
  expect(activated.status).toBe(200);
  liveKey = activated.body.secret_key as string;
  payer = await signUp(platform.baseUrl, 'Payer');
});
afterAll(async () => {
  await platform?.close();
});

const call = (key: string, method: string, path: string, form: Record<string, unknown> = {}) =>
  v1(platform.baseUrl, method, path, { key, ...(method === 'GET' ? {} : { form }) });

async function count(table: string): Promise<number> {
  const rows = await platform.db.query<{ count: number }>(`select count(*)::int as count from ${table}`);
  return rows[0]!.count;
}

async function customerOf(key: string, name: string): Promise<string> {
  const created = await call(key, 'POST', '/v1/customers', { name });
  expect(created.status).toBe(200);
  return created.body.id as string;
}

async function paidIntent(): Promise<{ id: string; chargeId: string }> {
  const issued = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: payer.accessToken });
  expect(issued.status).toBe(201);
  const intent = await call(shop.secretKey, 'POST', '/v1/payment_intents', {
    amount: 800,
    currency: 'cny',
    confirm: true,
    payment_method_data: { type: 'wallet', wallet: { code: issued.body.code } },
  });
  expect(intent.body.status).toBe('succeeded');
  return { id: intent.body.id as string, chargeId: intent.body.latest_charge as string };
}

describe('customer= on a payment intent', () => {
  let own: string;
  let others: string;
  let ownLive: string;
  let deleted: string;

  beforeAll(async () => {
    own = await customerOf(shop.secretKey, 'Own');
    others = await customerOf(stranger.secretKey, 'Not yours');
    ownLive = await customerOf(liveKey, 'Live one');
    deleted = await customerOf(shop.secretKey, 'Gone');
    expect((await call(shop.secretKey, 'DELETE', `/v1/customers/${deleted}`)).status).toBe(200);
  });

  it.each([
    { name: "another merchant's customer", id: () => others },
    { name: 'a customer of the other mode (live, with a test key)', id: () => ownLive },
    { name: 'a deleted customer', id: () => deleted },
    { name: 'an id that never existed', id: () => 'cus_NoSuchCustomer000000' },
  ])('create with $name: 400 resource_missing, param customer, no intent', async (testCase) => {
    const before = await count('payments_intents');
    const created = await call(shop.secretKey, 'POST', '/v1/payment_intents', {
      amount: 1000,
      currency: 'cny',
      customer: testCase.id(),
    });
    expect(created.status).toBe(400);
    expect(created.body.error).toEqual({
      type: 'invalid_request_error',
      code: 'resource_missing',
      param: 'customer',
      message: `No such customer: '${testCase.id()}'`,
    });
    expect(await count('payments_intents')).toBe(before);
  });

  it('create and update with an own customer of the same mode work; unsetting works', async () => {
    const created = await call(shop.secretKey, 'POST', '/v1/payment_intents', {
      amount: 1000,
      currency: 'cny',
      customer: own,
    });
    expect(created.status).toBe(200);
    expect(created.body.customer).toBe(own);
    const live = await call(liveKey, 'POST', '/v1/payment_intents', {
      amount: 1000,
      currency: 'cny',
      customer: ownLive,
    });
    expect(live.status).toBe(200);
    expect(live.body.customer).toBe(ownLive);
    const other = await customerOf(shop.secretKey, 'Other own');
    const moved = await call(shop.secretKey, 'POST', `/v1/payment_intents/${created.body.id}`, { customer: other });
    expect(moved.status).toBe(200);
    expect(moved.body.customer).toBe(other);
    const unset = await call(shop.secretKey, 'POST', `/v1/payment_intents/${created.body.id}`, { customer: '' });
    expect(unset.status).toBe(200);
    expect(unset.body.customer).toBeNull();
  });

  it.each([
    { name: "another merchant's customer", id: () => others },
    { name: 'a customer of the other mode', id: () => ownLive },
    { name: 'a deleted customer', id: () => deleted },
  ])('update with $name: 400 resource_missing, param customer, intent unchanged', async (testCase) => {
    const created = await call(shop.secretKey, 'POST', '/v1/payment_intents', {
      amount: 1000,
      currency: 'cny',
      customer: own,
    });
    expect(created.status).toBe(200);
    const updated = await call(shop.secretKey, 'POST', `/v1/payment_intents/${created.body.id}`, {
      customer: testCase.id(),
      description: 'should not stick',
    });
    expect(updated.status).toBe(400);
    expect(updated.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'resource_missing',
      param: 'customer',
    });
    const after = await call(shop.secretKey, 'GET', `/v1/payment_intents/${created.body.id}`);
    expect(after.body).toMatchObject({ customer: own, description: null });
  });
});

describe('POST /v1/refunds with both charge and payment_intent', () => {
  it('a payment_intent that is not the charge’s: 400 naming payment_intent, nothing refunded', async () => {
    const first = await paidIntent();
    const second = await paidIntent();
    const before = await count('payments_refunds');
    const refused = await call(shop.secretKey, 'POST', '/v1/refunds', {
      charge: first.chargeId,
      payment_intent: second.id,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param: 'payment_intent' });
    expect(refused.body.error.message).toContain(first.chargeId);
    expect(refused.body.error.message).toContain(second.id);
    expect(await count('payments_refunds')).toBe(before);
    for (const intent of [first, second]) {
      const charge = await call(shop.secretKey, 'GET', `/v1/charges/${intent.chargeId}`);
      expect(charge.body.amount_refunded).toBe(0);
    }
  });

  it('the charge’s own payment_intent is accepted', async () => {
    const paid = await paidIntent();
    const refunded = await call(shop.secretKey, 'POST', '/v1/refunds', {
      charge: paid.chargeId,
      payment_intent: paid.id,
      amount: 300,
    });
    expect(refunded.status).toBe(200);
    expect(refunded.body).toMatchObject({ charge: paid.chargeId, payment_intent: paid.id, amount: 300 });
  });
});

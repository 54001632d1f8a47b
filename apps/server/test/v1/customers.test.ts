import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestHash } from '../../src/platform/idempotency.js';
import { ExpandRegistry } from '../../src/v1/index.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api } from '../support/wallet.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';

describe('/v1 customers and the framework', () => {
  let platform: TestPlatform;
  let shop: TestMerchant;
  let other: TestMerchant;
  let liveKey: string;

  beforeAll(async () => {
    platform = await startPlatform();
    shop = await createMerchant(platform.baseUrl, platform.adminToken);
    other = await createMerchant(platform.baseUrl, platform.adminToken);
    const activated = await api(platform.baseUrl, 'POST', `/admin/v1/merchants/${shop.id}/activate`, {
      token: platform.adminToken,
    });
    liveKey = activated.body.secret_key;
  });
  afterAll(async () => {
    await platform.close();
  });

  const call = (method: string, path: string, options: Parameters<typeof v1>[3] = {}) =>
    v1(platform.baseUrl, method, path, { key: shop.secretKey, ...options });

  it('creates from a form body with bracket notation and from JSON, alike', async () => {
    const form = await call('POST', '/v1/customers', {
      form: 'email=ann%40example.com&name=Ann+Lee&metadata[order_id]=6735&address[city]=Shanghai&preferred_locales[0]=zh&preferred_locales[1]=en&balance=-150',
    });
    expect(form.status).toBe(200);
    expect(form.body).toMatchObject({
      object: 'customer',
      email: 'ann@example.com',
      name: 'Ann Lee',
      metadata: { order_id: '6735' },
      address: { city: 'Shanghai', country: null, line1: null, line2: null, postal_code: null, state: null },
      preferred_locales: ['zh', 'en'],
      balance: -150,
      livemode: false,
      shipping: null,
      default_source: null,
    });
    expect(form.body.id).toMatch(/^cus_[0-9A-Za-z]{22,}$/);
    expect(form.headers.get('request-id')).toMatch(/^req_/);
    const json = await call('POST', '/v1/customers', {
      json: {
        email: 'bo@example.com',
        metadata: { tier: 'gold' },
        balance: '20',
        shipping: { name: 'Bo', address: { line1: '1 Rd' } },
      },
    });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ email: 'bo@example.com', balance: 20, shipping: { name: 'Bo', phone: null } });
    const fetched = await call('GET', `/v1/customers/${form.body.id}`);
    expect(fetched.body).toEqual(form.body);
  });

  it('answers Stripe-shaped parameter errors', async () => {
    const unknown = await call('POST', '/v1/customers', { form: { name: 'x', colour: 'red' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'parameter_unknown',
        message: 'Received unknown parameter: colour',
        param: 'colour',
      },
    });
    const nested = await call('POST', '/v1/customers', { form: { address: { town: 'x' } } });
    expect(nested.body.error).toMatchObject({ code: 'parameter_unknown', param: 'address[town]' });
    const integer = await call('POST', '/v1/customers', { form: { balance: '12abc' } });
    expect(integer.body.error).toMatchObject({ code: 'parameter_invalid_integer', param: 'balance' });
    const empty = await call('POST', '/v1/customers', { form: 'balance=' });
    expect(empty.body.error).toMatchObject({ code: 'parameter_invalid_empty', param: 'balance' });
    const missing = await call('POST', '/v1/customers', { form: { shipping: { address: { city: 'x' } } } });
    expect(missing.body.error).toMatchObject({ code: 'parameter_missing', param: 'shipping[name]' });
    const tooLong = await call('POST', '/v1/customers', { form: { name: 'x'.repeat(300) } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatchObject({ type: 'invalid_request_error', param: 'name' });
    const deep = await call('POST', '/v1/customers', { form: 'a[b][c][d][e][f]=1' });
    expect(deep.status).toBe(400);
    const bad = await call('GET', '/v1/customers?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('limit');
    const route = await call('GET', '/v1/nothing');
    expect(route.status).toBe(404);
    expect(route.body.error.type).toBe('invalid_request_error');
  });

  it('applies Stripe metadata rules', async () => {
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`k${index}`, 'v']));
    const created = await call('POST', '/v1/customers', { form: { metadata: fifty } });
    expect(created.status).toBe(200);
    const tooMany = await call('POST', `/v1/customers/${created.body.id}`, { form: { metadata: { one_more: 'x' } } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.param).toBe('metadata');
    const longKey = await call('POST', '/v1/customers', { form: { metadata: { ['k'.repeat(41)]: 'v' } } });
    expect(longKey.status).toBe(400);
    const longValue = await call('POST', '/v1/customers', { form: { metadata: { k: 'v'.repeat(501) } } });
    expect(longValue.status).toBe(400);
    const updated = await call('POST', `/v1/customers/${created.body.id}`, {
      form: 'metadata[k0]=&metadata[k1]=changed&metadata[new]=1',
    });
    expect(updated.status).toBe(200);
    expect(updated.body.metadata.k0).toBeUndefined();
    expect(updated.body.metadata.k1).toBe('changed');
    expect(updated.body.metadata.new).toBe('1');
    expect(Object.keys(updated.body.metadata)).toHaveLength(50);
    const cleared = await call('POST', `/v1/customers/${created.body.id}`, { form: 'metadata=' });
    expect(cleared.body.metadata).toEqual({});
  });

  it('updates, unsets with empty strings, deletes, and then answers resource_missing', async () => {
    const created = await call('POST', '/v1/customers', {
      form: { name: 'Cy', email: 'cy@example.com', phone: '123' },
    });
    const updated = await call('POST', `/v1/customers/${created.body.id}`, { form: 'name=Cyrus&phone=' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Cyrus', phone: null, email: 'cy@example.com' });
    const removed = await call('DELETE', `/v1/customers/${created.body.id}`);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ id: created.body.id, object: 'customer', deleted: true });
    for (const [method, options] of [
      ['GET', {}],
      ['POST', { form: { name: 'x' } }],
      ['DELETE', {}],
    ] as const) {
      const after = await call(method, `/v1/customers/${created.body.id}`, options);
      expect(after.status).toBe(404);
      expect(after.body.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing', param: 'id' });
    }
  });

  it("hides another merchant's customers and test objects from live keys", async () => {
    const mine = await call('POST', '/v1/customers', { form: { name: 'Mine' } });
    for (const [method, options] of [
      ['GET', {}],
      ['POST', { form: { name: 'x' } }],
      ['DELETE', {}],
    ] as const) {
      const theirs = await v1(platform.baseUrl, method, `/v1/customers/${mine.body.id}`, {
        key: other.secretKey,
        ...options,
      });
      expect(theirs.status).toBe(404);
      expect(theirs.body.error.code).toBe('resource_missing');
      const live = await v1(platform.baseUrl, method, `/v1/customers/${mine.body.id}`, { key: liveKey, ...options });
      expect(live.status).toBe(404);
      expect(live.body.error.code).toBe('resource_missing');
    }
    const liveCustomer = await v1(platform.baseUrl, 'POST', '/v1/customers', { key: liveKey, form: { name: 'Live' } });
    expect(liveCustomer.body.livemode).toBe(true);
    const fromTest = await call('GET', `/v1/customers/${liveCustomer.body.id}`);
    expect(fromTest.status).toBe(404);
    const testList = await call('GET', '/v1/customers?limit=100');
    expect(testList.body.data.map((customer: { id: string }) => customer.id)).not.toContain(liveCustomer.body.id);
    const otherList = await v1(platform.baseUrl, 'GET', '/v1/customers', { key: other.secretKey });
    expect(otherList.body.data.map((customer: { id: string }) => customer.id)).not.toContain(mine.body.id);
    const stillThere = await call('GET', `/v1/customers/${mine.body.id}`);
    expect(stillThere.body.name).toBe('Mine');
  });

  it('replays an idempotent POST, refuses other parameters, and answers 409 while the first runs', async () => {
    const key = `idem-${Date.now()}`;
    const first = await call('POST', '/v1/customers', { form: { name: 'Dee' }, idempotencyKey: key });
    const second = await call('POST', '/v1/customers', { form: { name: 'Dee' }, idempotencyKey: key });
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.body).toEqual(first.body);
    const mismatch = await call('POST', '/v1/customers', { form: { name: 'Dan' }, idempotencyKey: key });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.type).toBe('idempotency_error');
    // The same key under another merchant is another key.
    const elsewhere = await v1(platform.baseUrl, 'POST', '/v1/customers', {
      key: other.secretKey,
      form: { name: 'Dan' },
      idempotencyKey: key,
    });
    expect(elsewhere.status).toBe(200);
    // A 4xx outcome of a request that ran is stored and replayed too.
    const failedKey = `idem-fail-${Date.now()}`;
    const failed = await call('POST', '/v1/customers/cus_nope', { form: { name: 'x' }, idempotencyKey: failedKey });
    expect(failed.status).toBe(404);
    const failedAgain = await call('POST', '/v1/customers/cus_nope', {
      form: { name: 'x' },
      idempotencyKey: failedKey,
    });
    expect(failedAgain.status).toBe(404);
    expect(failedAgain.headers.get('idempotent-replayed')).toBe('true');
    // In progress: a first request holds the key (claimed, not completed).
    const runningKey = `idem-running-${Date.now()}`;
    await platform.services.idempotency.claim({
      scope: `v1:${shop.id}:test`,
      key: runningKey,
      requestHash: requestHash({ method: 'POST', path: '/v1/customers', body: { name: 'Eve' } }),
    });
    const duplicate = await call('POST', '/v1/customers', { form: { name: 'Eve' }, idempotencyKey: runningKey });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_in_use' });
    // A real burst: one customer, every answer either the first response or a 409.
    const burstKey = `idem-burst-${Date.now()}`;
    const burst = await Promise.all(
      Array.from({ length: 10 }, () =>
        call('POST', '/v1/customers', { form: { name: 'Burst' }, idempotencyKey: burstKey }),
      ),
    );
    const ids = new Set(burst.filter((result) => result.status === 200).map((result) => result.body.id));
    expect(ids.size).toBe(1);
    expect(burst.every((result) => result.status === 200 || result.status === 409)).toBe(true);
    const tooLong = await call('POST', '/v1/customers', { form: { name: 'x' }, idempotencyKey: 'k'.repeat(256) });
    expect(tooLong.status).toBe(400);
  });

  it('paginates newest first with starting_after, ending_before and has_more', async () => {
    const merchant = await createMerchant(platform.baseUrl, platform.adminToken);
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const created = await v1(platform.baseUrl, 'POST', '/v1/customers', {
        key: merchant.secretKey,
        form: { name: `C${index}`, email: index % 2 === 0 ? 'even@example.com' : 'odd@example.com' },
      });
      ids.push(created.body.id);
    }
    const newest = [...ids].reverse();
    const get = (query: string) => v1(platform.baseUrl, 'GET', `/v1/customers${query}`, { key: merchant.secretKey });
    const first = await get('?limit=2');
    expect(first.body).toMatchObject({ object: 'list', has_more: true, url: '/v1/customers' });
    expect(first.body.data.map((c: { id: string }) => c.id)).toEqual(newest.slice(0, 2));
    const second = await get(`?limit=2&starting_after=${newest[1]}`);
    expect(second.body.data.map((c: { id: string }) => c.id)).toEqual(newest.slice(2, 4));
    expect(second.body.has_more).toBe(true);
    const third = await get(`?limit=2&starting_after=${newest[3]}`);
    expect(third.body.data.map((c: { id: string }) => c.id)).toEqual(newest.slice(4));
    expect(third.body.has_more).toBe(false);
    const back = await get(`?limit=2&ending_before=${newest[4]}`);
    expect(back.body.data.map((c: { id: string }) => c.id)).toEqual(newest.slice(2, 4));
    expect(back.body.has_more).toBe(true);
    const top = await get(`?limit=2&ending_before=${newest[1]}`);
    expect(top.body.data.map((c: { id: string }) => c.id)).toEqual(newest.slice(0, 1));
    expect(top.body.has_more).toBe(false);
    const even = await get('?email=even%40example.com');
    expect(even.body.data).toHaveLength(3);
    const created = await get(`?created[gte]=${first.body.data[0].created + 10}`);
    expect(created.body.data).toHaveLength(0);
    const createdAll = await get(`?created[lte]=${first.body.data[0].created}&limit=100`);
    expect(createdAll.body.data).toHaveLength(5);
    const foreign = await get(`?starting_after=${ids[0]}x`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toMatchObject({ code: 'resource_missing', param: 'starting_after' });
  });

  it('expands nested customers through the registry and refuses unknown expansions', async () => {
    const created = await call('POST', '/v1/customers', { form: { name: 'Expandable' } });
    const registry = new ExpandRegistry();
    registry.registerLoader(
      'customer',
      async (scope, id) =>
        (await platform.services.customers.find(scope, id)) as unknown as Record<string, unknown> | null,
    );
    registry.registerFields('payment_intent', { customer: 'customer' });
    const scope = { accountId: shop.id, livemode: false };
    const intent = { object: 'payment_intent', id: 'pi_1', customer: created.body.id, livemode: false };
    registry.validate(['customer'], { objectType: 'payment_intent', list: false });
    const expanded = (await registry.expand(scope, intent, ['customer'])) as { customer: { id: string; name: string } };
    expect(expanded.customer).toMatchObject({ id: created.body.id, object: 'customer', name: 'Expandable' });
    expect(intent.customer).toBe(created.body.id); // the original is untouched
    const list = { object: 'list', data: [intent, { ...intent, customer: null }], has_more: false };
    registry.validate(['data.customer'], { objectType: 'payment_intent', list: true });
    const expandedList = (await registry.expand(scope, list, ['data.customer'])) as typeof list;
    expect((expandedList.data[0]?.customer as unknown as { id: string }).id).toBe(created.body.id);
    expect(expandedList.data[1]?.customer).toBeNull();
    // Another account does not see it: the id stays an id.
    const theirs = (await registry.expand({ accountId: other.id, livemode: false }, intent, [
      'customer',
    ])) as typeof intent;
    expect(theirs.customer).toBe(created.body.id);
    expect(() => registry.validate(['customer'], { objectType: 'payment_intent', list: true })).toThrow(
      /cannot be expanded/,
    );
    expect(() => registry.validate(['a.b.c.d.e'], { objectType: 'payment_intent', list: false })).toThrow(/4 levels/);
    // Over HTTP: an unknown expansion is a 400 that changes nothing.
    const before = await call('GET', '/v1/customers?limit=100');
    const bad = await call('POST', '/v1/customers', { form: { name: 'Nope', expand: ['default_source_x'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ type: 'invalid_request_error', param: 'expand' });
    const after = await call('GET', '/v1/customers?limit=100');
    expect(after.body.data).toHaveLength(before.body.data.length);
    const badList = await call('GET', '/v1/customers?expand[]=customer');
    expect(badList.status).toBe(400);
  });
});

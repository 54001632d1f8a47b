import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../../src/modules/events/index.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';

describe('/v1 events', () => {
  let platform: TestPlatform;
  let shop: TestMerchant;

  beforeAll(async () => {
    platform = await startPlatform();
    shop = await createMerchant(platform.baseUrl, platform.adminToken);
  });
  afterAll(async () => {
    await platform.close();
  });

  const call = (method: string, path: string, options: Parameters<typeof v1>[3] = {}) =>
    v1(platform.baseUrl, method, path, { key: shop.secretKey, ...options });

  it('records customer.created, updated (with previous_attributes) and deleted, newest first', async () => {
    const created = await call('POST', '/v1/customers', { form: { name: 'Fay' }, idempotencyKey: `evt-${Date.now()}` });
    await call('POST', `/v1/customers/${created.body.id}`, { form: { name: 'Faye' } });
    await call('POST', `/v1/customers/${created.body.id}`, { form: { name: 'Faye' } }); // no change, no event
    await call('DELETE', `/v1/customers/${created.body.id}`);
    const list = await call('GET', '/v1/events?type=customer.*');
    expect(list.status).toBe(200);
    expect(list.body.object).toBe('list');
    expect(list.body.url).toBe('/v1/events');
    expect(list.body.data.map((event: { type: string }) => event.type)).toEqual([
      'customer.deleted',
      'customer.updated',
      'customer.created',
    ]);
    const [deleted, updated, createdEvent] = list.body.data;
    expect(createdEvent).toMatchObject({
      object: 'event',
      livemode: false,
      pending_webhooks: 0,
      api_version: null,
      data: { object: { id: created.body.id, object: 'customer', name: 'Fay' } },
      request: { id: created.headers.get('request-id'), idempotency_key: expect.stringMatching(/^evt-/) },
    });
    expect(createdEvent.id).toMatch(/^evt_[0-9A-Za-z]{22,}$/);
    expect(updated.data.object.name).toBe('Faye');
    expect(updated.data.previous_attributes).toEqual({ name: 'Fay' });
    expect(deleted.data.object.id).toBe(created.body.id);
    const one = await call('GET', `/v1/events/${createdEvent.id}`);
    expect(one.body).toEqual(createdEvent);
    const exact = await call('GET', '/v1/events?type=customer.updated');
    expect(exact.body.data).toHaveLength(1);
    const types = await call('GET', '/v1/events?types[]=customer.created&types[]=customer.deleted');
    expect(types.body.data).toHaveLength(2);
    const future = await call('GET', `/v1/events?created[gt]=${createdEvent.created + 3600}`);
    expect(future.body.data).toHaveLength(0);
    const page = await call('GET', '/v1/events?limit=1');
    expect(page.body.has_more).toBe(true);
  });

  it("hides events of other merchants and modes, and writes events only with the caller's transaction", async () => {
    const other = await createMerchant(platform.baseUrl, platform.adminToken);
    const theirs = await v1(platform.baseUrl, 'POST', '/v1/customers', { key: other.secretKey, form: { name: 'X' } });
    expect(theirs.status).toBe(200);
    const theirEvents = await v1(platform.baseUrl, 'GET', '/v1/events', { key: other.secretKey });
    const eventId = theirEvents.body.data[0].id as string;
    const mine = await call('GET', `/v1/events/${eventId}`);
    expect(mine.status).toBe(404);
    expect(mine.body.error.code).toBe('resource_missing');
    // A rolled-back transaction leaves no event (the outbox row commits with the change or not at all).
    await expect(
      platform.db.transaction(async (tx) => {
        await recordEvent(tx, {
          accountId: shop.id,
          livemode: false,
          type: 'customer.updated',
          object: { id: 'cus_rolledback', object: 'customer', livemode: false },
        });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const rows = await platform.db.query<{ count: bigint }>(
      `select count(*) as count from merchant_events where data->'object'->>'id' = 'cus_rolledback'`,
    );
    expect(rows[0]?.count).toBe(0n);
    const pending = await platform.db.query<{ delivery_state: string }>(
      'select distinct delivery_state from merchant_events',
    );
    expect(pending.map((row) => row.delivery_state)).toEqual(['pending']);
  });
});

import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockFrom } from '../../src/platform/clock.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { Receiver } from './receiver.js';

const stripe = new Stripe('sk_test_x');

describe('webhook endpoints and signed delivery', () => {
  let platform: TestPlatform;
  let receiver: Receiver;
  // The worker's scheduling clock; moved forward to reach retries.
  let clock = Date.now();

  beforeAll(async () => {
    receiver = new Receiver();
    await receiver.start();
    platform = await startPlatform({ webhookAllowPrivate: true, testClocks: { webhooks: clockFrom(() => clock) } });
  });
  afterAll(async () => {
    await platform?.close();
    await receiver?.stop();
  });

  const call = (shop: TestMerchant, method: string, path: string, options: Parameters<typeof v1>[3] = {}) =>
    v1(platform.baseUrl, method, path, { key: shop.secretKey, ...options });
  const newShop = () => createMerchant(platform.baseUrl, platform.adminToken);
  const deliver = () => platform.services.webhooks.deliverDue(50);
  async function endpoint(shop: TestMerchant, path: string, events: string[] = ['*']) {
    const created = await call(shop, 'POST', '/v1/webhook_endpoints', {
      form: { url: receiver.url(path), enabled_events: events },
    });
    expect(created.status).toBe(200);
    return created.body as { id: string; secret: string };
  }
  async function customer(shop: TestMerchant) {
    const created = await call(shop, 'POST', '/v1/customers', { form: { email: 'ann@example.com' } });
    expect(created.status).toBe(200);
    return created.body.id as string;
  }

  it('creates, retrieves, updates, lists and deletes endpoints; the secret is shown once', async () => {
    const shop = await newShop();
    const created = await call(shop, 'POST', '/v1/webhook_endpoints', {
      form: {
        url: receiver.url('/crud'),
        enabled_events: ['customer.created', 'charge.succeeded'],
        description: 'orders',
        metadata: { team: 'pos' },
      },
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^we_[0-9A-Za-z]{22,}$/),
      object: 'webhook_endpoint',
      api_version: null,
      application: null,
      created: expect.any(Number),
      description: 'orders',
      enabled_events: ['customer.created', 'charge.succeeded'],
      livemode: false,
      metadata: { team: 'pos' },
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
      status: 'enabled',
      url: receiver.url('/crud'),
    });
    const id = created.body.id as string;
    const fetched = await call(shop, 'GET', `/v1/webhook_endpoints/${id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.secret).toBeUndefined();
    const { secret: _secret, ...withoutSecret } = created.body;
    expect(fetched.body).toEqual(withoutSecret);
    // The secret is not stored in the clear.
    const stored = await platform.db.query<{ secret_ciphertext: string }>(
      'select secret_ciphertext from webhooks_endpoints where id = $1',
      [id],
    );
    expect(stored[0]?.secret_ciphertext).not.toContain(created.body.secret);

    const updated = await call(shop, 'POST', `/v1/webhook_endpoints/${id}`, {
      form: { disabled: 'true', description: '', enabled_events: ['*'], metadata: { team: '' } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ status: 'disabled', description: null, enabled_events: ['*'], metadata: {} });
    const enabled = await call(shop, 'POST', `/v1/webhook_endpoints/${id}`, { form: { disabled: 'false' } });
    expect(enabled.body.status).toBe('enabled');

    const unknownType = await call(shop, 'POST', '/v1/webhook_endpoints', {
      form: { url: receiver.url('/crud'), enabled_events: ['customer.exploded'] },
    });
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.error.param).toBe('enabled_events[0]');

    const listed = await call(shop, 'GET', '/v1/webhook_endpoints?limit=5');
    expect(listed.body).toMatchObject({ object: 'list', has_more: false, url: '/v1/webhook_endpoints' });
    expect(listed.body.data.map((item: { id: string }) => item.id)).toEqual([id]);
    expect(listed.body.data[0].secret).toBeUndefined();

    const deleted = await call(shop, 'DELETE', `/v1/webhook_endpoints/${id}`);
    expect(deleted.body).toEqual({ id, object: 'webhook_endpoint', deleted: true });
    expect((await call(shop, 'GET', `/v1/webhook_endpoints/${id}`)).status).toBe(404);
  });

  it('delivers customer.created once, signed so that stripe.webhooks.constructEvent verifies it', async () => {
    const shop = await newShop();
    const { id, secret } = await endpoint(shop, '/once', ['customer.created']);
    const customerId = await customer(shop);
    const report = await deliver();
    expect(report.delivered).toBeGreaterThanOrEqual(1);
    await deliver();
    const received = receiver.at('/once');
    expect(received).toHaveLength(1);
    const request = received[0]!;
    expect(request.headers['content-type']).toMatch(/^application\/json/);
    expect(request.headers['user-agent']).toMatch(/^Yunpay-Webhooks\//);
    const event = stripe.webhooks.constructEvent(request.body, String(request.headers['stripe-signature']), secret);
    expect(event.type).toBe('customer.created');
    expect((event.data.object as { id: string }).id).toBe(customerId);
    // Exactly the /v1 event object (as delivered: its pending_webhooks then was 1).
    const fromApi = await call(shop, 'GET', `/v1/events/${event.id}`);
    expect({ ...fromApi.body, pending_webhooks: 1 }).toEqual(JSON.parse(request.body));
    expect(fromApi.body.pending_webhooks).toBe(0);
    // A wrong secret does not verify.
    expect(() =>
      stripe.webhooks.constructEvent(request.body, String(request.headers['stripe-signature']), `${secret}x`),
    ).toThrow();
    const attempts = await call(shop, 'GET', `/v1/webhook_endpoints/${id}/attempts`);
    expect(attempts.status).toBe(200);
    expect(attempts.body.data).toHaveLength(1);
    expect(attempts.body.data[0]).toMatchObject({
      object: 'webhook_attempt',
      attempt: 1,
      endpoint: id,
      event: event.id,
      status_code: 200,
      error: null,
      response_body_excerpt: 'ok',
    });
    const state = await platform.db.query<{ delivery_state: string; delivery_attempt_count: number }>(
      'select delivery_state, delivery_attempt_count from merchant_events where id = $1',
      [event.id],
    );
    expect(state[0]).toEqual({ delivery_state: 'delivered', delivery_attempt_count: 1 });
  });

  it('retries after a 500 with backoff, and lists both attempts newest first', async () => {
    const shop = await newShop();
    receiver.replyWith('/flaky', { status: 500, body: 'boom' }, { status: 200 });
    const { id, secret } = await endpoint(shop, '/flaky');
    await customer(shop);
    const first = await deliver();
    expect(first.retrying).toBeGreaterThanOrEqual(1);
    expect(receiver.at('/flaky')).toHaveLength(1);
    // Not due yet: the first retry waits a minute.
    await deliver();
    expect(receiver.at('/flaky')).toHaveLength(1);
    const events = await call(shop, 'GET', '/v1/events');
    expect(events.body.data[0].pending_webhooks).toBe(1);
    clock += 61_000;
    await deliver();
    const received = receiver.at('/flaky');
    expect(received).toHaveLength(2);
    for (const request of received) {
      expect(() =>
        stripe.webhooks.constructEvent(request.body, String(request.headers['stripe-signature']), secret),
      ).not.toThrow();
    }
    expect(JSON.parse(received[1]!.body).id).toBe(JSON.parse(received[0]!.body).id);
    const attempts = await call(shop, 'GET', `/v1/webhook_endpoints/${id}/attempts`);
    expect(
      attempts.body.data.map((attempt: { attempt: number; status_code: number; response_body_excerpt: string }) => [
        attempt.attempt,
        attempt.status_code,
        attempt.response_body_excerpt,
      ]),
    ).toEqual([
      [2, 200, 'ok'],
      [1, 500, 'boom'],
    ]);
  });

  it('sends nothing to disabled endpoints or ones whose enabled_events do not match', async () => {
    const shop = await newShop();
    const disabled = await endpoint(shop, '/disabled');
    await call(shop, 'POST', `/v1/webhook_endpoints/${disabled.id}`, { form: { disabled: 'true' } });
    await endpoint(shop, '/other-type', ['payment_intent.succeeded']);
    await endpoint(shop, '/control', ['customer.created']);
    await customer(shop);
    await deliver();
    expect(receiver.at('/control')).toHaveLength(1);
    expect(receiver.at('/disabled')).toHaveLength(0);
    expect(receiver.at('/other-type')).toHaveLength(0);
  });

  it("never sends our events to another merchant's endpoint, which is resource_missing to us", async () => {
    const shop = await newShop();
    const other = await newShop();
    const theirs = await endpoint(other, '/theirs');
    await endpoint(shop, '/ours');
    const ourEvent = await customer(shop);
    await deliver();
    expect(receiver.at('/ours')).toHaveLength(1);
    expect(receiver.at('/theirs')).toHaveLength(0);
    for (const [method, path, form] of [
      ['GET', `/v1/webhook_endpoints/${theirs.id}`, undefined],
      ['POST', `/v1/webhook_endpoints/${theirs.id}`, { description: 'mine now' }],
      ['GET', `/v1/webhook_endpoints/${theirs.id}/attempts`, undefined],
      ['POST', `/v1/webhook_endpoints/${theirs.id}/resend`, { event: ourEvent }],
      ['DELETE', `/v1/webhook_endpoints/${theirs.id}`, undefined],
    ] as const) {
      const response = await call(shop, method, path, form === undefined ? {} : { form });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing' });
    }
    const listed = await call(shop, 'GET', '/v1/webhook_endpoints');
    expect(listed.body.data.map((item: { id: string }) => item.id)).not.toContain(theirs.id);
  });

  it('counts a 302 as a failure and does not follow it', async () => {
    const shop = await newShop();
    receiver.replyWith('/redirect', { status: 302, headers: { location: receiver.url('/redirected') } });
    const { id } = await endpoint(shop, '/redirect');
    await customer(shop);
    const report = await deliver();
    expect(report.retrying).toBeGreaterThanOrEqual(1);
    expect(receiver.at('/redirect')).toHaveLength(1);
    expect(receiver.at('/redirected')).toHaveLength(0);
    const attempts = await call(shop, 'GET', `/v1/webhook_endpoints/${id}/attempts`);
    expect(attempts.body.data[0]).toMatchObject({ status_code: 302, attempt: 1 });
  });

  it('resends one event to an endpoint on request', async () => {
    const shop = await newShop();
    const { id } = await endpoint(shop, '/resend');
    await customer(shop);
    await deliver();
    expect(receiver.at('/resend')).toHaveLength(1);
    const eventId = JSON.parse(receiver.at('/resend')[0]!.body).id as string;
    const resent = await call(shop, 'POST', `/v1/webhook_endpoints/${id}/resend`, { form: { event: eventId } });
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ object: 'webhook_delivery', endpoint: id, event: eventId, status: 'pending' });
    await deliver();
    expect(receiver.at('/resend').map((request) => JSON.parse(request.body).id)).toEqual([eventId, eventId]);
    const attempts = await call(shop, 'GET', `/v1/webhook_endpoints/${id}/attempts`);
    expect(attempts.body.data.map((attempt: { attempt: number }) => attempt.attempt)).toEqual([2, 1]);
    const unknown = await call(shop, 'POST', `/v1/webhook_endpoints/${id}/resend`, { form: { event: 'evt_nope' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.param).toBe('event');
  });

  it('two workers running at once deliver each event once (SKIP LOCKED and a lease)', async () => {
    const shop = await newShop();
    await endpoint(shop, '/concurrent');
    const count = 6;
    for (let index = 0; index < count; index += 1) await customer(shop);
    await Promise.all([deliver(), deliver(), deliver()]);
    await Promise.all([deliver(), deliver()]);
    const ids = receiver.at('/concurrent').map((request) => JSON.parse(request.body).id as string);
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
  });

  it('sends a delivery left pending in the database (a restart, an expired lease) once it comes due', async () => {
    const shop = await newShop();
    await endpoint(shop, '/lease');
    await customer(shop);
    // State lives in the database: a delivery put back to pending with a future time (as a crashed
    // worker's lease leaves it) is sent exactly when it comes due.
    await platform.services.webhooks.deliverDue(1).catch(() => undefined);
    const before = receiver.at('/lease').length;
    await platform.db.query(
      `update webhooks_deliveries set state = 'pending', next_attempt_at = $1
        where endpoint_id in (select id from webhooks_endpoints where account_id = $2)`,
      [new Date(clock + 60_000), shop.id],
    );
    await deliver();
    expect(receiver.at('/lease')).toHaveLength(before);
    clock += 61_000;
    await deliver();
    expect(receiver.at('/lease')).toHaveLength(before + 1);
  });
});

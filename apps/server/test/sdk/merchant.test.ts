import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AdminClient, MerchantClient, YunpayApiError, createYunpay, type Customer } from '@yunpay/sdk';
import { verifyLedger } from '../../src/modules/ledger/index.js';
import { startCardPlatform, type CardTestPlatform } from '../support/cards.js';

/** The merchant (/v1) and admin clients against the real server with card payments, on a free port. */
let cards: CardTestPlatform;
let admin: AdminClient;
let merchant: MerchantClient;

beforeAll(async () => {
  cards = await startCardPlatform({ webhookAllowPrivate: true });
  admin = new AdminClient({ baseUrl: cards.platform.baseUrl, adminToken: cards.platform.adminToken });
  const created = await admin.merchants.create({
    name: 'SDK Shop',
    country: 'US',
    default_currency: 'USD',
    mcc: '5812',
  });
  expect(created).toMatchObject({ object: 'account', name: 'SDK Shop', charges_enabled: false });
  merchant = createYunpay({ baseUrl: cards.platform.baseUrl }).merchant(created.secret_key);
});

afterAll(async () => {
  const report = await verifyLedger(cards.platform.db);
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  await cards.close();
});

describe('merchant client', () => {
  test('a payment intent paid by pm_card_visa, then refunded in part', async () => {
    const intent = await merchant.paymentIntents.create({
      amount: 2_000,
      currency: 'usd',
      metadata: { order_id: 'A-1' },
    });
    expect(intent).toMatchObject({ object: 'payment_intent', status: 'requires_payment_method', amount: 2_000 });
    const confirmed = await merchant.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_visa' });
    expect(confirmed.status).toBe('succeeded');
    expect(confirmed.metadata).toEqual({ order_id: 'A-1' });
    const charge = await merchant.charges.retrieve(confirmed.latest_charge as string);
    expect(charge).toMatchObject({ object: 'charge', amount_captured: 2_000, paid: true });

    const refund = await merchant.refunds.create({
      payment_intent: intent.id,
      amount: 500,
      reason: 'requested_by_customer',
    });
    expect(refund).toMatchObject({ object: 'refund', amount: 500, status: 'succeeded', charge: charge.id });
    const refunds = await merchant.refunds.list({ payment_intent: intent.id });
    expect(refunds.data.map((item) => item.id)).toEqual([refund.id]);
    const after = await merchant.charges.retrieve(charge.id, { expand: ['payment_intent'] });
    expect(after.amount_refunded).toBe(500);
    expect(after.payment_intent).toMatchObject({ id: intent.id, object: 'payment_intent' });

    const balance = await merchant.balance.retrieve();
    expect(balance.object).toBe('balance');
    const transactions = await merchant.balanceTransactions.list({ limit: 10 }).autoPagingToArray();
    expect(transactions.map((item) => item.type).sort()).toEqual(['charge', 'refund']);

    const events = await merchant.events.list({ type: 'payment_intent.succeeded' }).autoPagingToArray();
    expect(events.map((event) => (event.data.object as { id: string }).id)).toContain(intent.id);

    // Manual capture and cancel go through the same client.
    const held = await merchant.paymentIntents.create({
      amount: 700,
      currency: 'usd',
      capture_method: 'manual',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    expect(held.status).toBe('requires_capture');
    const captured = await merchant.paymentIntents.capture(held.id, { amount_to_capture: 600 });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 600 });
    const abandoned = await merchant.paymentIntents.create({ amount: 100, currency: 'usd' });
    const updated = await merchant.paymentIntents.update(abandoned.id, { amount: 150, metadata: { note: 'x' } });
    expect(updated).toMatchObject({ amount: 150, metadata: { note: 'x' } });
    expect((await merchant.paymentIntents.cancel(abandoned.id)).status).toBe('canceled');
    const retrieved = await merchant.paymentIntents.retrieve(abandoned.id);
    expect(retrieved.cancellation_reason).toBeNull();
    const listed = await merchant.paymentIntents.list({ limit: 2 }).autoPagingToArray({ maxItems: 100 });
    expect(listed.map((item) => item.id)).toEqual(expect.arrayContaining([intent.id, held.id, abandoned.id]));
  });

  test('a declined card surfaces as a YunpayApiError with declineCode generic_decline', async () => {
    const error = await merchant.paymentIntents
      .create({ amount: 1_500, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: true })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(YunpayApiError);
    expect(error).toMatchObject({
      status: 402,
      type: 'card_error',
      code: 'card_declined',
      declineCode: 'generic_decline',
    });
    const declined = (error as YunpayApiError).details?.payment_intent as { id: string; status: string };
    expect(declined.status).toBe('requires_payment_method');
    expect((error as YunpayApiError).requestId).toMatch(/^req_/);
  });

  test('autoPaginate walks 25 customers in pages of 10, newest first, each once', async () => {
    const email = `page-${Date.now()}@example.com`;
    const created: Customer[] = [];
    for (let index = 0; index < 25; index += 1) {
      created.push(
        await merchant.customers.create({ email, name: `Customer ${index}`, metadata: { index: String(index) } }),
      );
    }
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const customer of merchant.customers.list({ email, limit: 10 })) seen.push(customer.id);
    expect(seen).toEqual(created.map((customer) => customer.id).reverse());
    const first = await merchant.customers.list({ email, limit: 10 });
    pages.push(first.data.length);
    expect(first).toMatchObject({ object: 'list', has_more: true, url: '/v1/customers' });
    expect(pages).toEqual([10]);
    expect(await merchant.customers.list({ email, limit: 10 }).autoPagingToArray({ maxItems: 12 })).toHaveLength(12);

    // Backwards from the oldest: ending_before walks towards newer customers.
    const newer = await merchant.customers
      .list({ email, limit: 10, ending_before: created[0]!.id })
      .autoPagingToArray();
    expect(newer.map((customer) => customer.id).sort()).toEqual(
      created
        .slice(1)
        .map((customer) => customer.id)
        .sort(),
    );

    const renamed = await merchant.customers.update(created[0]!.id, { name: 'Renamed', description: '' });
    expect(renamed.name).toBe('Renamed');
    expect(await merchant.customers.del(created[1]!.id)).toEqual({
      id: created[1]!.id,
      object: 'customer',
      deleted: true,
    });
    await expect(merchant.customers.retrieve(created[1]!.id)).rejects.toMatchObject({
      status: 404,
      code: 'resource_missing',
      type: 'invalid_request_error',
    });
  });

  test('payment methods attach to customers; webhook endpoints; the static QR', async () => {
    const customer = await merchant.customers.create({ email: 'pm@example.com' });
    const method = await merchant.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
    expect(method.card).toMatchObject({ brand: 'visa', last4: '4242' });
    const attached = await merchant.paymentMethods.attach(method.id, { customer: customer.id });
    expect(attached.customer).toBe(customer.id);
    expect((await merchant.customers.listPaymentMethods(customer.id)).data.map((item) => item.id)).toEqual([method.id]);
    expect((await merchant.paymentMethods.detach(method.id)).customer).toBeNull();

    const endpoint = await merchant.webhookEndpoints.create({
      url: 'http://127.0.0.1:9/yunpay',
      enabled_events: ['payment_intent.succeeded'],
    });
    expect(endpoint.secret).toMatch(/^whsec_/);
    const disabled = await merchant.webhookEndpoints.update(endpoint.id, { disabled: true });
    expect(disabled.status).toBe('disabled');
    expect((await merchant.webhookEndpoints.list()).data.map((item) => item.id)).toContain(endpoint.id);
    expect((await merchant.webhookEndpoints.del(endpoint.id)).deleted).toBe(true);

    const qr = await merchant.qrCodes.retrieveStatic();
    expect(qr).toMatchObject({ object: 'qr_code', type: 'static' });
    expect(qr.data).toMatch(/^000201/);
  });

  test('admin: merchants list and retrieve, keys roll; a publishable key cannot list', async () => {
    const listed = await admin.merchants.list({ limit: 1 }).autoPagingToArray();
    expect(listed.length).toBeGreaterThanOrEqual(1);
    const one = await admin.merchants.retrieve(listed[0]!.id);
    expect(one.id).toBe(listed[0]!.id);
    const other = await admin.merchants.create({ name: 'Other', country: 'CN', default_currency: 'CNY', mcc: '5411' });
    const rolled = await admin.merchants.rollKey(other.id, { livemode: false, expires_in_s: 0 });
    expect(rolled.secret).toMatch(/^sk_test_/);
    const stale = new MerchantClient({ baseUrl: cards.platform.baseUrl, apiKey: other.secret_key });
    await expect(stale.balance.retrieve()).rejects.toMatchObject({ status: 401 });
    const publishable = new MerchantClient({ baseUrl: cards.platform.baseUrl, apiKey: other.publishable_key });
    await expect(publishable.customers.list()).rejects.toMatchObject({ status: 403 });
    const report = await admin.verifyLedger();
    expect(report.ok).toBe(true);
  });
});

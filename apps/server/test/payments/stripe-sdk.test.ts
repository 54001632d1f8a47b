import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyLedger } from '../../src/modules/ledger/index.js';
import { createMerchant } from '../support/merchant.js';
import { startCardPlatform, type CardTestPlatform } from '../support/cards.js';
import type { TestPlatform } from '../support/platform.js';
import { api, signUp, topUp, type TestUser } from '../support/wallet.js';
import { Receiver } from '../webhooks/receiver.js';
import { stripeFixtures } from '../support/stripe-fixtures.js';

/**
 * Stripe's official Node SDK, pointed at Yunpay by changing the host, drives the payments API:
 * customers, a wallet-code payment, a partial manual capture, refunds, pagination, expand and an
 * idempotent retry. Every object also carries the fields of Stripe's own example object.
 */
const fixtures = stripeFixtures;

let platform: TestPlatform;
let cards: CardTestPlatform;
let stripe: Stripe;
let payer: TestUser;
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.start();
  // The webhook receiver is on loopback: allow private targets for this test only.
  cards = await startCardPlatform({ webhookAllowPrivate: true });
  platform = cards.platform;
  const merchant = await createMerchant(platform.baseUrl, platform.adminToken);
  const port = Number(new URL(platform.baseUrl).port);
  stripe = new Stripe(merchant.secretKey, { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 });
  payer = await signUp(platform.baseUrl, 'SDK Payer');
  await topUp(platform.baseUrl, payer, 500_000);
});

afterAll(async () => {
  await receiver.stop();
  const report = await verifyLedger(platform.db);
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  await cards.close();
});

async function paymentCode(): Promise<string> {
  const issued = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: payer.accessToken });
  expect(issued.status).toBe(201);
  return issued.body.code as string;
}

/** Wallet codes are our payment method type: Stripe's type definitions do not know it. */
function walletData(code: string) {
  return { type: 'wallet', wallet: { code } } as unknown as Stripe.PaymentIntentCreateParams.PaymentMethodData;
}

function expectFixtureFields(resource: string, object: object): void {
  const fixture = fixtures.resources[resource];
  expect(fixture, resource).toBeDefined();
  const missing = Object.keys(fixture ?? {}).filter((key) => !Object.hasOwn(object, key));
  expect(missing, `${resource} fields missing`).toEqual([]);
}

describe('the official stripe SDK against Yunpay', () => {
  test('customer, wallet-code payment, partial capture, refunds, pagination, expand, idempotency, webhook', async () => {
    const endpoint = await stripe.webhookEndpoints.create({
      url: receiver.url('/stripe-hooks'),
      enabled_events: ['payment_intent.succeeded'],
    });
    expect(endpoint.secret).toMatch(/^whsec_/);
    expectFixtureFields('webhook_endpoint', endpoint);
    expectFixtureFields('webhook_endpoint', await stripe.webhookEndpoints.retrieve(endpoint.id));
    const customer = await stripe.customers.create({ name: 'Ada', email: 'ada@example.com' });
    expect(customer.id).toMatch(/^cus_/);

    const paid = await stripe.paymentIntents.create({
      amount: 10_000,
      currency: 'cny',
      customer: customer.id,
      confirm: true,
      payment_method_data: walletData(await paymentCode()),
    });
    expect(paid.status).toBe('succeeded');
    expectFixtureFields('payment_intent', paid);

    // The worker delivers the payment_intent.succeeded event, signed so that the SDK verifies it.
    await platform.services.webhooks.deliverDue(50);
    const delivered = receiver.at('/stripe-hooks');
    expect(delivered).toHaveLength(1);
    const event = stripe.webhooks.constructEvent(
      delivered[0]!.body,
      delivered[0]!.headers['stripe-signature'] as string,
      endpoint.secret!,
    );
    expect(event.type).toBe('payment_intent.succeeded');
    expect((event.data.object as Stripe.PaymentIntent).id).toBe(paid.id);
    expect(() =>
      stripe.webhooks.constructEvent(
        `${delivered[0]!.body} `,
        delivered[0]!.headers['stripe-signature'] as string,
        endpoint.secret!,
      ),
    ).toThrow();

    const withCharge = await stripe.paymentIntents.retrieve(paid.id, { expand: ['latest_charge', 'customer'] });
    const charge = withCharge.latest_charge as Stripe.Charge;
    expect(charge.object).toBe('charge');
    expect((withCharge.customer as Stripe.Customer).email).toBe('ada@example.com');
    expectFixtureFields('charge', charge);
    const bt = await stripe.balanceTransactions.retrieve(charge.balance_transaction as string);
    expect([bt.amount, bt.fee, bt.net]).toEqual([10_000, 60, 9_940]);
    expectFixtureFields('balance_transaction', bt);
    expectFixtureFields('balance', await stripe.balance.retrieve());

    const manual = await stripe.paymentIntents.create({
      amount: 8_000,
      currency: 'cny',
      capture_method: 'manual',
      confirm: true,
      payment_method_data: walletData(await paymentCode()),
    });
    expect(manual.status).toBe('requires_capture');
    const captured = await stripe.paymentIntents.capture(manual.id, { amount_to_capture: 5_000 });
    expect([captured.status, captured.amount_received]).toEqual(['succeeded', 5_000]);

    const first = await stripe.refunds.create({ payment_intent: captured.id, amount: 2_000 });
    const second = await stripe.refunds.create({ payment_intent: captured.id, amount: 2_000 });
    expect([first.status, second.status]).toEqual(['succeeded', 'succeeded']);
    expectFixtureFields('refund', first);
    const tooMuch = await stripe.refunds
      .create({ payment_intent: captured.id, amount: 2_000 })
      .catch((error: unknown) => error);
    expect(tooMuch).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((tooMuch as Stripe.errors.StripeInvalidRequestError).code).toBe('amount_too_large');

    const pageOne = await stripe.paymentIntents.list({ limit: 1 });
    expect(pageOne.has_more).toBe(true);
    const pageTwo = await stripe.paymentIntents.list({ limit: 1, starting_after: pageOne.data[0]!.id });
    expect(pageTwo.data[0]!.id).not.toBe(pageOne.data[0]!.id);
    const all = await stripe.paymentIntents.list({ limit: 1 }).autoPagingToArray({ limit: 10 });
    expect(all.map((intent) => intent.id).sort()).toEqual([paid.id, manual.id].sort());

    const once = await stripe.customers.create({ name: 'Retry' }, { idempotencyKey: 'sdk-retry-1' });
    const twice = await stripe.customers.create({ name: 'Retry' }, { idempotencyKey: 'sdk-retry-1' });
    expect(twice.id).toBe(once.id);
    expect(twice.lastResponse.headers['idempotent-replayed']).toBe('true');
    const spare = await stripe.webhookEndpoints.create({ url: receiver.url('/spare'), enabled_events: ['*'] });
    expectFixtureFields('deleted_webhook_endpoint', await stripe.webhookEndpoints.del(spare.id));

    const mismatch = await stripe.customers
      .create({ name: 'Other' }, { idempotencyKey: 'sdk-retry-1' })
      .catch((error: unknown) => error);
    expect(mismatch).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  test('cards: pm_card_visa pays, pm_card_chargeDeclined fails with its decline_code, a card payment is refunded', async () => {
    const customer = await stripe.customers.create({ name: 'Card customer' });
    const paid = await stripe.paymentIntents.create({
      amount: 2_000,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      expand: ['payment_method', 'latest_charge'],
    });
    expect(paid.status).toBe('succeeded');
    const method = paid.payment_method as Stripe.PaymentMethod;
    expect(method.card).toMatchObject({ brand: 'visa', last4: '4242', funding: 'credit' });
    expectFixtureFields('payment_method', method);
    const charge = paid.latest_charge as Stripe.Charge;
    expect(charge.payment_method_details?.type).toBe('card');
    expect(charge.payment_method_details?.card?.last4).toBe('4242');
    expectFixtureFields('charge', charge);

    const declined = await stripe.paymentIntents
      .create({ amount: 2_000, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: true })
      .catch((error: unknown) => error);
    expect(declined).toBeInstanceOf(Stripe.errors.StripeCardError);
    const cardError = declined as Stripe.errors.StripeCardError;
    expect(cardError.code).toBe('card_declined');
    expect(cardError.decline_code).toBe('generic_decline');
    expect(cardError.payment_intent?.status).toBe('requires_payment_method');
    expect(cardError.payment_intent?.last_payment_error?.decline_code).toBe('generic_decline');

    const refund = await stripe.refunds.create({ payment_intent: paid.id, amount: 500 });
    expect(refund).toMatchObject({ status: 'succeeded', amount: 500, charge: charge.id });
    expectFixtureFields('refund', refund);
    const refundedCharge = await stripe.charges.retrieve(charge.id);
    expect(refundedCharge.amount_refunded).toBe(500);

    const created = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_mastercard' } });
    const attached = await stripe.paymentMethods.attach(created.id, { customer: customer.id });
    expect(attached.customer).toBe(customer.id);
    const listed = await stripe.paymentMethods.list({ customer: customer.id, type: 'card' });
    expect(listed.data.map((entry) => entry.id)).toContain(created.id);
    const second = await stripe.paymentIntents.create({
      amount: 990,
      currency: 'usd',
      customer: customer.id,
      payment_method: created.id,
      confirm: true,
    });
    expect(second.status).toBe('succeeded');
  });

  test('a code that was never issued is refused, and the intent stays payable', async () => {
    const intent = await stripe.paymentIntents.create({ amount: 100, currency: 'cny' });
    const refused = await stripe.paymentIntents
      .confirm(intent.id, { payment_method_data: walletData('880000000000000000') })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((refused as Stripe.errors.StripeInvalidRequestError).code).toBe('payment_code_invalid');
    expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe('requires_payment_method');
    const paid = await stripe.paymentIntents.confirm(intent.id, {
      payment_method_data: walletData(await paymentCode()),
    });
    expect(paid.status).toBe('succeeded');
  });
});

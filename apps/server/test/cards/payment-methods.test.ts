import { randomBytes } from 'node:crypto';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allMigrations } from '../../src/migrations.js';
import {
  createPaymentMethods,
  paymentMethodMigrations,
  paymentMethodRoutes,
  type PaymentMethods,
} from '../../src/modules/cards/methods/index.js';
import {
  cardVaultMigrations,
  createVault,
  luhnValid,
  panValid,
  parseVaultKeys,
  vaultKeys,
  type CardVault,
} from '../../src/modules/cards/vault/index.js';
import { customerRoutes } from '../../src/modules/customers/index.js';
import { AppError } from '../../src/platform/errors.js';
import { createLogger } from '../../src/platform/logger.js';
import { runMigrations } from '../../src/platform/migrations.js';
import { ExpandRegistry, v1Plugin, type V1Scope } from '../../src/v1/index.js';
import { LogCapture } from '../support/app.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api } from '../support/wallet.js';
import { stripeFixtures } from '../support/stripe-fixtures.js';

/**
 * Card PaymentMethods through the real /v1 stack: the platform (merchants, customers, admin API)
 * on one port, and beside it an app serving the /v1 framework with the customers and payment
 * methods routes over the same database, as app.ts will once the module is wired in.
 */
const fixtures = stripeFixtures;

const thisYear = new Date().getUTCFullYear();
/** CVCs used below: distinctive, so that the database scan can look for them. */
const cvcs = ['918', '7315', '846'];

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Keys of the fixture missing from ours, recursively where both sides hold an object. */
function missingKeys(fixture: Record<string, unknown>, ours: Record<string, unknown>, prefix = ''): string[] {
  const missing: string[] = [];
  for (const [key, value] of Object.entries(fixture)) {
    if (!Object.hasOwn(ours, key)) {
      missing.push(`${prefix}${key}`);
      continue;
    }
    const mine = ours[key];
    if (key === 'metadata') continue;
    if (isObject(value) && isObject(mine)) missing.push(...missingKeys(value, mine, `${prefix}${key}.`));
  }
  return missing;
}

/**
 * Every leaf of a JSON value, as text, with the key it is under. Fractional numbers (durations in
 * log lines) are left out: their digits often hold a Luhn-valid run, and a PAN is never one.
 */
function leaves(value: unknown, key = ''): { key: string; text: string }[] {
  if (Array.isArray(value)) return value.flatMap((item) => leaves(item, key));
  if (isObject(value)) return Object.entries(value).flatMap(([child, item]) => leaves(item, child));
  if (value === null || value === undefined) return [];
  if (typeof value === 'number' && !Number.isInteger(value)) return [];
  return [{ key, text: typeof value === 'string' ? value : JSON.stringify(value) }];
}

/** Maximal runs of 13–19 digits that the vault would accept as a card number. */
function cardNumberRuns(text: string): string[] {
  return [...text.matchAll(/[0-9]+/g)]
    .map((match) => match[0])
    .filter((run) => run.length >= 13 && run.length <= 19 && luhnValid(run) && panValid(run));
}

/** A cell that is wholly a hex digest (API key hashes, idempotency request hashes): not card data. */
const hexDigest = /^(\\x)?[0-9a-f]{32,}$/;

async function errorOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('card PaymentMethods', () => {
  let platform: TestPlatform;
  let app: FastifyInstance;
  let baseUrl: string;
  let vault: CardVault;
  let paymentMethods: PaymentMethods;
  let shop: TestMerchant;
  let other: TestMerchant;
  let liveKey: string;
  let livePublishableKey: string;
  const logs = new LogCapture();
  /** Every PAN sent in this file: the scan looks for each. */
  const pansUsed = new Set<string>();

  beforeAll(async () => {
    platform = await startPlatform();
    // Once the lead wires the cards context in, allMigrations already holds these.
    const known = new Set(allMigrations.map((migration) => migration.id));
    const extra = [...cardVaultMigrations, ...paymentMethodMigrations].filter((migration) => !known.has(migration.id));
    await runMigrations(platform.db, [...allMigrations, ...extra]);
    const key = () => randomBytes(32).toString('base64');
    const keys = vaultKeys(parseVaultKeys(`k1:${key()}`, 'k1'), parseVaultKeys(`f1:${key()}`, 'f1'));
    vault = createVault({ db: platform.db, keys });
    paymentMethods = createPaymentMethods({ db: platform.db, vault });
    const expand = new ExpandRegistry();
    expand.registerLoader(
      'customer',
      (scope, id) => platform.services.customers.find(scope, id) as Promise<Record<string, unknown> | null>,
    );
    expand.registerLoader(
      'payment_method',
      (scope, id) => paymentMethods.find(scope, id) as Promise<Record<string, unknown> | null>,
    );
    expand.registerFields('payment_method', { customer: 'customer' });
    const logger: FastifyBaseLogger = createLogger({ level: 'info', destination: logs });
    const built = Fastify({ loggerInstance: logger }).withTypeProvider<TypeBoxTypeProvider>();
    built.setValidatorCompiler(TypeBoxValidatorCompiler);
    await built.register(v1Plugin, {
      prefix: '/v1',
      merchants: platform.services.merchants,
      idempotency: platform.services.idempotency,
      expand,
      resources: async (scope) => {
        await scope.register(customerRoutes, { customers: platform.services.customers });
        await scope.register(paymentMethodRoutes, { paymentMethods });
      },
    });
    await built.listen({ port: 0, host: '127.0.0.1' });
    app = built;
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
    baseUrl = `http://127.0.0.1:${address.port}`;
    shop = await createMerchant(platform.baseUrl, platform.adminToken);
    other = await createMerchant(platform.baseUrl, platform.adminToken);
    const activated = await api(platform.baseUrl, 'POST', `/admin/v1/merchants/${shop.id}/activate`, {
      token: platform.adminToken,
    });
    liveKey = activated.body.secret_key;
    livePublishableKey = activated.body.publishable_key;
  });

  afterAll(async () => {
    await app.close();
    await platform.close();
  });

  const call = (method: string, urlPath: string, options: Parameters<typeof v1>[3] = {}) =>
    v1(baseUrl, method, urlPath, { key: shop.secretKey, ...options });

  function cardForm(number: string, extra: Record<string, unknown> = {}) {
    pansUsed.add(number);
    const cvc = /^3[47]/.test(number) ? '7315' : '918';
    return { type: 'card', card: { number, exp_month: 8, exp_year: thisYear + 2, cvc }, ...extra };
  }

  async function createCard(number = '4242424242424242', key = shop.secretKey) {
    const created = await v1(baseUrl, 'POST', '/v1/payment_methods', { key, form: cardForm(number) });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    return created.body;
  }

  async function createCustomer(key = shop.secretKey): Promise<string> {
    const created = await v1(baseUrl, 'POST', '/v1/customers', { key, form: { name: 'Card Holder' } });
    expect(created.status).toBe(200);
    return created.body.id as string;
  }

  async function rowCounts(): Promise<{ vault: number; methods: number }> {
    const [vaultRows] = await platform.db.query<{ count: bigint }>('select count(*) as count from cards_vault');
    const [methodRows] = await platform.db.query<{ count: bigint }>(
      'select count(*) as count from cards_payment_methods',
    );
    return { vault: Number(vaultRows?.count ?? -1), methods: Number(methodRows?.count ?? -1) };
  }

  it('creates a card PaymentMethod with exactly the fields of Stripe’s object, never the number or CVC', async () => {
    const created = await v1(baseUrl, 'POST', '/v1/payment_methods', {
      key: shop.secretKey,
      form: cardForm('4242424242424242', {
        billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com', address: { country: 'US' } },
        metadata: { order_id: '6735' },
      }),
    });
    expect(created.status).toBe(200);
    const body = created.body;
    expect(body.id).toMatch(/^pm_[0-9A-Za-z]{24}$/);
    const fixture = fixtures.resources.payment_method ?? {};
    expect(missingKeys(fixture, body)).toEqual([]);
    expect(Object.keys(body).sort()).toEqual(Object.keys(fixture).sort());
    expect(Object.keys(body.card).sort()).toEqual(Object.keys(fixture.card as object).sort());
    expect(Object.keys(body.billing_details).sort()).toEqual(Object.keys(fixture.billing_details as object).sort());
    expect(body).toMatchObject({
      object: 'payment_method',
      type: 'card',
      allow_redisplay: 'unspecified',
      customer: null,
      livemode: false,
      metadata: { order_id: '6735' },
      billing_details: {
        name: 'Jenny Rosen',
        email: 'jenny@example.com',
        phone: null,
        address: { country: 'US', city: null, line1: null, line2: null, postal_code: null, state: null },
      },
      card: {
        brand: 'visa',
        display_brand: 'visa',
        last4: '4242',
        exp_month: 8,
        exp_year: thisYear + 2,
        funding: 'credit',
        country: 'US',
        checks: { cvc_check: 'unchecked', address_line1_check: null, address_postal_code_check: null },
        networks: { available: ['visa'], preferred: null },
        three_d_secure_usage: { supported: true },
        wallet: null,
        generated_from: null,
      },
    });
    expect(body.card.fingerprint).toMatch(/^[0-9A-Za-z]{16}$/);
    expect(Math.abs(body.created - Date.now() / 1000)).toBeLessThan(60);
    const text = JSON.stringify(body);
    expect(text).not.toContain('4242424242424242');
    expect(text).not.toContain('918');
    const fetched = await call('GET', `/v1/payment_methods/${body.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(body);
    // JSON bodies work alike, with a two-digit year as Stripe accepts.
    const json = await call('POST', '/v1/payment_methods', {
      json: { type: 'card', card: { number: '5555555555554444', exp_month: '3', exp_year: (thisYear % 100) + 1 } },
    });
    pansUsed.add('5555555555554444');
    expect(json.status).toBe(200);
    expect(json.body.card).toMatchObject({
      brand: 'mastercard',
      last4: '4444',
      exp_month: 3,
      exp_year: thisYear + 1,
      checks: { cvc_check: null },
    });
  });

  it('gives one card one fingerprint within an account, and unrelated ones across accounts', async () => {
    const first = await createCard('378282246310005');
    const second = await createCard('378282246310005');
    const otherShop = await createCard('378282246310005', other.secretKey);
    const otherCard = await createCard('6011111111111117');
    expect(first.card.brand).toBe('amex');
    expect(first.card.display_brand).toBe('american_express');
    expect(second.id).not.toBe(first.id);
    expect(second.card.fingerprint).toBe(first.card.fingerprint);
    expect(otherShop.card.fingerprint).not.toBe(first.card.fingerprint);
    expect(otherCard.card.fingerprint).not.toBe(first.card.fingerprint);
  });

  it.each([
    ['a number failing Luhn', { number: '4242424242424241' }, 'invalid_number', 'card[number]'],
    ['a number with spaces', { number: '4242 4242 4242 4242' }, 'invalid_number', 'card[number]'],
    ['an empty number', { number: '' }, 'invalid_number', 'card[number]'],
    ['month 13', { exp_month: 13 }, 'invalid_expiry_month', 'card[exp_month]'],
    ['month 0', { exp_month: 0 }, 'invalid_expiry_month', 'card[exp_month]'],
    ['last year', { exp_year: thisYear - 1 }, 'invalid_expiry_year', 'card[exp_year]'],
    ['a 2-digit CVC', { cvc: '12' }, 'invalid_cvc', 'card[cvc]'],
    ['a 3-digit CVC on amex', { number: '378282246310005', cvc: '846' }, 'invalid_cvc', 'card[cvc]'],
    ['letters in the CVC', { cvc: '9a1' }, 'invalid_cvc', 'card[cvc]'],
  ])('refuses %s with a card_error and stores nothing', async (_name, change, code, param) => {
    const before = await rowCounts();
    const card = { number: '4242424242424242', exp_month: 8, exp_year: thisYear + 2, cvc: '918', ...change };
    const refused = await call('POST', '/v1/payment_methods', { form: { type: 'card', card } });
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatchObject({ type: 'card_error', code, param });
    expect(JSON.stringify(refused.body)).not.toContain(card.number.length > 4 ? card.number : 'none');
    expect(await rowCounts()).toEqual(before);
  });

  it.each([
    ['no type', { card: { number: '4242424242424242', exp_month: 8, exp_year: thisYear + 2 } }, 'parameter_missing'],
    ['no card', { type: 'card' }, 'parameter_missing'],
    [
      'no expiry month',
      { type: 'card', card: { number: '4242424242424242', exp_year: thisYear + 2 } },
      'parameter_missing',
    ],
    ['another type', { type: 'sepa_debit' }, undefined],
    [
      'a non-numeric month',
      { type: 'card', card: { number: '4242424242424242', exp_month: 'ab' } },
      'parameter_invalid_integer',
    ],
    ['an unknown card field', { type: 'card', card: { number: '4242424242424242', pin: '1234' } }, 'parameter_unknown'],
    ['both a token and a number', { type: 'card', card: { token: 'tok_visa', number: '4242424242424242' } }, undefined],
  ])('refuses a request with %s as invalid_request_error', async (_name, form, code) => {
    const before = await rowCounts();
    const refused = await call('POST', '/v1/payment_methods', { form });
    expect(refused.status).toBe(400);
    expect(refused.body.error.type).toBe('invalid_request_error');
    // Stripe sends no code for a plain invalid parameter.
    expect(refused.body.error.code).toBe(code);
    expect(await rowCounts()).toEqual(before);
  });

  it('creates from tok_ test tokens in test mode only; a known test number in live mode is declined', async () => {
    const fromToken = await call('POST', '/v1/payment_methods', {
      form: { type: 'card', card: { token: 'tok_mastercard' } },
    });
    expect(fromToken.status).toBe(200);
    expect(fromToken.body.card).toMatchObject({
      brand: 'mastercard',
      last4: '4444',
      exp_month: 12,
      exp_year: thisYear + 3,
    });
    const unknown = await call('POST', '/v1/payment_methods', { form: { type: 'card', card: { token: 'tok_nope' } } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'resource_missing', param: 'card[token]' });
    const before = await rowCounts();
    const liveToken = await v1(baseUrl, 'POST', '/v1/payment_methods', {
      key: liveKey,
      form: { type: 'card', card: { token: 'tok_visa' } },
    });
    expect(liveToken.status).toBe(400);
    expect(liveToken.body.error).toMatchObject({ type: 'invalid_request_error', code: 'payment_method_unactivated' });
    const liveTestNumber = await v1(baseUrl, 'POST', '/v1/payment_methods', {
      key: liveKey,
      form: cardForm('4000000000000002'),
    });
    expect(liveTestNumber.status).toBe(402);
    expect(liveTestNumber.body.error).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'test_mode_live_card',
    });
    expect(await rowCounts()).toEqual(before);
    // Any other valid number is a real card: live mode takes it.
    const live = await createCard('4111111111111111', liveKey);
    expect(live).toMatchObject({
      livemode: true,
      card: { brand: 'visa', last4: '1111', funding: 'unknown', country: null },
    });
    // Test mode takes any valid number too, and the modes do not see each other's objects.
    const testSide = await call('GET', `/v1/payment_methods/${live.id}`);
    expect(testSide.status).toBe(404);
    expect(testSide.body.error).toMatchObject({
      code: 'resource_missing',
      message: `No such PaymentMethod: '${live.id}'`,
    });
  });

  it('resolves pm_card_ tokens to a new PaymentMethod each time in test mode, and refuses them in live mode', async () => {
    const test: V1Scope = { accountId: shop.id, livemode: false };
    const live: V1Scope = { accountId: shop.id, livemode: true };
    const expected: [string, string, string][] = [
      ['pm_card_visa', 'visa', '4242'],
      ['pm_card_mastercard', 'mastercard', '4444'],
      ['pm_card_chargeDeclined', 'visa', '0002'],
    ];
    for (const [token, brand, last4] of expected) {
      const first = await paymentMethods.resolve(test, token);
      const second = await paymentMethods.resolve(test, token);
      expect(first.paymentMethod).toMatchObject({
        livemode: false,
        card: { brand, last4, exp_month: 12, exp_year: thisYear + 3 },
      });
      expect(second.paymentMethod.id).not.toBe(first.paymentMethod.id);
      expect(second.paymentMethod.card.fingerprint).toBe(first.paymentMethod.card.fingerprint);
      expect(await vault.retrieve(first.cardId)).toMatchObject({ id: first.cardId, last4 });
      const card = await paymentMethods.cardOf(test, first.paymentMethod.id);
      expect(card).toMatchObject({ cardId: first.cardId, brand, last4, expMonth: 12, expYear: thisYear + 3 });
      const again = await paymentMethods.resolve(test, first.paymentMethod.id);
      expect(again).toEqual(first);
      expect((await errorOf(paymentMethods.resolve(live, token))).code).toBe('payment_method_unactivated');
    }
    const unknown = await errorOf(paymentMethods.resolve(test, 'pm_card_doesNotExist'));
    expect(unknown).toMatchObject({ code: 'not_found', param: 'payment_method' });
    expect(unknown.message).toBe("No such PaymentMethod: 'pm_card_doesNotExist'");
    const mine = await paymentMethods.resolve(test, 'pm_card_visa');
    const otherAccount = await errorOf(
      paymentMethods.resolve({ accountId: other.id, livemode: false }, mine.paymentMethod.id),
    );
    expect(otherAccount.code).toBe('not_found');
    expect((await errorOf(paymentMethods.resolve(live, mine.paymentMethod.id))).code).toBe('not_found');
    expect((await errorOf(paymentMethods.cardOf(test, 'pm_nothing'))).code).toBe('not_found');
  });

  it('attaches, lists by customer with pagination, detaches, and refuses what Stripe refuses', async () => {
    const customer = await createCustomer();
    const secondCustomer = await createCustomer();
    const methods: string[] = [];
    for (const number of ['4242424242424242', '5555555555554444', '6011111111111117']) {
      const created = await createCard(number);
      const attached = await call('POST', `/v1/payment_methods/${created.id}/attach`, { form: { customer } });
      expect(attached.status).toBe(200);
      expect(attached.body).toMatchObject({ id: created.id, customer });
      methods.push(created.id as string);
    }
    // Stripe attaches a test token directly: a new PaymentMethod from the test card.
    const fromToken = await call('POST', '/v1/payment_methods/pm_card_amex/attach', { form: { customer } });
    expect(fromToken.status).toBe(200);
    expect(fromToken.body).toMatchObject({ customer, card: { brand: 'amex', last4: '0005' } });
    methods.push(fromToken.body.id as string);
    const unattached = await createCard();
    const newestFirst = [...methods].reverse();

    const all = await call('GET', `/v1/customers/${customer}/payment_methods`);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({
      object: 'list',
      has_more: false,
      url: `/v1/customers/${customer}/payment_methods`,
    });
    expect(all.body.data.map((item: { id: string }) => item.id)).toEqual(newestFirst);
    const firstPage = await call('GET', `/v1/customers/${customer}/payment_methods?limit=2&type=card`);
    expect(firstPage.body.has_more).toBe(true);
    expect(firstPage.body.data.map((item: { id: string }) => item.id)).toEqual(newestFirst.slice(0, 2));
    const secondPage = await call(
      'GET',
      `/v1/payment_methods?customer=${customer}&limit=2&starting_after=${firstPage.body.data[1].id}`,
    );
    expect(secondPage.body.data.map((item: { id: string }) => item.id)).toEqual(newestFirst.slice(2, 4));
    expect(secondPage.body.has_more).toBe(false);
    const backwards = await call(
      'GET',
      `/v1/payment_methods?customer=${customer}&limit=2&ending_before=${secondPage.body.data[0].id}`,
    );
    expect(backwards.body.data.map((item: { id: string }) => item.id)).toEqual(newestFirst.slice(0, 2));
    const otherType = await call('GET', `/v1/customers/${customer}/payment_methods?type=sepa_debit`);
    expect(otherType.body.data).toEqual([]);
    const everything = await call('GET', '/v1/payment_methods?limit=100');
    expect(everything.body.data.map((item: { id: string }) => item.id)).toContain(unattached.id);
    const expanded = await call('GET', `/v1/payment_methods/${methods[0]}?expand[]=customer`);
    expect(expanded.body.customer).toMatchObject({ id: customer, object: 'customer' });
    const oneOfCustomer = await call('GET', `/v1/customers/${customer}/payment_methods/${methods[0]}`);
    expect(oneOfCustomer.body.id).toBe(methods[0]);
    const notOfCustomer = await call('GET', `/v1/customers/${secondCustomer}/payment_methods/${methods[0]}`);
    expect(notOfCustomer.status).toBe(404);

    const again = await call('POST', `/v1/payment_methods/${methods[0]}/attach`, { form: { customer } });
    expect(again.status).toBe(200);
    const elsewhere = await call('POST', `/v1/payment_methods/${methods[0]}/attach`, {
      form: { customer: secondCustomer },
    });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'payment_method_unexpected_state',
      message: 'The payment method you provided has already been attached to a customer.',
    });
    const noCustomer = await call('POST', `/v1/payment_methods/${unattached.id}/attach`, {
      form: { customer: 'cus_nope' },
    });
    expect(noCustomer.status).toBe(404);
    expect(noCustomer.body.error).toMatchObject({ code: 'resource_missing', param: 'customer' });
    const otherAccountsCustomer = await createCustomer(other.secretKey);
    const crossAccount = await call('POST', `/v1/payment_methods/${unattached.id}/attach`, {
      form: { customer: otherAccountsCustomer },
    });
    expect(crossAccount.status).toBe(404);
    const missingCustomerList = await call('GET', '/v1/customers/cus_nope/payment_methods');
    expect(missingCustomerList.status).toBe(404);
    const otherMerchantView = await v1(baseUrl, 'GET', `/v1/payment_methods/${methods[0]}`, { key: other.secretKey });
    expect(otherMerchantView.status).toBe(404);

    const detached = await call('POST', `/v1/payment_methods/${methods[0]}/detach`);
    expect(detached.status).toBe(200);
    expect(detached.body).toMatchObject({ id: methods[0], customer: null });
    const detachedTwice = await call('POST', `/v1/payment_methods/${methods[0]}/detach`);
    expect(detachedTwice.status).toBe(400);
    expect(detachedTwice.body.error.code).toBe('payment_method_unexpected_state');
    const reattached = await call('POST', `/v1/payment_methods/${methods[0]}/attach`, { form: { customer } });
    expect(reattached.status).toBe(400);
    expect(reattached.body.error.code).toBe('payment_method_unexpected_state');
    const scope = { accountId: shop.id, livemode: false };
    expect((await errorOf(paymentMethods.resolve(scope, methods[0] ?? ''))).code).toBe(
      'payment_method_unexpected_state',
    );
    expect((await paymentMethods.cardOf(scope, methods[0] ?? '')).last4).toBe('4242');
    const afterDetach = await call('GET', `/v1/customers/${customer}/payment_methods`);
    expect(afterDetach.body.data.map((item: { id: string }) => item.id)).toEqual(newestFirst.slice(0, 3));

    // The platform serves /v1/events over the same database.
    const events = await v1(platform.baseUrl, 'GET', '/v1/events?type=payment_method.*&limit=100', {
      key: shop.secretKey,
    });
    const types = events.body.data
      .filter((event: { data: { object: { id: string } } }) => event.data.object.id === methods[0])
      .map((event: { type: string }) => event.type);
    expect(types).toEqual(['payment_method.detached', 'payment_method.attached']);
  });

  it('updates billing details, metadata and expiry of an attached PaymentMethod only', async () => {
    const created = await createCard('5200828282828210');
    const unattached = await call('POST', `/v1/payment_methods/${created.id}`, { form: { metadata: { a: '1' } } });
    expect(unattached.status).toBe(400);
    expect(unattached.body.error.code).toBe('payment_method_unexpected_state');
    const customer = await createCustomer();
    await call('POST', `/v1/payment_methods/${created.id}/attach`, { form: { customer } });
    const updated = await call('POST', `/v1/payment_methods/${created.id}`, {
      form: {
        billing_details: { name: 'Ann Lee', address: { city: 'Lyon', postal_code: '69001' } },
        metadata: { a: '1' },
        card: { exp_month: 11, exp_year: thisYear + 5 },
      },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      billing_details: { name: 'Ann Lee', address: { city: 'Lyon', postal_code: '69001', country: null } },
      metadata: { a: '1' },
      card: { exp_month: 11, exp_year: thisYear + 5, last4: '8210', funding: 'debit' },
    });
    const unset = await call('POST', `/v1/payment_methods/${created.id}`, {
      form: 'billing_details[address][city]=&billing_details[name]=&metadata[a]=',
    });
    expect(unset.body).toMatchObject({
      billing_details: { name: null, address: { city: null, postal_code: '69001' } },
      metadata: {},
    });
    const badExpiry = await call('POST', `/v1/payment_methods/${created.id}`, { form: { card: { exp_month: 13 } } });
    expect(badExpiry.status).toBe(402);
    expect(badExpiry.body.error).toMatchObject({
      type: 'card_error',
      code: 'invalid_expiry_month',
      param: 'card[exp_month]',
    });
    const card = await paymentMethods.cardOf({ accountId: shop.id, livemode: false }, created.id);
    expect(card).toMatchObject({ expMonth: 11, expYear: thisYear + 5, funding: 'debit', country: 'US' });
    const cardNumberUpdate = await call('POST', `/v1/payment_methods/${created.id}`, {
      form: { card: { number: '4242424242424242' } },
    });
    expect(cardNumberUpdate.status).toBe(400);
    expect(cardNumberUpdate.body.error.code).toBe('parameter_unknown');
  });

  it('lets a publishable key create (as Stripe.js does) but not read, and restricts keys by payment_methods', async () => {
    const created = await v1(baseUrl, 'POST', '/v1/payment_methods', {
      key: shop.publishableKey,
      form: cardForm('3566002020360505'),
    });
    expect(created.status).toBe(200);
    expect(created.body.card.brand).toBe('jcb');
    const read = await v1(baseUrl, 'GET', `/v1/payment_methods/${created.body.id}`, { key: shop.publishableKey });
    expect(read.status).toBe(403);
    const liveCreated = await v1(baseUrl, 'POST', '/v1/payment_methods', {
      key: livePublishableKey,
      form: { type: 'card', card: { token: 'tok_visa' } },
    });
    expect(liveCreated.status).toBe(400);
  });

  it('replays an idempotent create, and keeps neither the number nor the CVC in what it hashes', async () => {
    const idempotencyKey = `pm-${randomBytes(6).toString('hex')}`;
    const form = cardForm('4000056655665556');
    const first = await call('POST', '/v1/payment_methods', { form, idempotencyKey });
    expect(first.status).toBe(200);
    const replay = await call('POST', '/v1/payment_methods', { form, idempotencyKey });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    const otherCard = await call('POST', '/v1/payment_methods', {
      form: cardForm('5105105105105100'),
      idempotencyKey,
    });
    expect(otherCard.status).toBe(400);
    expect(otherCard.body.error.type).toBe('idempotency_error');
    // A different CVC is not a different request: the CVC never reaches the stored hash.
    const otherCvc = await call('POST', '/v1/payment_methods', {
      form: { ...form, card: { ...form.card, cvc: '846' } },
      idempotencyKey,
    });
    expect(otherCvc.headers.get('idempotent-replayed')).toBe('true');
  });

  it('works with Stripe’s Node SDK', async () => {
    const stripe = new Stripe(shop.secretKey, {
      host: '127.0.0.1',
      port: Number(new URL(baseUrl).port),
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    const customer = await stripe.customers.create({ name: 'SDK' });
    pansUsed.add('4000000000009995');
    const created = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4000000000009995', exp_month: 4, exp_year: thisYear + 1, cvc: '846' },
      billing_details: { email: 'sdk@example.com' },
    });
    expect(created.card?.last4).toBe('9995');
    const attached = await stripe.paymentMethods.attach(created.id, { customer: customer.id });
    expect(attached.customer).toBe(customer.id);
    const listed = await stripe.customers.listPaymentMethods(customer.id, { limit: 3 });
    expect(listed.data.map((item) => item.id)).toEqual([created.id]);
    const updated = await stripe.paymentMethods.update(created.id, { metadata: { plan: 'pro' } });
    expect(updated.metadata).toEqual({ plan: 'pro' });
    const detached = await stripe.paymentMethods.detach(created.id);
    expect(detached.customer).toBeNull();
    await expect(
      stripe.paymentMethods.create({
        type: 'card',
        card: { number: '4242424242424241', exp_month: 4, exp_year: thisYear + 1 },
      }),
    ).rejects.toMatchObject({ type: 'StripeCardError', code: 'invalid_number', statusCode: 402 });
  });

  it('leaves no card number and no CVC in any column of any table, nor in the logs', async () => {
    const tables = await platform.db.query<{ name: string }>(
      "select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1",
    );
    expect(tables.map((table) => table.name)).toEqual(
      expect.arrayContaining(['cards_vault', 'cards_payment_methods', 'idempotency_keys', 'merchant_events']),
    );
    const [methodCount] = await platform.db.query<{ count: bigint }>(
      'select count(*) as count from cards_payment_methods',
    );
    expect(Number(methodCount?.count)).toBeGreaterThan(20);
    const findings: string[] = [];
    let cellCount = 0;
    for (const { name } of tables) {
      expect(name).toMatch(/^[a-z_][a-z0-9_]*$/);
      const rows = await platform.db.query<{ row: string }>(`select row_to_json(t)::text as row from ${name} t`);
      for (const { row } of rows) {
        for (const pan of pansUsed) if (row.includes(pan)) findings.push(`${name}: a PAN in ${row.slice(0, 60)}`);
        for (const { key, text } of leaves(JSON.parse(row))) {
          cellCount += 1;
          if (/cvc|cvv|card_?number|^pan$/i.test(key) && key !== 'cvc_check')
            findings.push(`${name}.${key}: a card field`);
          if (cvcs.includes(text)) findings.push(`${name}.${key}: a CVC value`);
          if (hexDigest.test(text)) continue;
          for (const run of cardNumberRuns(text)) findings.push(`${name}.${key}: a card number ${run.slice(0, 6)}…`);
        }
      }
    }
    expect(cellCount).toBeGreaterThan(1000);
    expect(findings).toEqual([]);
    const logText = logs.raw.join('\n');
    expect(logs.raw.length).toBeGreaterThan(10);
    for (const pan of pansUsed) expect(logText).not.toContain(pan);
    expect(logText).not.toMatch(/"cvc"|cvc=|\[cvc\]=/i);
    for (const cvc of cvcs) expect(logText).not.toContain(`"${cvc}"`);
    const logRuns = logs.lines.flatMap((line) => leaves(line).flatMap((leaf) => cardNumberRuns(leaf.text)));
    expect(logRuns).toEqual([]);
  });
});

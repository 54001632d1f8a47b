import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cardBrandOf, luhnValid } from '../../src/modules/cards/vault/index.js';
import { verifyLedger } from '../../src/modules/ledger/index.js';
import { startCardPlatform, type CardTestPlatform } from '../support/cards.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { api, signUp } from '../support/wallet.js';
import { Receiver } from '../webhooks/receiver.js';

/**
 * Card payments end to end: /v1 → payments → card gateway → ISO 8583 over TCP → the network
 * simulator playing the issuers, and back. Faults are injected in the simulator.
 */
let cards: CardTestPlatform;
let merchant: TestMerchant;
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.start();
  // A short network timeout keeps the timeout → reversal tests quick; webhooks go to loopback.
  cards = await startCardPlatform({ requestTimeoutMs: 400, webhookAllowPrivate: true });
  merchant = await createMerchant(cards.platform.baseUrl, cards.platform.adminToken);
  const endpoint = await call('POST', '/v1/webhook_endpoints', { url: receiver.url('/hooks'), enabled_events: ['*'] });
  expect(endpoint.status).toBe(200);
});

afterAll(async () => {
  const report = await verifyLedger(cards.platform.db);
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  await cards.close();
  await receiver.stop();
});

const call = (method: string, path: string, form?: Record<string, unknown>) =>
  v1(cards.platform.baseUrl, method, path, { key: merchant.secretKey, ...(form === undefined ? {} : { form }) });

async function pay(paymentMethod: string, amount: number, extra: Record<string, unknown> = {}) {
  return call('POST', '/v1/payment_intents', {
    amount,
    currency: 'usd',
    payment_method: paymentMethod,
    confirm: true,
    ...extra,
  });
}

const visa = '4242424242424242';

describe('card payments through the network simulator', () => {
  test('pm_card_visa pays: the charge shows the card, the issuer is debited once, the merchant credited', async () => {
    const before = cards.simulator.balanceOf(visa, 'USD');
    const paid = await pay('pm_card_visa', 1_234);
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe('succeeded');
    expect(paid.body.payment_method).toMatch(/^pm_/);
    expect(paid.body.payment_method_types).toEqual(['card']);
    const charge = await call('GET', `/v1/charges/${paid.body.latest_charge}`);
    expect(charge.body.payment_method_details.type).toBe('card');
    expect(charge.body.payment_method_details.card).toMatchObject({ brand: 'visa', last4: '4242' });
    expect(charge.body.payment_method).toBe(paid.body.payment_method);
    expect(charge.body.outcome).toMatchObject({ network_status: 'approved_by_network', type: 'authorized' });
    expect(cards.simulator.balanceOf(visa, 'USD')).toBe(before - 1_234n);
    const balance = await call('GET', '/v1/balance');
    expect(balance.body.pending.find((entry: { currency: string }) => entry.currency === 'usd')).toBeDefined();
  });

  test.each([
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
    ['pm_card_insufficientFunds', 'card_declined', 'insufficient_funds'],
    ['pm_card_chargeDeclinedLostCard', 'card_declined', 'lost_card'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card'],
    ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', 'incorrect_cvc'],
    ['pm_card_chargeDeclinedProcessingError', 'processing_error', 'processing_error'],
  ])('%s is declined with code %s and decline_code %s', async (token, code, declineCode) => {
    const declined = await pay(token, 500);
    expect(declined.status).toBe(402);
    expect(declined.body.error).toMatchObject({ type: 'card_error', code, decline_code: declineCode });
    const intent = declined.body.error.payment_intent;
    expect(intent.status).toBe('requires_payment_method');
    expect(intent.last_payment_error).toMatchObject({ type: 'card_error', code, decline_code: declineCode });
    const charge = await call('GET', `/v1/charges/${intent.latest_charge}`);
    expect(charge.body).toMatchObject({ status: 'failed', paid: false, failure_code: code });
    expect(charge.body.outcome).toMatchObject({
      network_status: 'declined_by_network',
      reason: declineCode,
      type: 'issuer_declined',
    });
    // The customer may try again with another card on the same intent.
    const retried = await call('POST', `/v1/payment_intents/${intent.id}/confirm`, { payment_method: 'pm_card_visa' });
    expect(retried.body.status).toBe('succeeded');
  });

  test('manual capture: 0100 hold, partial 0220 capture, the rest released; cancel reverses a hold', async () => {
    const before = cards.simulator.balanceOf(visa, 'USD');
    const held = await pay('pm_card_visa', 10_000, { capture_method: 'manual' });
    expect(held.body.status).toBe('requires_capture');
    expect(held.body.amount_capturable).toBe(10_000);
    expect(cards.simulator.balanceOf(visa, 'USD')).toBe(before - 10_000n);
    const captured = await call('POST', `/v1/payment_intents/${held.body.id}/capture`, { amount_to_capture: 6_000 });
    expect(captured.body).toMatchObject({ status: 'succeeded', amount_received: 6_000 });
    expect(cards.simulator.balanceOf(visa, 'USD')).toBe(before - 6_000n);

    const second = await pay('pm_card_visa', 2_500, { capture_method: 'manual' });
    expect(cards.simulator.balanceOf(visa, 'USD')).toBe(before - 8_500n);
    const canceled = await call('POST', `/v1/payment_intents/${second.body.id}/cancel`);
    expect(canceled.body.status).toBe('canceled');
    expect(cards.simulator.balanceOf(visa, 'USD')).toBe(before - 6_000n);
  });

  test('a card payment is refunded to the card, partially then in full, once each', async () => {
    const before = cards.simulator.balanceOf(visa, 'USD');
    const paid = await pay('pm_card_visa', 3_000);
    const partial = await call('POST', '/v1/refunds', { payment_intent: paid.body.id, amount: 1_000 });
    expect(partial.body).toMatchObject({ status: 'succeeded', amount: 1_000 });
    const rest = await call('POST', '/v1/refunds', { charge: paid.body.latest_charge });
    expect(rest.body).toMatchObject({ status: 'succeeded', amount: 2_000 });
    expect(cards.simulator.balanceOf(visa, 'USD')).toBe(before);
    const again = await call('POST', '/v1/refunds', { charge: paid.body.latest_charge, amount: 1 });
    expect(again.status).toBe(400);
    const refunds = cards.simulator.transactions().filter((entry) => entry.kind === 'refund');
    expect(refunds.length).toBeGreaterThanOrEqual(2);
  });

  test('a PaymentMethod created from a card number and attached to a customer pays', async () => {
    const customer = await call('POST', '/v1/customers', { name: 'Card holder' });
    const method = await call('POST', '/v1/payment_methods', {
      type: 'card',
      card: { number: '5555555555554444', exp_month: 12, exp_year: 2031, cvc: '123' },
    });
    expect(method.status).toBe(200);
    expect(method.body.card).toMatchObject({ brand: 'mastercard', last4: '4444' });
    await call('POST', `/v1/payment_methods/${method.body.id}/attach`, { customer: customer.body.id });
    const paid = await pay(method.body.id, 777, { customer: customer.body.id });
    expect(paid.body.status).toBe('succeeded');
    // Created with the card and confirmed later: requires_confirmation in between.
    const later = await call('POST', '/v1/payment_intents', {
      amount: 100,
      currency: 'usd',
      payment_method: method.body.id,
    });
    expect(later.body.status).toBe('requires_confirmation');
    const confirmed = await call('POST', `/v1/payment_intents/${later.body.id}/confirm`);
    expect(confirmed.body.status).toBe('succeeded');
  });

  test('3-D Secure: the issuer asks for authentication; the hosted challenge completes or fails the payment', async () => {
    const returnUrl = 'https://shop.example/checkout/return?order=7';
    const pending = await pay('pm_card_authenticationRequired', 6_600, { return_url: returnUrl });
    expect(pending.status).toBe(200);
    expect(pending.body.status).toBe('requires_action');
    expect(pending.body.last_payment_error).toBeNull();
    const next = pending.body.next_action;
    expect(next.type).toBe('redirect_to_url');
    expect(next.redirect_to_url.return_url).toBe(returnUrl);
    const challengeUrl = next.redirect_to_url.url as string;
    expect(challengeUrl.startsWith(`${cards.platform.baseUrl}/3ds/challenges/chl_`)).toBe(true);

    const shown = await fetch(challengeUrl);
    expect(shown.status).toBe(200);
    expect(shown.headers.get('content-security-policy')).toContain("form-action 'self'");
    const html = await shown.text();
    expect(html).toContain('Authenticate your payment');
    expect(html).toContain('66.00 USD');

    const bogus = await fetch(challengeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'result=maybe',
    });
    expect(bogus.status).toBe(400);
    const completed = await fetch(challengeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'result=complete',
      redirect: 'manual',
    });
    expect(completed.status).toBe(303);
    const location = new URL(completed.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('https://shop.example/checkout/return');
    expect(location.searchParams.get('order')).toBe('7');
    expect(location.searchParams.get('payment_intent')).toBe(pending.body.id);
    const paid = await call('GET', `/v1/payment_intents/${pending.body.id}`);
    expect(paid.body.status).toBe('succeeded');
    // Single use: the page is gone once answered.
    expect((await fetch(challengeUrl)).status).toBe(404);

    const second = await pay('pm_card_authenticationRequired', 1_100);
    const failed = await fetch(second.body.next_action.redirect_to_url.url as string, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'result=fail',
    });
    expect(failed.status).toBe(200);
    expect(await failed.text()).toContain('Payment not completed');
    const after = await call('GET', `/v1/payment_intents/${second.body.id}`);
    expect(after.body.status).toBe('requires_payment_method');
    expect(after.body.last_payment_error.code).toBe('payment_intent_authentication_failure');

    const offSession = await pay('pm_card_authenticationRequired', 1_200, { off_session: true });
    expect(offSession.status).toBe(402);
    expect(offSession.body.error).toMatchObject({
      code: 'authentication_required',
      decline_code: 'authentication_required',
    });
  });

  test('a dropped response: the gateway reverses, the payment fails once, the issuer ends where it started', async () => {
    const before = cards.simulator.balanceOf(visa, 'USD');
    cards.simulator.faults.dropResponses({ mti: '0200', count: 1 });
    const failed = await pay('pm_card_visa', 4_321);
    expect(failed.status).toBe(402);
    expect(failed.body.error).toMatchObject({ type: 'card_error', code: 'processing_error' });
    expect(failed.body.error.payment_intent.status).toBe('requires_payment_method');
    expect(cards.simulator.balanceOf(visa, 'USD')).toBe(before);
    const sale = cards.simulator.transactions().find((entry) => entry.amountMinor === 4_321n);
    expect(sale?.reversed).toBe(true);
  });

  test('a late response: the reversal goes out after the timeout and wins over the late approval', async () => {
    const before = cards.simulator.balanceOf(visa, 'USD');
    cards.simulator.faults.delayResponses({ mti: '0200', count: 1, delayMs: 1_000 });
    const failed = await pay('pm_card_visa', 4_322);
    expect(failed.status).toBe(402);
    expect(failed.body.error.code).toBe('processing_error');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(cards.simulator.balanceOf(visa, 'USD')).toBe(before);
    const intent = await call('GET', `/v1/payment_intents/${failed.body.error.payment_intent.id}`);
    expect(intent.body.status).toBe('requires_payment_method');
  });

  test('restarting the simulator under load loses no acknowledged payment and charges nobody twice', async () => {
    const before = cards.simulator.balanceOf(visa, 'USD');
    const amounts = Array.from({ length: 40 }, (_, index) => 100 + index);
    const results = Promise.all(
      amounts.map(async (amount, index) => {
        await new Promise((resolve) => setTimeout(resolve, index * 15));
        return pay('pm_card_visa', amount);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await cards.restartSimulator({ downMs: 150 });
    const answers = await results;
    // Drain reversals still pending (the worker would; here the test runs the sweep).
    for (let round = 0; round < 20; round += 1) {
      const report = await cards.platform.services.cards!.gateway.sweep({ batchSizeMax: 100 });
      if (report.reversalPendingCount === 0 && report.claimedCount === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    let succeededMinor = 0n;
    for (const [index, answer] of answers.entries()) {
      if (answer.status === 200) {
        expect(answer.body.status).toBe('succeeded');
        succeededMinor += BigInt(amounts[index]!);
      } else {
        expect(answer.status).toBe(402);
        const intent = await call('GET', `/v1/payment_intents/${answer.body.error.payment_intent.id}`);
        expect(intent.body.status).toBe('requires_payment_method');
      }
    }
    expect(succeededMinor).toBeGreaterThan(0n);
    // Every acknowledged payment is on the issuer's books once; every failed one left no trace.
    expect(cards.simulator.balanceOf(visa, 'USD')).toBe(before - succeededMinor);
  });

  test('wallet top-up from a saved card goes through the gateway; a declined card tops up nothing', async () => {
    const user = await signUp(cards.platform.baseUrl, 'Card Topper');
    const saved = await api(cards.platform.baseUrl, 'POST', '/wallet/v1/cards', {
      token: user.accessToken,
      body: { number: '4000056655665556', exp_month: 11, exp_year: 2030, cvc: '424' },
    });
    expect(saved.status).toBe(201);
    expect(saved.body).toMatchObject({ brand: 'visa', last4: '5556' });
    const before = cards.simulator.balanceOf('4000056655665556', 'CNY');
    const topped = await api(cards.platform.baseUrl, 'POST', '/wallet/v1/topups', {
      token: user.accessToken,
      idempotencyKey: 'card-topup-1',
      body: { amount: 8_800, currency: 'CNY', source: saved.body.id },
    });
    expect(topped.status).toBe(201);
    expect(topped.body.status).toBe('succeeded');
    expect(cards.simulator.balanceOf('4000056655665556', 'CNY')).toBe(before - 8_800n);
    const balances = await api(cards.platform.baseUrl, 'GET', '/wallet/v1/balances', { token: user.accessToken });
    expect(balances.body).toContainEqual({ currency: 'CNY', available: 8_800, pending: 0 });

    const declinedCard = await api(cards.platform.baseUrl, 'POST', '/wallet/v1/cards', {
      token: user.accessToken,
      body: { token: 'tok_chargeDeclined' },
    });
    const declined = await api(cards.platform.baseUrl, 'POST', '/wallet/v1/topups', {
      token: user.accessToken,
      idempotencyKey: 'card-topup-2',
      body: { amount: 100, currency: 'CNY', source: declinedCard.body.id },
    });
    expect(declined.status).toBe(402);
    expect(declined.body.error.code).toBe('card_declined');
    const after = await api(cards.platform.baseUrl, 'GET', '/wallet/v1/balances', { token: user.accessToken });
    expect(after.body).toContainEqual({ currency: 'CNY', available: 8_800, pending: 0 });
  });

  test('no card number and no CVC anywhere: database, logs, webhook event bodies', async () => {
    const tables = await cards.platform.db.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    const texts: string[] = [];
    for (const { table_name: table } of tables) {
      const rows = await cards.platform.db.query<{ row: string }>(`select t::text as row from "${table}" t`);
      texts.push(...rows.map((row) => row.row));
    }
    texts.push(...cards.platform.logs.raw);
    // Webhook bodies as delivered (every event of the run goes to the endpoint).
    for (let round = 0; round < 50; round += 1) {
      const report = await cards.platform.services.webhooks.deliverDue(100);
      if (report.attempts === 0) break;
    }
    const delivered = receiver.at('/hooks').map((request) => request.body);
    expect(delivered.length).toBeGreaterThan(20);
    expect(delivered.some((body) => body.includes('"payment_method_details"'))).toBe(true);
    texts.push(...delivered);
    const dump = texts.join('\n');
    expect(dump.length).toBeGreaterThan(10_000);
    const found: string[] = [];
    // Runs inside hex strings and decimal fractions (log timings) are not card numbers.
    for (const match of dump.matchAll(/(?<![0-9A-Za-z.])[0-9]{13,19}(?![0-9A-Za-z])/g)) {
      const digits = match[0];
      // A card number: Luhn-valid and of a known brand (timestamps and amounts are neither).
      if (luhnValid(digits) && cardBrandOf(digits) !== 'unknown') {
        found.push(`${digits.slice(0, 6)}… after ${dump.slice(Math.max(0, (match.index ?? 0) - 40), match.index)}`);
      }
    }
    expect(found).toEqual([]);
    for (const number of [visa, '5555555555554444', '4000056655665556', '4000000000000002']) {
      expect(dump.includes(number)).toBe(false);
    }
    // CVCs: no field named cvc holds a value anywhere (cvc_check is a result, not the code).
    expect(dump).not.toMatch(/"cvc"\s*:\s*"?[0-9]/);
    expect(dump).not.toMatch(/[?&]cvc=|card\[cvc\]=/);
  });
});

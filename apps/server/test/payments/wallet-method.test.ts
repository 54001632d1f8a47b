import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyLedger } from '../../src/modules/ledger/index.js';
import {
  createPaymentService,
  createWalletMethod,
  type MerchantContext,
  type PaymentService,
  type WalletMethod,
} from '../../src/modules/payments/index.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, available, signUp, testPin, topUp, type TestUser } from '../support/wallet.js';

let platform: TestPlatform;
let payments: PaymentService;
let method: WalletMethod;
let clockMs = Date.now();

beforeAll(async () => {
  platform = await startPlatform();
  const { services } = platform;
  payments = createPaymentService({
    db: platform.db,
    ledger: platform.ledger,
    pricingOf: async () => ({ basisPoints: 60, fixedMinor: {} }),
    walletPayer: services.wallets,
  });
  method = createWalletMethod({
    db: platform.db,
    payments,
    notifications: services.notifications.writer,
    now: () => new Date(clockMs),
    ports: {
      redeemPaymentCode: (code, options) => services.codes.redeemPaymentCode(code, options),
      wallets: services.wallets,
      verifyPaymentPin: (userId, pin) => services.identity.verifyPaymentPin(userId, pin),
      merchantName: async () => 'Corner Cafe',
    },
  });
});

afterAll(async () => {
  const report = await verifyLedger(platform.db);
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  await platform.close();
});

function merchant(livemode: boolean): MerchantContext {
  return { accountId: `acct_${Math.random().toString(36).slice(2)}`, livemode };
}

async function paymentCode(user: TestUser): Promise<string> {
  const issued = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: user.accessToken });
  expect(issued.status).toBe(201);
  return issued.body.code as string;
}

describe('paying a merchant with a wallet code', () => {
  test('a small payment goes through at once, from the wallet, into the history', async () => {
    const payer = await signUp(platform.baseUrl, 'Payer');
    await topUp(platform.baseUrl, payer, 100_000);
    const ctx = merchant(true);
    const intent = await payments.createIntent(ctx, { amountMinor: 1_000n, currency: 'CNY' });
    const paid = await method.confirmWithCode(ctx, intent.id, await paymentCode(payer));
    expect(paid.status).toBe('succeeded');
    expect(await available(platform.baseUrl, payer)).toBe(99_000);
    expect(await payments.ledgerBalance(ctx, 'CNY')).toBe(1_000n - 6n);
    const history = await api(platform.baseUrl, 'GET', '/wallet/v1/transactions?type=payment', {
      token: payer.accessToken,
    });
    expect(history.body.data[0]).toMatchObject({
      type: 'payment',
      status: 'succeeded',
      amount: 1_000,
      counterparty: { name: 'Corner Cafe' },
    });
  });

  test('above the no-PIN threshold it waits for the payer to approve with the PIN', async () => {
    const payer = await signUp(platform.baseUrl);
    await topUp(platform.baseUrl, payer, 100_000);
    const ctx = merchant(true);
    const intent = await payments.createIntent(ctx, { amountMinor: 30_000n, currency: 'CNY' });
    const waiting = await method.confirmWithCode(ctx, intent.id, await paymentCode(payer));
    expect(waiting.status).toBe('requires_action');
    expect(waiting.nextAction).toMatchObject({ type: 'wallet_await_customer' });
    expect(await available(platform.baseUrl, payer)).toBe(100_000);
    const [approval] = await method.pendingApprovals(payer.id);
    expect(approval).toMatchObject({ amountMinor: 30_000n, merchantName: 'Corner Cafe', status: 'pending' });
    const notes = await api(platform.baseUrl, 'GET', '/wallet/v1/notifications', { token: payer.accessToken });
    expect(notes.body.data[0]).toMatchObject({ type: 'payment.approval_requested', data: { approval: approval!.id } });
    const stranger = await signUp(platform.baseUrl);
    await expect(method.approve(stranger.id, approval!.id, testPin)).rejects.toMatchObject({ code: 'not_found' });
    await expect(method.approve(payer.id, approval!.id, '000009')).rejects.toMatchObject({ code: 'pin_invalid' });
    const { intent: paid } = await method.approve(payer.id, approval!.id, testPin);
    expect(paid.status).toBe('succeeded');
    expect(await available(platform.baseUrl, payer)).toBe(70_000);
    await expect(method.approve(payer.id, approval!.id, testPin)).rejects.toMatchObject({
      code: 'payment_approval_closed',
    });
  });

  test('an approval not given within 60 s cancels the payment', async () => {
    const payer = await signUp(platform.baseUrl);
    await topUp(platform.baseUrl, payer, 100_000);
    const ctx = merchant(true);
    const intent = await payments.createIntent(ctx, { amountMinor: 30_000n, currency: 'CNY' });
    await method.confirmWithCode(ctx, intent.id, await paymentCode(payer));
    const [approval] = await method.pendingApprovals(payer.id);
    clockMs += 61_000;
    try {
      expect(await method.expireApprovals()).toBeGreaterThanOrEqual(1);
      expect((await payments.retrieveIntent(ctx, intent.id)).status).toBe('canceled');
      await expect(method.approve(payer.id, approval!.id, testPin)).rejects.toMatchObject({
        code: 'payment_approval_closed',
      });
    } finally {
      clockMs -= 61_000;
    }
    expect(await available(platform.baseUrl, payer)).toBe(100_000);
  });

  test('20 simultaneous redemptions of one code make exactly one payment', async () => {
    const payer = await signUp(platform.baseUrl);
    await topUp(platform.baseUrl, payer, 100_000);
    const ctx = merchant(true);
    const code = await paymentCode(payer);
    const intents = await Promise.all(
      Array.from({ length: 20 }, () => payments.createIntent(ctx, { amountMinor: 500n, currency: 'CNY' })),
    );
    const outcomes = await Promise.allSettled(intents.map((intent) => method.confirmWithCode(ctx, intent.id, code)));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'payment_code_used' });
    }
    expect(await available(platform.baseUrl, payer)).toBe(99_500);
  });

  test('in test mode the code must be real, but the wallet is never charged', async () => {
    const payer = await signUp(platform.baseUrl);
    await topUp(platform.baseUrl, payer, 5_000);
    const ctx = merchant(false);
    const intent = await payments.createIntent(ctx, { amountMinor: 2_000n, currency: 'CNY' });
    await expect(method.confirmWithCode(ctx, intent.id, '881234567890123456')).rejects.toMatchObject({
      code: 'payment_code_invalid',
    });
    const paid = await method.confirmWithCode(ctx, intent.id, await paymentCode(payer));
    expect(paid.status).toBe('succeeded');
    expect(await available(platform.baseUrl, payer)).toBe(5_000);
    expect(await payments.ledgerBalance(ctx, 'CNY')).toBe(2_000n - 12n);
  });

  test('a refund goes back to the wallet, into its history, with a notification', async () => {
    const payer = await signUp(platform.baseUrl);
    await topUp(platform.baseUrl, payer, 10_000);
    const ctx = merchant(true);
    const intent = await payments.createIntent(ctx, { amountMinor: 4_000n, currency: 'CNY' });
    const paid = await method.confirmWithCode(ctx, intent.id, await paymentCode(payer));
    await method.refund(ctx, { chargeId: paid.latestChargeId!, amountMinor: 1_500n });
    expect(await available(platform.baseUrl, payer)).toBe(7_500);
    const refunds = await api(platform.baseUrl, 'GET', '/wallet/v1/transactions?type=refund', {
      token: payer.accessToken,
    });
    expect(refunds.body.data[0]).toMatchObject({ type: 'refund', amount: 1_500, status: 'succeeded' });
    const notes = await api(platform.baseUrl, 'GET', '/wallet/v1/notifications', { token: payer.accessToken });
    expect(notes.body.data.map((n: { type: string }) => n.type)).toContain('refund.received');
  });

  test('a frozen wallet cannot pay', async () => {
    const payer = await signUp(platform.baseUrl);
    await topUp(platform.baseUrl, payer, 10_000);
    await platform.services.wallets.setFrozen(payer.id, true);
    const ctx = merchant(true);
    const intent = await payments.createIntent(ctx, { amountMinor: 1_000n, currency: 'CNY' });
    await expect(method.confirmWithCode(ctx, intent.id, await paymentCode(payer))).rejects.toMatchObject({
      code: 'wallet_frozen',
    });
    expect(await available(platform.baseUrl, payer)).toBe(10_000);
  });
});

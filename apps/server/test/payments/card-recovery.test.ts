import { afterAll, beforeAll, expect, test } from 'vitest';
import { createLedger, verifyLedger, type Ledger } from '../../src/modules/ledger/index.js';
import {
  createPaymentService,
  type CardOutcome,
  type CardNetworkPort,
  type PaymentService,
} from '../../src/modules/payments/index.js';
import { openTestDb, type TestDb } from '../support/db.js';
import { uuid } from '../ledger/helpers.js';

/**
 * A process that dies while the card network is deciding leaves a charge pending and its intent
 * processing. The worker's recovery finishes it from the gateway's record: posted when the network
 * approved, failed otherwise, left alone while the outcome is not settled.
 */
let testDb: TestDb;
let ledger: Ledger;
let payments: PaymentService;
const outcomes = new Map<string, CardOutcome | null>();
const neverAnswers = new Promise<CardOutcome>(() => undefined);

const network: CardNetworkPort = {
  // The "crash": the authorization never comes back to this process.
  authorize: () => neverAnswers,
  capture: async () => ({ approved: true }),
  void: async () => undefined,
  refund: async () => ({ approved: true }),
  resolveCharge: async ({ chargeId }) => outcomes.get(chargeId) ?? null,
  resolveRefund: async () => null,
};

beforeAll(async () => {
  testDb = await openTestDb();
  ledger = createLedger(testDb.db);
  payments = createPaymentService({
    db: testDb.db,
    ledger,
    pricingOf: async () => ({ basisPoints: 60, fixedMinor: {} }),
    cards: network,
  });
});

afterAll(async () => {
  const report = await verifyLedger(testDb.db);
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  await ledger.close();
  await testDb.dispose();
});

const card = { paymentMethodId: 'pm_test', details: { brand: 'visa', last4: '4242' }, reference: 'visa •••• 4242' };

async function stuckPayment(ctx: { accountId: string; livemode: boolean }, amountMinor: bigint) {
  const intent = await payments.createIntent(ctx, { amountMinor, currency: 'USD' });
  void payments.confirmWithCard(ctx, intent.id, card);
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const current = await payments.retrieveIntent(ctx, intent.id);
    if (current.status === 'processing' && current.latestChargeId !== null) return current;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the payment never reached processing');
}

test('charges left pending are posted when approved, failed when declined, kept while unknown', async () => {
  const ctx = { accountId: `acct_${uuid().replaceAll('-', '')}`, livemode: false };
  const approved = await stuckPayment(ctx, 5_000n);
  const declined = await stuckPayment(ctx, 6_000n);
  const unknown = await stuckPayment(ctx, 7_000n);
  outcomes.set(approved.latestChargeId!, { approved: true });
  outcomes.set(declined.latestChargeId!, {
    approved: false,
    code: 'processing_error',
    declineCode: 'processing_error',
    message: 'The payment was interrupted.',
  });

  // Too young: nothing is touched.
  expect(await payments.recoverCardCharges({ olderThanMs: 60_000, batchSizeMax: 10 })).toBe(0);
  expect(await payments.recoverCardCharges({ olderThanMs: 0, batchSizeMax: 10 })).toBe(2);

  expect((await payments.retrieveIntent(ctx, approved.id)).status).toBe('succeeded');
  expect((await payments.retrieveCharge(ctx, approved.latestChargeId!)).status).toBe('succeeded');
  expect(await payments.ledgerBalance(ctx, 'USD')).toBe(5_000n - 30n);
  const failed = await payments.retrieveIntent(ctx, declined.id);
  expect(failed.status).toBe('requires_payment_method');
  expect(failed.lastPaymentError).toMatchObject({ code: 'processing_error' });
  expect((await payments.retrieveIntent(ctx, unknown.id)).status).toBe('processing');

  // Running again changes nothing (the approved one is not posted twice).
  expect(await payments.recoverCardCharges({ olderThanMs: 0, batchSizeMax: 10 })).toBe(0);
  expect(await payments.ledgerBalance(ctx, 'USD')).toBe(5_000n - 30n);
  outcomes.set(unknown.latestChargeId!, { approved: true });
  expect(await payments.recoverCardCharges({ olderThanMs: 0, batchSizeMax: 10 })).toBe(1);
  expect((await payments.retrieveIntent(ctx, unknown.id)).status).toBe('succeeded');
});

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLedger, verifyLedger, type Ledger } from '../../src/modules/ledger/index.js';
import {
  createPaymentService,
  paymentFee,
  refundedFee,
  type MerchantContext,
  type Payer,
  type PaymentService,
} from '../../src/modules/payments/index.js';
import { openTestDb, type TestDb } from '../support/db.js';
import { uuid } from '../ledger/helpers.js';

let testDb: TestDb;
let ledger: Ledger;
let payments: PaymentService;
let funding: string;

beforeAll(async () => {
  testDb = await openTestDb();
  ledger = createLedger(testDb.db);
  payments = createPaymentService({
    db: testDb.db,
    ledger,
    pricingOf: async () => ({ basisPoints: 60, fixedMinor: {} }),
  });
  funding = uuid();
  await ledger.createAccounts([{ id: funding, currency: 'CNY', code: 100 }]);
});

afterAll(async () => {
  const report = await verifyLedger(testDb.db);
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  await ledger.close();
  await testDb.dispose();
});

function merchant(livemode = false): MerchantContext {
  return { accountId: `acct_${uuid().replaceAll('-', '')}`, livemode };
}

/** A wallet holding `balance`, as the payer. */
async function walletPayer(balance: bigint): Promise<Payer> {
  const id = uuid();
  await ledger.createAccounts([{ id, currency: 'CNY', code: 1, flags: { debitsMustNotExceedCredits: true } }]);
  if (balance > 0n) {
    const [result] = await ledger.submitTransfers([
      { id: uuid(), debitAccountId: funding, creditAccountId: id, amountMinor: balance, currency: 'CNY', code: 1001 },
    ]);
    expect(result!.result).toBe('ok');
  }
  return { ledgerAccountId: id, reference: 'usr_test', details: { type: 'wallet', wallet: { user: 'usr_test' } } };
}

async function balanceOf(accountId: string): Promise<bigint> {
  const [account] = await ledger.lookupAccounts([accountId]);
  return account!.creditsPostedMinor - account!.debitsPostedMinor - account!.debitsPendingMinor;
}

describe('fees', () => {
  test('0.6 % + 0.00 of 100.00 is 0.60, rounded half up, never above the amount', () => {
    const pricing = { basisPoints: 60, fixedMinor: {} };
    expect(paymentFee(10_000n, 'CNY', pricing)).toBe(60n);
    expect(paymentFee(125n, 'CNY', pricing)).toBe(1n); // 0.75 → 1
    expect(paymentFee(83n, 'CNY', pricing)).toBe(0n); // 0.498 → 0
    expect(paymentFee(5n, 'CNY', { basisPoints: 60, fixedMinor: { CNY: 30n } })).toBe(5n);
  });

  test('refunds in any number of parts give back exactly the share of the fee, and all of it at the end', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { minLength: 1, maxLength: 8 }),
        (captured, bps, parts) => {
          const fee = paymentFee(captured, 'CNY', { basisPoints: bps, fixedMinor: {} });
          let refunded = 0n;
          let feeBack = 0n;
          for (const part of parts) {
            const amount = part > captured - refunded ? captured - refunded : part;
            if (amount <= 0n) break;
            const back = refundedFee({
              feeMinor: fee,
              capturedMinor: captured,
              refundedBeforeMinor: refunded,
              refundMinor: amount,
              feeRefundedBeforeMinor: feeBack,
            });
            expect(back).toBeGreaterThanOrEqual(0n);
            refunded += amount;
            feeBack += back;
          }
          expect(feeBack).toBe((fee * refunded) / captured);
          if (refunded === captured) expect(feeBack).toBe(fee);
        },
      ),
    );
  });
});

describe('payment intents', () => {
  test('a 100.00 payment at 0.6 %: balance transaction 10000 / fee 60 / net 9940, and the ledger agrees', async () => {
    const ctx = merchant();
    const payer = await walletPayer(50_000n);
    const intent = await payments.createIntent(ctx, { amountMinor: 10_000n, currency: 'CNY' });
    expect(intent.status).toBe('requires_payment_method');
    const paid = await payments.confirmWithPayer(ctx, intent.id, payer, 'wallet');
    expect(paid.status).toBe('succeeded');
    expect(paid.amountReceivedMinor).toBe(10_000n);
    const charge = await payments.retrieveCharge(ctx, paid.latestChargeId!);
    const bt = await payments.balanceTransaction(ctx, charge.balanceTransactionId!);
    expect([bt.amountMinor, bt.feeMinor, bt.netMinor, bt.type, bt.status]).toEqual([
      10_000n,
      60n,
      9_940n,
      'charge',
      'pending',
    ]);
    expect(await payments.ledgerBalance(ctx, 'CNY')).toBe(9_940n);
    expect(await balanceOf(payer.ledgerAccountId)).toBe(40_000n);
    expect(await payments.balance(ctx)).toEqual([{ currency: 'CNY', availableMinor: 0n, pendingMinor: 9_940n }]);
  });

  test('a payer without the funds: requires_payment_method again, with last_payment_error, nothing moved', async () => {
    const ctx = merchant();
    const payer = await walletPayer(500n);
    const intent = await payments.createIntent(ctx, { amountMinor: 10_000n, currency: 'CNY' });
    const failed = await payments.confirmWithPayer(ctx, intent.id, payer, 'wallet');
    expect(failed.status).toBe('requires_payment_method');
    expect(failed.lastPaymentError).toMatchObject({ code: 'insufficient_funds' });
    expect(await balanceOf(payer.ledgerAccountId)).toBe(500n);
    expect((await payments.retrieveCharge(ctx, failed.latestChargeId!)).status).toBe('failed');
    // A second attempt with a funded payer succeeds.
    const retried = await payments.confirmWithPayer(ctx, intent.id, await walletPayer(10_000n), 'wallet');
    expect(retried.status).toBe('succeeded');
  });

  test('manual capture of part of the amount releases the rest to the payer', async () => {
    const ctx = merchant();
    const payer = await walletPayer(20_000n);
    const intent = await payments.createIntent(ctx, { amountMinor: 10_000n, currency: 'CNY', captureMethod: 'manual' });
    const authorized = await payments.confirmWithPayer(ctx, intent.id, payer, 'wallet');
    expect([authorized.status, authorized.amountCapturableMinor]).toEqual(['requires_capture', 10_000n]);
    expect(await balanceOf(payer.ledgerAccountId)).toBe(10_000n);
    await expect(payments.capture(ctx, intent.id, 10_001n)).rejects.toMatchObject({ param: 'amount_to_capture' });
    const captured = await payments.capture(ctx, intent.id, 6_000n);
    expect([captured.status, captured.amountReceivedMinor, captured.amountCapturableMinor]).toEqual([
      'succeeded',
      6_000n,
      0n,
    ]);
    expect(await balanceOf(payer.ledgerAccountId)).toBe(14_000n);
    expect(await payments.ledgerBalance(ctx, 'CNY')).toBe(6_000n - 36n);
    await expect(payments.capture(ctx, intent.id)).rejects.toMatchObject({ code: 'payment_intent_unexpected_state' });
  });

  test('canceling an authorized intent releases the reservation; a succeeded one cannot be canceled', async () => {
    const ctx = merchant();
    const payer = await walletPayer(20_000n);
    const intent = await payments.createIntent(ctx, { amountMinor: 10_000n, currency: 'CNY', captureMethod: 'manual' });
    await payments.confirmWithPayer(ctx, intent.id, payer, 'wallet');
    const canceled = await payments.cancel(ctx, intent.id, 'requested_by_customer');
    expect([canceled.status, canceled.cancellationReason]).toEqual(['canceled', 'requested_by_customer']);
    expect(await balanceOf(payer.ledgerAccountId)).toBe(20_000n);
    const other = await payments.createIntent(ctx, { amountMinor: 100n, currency: 'CNY' });
    await payments.confirmWithPayer(ctx, other.id, payer, 'wallet');
    await expect(payments.cancel(ctx, other.id, null)).rejects.toMatchObject({
      code: 'payment_intent_unexpected_state',
    });
  });

  test('test and live objects are separate worlds, and other merchants see nothing', async () => {
    const ctx = merchant(false);
    const intent = await payments.createIntent(ctx, { amountMinor: 100n, currency: 'CNY' });
    await expect(payments.retrieveIntent({ ...ctx, livemode: true }, intent.id)).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(payments.retrieveIntent(merchant(false), intent.id)).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('refunds', () => {
  test('two partial refunds, then one that would pass the capture is refused; fees come back in proportion', async () => {
    const ctx = merchant();
    const payer = await walletPayer(10_000n);
    const intent = await payments.createIntent(ctx, { amountMinor: 10_000n, currency: 'CNY' });
    const paid = await payments.confirmWithPayer(ctx, intent.id, payer, 'wallet');
    const chargeId = paid.latestChargeId!;
    const first = await payments.refund(ctx, { chargeId, amountMinor: 3_000n });
    const second = await payments.refund(ctx, { chargeId, amountMinor: 2_000n });
    expect([first.status, first.feeRefundedMinor, second.feeRefundedMinor]).toEqual(['succeeded', 18n, 12n]);
    await expect(payments.refund(ctx, { chargeId, amountMinor: 5_001n })).rejects.toMatchObject({
      code: 'amount_too_large',
    });
    expect(await balanceOf(payer.ledgerAccountId)).toBe(5_000n);
    expect(await payments.ledgerBalance(ctx, 'CNY')).toBe(9_940n - 5_000n + 30n);
    const rest = await payments.refund(ctx, { chargeId });
    expect([rest.amountMinor, rest.feeRefundedMinor]).toEqual([5_000n, 30n]);
    expect(await payments.ledgerBalance(ctx, 'CNY')).toBe(0n);
    await expect(payments.refund(ctx, { chargeId })).rejects.toMatchObject({ code: 'charge_already_refunded' });
  });

  test('50 concurrent refunds of 60.00 against a 100.00 capture refund at most 100.00', async () => {
    const ctx = merchant();
    const payer = await walletPayer(10_000n);
    const intent = await payments.createIntent(ctx, { amountMinor: 10_000n, currency: 'CNY' });
    const chargeId = (await payments.confirmWithPayer(ctx, intent.id, payer, 'wallet')).latestChargeId!;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () => payments.refund(ctx, { chargeId, amountMinor: 6_000n })),
    );
    const succeeded = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(succeeded).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'amount_too_large' });
    }
    const charge = await payments.retrieveCharge(ctx, chargeId);
    expect(charge.amountRefundedMinor).toBe(6_000n);
    expect(await balanceOf(payer.ledgerAccountId)).toBe(6_000n);
    expect((await payments.refundsOf(ctx, chargeId)).map((refund) => refund.amountMinor)).toEqual([6_000n]);
  });
});

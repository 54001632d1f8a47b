import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyExitCode, verifyLedger } from '../../src/modules/ledger/index.js';
import { paymentVerifyChecks } from '../../src/modules/payments/index.js';
import { walletVerifyChecks } from '../../src/modules/wallets/index.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, newKey, signUp, topUp } from '../support/wallet.js';

/**
 * `ledger verify` cross-checks payments and wallets against the ledger: each damage below (the
 * kind a crash without recovery, or a bug, would leave) makes exactly its check fail, with the
 * offending id as a sample and its bit in the exit code.
 */
let platform: TestPlatform;
let chargeId: string;
let refundId: string;

const extraChecks = [...paymentVerifyChecks({ recoveryBoundMs: 0 }), ...walletVerifyChecks({ recoveryBoundMs: 0 })];
const failedChecks = async () =>
  (await verifyLedger(platform.db, { extraChecks })).checks.filter((check) => !check.ok).map((check) => check.name);

beforeAll(async () => {
  platform = await startPlatform();
  const created = await api(platform.baseUrl, 'POST', '/admin/v1/merchants', {
    token: platform.adminToken,
    body: { name: 'Checked Shop', country: 'CN', default_currency: 'cny', mcc: '5812' },
  });
  const key = created.body.secret_key as string;
  const payer = await signUp(platform.baseUrl, 'Payer');
  await topUp(platform.baseUrl, payer, 50_000);
  const code = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: payer.accessToken });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' };
  const paid = await fetch(`${platform.baseUrl}/v1/payment_intents`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': newKey() },
    body: new URLSearchParams({
      amount: '2000',
      currency: 'cny',
      confirm: 'true',
      'payment_method_data[type]': 'wallet',
      'payment_method_data[wallet][code]': code.body.code as string,
    }).toString(),
  }).then((response) => response.json() as Promise<{ status: string; latest_charge: string }>);
  expect(paid.status).toBe('succeeded');
  chargeId = paid.latest_charge;
  const refunded = await fetch(`${platform.baseUrl}/v1/refunds`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': newKey() },
    body: new URLSearchParams({ charge: chargeId, amount: '500' }).toString(),
  }).then((response) => response.json() as Promise<{ id: string; status: string }>);
  expect(refunded.status).toBe('succeeded');
  refundId = refunded.id;
});

afterAll(async () => {
  await platform.close();
});

describe('ledger verify cross-checks', () => {
  test('a clean platform passes every check', async () => {
    expect(await failedChecks()).toEqual([]);
  });

  test('money moved for a charge that did not succeed', async () => {
    await platform.db.query(`update payments_charges set status = 'failed' where id = $1`, [chargeId]);
    try {
      const report = await verifyLedger(platform.db, { extraChecks });
      const failed = report.checks.filter((check) => !check.ok);
      expect(failed.map((check) => check.name)).toEqual(['payment_transfers_have_payments']);
      expect(failed[0]!.violationCount).toBe(2); // the charge and its fee
      const index = report.checks.findIndex((check) => check.name === 'payment_transfers_have_payments');
      expect(verifyExitCode(report)).toBe(1 << (index + 1));
    } finally {
      await platform.db.query(`update payments_charges set status = 'succeeded' where id = $1`, [chargeId]);
    }
  });

  test('a succeeded charge or refund without its transfer', async () => {
    await platform.db.query(
      `insert into payments_charges (id, account_id, livemode, payment_intent_id, amount, amount_captured, currency,
         fee, status, captured, payment_method_details, payer_ledger_account_id, created_at)
       select 'ch_ghost', account_id, livemode, payment_intent_id, 100, 100, currency, 0, 'succeeded', true,
              payment_method_details, payer_ledger_account_id, now() - interval '1 hour'
         from payments_charges where id = $1`,
      [chargeId],
    );
    await platform.db.query(
      `insert into payments_refunds (id, account_id, livemode, charge_id, payment_intent_id, amount, currency, status, created_at)
       select 're_ghost', account_id, livemode, charge_id, payment_intent_id, 1, currency, 'succeeded', now() - interval '1 hour'
         from payments_refunds where id = $1`,
      [refundId],
    );
    try {
      const report = await verifyLedger(platform.db, { extraChecks });
      const failed = report.checks.filter((check) => !check.ok);
      expect(failed.map((check) => [check.name, check.samples])).toEqual([
        ['payments_have_transfers', ['ch_ghost', 're_ghost']],
      ]);
    } finally {
      await platform.db.query(`delete from payments_charges where id = 'ch_ghost'`);
      await platform.db.query(`delete from payments_refunds where id = 're_ghost'`);
    }
  });

  test('a payment or a wallet history row left in a middle state past the recovery bound', async () => {
    await platform.db.query(`update payments_charges set status = 'pending' where id = $1`, [chargeId]);
    await platform.db.query(`update payments_refunds set status = 'pending' where id = $1`, [refundId]);
    const rows = await platform.db.query<{ id: string }>(
      `update wallets_transactions set status = 'pending'
        where id = (select id from wallets_transactions where type = 'topup' limit 1) returning id`,
    );
    try {
      const failed = (await verifyLedger(platform.db, { extraChecks })).checks.filter((check) => !check.ok);
      expect(failed.find((check) => check.name === 'payments_settled')?.samples).toEqual([chargeId, refundId].sort());
      expect(failed.find((check) => check.name === 'wallet_history_settled')?.samples).toEqual([rows[0]!.id]);
      // Within the bound (a payment that may still be running), neither is judged.
      const lenient = await verifyLedger(platform.db, {
        extraChecks: [
          ...paymentVerifyChecks({ recoveryBoundMs: 3_600_000 }),
          ...walletVerifyChecks({ recoveryBoundMs: 3_600_000 }),
        ],
      });
      expect(lenient.checks.filter((check) => !check.ok).map((check) => check.name)).toEqual([]);
    } finally {
      await platform.db.query(`update payments_charges set status = 'succeeded' where id = $1`, [chargeId]);
      await platform.db.query(`update payments_refunds set status = 'succeeded' where id = $1`, [refundId]);
      await platform.db.query(`update wallets_transactions set status = 'succeeded' where id = $1`, [rows[0]!.id]);
    }
    expect(await failedChecks()).toEqual([]);
  });
});

import { describe, expect, test } from 'vitest';
import { createLedger, verifyExitCode, verifyLedger } from '../../src/modules/ledger/index.js';
import type { SqlExecutor } from '../../src/platform/db.js';
import { openTestDb } from '../support/db.js';
import { clearingAccount, createAccountsOk, transfer, uuid, walletAccount } from './helpers.js';

interface Scene {
  funding: string;
  wallet: string;
  sink: string;
  paymentId: string;
  pendingId: string;
}

/** A small healthy ledger, then one kind of damage done behind the engine's back. */
async function verifyAfter(damage: (db: SqlExecutor, scene: Scene) => Promise<unknown>) {
  const testDb = await openTestDb();
  try {
    const ledger = createLedger(testDb.db);
    const [funding, wallet, sink] = await createAccountsOk(ledger, [
      clearingAccount(),
      walletAccount(),
      walletAccount(),
    ]);
    const payment = transfer(wallet!, sink!, 300n);
    const pending = transfer(wallet!, sink!, 100n, { phase: 'pending' });
    const results = await ledger.submitTransfers([transfer(funding!, wallet!, 1000n), payment, pending]);
    expect(results.map((r) => r.result)).toEqual(['ok', 'ok', 'ok']);
    await ledger.close();
    const clean = await verifyLedger(testDb.db);
    expect(clean.ok).toBe(true);
    expect(verifyExitCode(clean)).toBe(0);
    const scene = { funding: funding!, wallet: wallet!, sink: sink!, paymentId: payment.id, pendingId: pending.id };
    await damage(testDb.db, scene);
    const report = await verifyLedger(testDb.db);
    return {
      scene,
      report,
      failed: report.checks.filter((check) => !check.ok).map((check) => check.name),
      exitCode: verifyExitCode(report),
    };
  } finally {
    await testDb.dispose();
  }
}

describe('ledger verify finds damage', () => {
  test('an entry added to a transfer: the transfer no longer balances', async () => {
    const { failed, exitCode, report, scene } = await verifyAfter((db, s) =>
      db.query(
        `insert into ledger_entries (seq, prev_seq, transfer_id, account_id, is_credit, posted_amount, pending_amount, balance_after)
         values (999999999999, null, $1, $2, true, 5, 0, 305)`,
        [s.paymentId, s.sink],
      ),
    );
    expect(failed).toContain('transfers_balance');
    expect(exitCode & 2).toBe(2);
    expect(report.checks.find((c) => c.name === 'transfers_balance')!.samples).toEqual([scene.paymentId]);
  });

  test('money created outside a transfer: the currency no longer sums to zero', async () => {
    const { failed, exitCode } = await verifyAfter((db, s) =>
      db.query('update ledger_accounts set credits_posted = credits_posted + 7 where id = $1', [s.sink]),
    );
    expect(failed).toEqual(expect.arrayContaining(['currencies_sum_to_zero', 'balances_match_entries']));
    expect(exitCode & (4 | 16)).toBe(4 | 16);
  });

  test('a wallet overdrawn behind the engine: no_overdraft fails', async () => {
    const { failed, exitCode } = await verifyAfter((db, s) =>
      db.query('update ledger_accounts set debits_posted = debits_posted + 5000 where id = $1', [s.wallet]),
    );
    expect(failed).toContain('no_overdraft');
    expect(exitCode & 8).toBe(8);
  });

  test('a balance_after that does not follow from the entries before it', async () => {
    const { failed, report } = await verifyAfter(async (db, s) => {
      await db.query('alter table ledger_entries disable trigger ledger_entries_append_only');
      await db.query(
        'update ledger_entries set balance_after = balance_after + 1 where transfer_id = $1 and is_credit',
        [s.paymentId],
      );
    });
    expect(failed).toEqual(['balances_match_entries']);
    expect(report.ok).toBe(false);
  });

  test('a broken history chain', async () => {
    const { failed } = await verifyAfter(async (db, s) => {
      await db.query('alter table ledger_entries disable trigger ledger_entries_append_only');
      await db.query('update ledger_entries set prev_seq = null where transfer_id = $1 and not is_credit', [
        s.paymentId,
      ]);
    });
    expect(failed).toEqual(['balances_match_entries']);
  });

  test('a reservation marked resolved without its transfer: pending balances disagree', async () => {
    const { failed, exitCode } = await verifyAfter((db, s) =>
      db.query(`update ledger_pending_transfers set status = 'voided', resolved_by = $2 where id = $1`, [
        s.pendingId,
        uuid(),
      ]),
    );
    expect(failed).toEqual(['pending_matches_reservations']);
    expect(exitCode).toBe(32);
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createLedger,
  verifyLedger,
  type Ledger,
  type TransferInput,
  type TransferResultCode,
} from '../../src/modules/ledger/index.js';
import { amountMinorMax } from '../../src/platform/money.js';
import { openTestDb, type TestDb } from '../support/db.js';
import { balanceOf, clearingAccount, createAccountsOk, transfer, uuid, walletAccount } from './helpers.js';

let testDb: TestDb;
let ledger: Ledger;

beforeAll(async () => {
  testDb = await openTestDb();
  ledger = createLedger(testDb.db);
});

afterAll(async () => {
  await ledger.close();
  expect((await verifyLedger(testDb.db)).ok).toBe(true);
  await testDb.dispose();
});

interface World {
  funding: string;
  alice: string;
  bob: string;
  /** credits may never exceed debits */
  liability: string;
  usd: string;
  closed: string;
}

/** A fresh world per case: alice holds 1000, bob 0. */
async function world(): Promise<World> {
  const liability = { ...clearingAccount(), flags: { creditsMustNotExceedDebits: true } };
  const closed = walletAccount('CNY', { flags: { debitsMustNotExceedCredits: true, closed: true } });
  const [funding, alice, bob, liabilityId, usd, closedId] = await createAccountsOk(ledger, [
    clearingAccount(),
    walletAccount(),
    walletAccount(),
    liability,
    walletAccount('USD'),
    closed,
  ]);
  const [funded] = await ledger.submitTransfers([transfer(funding!, alice!, 1000n)]);
  expect(funded!.result).toBe('ok');
  return { funding: funding!, alice: alice!, bob: bob!, liability: liabilityId!, usd: usd!, closed: closedId! };
}

async function submitOne(input: TransferInput): Promise<TransferResultCode> {
  const [result] = await ledger.submitTransfers([input]);
  return result!.result;
}

async function pendingOf(w: World, amount: bigint, extra: Partial<TransferInput> = {}): Promise<string> {
  const input = transfer(w.alice, w.bob, amount, { phase: 'pending', ...extra });
  expect(await submitOne(input)).toBe('ok');
  return input.id;
}

interface Case {
  name: string;
  expected: TransferResultCode;
  /** Builds the world's history and returns the transfer under test. */
  run(w: World): Promise<TransferInput>;
  /** Alice's posted balance after the case (1000 unless the case moved money). */
  aliceAfter?: bigint;
}

const cases: Case[] = [
  { name: 'a valid transfer', expected: 'ok', run: async (w) => transfer(w.alice, w.bob, 400n), aliceAfter: 600n },
  {
    name: 'the same transfer again',
    expected: 'exists',
    run: async (w) => {
      const input = transfer(w.alice, w.bob, 400n, { metadata: { order: 'A-1', tags: ['x'] } });
      expect(await submitOne(input)).toBe('ok');
      return { ...input, metadata: { tags: ['x'], order: 'A-1' } };
    },
    aliceAfter: 600n,
  },
  {
    name: 'the same id with another amount',
    expected: 'exists_with_different_fields',
    run: async (w) => {
      const input = transfer(w.alice, w.bob, 400n);
      expect(await submitOne(input)).toBe('ok');
      return { ...input, amountMinor: 401n };
    },
    aliceAfter: 600n,
  },
  {
    name: 'a stored id resubmitted with an invalid amount (exists checks come first)',
    expected: 'exists_with_different_fields',
    run: async (w) => {
      const input = transfer(w.alice, w.bob, 400n);
      expect(await submitOne(input)).toBe('ok');
      return { ...input, amountMinor: 0n };
    },
    aliceAfter: 600n,
  },
  {
    name: 'an id that failed, retried after a top-up',
    expected: 'id_already_failed',
    run: async (w) => {
      const input = transfer(w.alice, w.bob, 5000n);
      expect(await submitOne(input)).toBe('exceeds_credits');
      expect(await submitOne(transfer(w.funding, w.alice, 10_000n))).toBe('ok');
      return input;
    },
    aliceAfter: 11_000n,
  },
  {
    name: 'debit and credit the same account',
    expected: 'accounts_must_be_different',
    run: async (w) => transfer(w.alice, w.alice, 1n),
  },
  { name: 'a zero amount', expected: 'amount_must_be_positive', run: async (w) => transfer(w.alice, w.bob, 0n) },
  { name: 'a negative amount', expected: 'amount_must_be_positive', run: async (w) => transfer(w.alice, w.bob, -5n) },
  {
    name: 'a timeout on a single-phase transfer',
    expected: 'timeout_reserved_for_pending_transfer',
    run: async (w) => transfer(w.alice, w.bob, 1n, { timeoutS: 30 }),
  },
  { name: 'an unknown account', expected: 'account_not_found', run: async (w) => transfer(w.alice, uuid(), 1n) },
  {
    name: 'a currency the accounts do not hold',
    expected: 'currency_mismatch',
    run: async (w) => transfer(w.alice, w.bob, 1n, { currency: 'USD' }),
  },
  {
    name: 'accounts in different currencies',
    expected: 'currency_mismatch',
    run: async (w) => transfer(w.alice, w.usd, 1n),
  },
  { name: 'a closed account', expected: 'account_closed', run: async (w) => transfer(w.alice, w.closed, 1n) },
  {
    name: 'an account closed after creation',
    expected: 'account_closed',
    run: async (w) => {
      expect(await ledger.closeAccount(w.bob)).toBe(true);
      return transfer(w.alice, w.bob, 1n);
    },
  },
  {
    name: 'posting a pending transfer that does not exist',
    expected: 'pending_transfer_not_found',
    run: async () => ({ id: uuid(), code: 10, phase: 'post_pending', pendingId: uuid() }),
  },
  {
    name: 'posting a single-phase transfer',
    expected: 'pending_transfer_not_pending',
    run: async (w) => {
      const single = transfer(w.alice, w.bob, 10n);
      expect(await submitOne(single)).toBe('ok');
      return { id: uuid(), code: 10, phase: 'post_pending', pendingId: single.id };
    },
    aliceAfter: 990n,
  },
  {
    name: 'posting with other accounts than the pending transfer',
    expected: 'pending_transfer_has_different_fields',
    run: async (w) => ({
      id: uuid(),
      code: 10,
      phase: 'post_pending',
      pendingId: await pendingOf(w, 10n),
      creditAccountId: w.funding,
    }),
  },
  {
    name: 'posting twice',
    expected: 'pending_transfer_already_posted',
    run: async (w) => {
      const pendingId = await pendingOf(w, 10n);
      expect(await submitOne({ id: uuid(), code: 10, phase: 'post_pending', pendingId })).toBe('ok');
      return { id: uuid(), code: 10, phase: 'post_pending', pendingId };
    },
    aliceAfter: 990n,
  },
  {
    name: 'posting after a void',
    expected: 'pending_transfer_already_voided',
    run: async (w) => {
      const pendingId = await pendingOf(w, 10n);
      expect(await submitOne({ id: uuid(), code: 10, phase: 'void_pending', pendingId })).toBe('ok');
      return { id: uuid(), code: 10, phase: 'post_pending', pendingId };
    },
  },
  {
    name: 'posting after the timeout',
    expected: 'pending_transfer_expired',
    run: async (w) => {
      const pendingId = await pendingOf(w, 10n, { timeoutS: 1 });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      return { id: uuid(), code: 10, phase: 'post_pending', pendingId };
    },
  },
  {
    name: 'posting more than was reserved',
    expected: 'exceeds_pending_transfer_amount',
    run: async (w) => ({
      id: uuid(),
      code: 10,
      phase: 'post_pending',
      pendingId: await pendingOf(w, 10n),
      amountMinor: 11n,
    }),
  },
  {
    name: 'debits past the largest amount',
    expected: 'overflows_debits',
    run: async (w) => {
      // funding has already paid alice 1000
      expect(await submitOne(transfer(w.funding, w.bob, amountMinorMax - 2000n))).toBe('ok');
      return transfer(w.funding, w.alice, 1001n);
    },
  },
  {
    name: 'credits past the largest amount',
    expected: 'overflows_credits',
    run: async (w) => {
      const other = (await createAccountsOk(ledger, [clearingAccount()]))[0]!;
      expect(await submitOne(transfer(w.funding, w.bob, amountMinorMax - 2000n))).toBe('ok');
      return transfer(other, w.bob, 2001n);
    },
  },
  {
    name: 'spending more than the balance',
    expected: 'exceeds_credits',
    run: async (w) => transfer(w.alice, w.bob, 1001n),
  },
  {
    name: 'spending what a pending transfer reserved',
    expected: 'exceeds_credits',
    run: async (w) => {
      await pendingOf(w, 600n);
      return transfer(w.alice, w.bob, 401n);
    },
  },
  {
    name: 'crediting an account past its debits',
    expected: 'exceeds_debits',
    run: async (w) => transfer(w.funding, w.liability, 1n),
  },
  {
    name: 'crediting a capped account past its balance cap (pending credits count)',
    expected: 'exceeds_balance_max',
    run: async (w) => {
      // Alice holds 1000; a reservation of 300 towards her counts against a cap of 1500.
      expect(await submitOne({ ...transfer(w.funding, w.alice, 300n), phase: 'pending' })).toBe('ok');
      expect(await submitOne({ ...transfer(w.funding, w.alice, 200n), creditBalanceMaxMinor: 1500n })).toBe('ok');
      return { ...transfer(w.funding, w.alice, 1n), creditBalanceMaxMinor: 1500n };
    },
    aliceAfter: 1200n,
  },
];

describe('transfer result codes', () => {
  test.each(cases)('$name → $expected', async (testCase) => {
    const w = await world();
    const input = await testCase.run(w);
    expect(await submitOne(input)).toBe(testCase.expected);
    expect((await balanceOf(ledger, w.alice)).posted).toBe(testCase.aliceAfter ?? 1000n);
  });

  test('every published code is exercised by this table or the linked-chain tests', () => {
    const covered = new Set<string>([
      ...cases.map((c) => c.expected),
      'linked_event_failed',
      'linked_event_chain_open',
    ]);
    expect([...covered].sort()).toEqual(
      [
        'ok',
        'exists',
        'exists_with_different_fields',
        'id_already_failed',
        'accounts_must_be_different',
        'amount_must_be_positive',
        'timeout_reserved_for_pending_transfer',
        'account_not_found',
        'currency_mismatch',
        'account_closed',
        'pending_transfer_not_found',
        'pending_transfer_not_pending',
        'pending_transfer_has_different_fields',
        'pending_transfer_already_posted',
        'pending_transfer_already_voided',
        'pending_transfer_expired',
        'exceeds_pending_transfer_amount',
        'overflows_debits',
        'overflows_credits',
        'exceeds_credits',
        'exceeds_debits',
        'exceeds_balance_max',
        'linked_event_failed',
        'linked_event_chain_open',
      ].sort(),
    );
  });
});

describe('linked chains', () => {
  test('a payment with its fee applies whole, or not at all', async () => {
    const w = await world();
    const [merchant, revenue] = await createAccountsOk(ledger, [walletAccount(), clearingAccount()]);
    // payer → merchant 500, merchant → fee revenue 3: one chain
    const ok = await ledger.submitTransfers([
      transfer(w.alice, merchant!, 500n, { linked: true }),
      transfer(merchant!, revenue!, 3n),
    ]);
    expect(ok.map((r) => r.result)).toEqual(['ok', 'ok']);
    expect((await balanceOf(ledger, merchant!)).posted).toBe(497n);
    // The second leg fails (the fee is more than the merchant holds): the first is rolled back.
    const failed = await ledger.submitTransfers([
      transfer(w.alice, merchant!, 100n, { linked: true }),
      transfer(merchant!, revenue!, 10_000n),
    ]);
    expect(failed.map((r) => r.result)).toEqual(['linked_event_failed', 'exceeds_credits']);
    expect((await balanceOf(ledger, w.alice)).posted).toBe(500n);
    expect((await balanceOf(ledger, merchant!)).posted).toBe(497n);
  });

  test('a failure in the middle fails the members before and after it; other transfers still apply', async () => {
    const w = await world();
    const results = await ledger.submitTransfers([
      transfer(w.alice, w.bob, 1n),
      transfer(w.alice, w.bob, 2n, { linked: true }),
      transfer(w.alice, w.bob, 5000n, { linked: true }),
      transfer(w.alice, w.bob, 3n),
      transfer(w.alice, w.bob, 4n),
    ]);
    expect(results.map((r) => r.result)).toEqual([
      'ok',
      'linked_event_failed',
      'exceeds_credits',
      'linked_event_failed',
      'ok',
    ]);
    expect((await balanceOf(ledger, w.bob)).posted).toBe(5n);
  });

  test('a chain left open at the end of a submission fails without applying', async () => {
    const w = await world();
    const results = await ledger.submitTransfers([
      transfer(w.alice, w.bob, 1n),
      transfer(w.alice, w.bob, 2n, { linked: true }),
      transfer(w.alice, w.bob, 3n, { linked: true }),
    ]);
    expect(results.map((r) => r.result)).toEqual(['ok', 'linked_event_failed', 'linked_event_chain_open']);
    expect((await balanceOf(ledger, w.bob)).posted).toBe(1n);
  });

  test('a chain that creates and posts a pending transfer rolls both back when a later member fails', async () => {
    const w = await world();
    const pending = transfer(w.alice, w.bob, 100n, { phase: 'pending', linked: true });
    const results = await ledger.submitTransfers([
      pending,
      { id: uuid(), code: 10, phase: 'post_pending', pendingId: pending.id, linked: true },
      transfer(w.bob, w.alice, 1000n),
    ]);
    expect(results.map((r) => r.result)).toEqual(['linked_event_failed', 'linked_event_failed', 'exceeds_credits']);
    expect(await balanceOf(ledger, w.alice)).toEqual({ posted: 1000n, pending: 0n });
    expect(await ledger.lookupTransfers([pending.id])).toEqual([]);
  });
});

describe('two-phase transfers', () => {
  test('reserve, post part, and the rest is released', async () => {
    const w = await world();
    const pendingId = await pendingOf(w, 300n);
    expect(await balanceOf(ledger, w.alice)).toEqual({ posted: 1000n, pending: -300n });
    expect(await submitOne({ id: uuid(), code: 10, phase: 'post_pending', pendingId, amountMinor: 120n })).toBe('ok');
    expect(await balanceOf(ledger, w.alice)).toEqual({ posted: 880n, pending: 0n });
    expect(await balanceOf(ledger, w.bob)).toEqual({ posted: 120n, pending: 0n });
  });

  test('the expiry sweep voids reservations whose timeout passed, once', async () => {
    const w = await world();
    const pendingId = await pendingOf(w, 250n, { timeoutS: 1 });
    const keptId = await pendingOf(w, 50n);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await ledger.expirePendingTransfers()).toBeGreaterThanOrEqual(1);
    expect(await balanceOf(ledger, w.alice)).toEqual({ posted: 1000n, pending: -50n });
    expect(await submitOne({ id: uuid(), code: 10, phase: 'void_pending', pendingId })).toBe(
      'pending_transfer_expired',
    );
    expect(await submitOne({ id: uuid(), code: 10, phase: 'post_pending', pendingId: keptId })).toBe('ok');
  });
});

describe('submission shape', () => {
  test('malformed inputs are refused before they reach a batch', async () => {
    const w = await world();
    await expect(ledger.submitTransfers([{ ...transfer(w.alice, w.bob, 1n), id: 'not-a-uuid' }])).rejects.toMatchObject(
      {
        code: 'invalid_request',
        param: 'transfers[0].id',
      },
    );
    await expect(
      ledger.submitTransfers([{ ...transfer(w.alice, w.bob, 1n), amountMinor: 1 as unknown as bigint }]),
    ).rejects.toMatchObject({ code: 'invalid_request', param: 'transfers[0].amountMinor' });
    await expect(ledger.submitTransfers([{ ...transfer(w.alice, w.bob, 1n), code: 0 }])).rejects.toMatchObject({
      param: 'transfers[0].code',
    });
    await expect(ledger.submitTransfers([{ id: uuid(), code: 10, phase: 'post_pending' }])).rejects.toMatchObject({
      param: 'transfers[0].pendingId',
    });
    expect((await balanceOf(ledger, w.alice)).posted).toBe(1000n);
  });

  test('accounts are created idempotently', async () => {
    const input = walletAccount('KWD', { metadata: { owner: 'usr_1' } });
    expect(await ledger.createAccounts([input, input])).toEqual([
      { id: input.id, result: 'ok' },
      { id: input.id, result: 'exists' },
    ]);
    expect(await ledger.createAccounts([{ ...input, currency: 'JPY' }])).toEqual([
      { id: input.id, result: 'exists_with_different_fields' },
    ]);
    expect((await ledger.createAccounts([{ ...input, id: uuid(), currency: 'XXX' }]))[0]!.result).toBe(
      'currency_unknown',
    );
    expect((await ledger.createAccounts([{ ...input, id: 'nope' }]))[0]!.result).toBe('id_must_be_uuid');
    expect(
      (
        await ledger.createAccounts([
          { ...input, id: uuid(), flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: true } },
        ])
      )[0]!.result,
    ).toBe('flags_are_mutually_exclusive');
  });

  test('entries record the balance after each transfer; history pages back newest first', async () => {
    const w = await world();
    await ledger.submitTransfers([transfer(w.alice, w.bob, 100n), transfer(w.alice, w.bob, 50n)]);
    await ledger.submitTransfers([transfer(w.bob, w.alice, 30n)]);
    const entries = await ledger.listEntries(w.bob);
    expect(entries.map((e) => [e.side, e.postedAmountMinor, e.balanceAfterMinor])).toEqual([
      ['debit', 30n, 120n],
      ['credit', 50n, 150n],
      ['credit', 100n, 100n],
    ]);
    const firstPage = await ledger.listEntries(w.bob, { limit: 2 });
    expect(firstPage.map((e) => e.seq)).toEqual([entries[0]!.seq, entries[1]!.seq]);
    const secondPage = await ledger.listEntries(w.bob, { beforeSeq: firstPage[1]!.seq, limit: 2 });
    expect(secondPage.map((e) => e.seq)).toEqual([entries[2]!.seq]);
    expect(await ledger.listEntries(w.bob, { beforeSeq: entries[2]!.seq })).toEqual([]);
    // another account's entry as a cursor yields nothing, never that account's history
    const alicesNewest = (await ledger.listEntries(w.alice, { limit: 1 }))[0]!;
    expect(await ledger.listEntries(w.bob, { beforeSeq: alicesNewest.seq })).toEqual([]);
  });

  test('entries and transfers are append-only in the database', async () => {
    await expect(testDb.db.query('update ledger_entries set posted_amount = posted_amount + 1')).rejects.toThrow(
      /append-only/,
    );
    await expect(testDb.db.query('delete from ledger_transfers')).rejects.toThrow(/append-only/);
  });
});

import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  createLedger,
  verifyLedger,
  type Ledger,
  type TransferInput,
  type TransferResultCode,
} from '../../src/modules/ledger/index.js';
import { openTestDb, type TestDb } from '../support/db.js';
import { balanceOf, clearingAccount, createAccountsOk, uuid, walletAccount } from './helpers.js';

let testDb: TestDb;
let ledger: Ledger;

beforeAll(async () => {
  testDb = await openTestDb();
  ledger = createLedger(testDb.db, { batchSizeMax: 32 });
});

afterAll(async () => {
  await ledger.close();
  await testDb.dispose();
});

const runs = Number(process.env.YUNPAY_PROPERTY_RUNS ?? 60);

/** Account 0 is an unflagged clearing account; 1–3 are wallets that may never overdraw. */
const accountCount = 4;

type Op =
  | { kind: 'single' | 'pending'; from: number; to: number; amount: number }
  | { kind: 'post'; target: number; amount: number | null }
  | { kind: 'void'; target: number }
  | { kind: 'chain'; legs: { from: number; to: number; amount: number }[] }
  | { kind: 'retry'; target: number };

// Mostly meaningful transfers (distinct accounts, positive amounts), sometimes invalid ones.
const leg = fc
  .record({
    from: fc.integer({ min: 0, max: accountCount - 1 }),
    offset: fc.oneof(
      { weight: 9, arbitrary: fc.integer({ min: 1, max: accountCount - 1 }) },
      { weight: 1, arbitrary: fc.constant(0) },
    ),
    amount: fc.oneof(
      { weight: 9, arbitrary: fc.integer({ min: 1, max: 250 }) },
      { weight: 1, arbitrary: fc.integer({ min: -2, max: 0 }) },
    ),
  })
  .map(({ from, offset, amount }) => ({ from, to: (from + offset) % accountCount, amount }));
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: leg.map((l) => ({ kind: 'single' as const, ...l })) },
  { weight: 2, arbitrary: leg.map((l) => ({ kind: 'pending' as const, ...l })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ target: fc.nat(), amount: fc.option(fc.integer({ min: 1, max: 400 })) })
      .map((o) => ({ kind: 'post' as const, ...o })),
  },
  { weight: 1, arbitrary: fc.record({ target: fc.nat() }).map((o) => ({ kind: 'void' as const, ...o })) },
  {
    weight: 2,
    arbitrary: fc.array(leg, { minLength: 2, maxLength: 3 }).map((legs) => ({ kind: 'chain' as const, legs })),
  },
  { weight: 2, arbitrary: fc.record({ target: fc.nat() }).map((o) => ({ kind: 'retry' as const, ...o })) },
);

/** An independent, deliberately simple model of the ledger's rules, for the differential test. */
class Model {
  readonly debitsPosted = new Array<bigint>(accountCount).fill(0n);
  readonly creditsPosted = new Array<bigint>(accountCount).fill(0n);
  readonly debitsPending = new Array<bigint>(accountCount).fill(0n);
  readonly creditsPending = new Array<bigint>(accountCount).fill(0n);
  readonly stored = new Map<string, string>();
  readonly failed = new Set<string>();
  readonly pendings = new Map<string, { from: number; to: number; amount: bigint; status: string }>();

  private newTransfer(from: number, to: number, amount: bigint, pending: boolean): TransferResultCode {
    if (from === to) return 'accounts_must_be_different';
    if (amount <= 0n) return 'amount_must_be_positive';
    if (from !== 0 && this.debitsPosted[from]! + this.debitsPending[from]! + amount > this.creditsPosted[from]!) {
      return 'exceeds_credits';
    }
    if (pending) {
      this.debitsPending[from]! += amount;
      this.creditsPending[to]! += amount;
    } else {
      this.debitsPosted[from]! += amount;
      this.creditsPosted[to]! += amount;
    }
    return 'ok';
  }

  private resolve(pendingId: string, post: boolean, amount: bigint | null): TransferResultCode {
    const pending = this.pendings.get(pendingId);
    if (pending === undefined) return 'pending_transfer_not_found';
    if (pending.status === 'posted') return 'pending_transfer_already_posted';
    if (pending.status === 'voided') return 'pending_transfer_already_voided';
    const posted = post ? (amount ?? pending.amount) : 0n;
    if (posted > pending.amount) return 'exceeds_pending_transfer_amount';
    this.debitsPending[pending.from]! -= pending.amount;
    this.creditsPending[pending.to]! -= pending.amount;
    this.debitsPosted[pending.from]! += posted;
    this.creditsPosted[pending.to]! += posted;
    pending.status = post ? 'posted' : 'voided';
    return 'ok';
  }

  /** Applies one transfer input the way the ledger documents; returns the expected code. */
  apply(input: TransferInput, accounts: string[], fingerprint: string): TransferResultCode {
    const previous = this.stored.get(input.id);
    if (previous !== undefined) return previous === fingerprint ? 'exists' : 'exists_with_different_fields';
    if (this.failed.has(input.id)) return 'id_already_failed';
    let code: TransferResultCode;
    const phase = input.phase ?? 'single';
    if (phase === 'single' || phase === 'pending') {
      code = this.newTransfer(
        accounts.indexOf(input.debitAccountId!),
        accounts.indexOf(input.creditAccountId!),
        input.amountMinor!,
        phase === 'pending',
      );
      if (code === 'ok' && phase === 'pending') {
        this.pendings.set(input.id, {
          from: accounts.indexOf(input.debitAccountId!),
          to: accounts.indexOf(input.creditAccountId!),
          amount: input.amountMinor!,
          status: 'pending',
        });
      }
    } else {
      code = this.resolve(input.pendingId!, phase === 'post_pending', input.amountMinor ?? null);
    }
    if (code === 'ok') this.stored.set(input.id, fingerprint);
    else this.failed.add(input.id);
    return code;
  }

  snapshot() {
    return {
      debitsPosted: [...this.debitsPosted],
      creditsPosted: [...this.creditsPosted],
      debitsPending: [...this.debitsPending],
      creditsPending: [...this.creditsPending],
      stored: new Map(this.stored),
      pendings: new Map([...this.pendings].map(([id, p]) => [id, { ...p }])),
    };
  }

  restore(snapshot: ReturnType<Model['snapshot']>): void {
    this.debitsPosted.splice(0, accountCount, ...snapshot.debitsPosted);
    this.creditsPosted.splice(0, accountCount, ...snapshot.creditsPosted);
    this.debitsPending.splice(0, accountCount, ...snapshot.debitsPending);
    this.creditsPending.splice(0, accountCount, ...snapshot.creditsPending);
    this.stored.clear();
    for (const [id, value] of snapshot.stored) this.stored.set(id, value);
    this.pendings.clear();
    for (const [id, value] of snapshot.pendings) this.pendings.set(id, value);
  }
}

function fingerprintOf(input: TransferInput): string {
  return JSON.stringify({ ...input, amountMinor: input.amountMinor?.toString() ?? null });
}

/** Turns generated ops into submissions (one per op), remembering inputs so retries and posts can name them. */
function buildSubmissions(ops: Op[], accounts: string[]): TransferInput[][] {
  const submissions: TransferInput[][] = [];
  const pendingIds: string[] = [];
  const single = (
    l: { from: number; to: number; amount: number },
    extra: Partial<TransferInput> = {},
  ): TransferInput => ({
    id: uuid(),
    debitAccountId: accounts[l.from]!,
    creditAccountId: accounts[l.to]!,
    amountMinor: BigInt(l.amount),
    currency: 'CNY',
    code: 10,
    ...extra,
  });
  for (const op of ops) {
    switch (op.kind) {
      case 'single':
        submissions.push([single(op)]);
        break;
      case 'pending': {
        const input = single(op, { phase: 'pending' });
        pendingIds.push(input.id);
        submissions.push([input]);
        break;
      }
      case 'post':
      case 'void': {
        const pendingId = pendingIds.length === 0 ? uuid() : pendingIds[op.target % pendingIds.length]!;
        const input: TransferInput = {
          id: uuid(),
          code: 10,
          phase: op.kind === 'post' ? 'post_pending' : 'void_pending',
          pendingId,
        };
        if (op.kind === 'post' && op.amount !== null) input.amountMinor = BigInt(op.amount);
        submissions.push([input]);
        break;
      }
      case 'chain':
        submissions.push(op.legs.map((l, index) => single(l, { linked: index < op.legs.length - 1 })));
        break;
      case 'retry':
        if (submissions.length > 0) submissions.push(submissions[op.target % submissions.length]!);
        break;
    }
  }
  return submissions;
}

async function freshAccounts(): Promise<string[]> {
  return createAccountsOk(ledger, [clearingAccount(), walletAccount(), walletAccount(), walletAccount()]);
}

test('submitted one at a time, every result and balance matches the model', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 25 }), async (ops) => {
      const accounts = await freshAccounts();
      const model = new Model();
      const funding: TransferInput[][] = [1, 2, 3].map((wallet) => [
        {
          id: uuid(),
          debitAccountId: accounts[0]!,
          creditAccountId: accounts[wallet]!,
          amountMinor: 300n,
          currency: 'CNY',
          code: 11,
        },
      ]);
      for (const submission of [...funding, ...buildSubmissions(ops, accounts)]) {
        const results = await ledger.submitTransfers(submission);
        // The model applies a chain member by member and rolls the chain back on the first failure.
        const before = model.snapshot();
        const expected: TransferResultCode[] = [];
        let failedAt = -1;
        for (const [index, input] of submission.entries()) {
          const code = model.apply(input, accounts, fingerprintOf(input));
          expected.push(code);
          if (code !== 'ok' && code !== 'exists') {
            failedAt = index;
            break;
          }
        }
        if (failedAt >= 0 && submission.length > 1) {
          const failedCode = expected[failedAt]!;
          model.restore(before);
          const failedId = submission[failedAt]!.id;
          // the failed member's id stays failed unless it was a resubmission of a stored one
          if (failedCode !== 'exists_with_different_fields' && failedCode !== 'id_already_failed')
            model.failed.add(failedId);
          expected.length = 0;
          submission.forEach((_, index) => expected.push(index === failedAt ? failedCode : 'linked_event_failed'));
        }
        expect(results.map((r) => r.result)).toEqual(expected);
      }
      for (const [index, id] of accounts.entries()) {
        const account = (await ledger.lookupAccounts([id]))[0]!;
        expect([
          account.debitsPostedMinor,
          account.creditsPostedMinor,
          account.debitsPendingMinor,
          account.creditsPendingMinor,
        ]).toEqual([
          model.debitsPosted[index],
          model.creditsPosted[index],
          model.debitsPending[index],
          model.creditsPending[index],
        ]);
      }
    }),
    { numRuns: runs },
  );
  expect((await verifyLedger(testDb.db)).ok).toBe(true);
});

test('submitted concurrently with retries of the same ids, the invariants hold and nothing applies twice', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 40 }), async (ops) => {
      const accounts = await freshAccounts();
      const [top] = await ledger.submitTransfers([
        {
          id: uuid(),
          debitAccountId: accounts[0]!,
          creditAccountId: accounts[1]!,
          amountMinor: 500n,
          currency: 'CNY',
          code: 11,
        },
      ]);
      expect(top!.result).toBe('ok');
      const submissions = buildSubmissions(ops, accounts);
      // Everything at once, and each submission twice more at the same moment.
      const all = await Promise.all(
        [...submissions, ...submissions, ...submissions].map((s) => ledger.submitTransfers(s)),
      );
      const okCountById = new Map<string, number>();
      for (const results of all) {
        for (const result of results) {
          if (result.result === 'ok') okCountById.set(result.id, (okCountById.get(result.id) ?? 0) + 1);
        }
      }
      expect([...okCountById.values()].every((count) => count === 1)).toBe(true);
      // Resubmitting everything afterwards changes nothing.
      const balancesBefore = await Promise.all(accounts.map((id) => balanceOf(ledger, id)));
      const again = await Promise.all(submissions.map((s) => ledger.submitTransfers(s)));
      for (const results of again) {
        for (const result of results) expect(result.result).not.toBe('ok');
      }
      expect(await Promise.all(accounts.map((id) => balanceOf(ledger, id)))).toEqual(balancesBefore);
      const wallets = balancesBefore.slice(1);
      for (const balance of wallets) expect(balance.posted + balance.pending).toBeGreaterThanOrEqual(0n);
    }),
    { numRuns: runs },
  );
  const report = await verifyLedger(testDb.db);
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  const both = await testDb.db.query<{ n: bigint }>(
    'select count(*) as n from ledger_transfers t join ledger_failed_transfers f on f.id = t.id',
  );
  expect(both[0]!.n).toBe(0n);
});

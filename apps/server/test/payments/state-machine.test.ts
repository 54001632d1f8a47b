import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SqlExecutor } from '../../src/platform/db.js';
import type { ChargeStatus, IntentStatus, MerchantContext, RefundStatus } from '../../src/modules/payments/model.js';
import {
  approvalTransitions,
  challengeTransitions,
  chargeTransitions,
  intentTransitions,
  nextChargeStatus,
  nextIntentStatus,
  nextRefundStatus,
  refundTransitions,
  transitionApprovals,
  transitionChallenge,
  transitionCharge,
  transitionIntent,
  transitionRefund,
  type ApprovalStatus,
  type ChallengeStatus,
  type IntentAction,
} from '../../src/modules/payments/state-machine.js';
import { openTestDb, type TestDb } from '../support/db.js';
import { uuid } from '../ledger/helpers.js';

/**
 * Every (state, action) pair of every payments state machine, against the real database: the
 * conditional update moves the row exactly when the table allows the action from that state, to the
 * table's status, and otherwise leaves the row as it was.
 */

const intentStatuses: readonly IntentStatus[] = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'succeeded',
  'canceled',
];
const chargeStatuses: readonly ChargeStatus[] = ['pending', 'succeeded', 'failed'];
const refundStatuses: readonly RefundStatus[] = ['pending', 'succeeded', 'failed', 'canceled'];
const approvalStatuses: readonly ApprovalStatus[] = ['pending', 'approved', 'expired', 'canceled'];
const challengeStatuses: readonly ChallengeStatus[] = ['pending', 'completed', 'failed'];

const ctx: MerchantContext = { accountId: 'acct_statemachine', livemode: false };
let testDb: TestDb;
let db: SqlExecutor;

beforeAll(async () => {
  testDb = await openTestDb();
  db = testDb.db;
});

afterAll(async () => {
  await testDb.dispose();
});

const rowId = (prefix: string) => `${prefix}_${uuid().replaceAll('-', '')}`;

async function insertIntent(status: IntentStatus): Promise<string> {
  const id = rowId('pi');
  await db.query(
    `insert into payments_intents (id, account_id, livemode, amount, currency, status, capture_method, client_secret)
     values ($1, $2, $3, 1000, 'cny', $4, 'automatic', $5)`,
    [id, ctx.accountId, ctx.livemode, status, `${id}_secret`],
  );
  return id;
}

async function insertCharge(status: ChargeStatus): Promise<string> {
  const id = rowId('ch');
  await db.query(
    `insert into payments_charges (id, account_id, livemode, payment_intent_id, amount, currency, status,
       payment_method_details, payer_ledger_account_id)
     values ($1, $2, $3, 'pi_x', 1000, 'cny', $4, '{}'::jsonb, $5::uuid)`,
    [id, ctx.accountId, ctx.livemode, status, uuid()],
  );
  return id;
}

async function insertRefund(status: RefundStatus): Promise<string> {
  const id = rowId('re');
  await db.query(
    `insert into payments_refunds (id, account_id, livemode, charge_id, payment_intent_id, amount, currency, status)
     values ($1, $2, $3, 'ch_x', 'pi_x', 100, 'cny', $4)`,
    [id, ctx.accountId, ctx.livemode, status],
  );
  return id;
}

async function insertApproval(status: ApprovalStatus): Promise<string> {
  const id = rowId('apv');
  await db.query(
    `insert into payments_approvals (id, account_id, livemode, payment_intent_id, user_id, redemption_id, amount,
       currency, merchant_name, status, expires_at)
     values ($1, $2, $3, 'pi_x', 'usr_x', 'red_x', 100, 'cny', 'Shop', $4, now() + interval '1 minute')`,
    [id, ctx.accountId, ctx.livemode, status],
  );
  return id;
}

async function insertChallenge(status: ChallengeStatus): Promise<string> {
  const id = `chl_${uuid().replaceAll('-', '').slice(0, 22)}`;
  await db.query(
    `insert into payments_card_challenges (id, account_id, livemode, payment_intent_id, payment_method_id, status, expires_at)
     values ($1, $2, $3, 'pi_x', 'pm_x', $4, now() + interval '10 minutes')`,
    [id, ctx.accountId, ctx.livemode, status],
  );
  return id;
}

async function statusOf(table: string, id: string): Promise<string> {
  const rows = await db.query<{ status: string }>(`select status from ${table} where id = $1`, [id]);
  expect(rows).toHaveLength(1);
  return rows[0]!.status;
}

/** The table's answer: `to` when `status` is one of `from`, else null. */
function allowed(table: Record<string, { from: readonly string[]; to: string }>, action: string, status: string) {
  const transition = table[action]!;
  return transition.from.includes(status) ? transition.to : null;
}

function pairs<S extends string, A extends string>(statuses: readonly S[], table: Record<A, unknown>): [S, A][] {
  return statuses.flatMap((status) => (Object.keys(table) as A[]).map((action): [S, A] => [status, action]));
}

describe('the transition tables', () => {
  test('every status a table names is a status its row can hold, and every status is reachable or initial', () => {
    const checks: [Record<string, { from: readonly string[]; to: string }>, readonly string[]][] = [
      [intentTransitions, intentStatuses],
      [chargeTransitions, chargeStatuses],
      [refundTransitions, refundStatuses],
      [approvalTransitions, approvalStatuses],
      [challengeTransitions, challengeStatuses],
    ];
    for (const [table, statuses] of checks) {
      for (const transition of Object.values(table)) {
        expect(statuses).toContain(transition.to);
        for (const from of transition.from) expect(statuses).toContain(from);
      }
    }
    // Terminal states leave by no action.
    const leaving = (status: string, table: Record<string, { from: readonly string[] }>) =>
      Object.values(table).some((transition) => transition.from.includes(status));
    expect(leaving('succeeded', intentTransitions)).toBe(false);
    expect(leaving('canceled', intentTransitions)).toBe(false);
    for (const status of ['succeeded', 'failed']) {
      expect(leaving(status, chargeTransitions)).toBe(false);
      expect(leaving(status, refundTransitions)).toBe(false);
    }
  });
});

describe('every (state, action) pair, against the database', () => {
  test.each(pairs(intentStatuses, intentTransitions))('intent %s --%s-->', async (status, action) => {
    const id = await insertIntent(status);
    const expected = allowed(intentTransitions, action, status);
    expect(nextIntentStatus(status, action)).toBe(expected);
    expect(await transitionIntent(db, ctx, id, action)).toBe(expected !== null);
    expect(await statusOf('payments_intents', id)).toBe(expected ?? status);
  });

  test('an intent of another account or mode never moves', async () => {
    const id = await insertIntent('requires_confirmation');
    expect(await transitionIntent(db, { ...ctx, accountId: 'acct_other' }, id, 'confirm')).toBe(false);
    expect(await transitionIntent(db, { ...ctx, livemode: true }, id, 'confirm')).toBe(false);
    expect(await statusOf('payments_intents', id)).toBe('requires_confirmation');
  });

  test.each(pairs(chargeStatuses, chargeTransitions))('charge %s --%s-->', async (status, action) => {
    const id = await insertCharge(status);
    const expected = allowed(chargeTransitions, action, status);
    expect(nextChargeStatus(status, action)).toBe(expected);
    expect(await transitionCharge(db, id, action)).toBe(expected !== null);
    expect(await statusOf('payments_charges', id)).toBe(expected ?? status);
  });

  test.each(pairs(refundStatuses, refundTransitions))('refund %s --%s-->', async (status, action) => {
    const id = await insertRefund(status);
    const expected = allowed(refundTransitions, action, status);
    expect(nextRefundStatus(status, action)).toBe(expected);
    expect(await transitionRefund(db, id, action)).toBe(expected !== null);
    expect(await statusOf('payments_refunds', id)).toBe(expected ?? status);
  });

  test.each(pairs(approvalStatuses, approvalTransitions))('approval %s --%s-->', async (status, action) => {
    const id = await insertApproval(status);
    const expected = allowed(approvalTransitions, action, status);
    const moved = await transitionApprovals(db, action, { sql: 'id = $1', params: [id] });
    expect(moved.map((row) => row.id)).toEqual(expected === null ? [] : [id]);
    expect(await statusOf('payments_approvals', id)).toBe(expected ?? status);
  });

  test.each(pairs(challengeStatuses, challengeTransitions))('challenge %s --%s-->', async (status, action) => {
    const id = await insertChallenge(status);
    const expected = allowed(challengeTransitions, action, status);
    const moved = await transitionChallenge(db, id, action, new Date());
    expect(moved === null ? null : moved.status).toBe(expected);
    expect(await statusOf('payments_card_challenges', id)).toBe(expected ?? status);
  });

  test('an expired challenge never moves', async () => {
    const id = await insertChallenge('pending');
    const later = new Date(Date.now() + 11 * 60 * 1000);
    expect(await transitionChallenge(db, id, 'complete', later)).toBeNull();
    expect(await statusOf('payments_card_challenges', id)).toBe('pending');
  });
});

describe('sequences of actions', () => {
  test('an intent driven by any sequence of actions is always where the table says', async () => {
    const actions = Object.keys(intentTransitions) as IntentAction[];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...intentStatuses),
        fc.array(fc.constantFrom(...actions), { maxLength: 12 }),
        async (start, sequence) => {
          const id = await insertIntent(start);
          let model: IntentStatus = start;
          for (const action of sequence) {
            const next = nextIntentStatus(model, action);
            expect(await transitionIntent(db, ctx, id, action)).toBe(next !== null);
            model = next ?? model;
          }
          expect(await statusOf('payments_intents', id)).toBe(model);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('of two racing writers of the same action, exactly one moves the row', async () => {
    for (const [action, transition] of Object.entries(intentTransitions) as [
      IntentAction,
      (typeof intentTransitions)[IntentAction],
    ][]) {
      // An action that may repeat (its target is one of its sources) lets both writers through.
      if ((transition.from as readonly IntentStatus[]).includes(transition.to)) continue;
      const id = await insertIntent(transition.from[0]);
      const results = await Promise.all([transitionIntent(db, ctx, id, action), transitionIntent(db, ctx, id, action)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await statusOf('payments_intents', id)).toBe(transition.to);
    }
  });
});

import type { WalletPayerPort } from '../payments/index.js';
import type { SqlExecutor } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import type { WalletsCore } from './core.js';
import * as repo from './repository.js';

/**
 * The wallets' side of a live wallet payment to a merchant (the payments context's
 * WalletPayerPort): each call runs inside the payment's own transaction, so the payer's history
 * row, limit usage and notification change together with the charge. The hold is named after the
 * charge (holdId): one per charge, found again by a retry.
 */

/** The history row of a payment hold. */
export function holdRowId(holdId: string): string {
  return repo.digestId('txn', holdId, 'payment');
}

export function createWalletPayer(core: WalletsCore): WalletPayerPort {
  return {
    ledgerAccount: (userId, currency) => core.walletAccount(userId, currency),
    hold: (tx, input) => hold(core, tx, input),
    settle: (tx, holdId, outcome) => settle(core, tx, holdId, outcome),
    refunded: (tx, input) => refunded(core, tx, input),
  };
}

type HoldInput = Parameters<WalletPayerPort['hold']>[1];
type SettleOutcome = Parameters<WalletPayerPort['settle']>[2];
type RefundedInput = Parameters<WalletPayerPort['refunded']>[1];

async function hold(core: WalletsCore, tx: SqlExecutor, input: HoldInput): Promise<void> {
  core.checkAmount(input.amountMinor, input.currency);
  const payer = await repo.profileOf(tx, input.userId);
  if (payer.frozen) throw new AppError('wallet_frozen');
  const createdAt = core.now();
  const periods = { day: repo.utcDay(createdAt), month: repo.utcMonthStart(createdAt) };
  const inserted = await repo.insertTransaction(tx, {
    id: holdRowId(input.holdId),
    userId: input.userId,
    type: 'payment',
    status: 'pending',
    amountMinor: input.amountMinor,
    currency: input.currency,
    counterpartyUserId: input.merchantAccountId,
    counterpartyName: input.merchantName,
    reference: input.reference,
    limitPeriods: periods,
    createdAt,
  });
  // A retry of the same hold: counted already.
  if (!inserted) return;
  await repo.reserveLimits(tx, {
    userId: input.userId,
    currency: input.currency,
    amountMinor: input.amountMinor,
    limits: core.tierLimits(input.currency, payer.kycTier),
    periods,
  });
}

async function settle(core: WalletsCore, tx: SqlExecutor, holdId: string, outcome: SettleOutcome): Promise<void> {
  const finished = await repo.finishTransaction(
    tx,
    holdRowId(holdId),
    outcome.succeeded
      ? { status: 'succeeded', failureCode: null }
      : { status: 'failed', failureCode: outcome.failureCode },
  );
  if (finished === null) return;
  if (!outcome.succeeded) {
    if (finished.limitPeriods !== null) {
      await repo.releaseLimits(tx, {
        userId: finished.userId,
        currency: finished.currency,
        amountMinor: finished.amountMinor,
        periods: finished.limitPeriods,
      });
    }
    return;
  }
  await core.notifications.write(tx, {
    userId: finished.userId,
    type: 'payment.made',
    data: {
      amount: Number(finished.amountMinor),
      currency: finished.currency,
      transaction: finished.id,
      to: finished.counterpartyName ?? '',
    },
  });
}

async function refunded(core: WalletsCore, tx: SqlExecutor, input: RefundedInput): Promise<void> {
  const id = repo.digestId('txn', input.userId, input.reference, 'refund');
  const inserted = await repo.insertTransaction(tx, {
    id,
    userId: input.userId,
    type: 'refund',
    status: 'succeeded',
    amountMinor: input.amountMinor,
    currency: input.currency,
    counterpartyUserId: input.merchantAccountId,
    counterpartyName: input.merchantName,
    reference: input.reference,
    createdAt: core.now(),
  });
  if (!inserted) return;
  await core.notifications.write(tx, {
    userId: input.userId,
    type: 'refund.received',
    data: {
      amount: Number(input.amountMinor),
      currency: input.currency,
      transaction: id,
      from: input.merchantName,
    },
  });
}

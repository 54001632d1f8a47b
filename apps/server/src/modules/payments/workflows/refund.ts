import { AppError, assert } from '../../../platform/errors.js';
import type { IdempotentCall } from '../../../platform/idempotency.js';
import { transferIds, type PaymentsCore } from '../core.js';
import {
  isCardCharge,
  newId,
  paymentTransferCodes,
  walletUserOf,
  type CardOutcome,
  type Charge,
  type MerchantContext,
  type Refund,
} from '../model.js';
import * as repo from '../repository.js';
import { transitionRefund } from '../state-machine.js';

/**
 * Refunding all or part of a captured charge, in three phases:
 * 1. claim (one transaction): the amount is reserved on the charge (one conditional update, so
 *    concurrent refunds never pass what was captured) and the refund is recorded as pending, with
 *    its id (derived from the idempotency key when there is one) and its share of the fee;
 * 2. with no transaction open: a card refund goes to the card network (a credit, idempotent by the
 *    refund id), then the ledger posts merchant → payer and fee revenue → merchant;
 * 3. finish (one transaction): the refund succeeded, its balance transaction, the events, and for a
 *    live wallet the payer's history row and notification.
 * Compensation: a refund the card network refuses fails and gives its reservation back to the
 * charge. The recovery sweep continues a pending refund (continueRefund, resolving the card side).
 */

export interface RefundInput {
  chargeId: string;
  amountMinor?: bigint;
  reason?: string | null;
  metadata?: Record<string, string>;
}

export interface RefundOptions {
  /** The refund's id (derived from the idempotency key); absent: a new random id. */
  refundId?: string;
  call?: IdempotentCall | null;
}

type CardStep = 'send' | 'resolve';

export async function refund(
  core: PaymentsCore,
  ctx: MerchantContext,
  input: RefundInput,
  options: RefundOptions = {},
): Promise<Refund> {
  if (options.refundId !== undefined) {
    const existing = await repo.refundById(core.db, options.refundId);
    if (existing !== null) {
      if (existing.accountId !== ctx.accountId || existing.livemode !== ctx.livemode) {
        throw new AppError('idempotency_key_reused', { param: 'Idempotency-Key' });
      }
      return continueRefund(core, existing, 'send');
    }
  }
  const charge = await repo.findCharge(core.db, ctx, input.chargeId);
  if (!charge.captured || charge.status !== 'succeeded') {
    throw new AppError('charge_not_refundable', { param: 'charge', message: 'This charge has not been captured.' });
  }
  const amount = input.amountMinor ?? charge.amountCapturedMinor - charge.amountRefundedMinor;
  if (amount <= 0n) {
    throw new AppError('charge_already_refunded', {
      param: 'charge',
      message: 'This charge has been refunded in full.',
    });
  }
  const refundId = options.refundId ?? newId('re');
  const claimed = await core.db.transaction(async (tx) => {
    const reserved = await repo.reserveRefund(tx, ctx, charge.id, amount);
    if (reserved === null) return false;
    await repo.insertRefund(tx, ctx, {
      id: refundId,
      chargeId: charge.id,
      intentId: charge.paymentIntentId,
      amountMinor: amount,
      feeRefundedMinor: reserved.feePartMinor,
      currency: charge.currency,
      reason: input.reason ?? null,
      metadata: input.metadata ?? {},
      createdAt: core.now(),
    });
    await core.recovery?.recordPoint(tx, options.call ?? null, 'refund_claimed', { refund: refundId });
    return true;
  });
  if (!claimed) {
    const current = await repo.findCharge(core.db, ctx, charge.id);
    throw new AppError('amount_too_large', {
      param: 'amount',
      message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${current.amountCapturedMinor - current.amountRefundedMinor}).`,
    });
  }
  const created = await repo.refundById(core.db, refundId);
  assert(created !== null && created.status === 'pending', 'a claimed refund is pending');
  return continueRefund(core, created, 'send');
}

/** Phases 2 and 3 of a pending refund; a finished one answers as it is. */
export async function continueRefund(core: PaymentsCore, pending: Refund, step: CardStep): Promise<Refund> {
  if (pending.status !== 'pending') return pending;
  const ctx = { accountId: pending.accountId, livemode: pending.livemode };
  const charge = await repo.findCharge(core.db, ctx, pending.chargeId);
  if (isCardCharge(charge)) {
    const outcome = await cardRefundOutcome(core, ctx, charge, pending, step);
    if (outcome === null) return pending;
    if (!outcome.approved) return failRefund(core, pending, outcome);
  }
  const [merchantId, feeRevenueId] = await Promise.all([
    core.accounts.merchant(ctx, charge.currency),
    core.accounts.feeRevenue(ctx.livemode, charge.currency),
  ]);
  const feePart = pending.feeRefundedMinor;
  const results = await core.ledger.submitTransfers([
    {
      id: transferIds.refund(pending.id),
      debitAccountId: merchantId,
      creditAccountId: charge.payerLedgerAccountId,
      amountMinor: pending.amountMinor,
      currency: charge.currency,
      code: paymentTransferCodes.refund,
      linked: feePart > 0n,
      metadata: { refund: pending.id },
    },
    ...(feePart > 0n
      ? [
          {
            id: transferIds.feeRefund(pending.id),
            debitAccountId: feeRevenueId,
            creditAccountId: merchantId,
            amountMinor: feePart,
            currency: charge.currency,
            code: paymentTransferCodes.feeRefund,
            metadata: { refund: pending.id },
          },
        ]
      : []),
  ]);
  // Merchant balances may go negative, so a refund can fail only through a bug: crash loudly.
  assert(
    results.every((result) => result.result === 'ok' || result.result === 'exists'),
    `refund transfers: ${results.map((result) => result.result).join(', ')}`,
  );
  return finishRefund(core, charge, pending);
}

async function cardRefundOutcome(
  core: PaymentsCore,
  ctx: MerchantContext,
  charge: Charge,
  pending: Refund,
  step: CardStep,
): Promise<CardOutcome | null> {
  assert(core.cards !== null && charge.paymentMethodId !== null, 'a card charge implies a card network');
  if (step === 'resolve') return core.cards.resolveRefund({ refundId: pending.id });
  try {
    return await core.cards.refund({
      ctx,
      refundId: pending.id,
      paymentMethodId: charge.paymentMethodId,
      amountMinor: pending.amountMinor,
      currency: charge.currency,
    });
  } catch (error) {
    // Only a fault before anything was sent lands here (network trouble is an outcome): resolve it.
    if (!(error instanceof AppError)) throw error;
    const resolved = await core.cards.resolveRefund({ refundId: pending.id });
    if (resolved === null) throw error;
    return resolved.approved
      ? resolved
      : { approved: false, code: 'processing_error', declineCode: null, message: error.message };
  }
}

async function finishRefund(core: PaymentsCore, charge: Charge, pending: Refund): Promise<Refund> {
  const ctx = { accountId: pending.accountId, livemode: pending.livemode };
  const walletUser = walletUserOf(charge);
  const merchantName = walletUser === null ? null : await core.merchantName(ctx.accountId);
  return core.db
    .transaction(async (tx) => {
      const balanceTransactionId = await repo.insertBalanceTransaction(tx, ctx, {
        type: 'refund',
        amountMinor: -pending.amountMinor,
        feeMinor: -pending.feeRefundedMinor,
        currency: charge.currency,
        sourceId: pending.id,
        ledgerTransferId: transferIds.refund(pending.id),
        createdAt: core.now(),
      });
      const moved = await transitionRefund(tx, pending.id, 'succeed', { balanceTransactionId });
      // Another finisher (a retry, the sweep) got here first: undo this one's balance transaction.
      if (!moved) throw new RefundFinishedElsewhere();
      await core.recordEvent(tx, ctx, 'charge.refunded', charge.id);
      await core.recordEvent(tx, ctx, 'refund.created', pending.id);
      if (walletUser !== null && merchantName !== null && core.walletPayer !== null) {
        await core.walletPayer.refunded(tx, {
          userId: walletUser,
          amountMinor: pending.amountMinor,
          currency: pending.currency,
          merchantName,
          merchantAccountId: ctx.accountId,
          reference: pending.id,
        });
      }
      return repo.findRefund(tx, ctx, pending.id);
    })
    .catch(async (error: unknown) => {
      if (!(error instanceof RefundFinishedElsewhere)) throw error;
      return repo.findRefund(core.db, ctx, pending.id);
    });
}

class RefundFinishedElsewhere extends Error {
  constructor() {
    super('the refund was finished by another writer');
  }
}

/** A card refund the network did not take: the refund fails and the charge is refundable again. */
async function failRefund(
  core: PaymentsCore,
  pending: Refund,
  failure: { code: string; declineCode: string | null; message: string },
): Promise<Refund> {
  const ctx = { accountId: pending.accountId, livemode: pending.livemode };
  // Stripe's failure_reason values: declined, expired_or_canceled_card, lost_or_stolen_card, unknown.
  const reason =
    failure.declineCode === 'expired_card'
      ? 'expired_or_canceled_card'
      : failure.declineCode === 'lost_card' || failure.declineCode === 'stolen_card'
        ? 'lost_or_stolen_card'
        : failure.code === 'processing_error'
          ? 'unknown'
          : 'declined';
  return core.db.transaction(async (tx) => {
    const moved = await transitionRefund(tx, pending.id, 'fail', { failureReason: reason });
    if (moved) {
      await repo.unreserveRefund(tx, pending.chargeId, {
        amountMinor: pending.amountMinor,
        feePartMinor: pending.feeRefundedMinor,
      });
      await core.recordEvent(tx, ctx, 'refund.failed', pending.id);
    }
    return repo.findRefund(tx, ctx, pending.id);
  });
}

import { AppError, assert } from '../../../platform/errors.js';
import type { IdempotentAttempt } from '../../../platform/idempotency.js';
import { paymentFee } from '../fees.js';
import { feeTransfers, transferIds, unexpectedState, type PaymentsCore } from '../core.js';
import { paymentTransferCodes, type MerchantContext, type PaymentIntent } from '../model.js';
import * as repo from '../repository.js';
import { transitionIntent } from '../state-machine.js';

/**
 * Capturing an authorized payment (manual capture), in three phases:
 * 1. begin (one transaction): requires_capture → processing, with pending_action capture and the
 *    amount recorded on the intent (and the recovery point on the idempotency key);
 * 2. with no transaction open: the card network's 0220 completion (cards; idempotent by charge),
 *    then the ledger posts the reservation for the amount, with the fee, as one linked chain;
 * 3. finish (one transaction): the balance transaction, the charge's captured amount, the intent
 *    succeeded and the events.
 * Compensation: a completion the network declines puts the intent back in requires_capture; a
 * reservation that expired cancels the intent. The recovery sweep continues an intent left in
 * processing with pending_action capture (continueCapture), from phase 2.
 */

export async function capture(
  core: PaymentsCore,
  ctx: MerchantContext,
  intentId: string,
  amountToCaptureMinor: bigint | undefined,
  attempt: IdempotentAttempt | null,
): Promise<PaymentIntent> {
  const intent = await repo.findIntent(core.db, ctx, intentId);
  const pending = intent.pendingAction;
  if (pending?.action === 'capture') {
    // A capture under way (or left by a crash): join it if it is the same capture.
    if (amountToCaptureMinor !== undefined && amountToCaptureMinor !== pending.amountMinor) {
      throw unexpectedState(intent, 'capture');
    }
    return continueCapture(core, intent);
  }
  if (intent.status === 'succeeded' && resumedOwnCapture(attempt, intentId)) return intent;
  if (intent.status !== 'requires_capture') throw unexpectedState(intent, 'capture');
  const amount = amountToCaptureMinor ?? intent.amountCapturableMinor;
  if (amount <= 0n || amount > intent.amountCapturableMinor) {
    throw new AppError('invalid_request', {
      message: `amount_to_capture must be from 1 to ${intent.amountCapturableMinor}.`,
      param: 'amount_to_capture',
    });
  }
  const begun = await core.db.transaction(async (tx) => {
    const moved = await transitionIntent(tx, ctx, intentId, 'begin_capture', {
      pendingAction: 'capture',
      pendingAmount: amount,
      pendingSince: core.now(),
    });
    if (!moved) return null;
    await core.recovery?.recordPoint(tx, attempt?.call ?? null, 'capture_begun', { payment_intent: intentId });
    return repo.findIntent(tx, ctx, intentId);
  });
  if (begun === null) throw unexpectedState(await repo.findIntent(core.db, ctx, intentId), 'capture');
  return continueCapture(core, begun);
}

/** A retry of a capture request that took over a dead one whose capture already finished. */
function resumedOwnCapture(attempt: IdempotentAttempt | null, intentId: string): boolean {
  const resumed = attempt?.resumed;
  return resumed?.recoveryPoint === 'capture_begun' && resumed.resources.payment_intent === intentId;
}

/** Phases 2 and 3 of a capture that began; safe to run by a retry and the sweep at once. */
export async function continueCapture(core: PaymentsCore, intent: PaymentIntent): Promise<PaymentIntent> {
  const ctx = { accountId: intent.accountId, livemode: intent.livemode };
  const pending = intent.pendingAction;
  assert(pending?.action === 'capture' && pending.amountMinor !== null, 'a capture under way has its amount');
  const amount = pending.amountMinor;
  const chargeId = intent.latestChargeId;
  assert(chargeId !== null, 'a capturable intent has a charge');
  if (intent.paymentMethodType === 'card') {
    assert(core.cards !== null, 'a card intent implies a card network');
    const outcome = await core.cards.capture({ ctx, chargeId, amountMinor: amount });
    if (!outcome.approved) {
      await core.db.transaction((tx) =>
        transitionIntent(tx, ctx, intent.id, 'capture_declined', {
          pendingAction: null,
          pendingAmount: null,
          pendingSince: null,
        }),
      );
      throw new AppError('card_declined', {
        message: `The card network refused the capture: ${outcome.message}`,
        details: { decline_code: outcome.declineCode ?? outcome.code, charge: chargeId },
      });
    }
  }
  const [merchantId, feeRevenueId, pricing] = await Promise.all([
    core.accounts.merchant(ctx, intent.currency),
    core.accounts.feeRevenue(ctx.livemode, intent.currency),
    core.pricingOf(ctx.accountId),
  ]);
  const fee = paymentFee(amount, intent.currency, pricing);
  const results = await core.ledger.submitTransfers([
    {
      id: transferIds.capture(chargeId),
      phase: 'post_pending',
      pendingId: transferIds.charge(chargeId),
      amountMinor: amount,
      code: paymentTransferCodes.charge,
      linked: fee > 0n,
      metadata: { charge: chargeId },
    },
    ...feeTransfers(chargeId, { merchantId, feeRevenueId, feeMinor: fee, currency: intent.currency }),
  ]);
  const failed = results.find((result) => result.result !== 'ok' && result.result !== 'exists');
  if (failed !== undefined) {
    if (failed.result === 'pending_transfer_expired' || failed.result === 'linked_event_failed') {
      await expireAuthorization(core, intent);
      throw new AppError('payment_intent_unexpected_state', {
        message: 'The authorization expired before capture.',
        param: 'intent',
      });
    }
    throw new Error(`unexpected ledger result on capture: ${failed.result}`);
  }
  return finishCapture(core, intent, { chargeId, amount, fee });
}

async function expireAuthorization(core: PaymentsCore, intent: PaymentIntent): Promise<void> {
  const ctx = { accountId: intent.accountId, livemode: intent.livemode };
  await core.db.transaction(async (tx) => {
    const moved = await transitionIntent(tx, ctx, intent.id, 'expire_authorization', {
      canceledAt: core.now(),
      cancellationReason: 'automatic',
      amountCapturable: 0n,
      pendingAction: null,
      pendingAmount: null,
      pendingSince: null,
    });
    if (moved) await core.recordEvent(tx, ctx, 'payment_intent.canceled', intent.id);
  });
}

async function finishCapture(
  core: PaymentsCore,
  intent: PaymentIntent,
  captured: { chargeId: string; amount: bigint; fee: bigint },
): Promise<PaymentIntent> {
  const ctx = { accountId: intent.accountId, livemode: intent.livemode };
  return core.db.transaction(async (tx) => {
    const moved = await transitionIntent(tx, ctx, intent.id, 'succeed', {
      amountReceived: captured.amount,
      amountCapturable: 0n,
      pendingAction: null,
      pendingAmount: null,
      pendingSince: null,
    });
    // Another finisher (a retry, the sweep) got here first and did all of it.
    if (!moved) return repo.findIntent(tx, ctx, intent.id);
    const balanceTransactionId = await repo.insertBalanceTransaction(tx, ctx, {
      type: 'charge',
      amountMinor: captured.amount,
      feeMinor: captured.fee,
      currency: intent.currency,
      sourceId: captured.chargeId,
      ledgerTransferId: transferIds.capture(captured.chargeId),
      createdAt: core.now(),
    });
    const recorded = await repo.recordCapture(tx, captured.chargeId, {
      amountMinor: captured.amount,
      feeMinor: captured.fee,
      balanceTransactionId,
    });
    assert(recorded, 'an authorized charge is captured once');
    await core.recordEvent(tx, ctx, 'charge.captured', captured.chargeId);
    await core.recordEvent(tx, ctx, 'payment_intent.succeeded', intent.id);
    return repo.findIntent(tx, ctx, intent.id);
  });
}

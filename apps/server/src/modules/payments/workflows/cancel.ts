import { assert } from '../../../platform/errors.js';
import type { IdempotentAttempt } from '../../../platform/idempotency.js';
import { transferIds, unexpectedState, type PaymentsCore } from '../core.js';
import { paymentTransferCodes, type MerchantContext, type PaymentIntent } from '../model.js';
import * as repo from '../repository.js';
import { nextIntentStatus, transitionIntent } from '../state-machine.js';

/**
 * Canceling an intent that has not succeeded, in three phases:
 * 1. begin (one transaction): the intent moves to processing with pending_action cancel and its
 *    reason (and the recovery point on the idempotency key);
 * 2. with no transaction open: an authorized card charge is reversed (0400, which the gateway
 *    repeats until the network confirms), and a reservation in the ledger is voided (its transfer
 *    id derives from the charge, so voiding twice voids once);
 * 3. finish (one transaction): canceled, with the event.
 * Nothing to compensate: a cancel that began always finishes. The recovery sweep continues an
 * intent left in processing with pending_action cancel (continueCancel).
 */

export async function cancel(
  core: PaymentsCore,
  ctx: MerchantContext,
  intentId: string,
  reason: string | null,
  attempt: IdempotentAttempt | null,
): Promise<PaymentIntent> {
  const intent = await repo.findIntent(core.db, ctx, intentId);
  if (intent.pendingAction?.action === 'cancel') return continueCancel(core, intent);
  if (intent.status === 'canceled' && resumedOwnCancel(attempt, intentId)) return intent;
  if (nextIntentStatus(intent.status, 'begin_cancel') === null) throw unexpectedState(intent, 'cancel');
  const begun = await core.db.transaction(async (tx) => {
    const moved = await transitionIntent(tx, ctx, intentId, 'begin_cancel', {
      pendingAction: 'cancel',
      pendingReason: reason,
      pendingSince: core.now(),
    });
    if (!moved) return null;
    await core.recovery?.recordPoint(tx, attempt?.call ?? null, 'cancel_begun', { payment_intent: intentId });
    return repo.findIntent(tx, ctx, intentId);
  });
  if (begun === null) throw unexpectedState(await repo.findIntent(core.db, ctx, intentId), 'cancel');
  return continueCancel(core, begun);
}

function resumedOwnCancel(attempt: IdempotentAttempt | null, intentId: string): boolean {
  const resumed = attempt?.resumed;
  return resumed?.recoveryPoint === 'cancel_begun' && resumed.resources.payment_intent === intentId;
}

/** Phases 2 and 3 of a cancel that began; safe to run by a retry and the sweep at once. */
export async function continueCancel(core: PaymentsCore, intent: PaymentIntent): Promise<PaymentIntent> {
  const ctx = { accountId: intent.accountId, livemode: intent.livemode };
  assert(intent.pendingAction?.action === 'cancel', 'a cancel under way');
  const chargeId = intent.latestChargeId;
  // A reservation exists when the latest charge was authorized and not captured (manual capture).
  const charge = chargeId === null ? null : await repo.chargeById(core.db, chargeId);
  const reserved = charge !== null && charge.status === 'succeeded' && !charge.captured;
  if (reserved && intent.paymentMethodType === 'card') {
    assert(core.cards !== null, 'a card intent implies a card network');
    // The gateway records the reversal before sending it and repeats it until the network confirms.
    await core.cards.void({ ctx, chargeId: charge.id });
  }
  if (reserved) {
    const [result] = await core.ledger.submitTransfers([
      {
        id: transferIds.void(charge.id),
        phase: 'void_pending',
        pendingId: transferIds.charge(charge.id),
        code: paymentTransferCodes.charge,
      },
    ]);
    assert(
      result?.result === 'ok' ||
        result?.result === 'exists' ||
        result?.result === 'pending_transfer_expired' ||
        result?.result === 'pending_transfer_already_voided',
      `void on cancel: ${result?.result}`,
    );
  }
  return core.db.transaction(async (tx) => {
    const moved = await transitionIntent(tx, ctx, intent.id, 'finish_cancel', {
      canceledAt: core.now(),
      cancellationReason: intent.pendingAction?.reason ?? null,
      amountCapturable: 0n,
      pendingAction: null,
      pendingReason: null,
      pendingSince: null,
    });
    if (moved) await core.recordEvent(tx, ctx, 'payment_intent.canceled', intent.id);
    return repo.findIntent(tx, ctx, intent.id);
  });
}

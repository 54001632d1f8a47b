import { AppError, assert } from '../../../platform/errors.js';
import type { IdempotentCall } from '../../../platform/idempotency.js';
import { paymentFee } from '../fees.js';
import {
  feeTransfers,
  ledgerFailure,
  paymentFailureOf,
  transferIds,
  unexpectedState,
  type PaymentsCore,
} from '../core.js';
import {
  isCardCharge,
  newId,
  paymentLimits,
  paymentTransferCodes,
  type CardForPayment,
  type CardOutcome,
  type Charge,
  type MerchantContext,
  type Payer,
  type PaymentFailure,
  type PaymentIntent,
} from '../model.js';
import * as repo from '../repository.js';
import { moveCharge, moveIntent, nextIntentStatus, transitionCharge, transitionIntent } from '../state-machine.js';

/**
 * Confirming a payment, in three phases (docs/crash-safety.md):
 * 1. claim (one transaction): the intent moves to processing, the charge is recorded as pending
 *    with its id (derived from the request's idempotency key when there is one), a live wallet's
 *    hold is taken, and the idempotency key records the charge;
 * 2. the money moves, with no transaction open: the card network is asked (cards), then the
 *    ledger posts the charge's transfers, whose ids derive from the charge id;
 * 3. finish (one transaction): the charge, the intent, the balance transaction, the events and the
 *    wallet's hold change together, each by a conditional transition.
 * A crash between phases leaves a pending charge. A retry with the same key, or the recovery sweep,
 * continues it (continueCharge): the card network's record and the ledger answer the same for the
 * same ids, so the payment completes once. Compensation: a declined or refused charge gives the
 * intent back (requires_payment_method) and releases the wallet's hold.
 */

export interface ConfirmOptions {
  /** The charge's id (derived from the idempotency key); absent: a new random id. */
  chargeId?: string;
  call?: IdempotentCall | null;
}

export type ConfirmMethod =
  | { kind: 'payer'; payer: Payer; paymentMethodType: string }
  | { kind: 'card'; card: CardForPayment; authenticated: boolean };

/** How a continuation learns the card's outcome: send it (a request), or resolve it (recovery). */
type CardStep = { mode: 'send'; authenticated: boolean } | { mode: 'resolve' };

export async function confirm(
  core: PaymentsCore,
  ctx: MerchantContext,
  intentId: string,
  method: ConfirmMethod,
  options: ConfirmOptions = {},
): Promise<PaymentIntent> {
  if (options.chargeId !== undefined) {
    const authenticated = method.kind === 'card' && method.authenticated;
    const resumed = await resumeConfirmation(core, ctx, intentId, options.chargeId, authenticated);
    if (resumed !== null) return resumed;
  }
  if (method.kind === 'card' && core.cards === null) {
    throw new AppError('processing_error', { message: 'Card payments are not enabled on this platform.' });
  }
  const intent = await repo.findIntent(core.db, ctx, intentId);
  if (nextIntentStatus(intent.status, 'confirm') === null) throw unexpectedState(intent, 'confirm');
  const payer = method.kind === 'payer' ? method.payer : await cardPayer(core, ctx, intent, method.card);
  const charge = await claimCharge(core, ctx, intent, payer, {
    chargeId: options.chargeId ?? newId('ch'),
    paymentMethodType: method.kind === 'payer' ? method.paymentMethodType : 'card',
    paymentMethodId: method.kind === 'card' ? method.card.paymentMethodId : null,
    call: options.call ?? null,
  });
  const step: CardStep = { mode: 'send', authenticated: method.kind === 'card' && method.authenticated };
  return continueCharge(core, charge, step);
}

/**
 * A retry whose key names charge `chargeId`: continues it if it is pending, or answers with how it
 * ended. null when there is no such charge (the first attempt never claimed one).
 */
export async function resumeConfirmation(
  core: PaymentsCore,
  ctx: MerchantContext,
  intentId: string,
  chargeId: string,
  authenticated = false,
): Promise<PaymentIntent | null> {
  const charge = await repo.chargeById(core.db, chargeId);
  if (charge === null) return null;
  if (charge.accountId !== ctx.accountId || charge.livemode !== ctx.livemode || charge.paymentIntentId !== intentId) {
    throw new AppError('idempotency_key_reused', { param: 'Idempotency-Key' });
  }
  return continueCharge(core, charge, { mode: 'send', authenticated });
}

async function cardPayer(
  core: PaymentsCore,
  ctx: MerchantContext,
  intent: PaymentIntent,
  card: CardForPayment,
): Promise<Payer> {
  return {
    ledgerAccountId: await core.accounts.cardClearing(ctx.livemode, intent.currency),
    reference: card.reference,
    details: { type: 'card', card: card.details },
  };
}

/** Phase 1: claims a confirmable intent (no second confirmation can run) and records its charge. */
async function claimCharge(
  core: PaymentsCore,
  ctx: MerchantContext,
  intent: PaymentIntent,
  payer: Payer,
  claim: { chargeId: string; paymentMethodType: string; paymentMethodId: string | null; call: IdempotentCall | null },
): Promise<Charge> {
  const fee = paymentFee(intent.amountMinor, intent.currency, await core.pricingOf(ctx.accountId));
  const wallet = payer.wallet ?? null;
  assert(wallet === null || core.walletPayer !== null, 'a wallet payer needs the wallets port');
  // The wallet's hold is named after the charge: one hold per charge, found again by a retry.
  const holdId = wallet === null ? null : claim.chargeId;
  await core.db.transaction(async (tx) => {
    const moved = await transitionIntent(tx, ctx, intent.id, 'confirm', {
      latestChargeId: claim.chargeId,
      paymentMethodType: claim.paymentMethodType,
      payerReference: payer.reference,
      paymentMethodId: claim.paymentMethodId,
      lastPaymentError: null,
      nextAction: null,
    });
    if (!moved) throw unexpectedState(await repo.findIntent(tx, ctx, intent.id), 'confirm');
    await repo.insertCharge(tx, ctx, {
      id: claim.chargeId,
      intentId: intent.id,
      amountMinor: intent.amountMinor,
      currency: intent.currency,
      feeMinor: fee,
      paymentMethodDetails: payer.details,
      paymentMethodId: claim.paymentMethodId,
      payerLedgerAccountId: payer.ledgerAccountId,
      payerHoldId: holdId,
      createdAt: core.now(),
    });
    if (wallet !== null && holdId !== null) {
      await core.walletPayer!.hold(tx, {
        holdId,
        userId: wallet.userId,
        amountMinor: intent.amountMinor,
        currency: intent.currency,
        merchantName: wallet.merchantName,
        merchantAccountId: ctx.accountId,
        reference: claim.chargeId,
      });
    }
    await core.recovery?.recordPoint(tx, claim.call, 'charge_claimed', {
      payment_intent: intent.id,
      charge: claim.chargeId,
    });
  });
  const charge = await repo.chargeById(core.db, claim.chargeId);
  assert(charge !== null && charge.status === 'pending', 'a claimed charge is pending');
  return charge;
}

/**
 * Phases 2 and 3 of a pending charge; a charge already finished answers with its intent. In
 * recovery (resolve), a card whose send is still under way leaves the charge pending (next run).
 */
export async function continueCharge(core: PaymentsCore, charge: Charge, step: CardStep): Promise<PaymentIntent> {
  const ctx = { accountId: charge.accountId, livemode: charge.livemode };
  const intent = await repo.findIntent(core.db, ctx, charge.paymentIntentId);
  if (charge.status !== 'pending') return intent;
  if (isCardCharge(charge)) {
    const outcome = await cardOutcome(core, ctx, intent, charge, step);
    if (outcome === null) return intent;
    if (!outcome.approved) return finishFailed(core, charge, outcome);
  }
  const failure = await postCharge(core, ctx, intent, charge);
  if (failure !== null) return finishFailed(core, charge, failure);
  return finishSucceeded(core, intent, charge);
}

async function cardOutcome(
  core: PaymentsCore,
  ctx: MerchantContext,
  intent: PaymentIntent,
  charge: Charge,
  step: CardStep,
): Promise<CardOutcome | null> {
  const cards = core.cards;
  assert(cards !== null && charge.paymentMethodId !== null, 'a card charge implies a card network and a card');
  if (step.mode === 'resolve') {
    return cards.resolveCharge({ chargeId: charge.id, captureMethod: intent.captureMethod });
  }
  try {
    return await cards.authorize({
      ctx,
      chargeId: charge.id,
      paymentMethodId: charge.paymentMethodId,
      amountMinor: charge.amountMinor,
      currency: charge.currency,
      captureMethod: intent.captureMethod,
      authenticated: step.authenticated,
    });
  } catch (error) {
    // The gateway records every attempt before it sends: an error here means it may not have
    // recorded one (e.g. the card could not be read). Resolve it: nothing sent is closed for good.
    const resolved = await cards.resolveCharge({ chargeId: charge.id, captureMethod: intent.captureMethod });
    if (resolved === null || resolved.approved) throw error;
    await finishFailed(core, charge, {
      code: 'processing_error',
      declineCode: null,
      message: 'An error occurred while processing the card.',
    });
    throw error;
  }
}

/**
 * Moves a charge's money: automatic capture posts payer → merchant and merchant → fee revenue as
 * one linked chain; manual capture reserves the amount (a pending transfer) until capture or
 * cancel. Returns the failure when the ledger refuses (a wallet's balance), else null.
 */
async function postCharge(
  core: PaymentsCore,
  ctx: MerchantContext,
  intent: PaymentIntent,
  charge: Charge,
): Promise<PaymentFailure | null> {
  const [merchantId, feeRevenueId] = await Promise.all([
    core.accounts.merchant(ctx, charge.currency),
    core.accounts.feeRevenue(ctx.livemode, charge.currency),
  ]);
  const base = {
    id: transferIds.charge(charge.id),
    debitAccountId: charge.payerLedgerAccountId,
    creditAccountId: merchantId,
    amountMinor: charge.amountMinor,
    currency: charge.currency,
    code: paymentTransferCodes.charge,
  };
  const results = await core.ledger.submitTransfers(
    intent.captureMethod === 'automatic'
      ? [
          { ...base, linked: charge.feeMinor > 0n, metadata: { charge: charge.id } },
          ...feeTransfers(charge.id, {
            merchantId,
            feeRevenueId,
            feeMinor: charge.feeMinor,
            currency: charge.currency,
          }),
        ]
      : [
          {
            ...base,
            phase: 'pending',
            timeoutS: paymentLimits.authorizationHoldS,
            metadata: { charge: charge.id, capture: 'manual' },
          },
        ],
  );
  const code = await ledgerFailure(core.ledger, results);
  return code === null ? null : paymentFailureOf(code);
}

/** Phase 3, success: everything that changes with a paid (or authorized) charge, in one transaction. */
async function finishSucceeded(core: PaymentsCore, intent: PaymentIntent, charge: Charge): Promise<PaymentIntent> {
  const ctx = { accountId: charge.accountId, livemode: charge.livemode };
  return core.db
    .transaction(async (tx) => {
      const automatic = intent.captureMethod === 'automatic';
      const balanceTransactionId = automatic
        ? await repo.insertBalanceTransaction(tx, ctx, {
            type: 'charge',
            amountMinor: charge.amountMinor,
            feeMinor: charge.feeMinor,
            currency: charge.currency,
            sourceId: charge.id,
            ledgerTransferId: transferIds.charge(charge.id),
            createdAt: core.now(),
          })
        : undefined;
      const succeeded = await moveCharge(
        tx,
        charge.id,
        'succeed',
        automatic
          ? {
              captured: true,
              amountCaptured: charge.amountMinor,
              ...(balanceTransactionId === undefined ? {} : { balanceTransactionId }),
            }
          : {},
      );
      // Another finisher (the request or the recovery) got here first and did all of it: roll back.
      if (succeeded === null) throw new FinishedElsewhere();
      const finished = automatic
        ? await moveIntent(tx, ctx, intent.id, 'succeed', { amountReceived: charge.amountMinor })
        : await moveIntent(tx, ctx, intent.id, 'authorize', {
            amountCapturable: charge.amountMinor,
            reservationTransferId: transferIds.charge(charge.id),
          });
      assert(finished !== null, 'a pending charge keeps its intent in processing');
      // The events show the rows as this transaction left them. A charge that was pending until this
      // transaction has no refunds (a refund needs a succeeded charge, whose row this one holds locked).
      await core.recordEvent(tx, ctx, 'charge.succeeded', charge.id, {
        kind: 'charge',
        charge: succeeded,
        refunds: [],
      });
      await core.recordEvent(
        tx,
        ctx,
        automatic ? 'payment_intent.succeeded' : 'payment_intent.amount_capturable_updated',
        intent.id,
        { kind: 'intent', intent: finished },
      );
      if (charge.payerHoldId !== null) await core.walletPayer!.settle(tx, charge.payerHoldId, { succeeded: true });
      return finished;
    })
    .catch((error: unknown) => afterLostRace(core, charge, error));
}

/** Phase 3, failure: the charge fails, the intent goes back to the customer, the hold is released. */
export async function finishFailed(
  core: PaymentsCore,
  charge: Charge,
  failure: PaymentFailure,
): Promise<PaymentIntent> {
  const ctx = { accountId: charge.accountId, livemode: charge.livemode };
  return core.db
    .transaction(async (tx) => {
      const moved = await transitionCharge(tx, charge.id, 'fail', {
        failureCode: failure.code,
        failureMessage: failure.message,
        failureDeclineCode: failure.declineCode,
      });
      if (!moved) throw new FinishedElsewhere();
      const intent = await repo.findIntent(tx, ctx, charge.paymentIntentId);
      const lastPaymentError: Record<string, unknown> = {
        type: 'card_error',
        code: failure.code,
        ...(failure.declineCode === null ? {} : { decline_code: failure.declineCode }),
        message: failure.message,
        charge: charge.id,
        ...(intent.paymentMethodId === null ? {} : { payment_method: { id: intent.paymentMethodId } }),
      };
      const intentMoved = await transitionIntent(tx, ctx, intent.id, 'fail_payment', { lastPaymentError });
      assert(intentMoved, 'a pending charge keeps its intent in processing');
      await core.recordEvent(tx, ctx, 'charge.failed', charge.id);
      await core.recordEvent(tx, ctx, 'payment_intent.payment_failed', intent.id);
      if (charge.payerHoldId !== null) {
        await core.walletPayer!.settle(tx, charge.payerHoldId, { succeeded: false, failureCode: failure.code });
      }
      return repo.findIntent(tx, ctx, intent.id);
    })
    .catch((error: unknown) => afterLostRace(core, charge, error));
}

/** Thrown inside a finishing transaction whose charge someone else already finished: roll back. */
class FinishedElsewhere extends Error {
  constructor() {
    super('the charge was finished by another writer');
  }
}

async function afterLostRace(core: PaymentsCore, charge: Charge, error: unknown): Promise<PaymentIntent> {
  if (!(error instanceof FinishedElsewhere)) throw error;
  return repo.findIntent(core.db, { accountId: charge.accountId, livemode: charge.livemode }, charge.paymentIntentId);
}

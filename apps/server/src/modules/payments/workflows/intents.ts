import { randomBytes } from 'node:crypto';
import type { SqlExecutor } from '../../../platform/db.js';
import { AppError } from '../../../platform/errors.js';
import { isKnownCurrency } from '../../../platform/money.js';
import { unexpectedState, type PaymentsCore } from '../core.js';
import { newId, type MerchantContext, type PaymentIntent } from '../model.js';
import * as repo from '../repository.js';
import { transitionIntent } from '../state-machine.js';

/**
 * The intent's own changes that move no money: creating it, the merchant's fields, asking the
 * customer to act (approve in the app, scan a QR, pass 3-D Secure), authentication failing, and
 * the PaymentMethod it will be confirmed with. Each is one transaction.
 */

export interface CreateIntentInput {
  amountMinor: bigint;
  currency: string;
  captureMethod?: 'automatic' | 'manual';
  customerId?: string | null;
  description?: string | null;
  metadata?: Record<string, string>;
}

/** Creates an intent; with `id` (derived from an idempotency key) a second create returns the first. */
export async function createIntent(
  core: PaymentsCore,
  ctx: MerchantContext,
  input: CreateIntentInput,
  options: { id?: string } = {},
): Promise<PaymentIntent> {
  if (!isKnownCurrency(input.currency)) throw new AppError('currency_unsupported', { param: 'currency' });
  if (input.amountMinor <= 0n) {
    throw new AppError('invalid_request', { message: 'amount must be positive', param: 'amount' });
  }
  const id = options.id ?? newId('pi');
  const created = await core.db.transaction(async (tx) => {
    const intent = await repo.insertIntent(tx, ctx, {
      id,
      amountMinor: input.amountMinor,
      currency: input.currency,
      captureMethod: input.captureMethod ?? 'automatic',
      customerId: input.customerId ?? null,
      description: input.description ?? null,
      metadata: input.metadata ?? {},
      clientSecret: `${id}_secret_${randomBytes(16).toString('hex')}`,
      createdAt: core.now(),
    });
    if (intent !== null) await core.recordEvent(tx, ctx, 'payment_intent.created', id);
    return intent;
  });
  // The id was taken: a retry of the request that created it (its id derives from the key).
  return created ?? repo.findIntent(core.db, ctx, id);
}

export interface IntentFieldsInput {
  amountMinor?: bigint;
  description?: string | null;
  metadata?: Record<string, string>;
  customerId?: string | null;
}

export async function updateIntent(
  core: PaymentsCore,
  ctx: MerchantContext,
  id: string,
  input: IntentFieldsInput,
): Promise<PaymentIntent> {
  return core.db.transaction(async (tx) => {
    const intent = await repo.findIntent(tx, ctx, id);
    const amountChangeable = intent.status === 'requires_payment_method' || intent.status === 'requires_confirmation';
    if (input.amountMinor !== undefined && !amountChangeable) throw unexpectedState(intent, 'update the amount of');
    if (input.amountMinor !== undefined && input.amountMinor <= 0n) {
      throw new AppError('invalid_request', { message: 'amount must be positive', param: 'amount' });
    }
    await repo.updateIntentFields(tx, ctx, id, input);
    await core.recordEvent(tx, ctx, 'payment_intent.updated', id);
    return repo.findIntent(tx, ctx, id);
  });
}

/** Runs one status transition (body answers whether it moved) and reads the intent back. */
async function withTransition(
  core: PaymentsCore,
  ctx: MerchantContext,
  id: string,
  verb: string,
  body: (tx: SqlExecutor) => Promise<boolean>,
  tx?: SqlExecutor,
): Promise<PaymentIntent> {
  const run = async (executor: SqlExecutor) => {
    if (!(await body(executor))) throw unexpectedState(await repo.findIntent(executor, ctx, id), verb);
    return repo.findIntent(executor, ctx, id);
  };
  return tx === undefined ? core.db.transaction(run) : run(tx);
}

/** Puts a confirmable intent in requires_action (the customer must act first). */
export function requireAction(
  core: PaymentsCore,
  ctx: MerchantContext,
  id: string,
  next: { nextAction: Record<string, unknown>; paymentMethodType: string; tx?: SqlExecutor },
): Promise<PaymentIntent> {
  return withTransition(
    core,
    ctx,
    id,
    'confirm',
    async (tx) => {
      const moved = await transitionIntent(tx, ctx, id, 'require_action', {
        nextAction: next.nextAction,
        paymentMethodType: next.paymentMethodType,
        lastPaymentError: null,
      });
      if (moved) await core.recordEvent(tx, ctx, 'payment_intent.requires_action', id);
      return moved;
    },
    next.tx,
  );
}

/** The cardholder failed (or abandoned) 3-D Secure: the intent goes back to the customer. */
export function failAuthentication(core: PaymentsCore, ctx: MerchantContext, id: string): Promise<PaymentIntent> {
  return withTransition(core, ctx, id, 'authenticate', async (tx) => {
    const intent = await repo.findIntent(tx, ctx, id);
    const moved = await transitionIntent(tx, ctx, id, 'fail_authentication', {
      nextAction: null,
      lastPaymentError: {
        type: 'invalid_request_error',
        code: 'payment_intent_authentication_failure',
        message:
          'The provided PaymentMethod has failed authentication. Provide a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
        ...(intent.paymentMethodId === null ? {} : { payment_method: { id: intent.paymentMethodId } }),
      },
    });
    if (moved) await core.recordEvent(tx, ctx, 'payment_intent.payment_failed', id);
    return moved;
  });
}

/** Sets the PaymentMethod an unconfirmed intent will be confirmed with (it then requires confirmation). */
export function setPaymentMethod(
  core: PaymentsCore,
  ctx: MerchantContext,
  id: string,
  paymentMethodId: string,
  type: string,
): Promise<PaymentIntent> {
  return withTransition(core, ctx, id, 'update', (tx) =>
    transitionIntent(tx, ctx, id, 'set_payment_method', { paymentMethodId, paymentMethodType: type }),
  );
}

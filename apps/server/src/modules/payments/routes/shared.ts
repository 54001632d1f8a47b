import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../../platform/errors.js';
import { V1Expand, V1Id, V1Integer, V1String, type V1RequestIds } from '../../../v1/index.js';
import type { CardChallenges } from '../card-challenge.js';
import type { CardForPayment, MerchantContext, PaymentIntent } from '../model.js';
import type { MerchantQr } from '../qr.js';
import type { ConfirmOptions, PaymentService } from '../service.js';
import type { WalletMethod } from '../wallet-method.js';
import { intentDto } from '../wire.js';

/**
 * What the /v1 payment routes share: their options (the services they call), parameter schemas,
 * and the confirmation helpers (a confirm is by wallet code, by the merchant's QR, or by card).
 */

/** Card PaymentMethods (the cards context): a `pm_…` id or a test token → what a card charge needs. */
export interface CardMethodsPort {
  resolveForPayment(ctx: MerchantContext, idOrToken: string): Promise<CardForPayment>;
}

export interface PaymentRoutesOptions {
  payments: PaymentService;
  walletMethod: WalletMethod;
  merchantQr: MerchantQr;
  /** Absent: card payments are not offered. */
  cardMethods?: CardMethodsPort;
  /** 3-D Secure step-up for cards whose issuer asks for authentication. */
  cardChallenges?: CardChallenges;
  /** Whether an id names a live customer of the caller's account and mode (the customers context). */
  customerExists: (scope: MerchantContext, id: string) => Promise<boolean>;
}

/** The /v1 instance the payment routes register on. */
export type V1App = Parameters<FastifyPluginAsyncTypebox<PaymentRoutesOptions>>[0];

export const Currency = V1String({ pattern: '^[A-Za-z]{3}$' });
export const Amount = V1Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
export const IdParams = Type.Object({ id: V1Id() });
export const ExpandQuery = Type.Object({ expand: Type.Optional(V1Expand) }, { additionalProperties: false });

export const PaymentMethodData = Type.Object(
  {
    type: Type.Literal('wallet'),
    wallet: Type.Optional(Type.Object({ code: V1String({ pattern: '^[0-9]{18}$' }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

/** The v1 config of each resource's routes (auth, expand's object type). */
export const resources = {
  intents: { resource: 'payment_intents', object: 'payment_intent' },
  charges: { resource: 'charges', object: 'charge' },
  refunds: { resource: 'refunds', object: 'refund' },
  balanceTransactions: { resource: 'balance_transactions', object: 'balance_transaction' },
} as const;

/** Our error codes that are Stripe card_error codes (a declined confirmation answers with one). */
const cardErrorCodes = {
  card_declined: true,
  expired_card: true,
  incorrect_cvc: true,
  incorrect_number: true,
  processing_error: true,
  authentication_required: true,
  insufficient_funds: true,
} as const;

/** How the caller confirms: on session (a customer present, who can authenticate) or not. */
export interface ConfirmContext {
  baseUrl: string;
  returnUrl: string | null;
  offSession: boolean;
}

export function confirmContextOf(
  request: { protocol: string; host: string },
  body: { return_url?: string; off_session?: boolean },
): ConfirmContext {
  return {
    baseUrl: `${request.protocol}://${request.host}`,
    returnUrl: body.return_url ?? null,
    offSession: body.off_session === true,
  };
}

export async function confirmWith(
  options: PaymentRoutesOptions,
  scope: MerchantContext,
  intentId: string,
  input: { paymentMethod?: string; data?: { type: 'wallet'; wallet?: { code: string } } },
  confirm: ConfirmContext,
  ids: V1RequestIds,
): Promise<PaymentIntent> {
  const chargeId = await ids.idFor('ch', 'charge');
  const attemptOptions = { ...(chargeId === undefined ? {} : { chargeId }), call: ids.attempt?.call ?? null };
  const data = input.data;
  if (data !== undefined) {
    const code = data.wallet?.code;
    // Without a customer's code, the customer pays by scanning the merchant's QR for this intent.
    if (code === undefined) return options.merchantQr.display(scope, intentId);
    return options.walletMethod.confirmWithCode(scope, intentId, code, attemptOptions);
  }
  const paymentMethod = input.paymentMethod ?? (await options.payments.retrieveIntent(scope, intentId)).paymentMethodId;
  if (paymentMethod === null) {
    throw new AppError('parameter_missing', {
      message:
        'Confirm with a payment_method (a card: pm_… or a test token such as pm_card_visa), or with payment_method_data[type]=wallet (and payment_method_data[wallet][code] for a scanned code).',
      param: 'payment_method',
    });
  }
  return confirmWithCard(options, scope, intentId, paymentMethod, confirm, attemptOptions);
}

/** Stripe answers a declined confirmation with a 402 card_error that carries the intent. */
async function confirmWithCard(
  options: PaymentRoutesOptions,
  scope: MerchantContext,
  intentId: string,
  paymentMethod: string,
  confirm: ConfirmContext,
  attemptOptions: ConfirmOptions,
): Promise<PaymentIntent> {
  if (options.cardMethods === undefined) {
    throw new AppError('processing_error', { message: 'Card payments are not enabled on this platform.' });
  }
  const card = await options.cardMethods.resolveForPayment(scope, paymentMethod);
  let intent = await options.payments.confirmWithCard(scope, intentId, card, attemptOptions);
  // The issuer wants the cardholder to authenticate: on session, they are sent to the challenge.
  if (
    intent.lastPaymentError?.code === 'authentication_required' &&
    !confirm.offSession &&
    options.cardChallenges !== undefined
  ) {
    intent = await options.cardChallenges.start(scope, intent, {
      baseUrl: confirm.baseUrl,
      returnUrl: confirm.returnUrl,
    });
  }
  const error = intent.lastPaymentError;
  if (intent.status === 'requires_payment_method' && error !== null) {
    const code = typeof error.code === 'string' ? error.code : 'card_declined';
    throw new AppError(code in cardErrorCodes ? (code as keyof typeof cardErrorCodes) : 'card_declined', {
      message: typeof error.message === 'string' ? error.message : 'The card was declined.',
      details: {
        ...(typeof error.decline_code === 'string' ? { decline_code: error.decline_code } : {}),
        ...(typeof error.charge === 'string' ? { charge: error.charge } : {}),
        payment_intent: intentDto(intent, { includeClientSecret: false }),
      },
    });
  }
  return intent;
}

/** `customer=` must name the caller's own customer (same account and mode), as Stripe checks. */
export async function requireCustomer(
  options: PaymentRoutesOptions,
  scope: MerchantContext,
  id: string,
): Promise<void> {
  if (await options.customerExists(scope, id)) return;
  throw new AppError('parameter_resource_missing', { message: `No such customer: '${id}'`, param: 'customer' });
}

/** An intent created with a card but not confirmed waits in requires_confirmation with that card. */
export async function attachCard(
  options: PaymentRoutesOptions,
  scope: MerchantContext,
  intentId: string,
  paymentMethod: string,
): Promise<PaymentIntent> {
  if (options.cardMethods === undefined) {
    throw new AppError('processing_error', { message: 'Card payments are not enabled on this platform.' });
  }
  const card = await options.cardMethods.resolveForPayment(scope, paymentMethod);
  return options.payments.setPaymentMethod(scope, intentId, card.paymentMethodId, 'card');
}

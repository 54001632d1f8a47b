import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.js';
import {
  V1Boolean,
  V1CreatedFilter,
  V1Expand,
  V1Id,
  V1Integer,
  V1ListParams,
  V1Metadata,
  V1String,
  V1Unsettable,
  listResponse,
  pageRequestFrom,
  registerV1ErrorCodes,
  toUpdate,
  unixSeconds,
  v1Auth,
  v1RequestIds,
  v1Scope,
  type V1RequestIds,
} from '../../v1/index.js';
import type {
  BalanceTransaction,
  CardForPayment,
  Charge,
  ConfirmOptions,
  MerchantContext,
  PaymentIntent,
  PaymentService,
  Refund,
} from './service.js';
import type { CardChallenges } from './card-challenge.js';
import type { MerchantQr } from './qr.js';
import type { WalletMethod } from './wallet-method.js';

/**
 * /v1 payment_intents, charges, refunds, balance and balance_transactions, shaped as Stripe's
 * objects (fields we do not support yet are present as null: docs/stripe-compatibility.md).
 * Currencies are lower-case on the wire, as Stripe's are.
 */

registerV1ErrorCodes({
  payment_intent_unexpected_state: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state' },
  charge_not_refundable: { type: 'invalid_request_error', code: 'charge_not_refundable' },
  charge_already_refunded: { type: 'invalid_request_error', code: 'charge_already_refunded' },
  amount_too_large: { type: 'invalid_request_error', code: 'amount_too_large' },
  wallet_frozen: { type: 'card_error', code: 'card_declined' },
  limit_exceeded: { type: 'card_error', code: 'card_declined' },
  payment_code_invalid: { type: 'invalid_request_error', code: 'payment_code_invalid' },
  payment_code_expired: { type: 'invalid_request_error', code: 'payment_code_expired' },
  payment_code_used: { type: 'invalid_request_error', code: 'payment_code_used', status: 400 },
  offline_limit_exceeded: { type: 'card_error', code: 'card_declined' },
  expired_card: { type: 'card_error', code: 'expired_card' },
  incorrect_cvc: { type: 'card_error', code: 'incorrect_cvc' },
  incorrect_number: { type: 'card_error', code: 'incorrect_number' },
  processing_error: { type: 'card_error', code: 'processing_error' },
  authentication_required: { type: 'card_error', code: 'authentication_required' },
});

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

const wire = (currency: string) => currency.toLowerCase();

export function intentDto(intent: PaymentIntent, options: { includeClientSecret: boolean }) {
  return {
    id: intent.id,
    object: 'payment_intent' as const,
    amount: Number(intent.amountMinor),
    amount_capturable: Number(intent.amountCapturableMinor),
    amount_details: null,
    amount_received: Number(intent.amountReceivedMinor),
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: intent.canceledAt === null ? null : unixSeconds(intent.canceledAt),
    cancellation_reason: intent.cancellationReason,
    capture_method: intent.captureMethod,
    client_secret: options.includeClientSecret ? intent.clientSecret : null,
    confirmation_method: 'automatic',
    created: unixSeconds(intent.createdAt),
    currency: wire(intent.currency),
    customer: intent.customerId,
    customer_account: null,
    description: intent.description,
    excluded_payment_method_types: null,
    last_payment_error: intent.lastPaymentError,
    latest_charge: intent.latestChargeId,
    livemode: intent.livemode,
    managed_payments: null,
    metadata: intent.metadata,
    next_action: intent.nextAction,
    on_behalf_of: null,
    payment_method: intent.paymentMethodId,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: intent.paymentMethodType === null ? ['card', 'wallet'] : [intent.paymentMethodType],
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: intent.status,
    transfer_data: null,
    transfer_group: null,
  };
}

/** Stripe's charge.outcome: what the network (or the wallet) said; null while pending. */
function chargeOutcome(charge: Charge) {
  if (charge.status === 'pending') return null;
  if (charge.status === 'succeeded') {
    return {
      network_status: 'approved_by_network',
      reason: null,
      risk_level: 'normal',
      seller_message: 'Payment complete.',
      type: 'authorized',
    };
  }
  return {
    network_status: 'declined_by_network',
    reason: charge.failureDeclineCode ?? charge.failureCode,
    risk_level: 'normal',
    seller_message: charge.failureMessage,
    type: 'issuer_declined',
  };
}

export function chargeDto(charge: Charge, refunds: Refund[]) {
  return {
    id: charge.id,
    object: 'charge' as const,
    amount: Number(charge.amountMinor),
    amount_captured: Number(charge.amountCapturedMinor),
    amount_refunded: Number(charge.amountRefundedMinor),
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: charge.balanceTransactionId,
    billing_details: { address: null, email: null, name: null, phone: null },
    calculated_statement_descriptor: null,
    captured: charge.captured,
    created: unixSeconds(charge.createdAt),
    currency: wire(charge.currency),
    customer: null,
    description: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: charge.failureCode,
    failure_message: charge.failureMessage,
    fraud_details: {},
    livemode: charge.livemode,
    metadata: {},
    on_behalf_of: null,
    outcome: chargeOutcome(charge),
    paid: charge.status === 'succeeded',
    payment_intent: charge.paymentIntentId,
    payment_method: charge.paymentMethodId,
    payment_method_details: charge.paymentMethodDetails,
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: charge.captured && charge.amountRefundedMinor === charge.amountCapturedMinor,
    refunds: listResponse({
      data: refunds.map(refundDto),
      hasMore: false,
      url: `/v1/charges/${charge.id}/refunds`,
    }),
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: charge.status,
    transfer_data: null,
    transfer_group: null,
  };
}

export function refundDto(refund: Refund) {
  return {
    id: refund.id,
    object: 'refund' as const,
    amount: Number(refund.amountMinor),
    balance_transaction: refund.balanceTransactionId,
    charge: refund.chargeId,
    created: unixSeconds(refund.createdAt),
    currency: wire(refund.currency),
    customer: null,
    customer_account: null,
    destination_details: null,
    ...(refund.failureReason === null ? {} : { failure_reason: refund.failureReason }),
    metadata: refund.metadata,
    payment_intent: refund.paymentIntentId,
    payment_method: null,
    reason: refund.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: refund.status,
    transfer_reversal: null,
  };
}

export function balanceTransactionDto(entry: BalanceTransaction) {
  return {
    id: entry.id,
    object: 'balance_transaction' as const,
    amount: Number(entry.amountMinor),
    available_on: unixSeconds(entry.availableOn),
    balance_type: 'payments',
    created: unixSeconds(entry.createdAt),
    currency: wire(entry.currency),
    description: null,
    exchange_rate: null,
    fee: Number(entry.feeMinor),
    fee_details:
      entry.feeMinor === 0n
        ? []
        : [
            {
              amount: Number(entry.feeMinor),
              application: null,
              currency: wire(entry.currency),
              description: 'Yunpay processing fees',
              type: 'stripe_fee',
            },
          ],
    net: Number(entry.netMinor),
    reporting_category: entry.type === 'charge' ? 'charge' : 'refund',
    source: entry.sourceId,
    status: entry.status,
    type: entry.type,
  };
}

const Currency = V1String({ pattern: '^[A-Za-z]{3}$' });
const Amount = V1Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const IdParams = Type.Object({ id: V1Id() });
const ExpandQuery = Type.Object({ expand: Type.Optional(V1Expand) }, { additionalProperties: false });

const PaymentMethodData = Type.Object(
  {
    type: Type.Literal('wallet'),
    wallet: Type.Optional(Type.Object({ code: V1String({ pattern: '^[0-9]{18}$' }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

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

/** How the caller confirms: on session (a customer present, who can authenticate) or not. */
interface ConfirmContext {
  baseUrl: string;
  returnUrl: string | null;
  offSession: boolean;
}

function confirmContextOf(
  request: { protocol: string; host: string },
  body: { return_url?: string; off_session?: boolean },
): ConfirmContext {
  return {
    baseUrl: `${request.protocol}://${request.host}`,
    returnUrl: body.return_url ?? null,
    offSession: body.off_session === true,
  };
}

/** Registered inside the /v1 plugin. */
export const paymentRoutes: FastifyPluginAsyncTypebox<PaymentRoutesOptions> = async (app, options) => {
  const { payments, walletMethod } = options;
  const intents = { resource: 'payment_intents', object: 'payment_intent' };

  async function confirmWith(
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
      return walletMethod.confirmWithCode(scope, intentId, code, attemptOptions);
    }
    const paymentMethod = input.paymentMethod ?? (await payments.retrieveIntent(scope, intentId)).paymentMethodId;
    if (paymentMethod === null) {
      throw new AppError('parameter_missing', {
        message:
          'Confirm with a payment_method (a card: pm_… or a test token such as pm_card_visa), or with payment_method_data[type]=wallet (and payment_method_data[wallet][code] for a scanned code).',
        param: 'payment_method',
      });
    }
    return confirmWithCard(scope, intentId, paymentMethod, confirm, attemptOptions);
  }

  /** Stripe answers a declined confirmation with a 402 card_error that carries the intent. */
  async function confirmWithCard(
    scope: MerchantContext,
    intentId: string,
    paymentMethod: string,
    confirm: ConfirmContext,
    attemptOptions: ConfirmOptions,
  ) {
    if (options.cardMethods === undefined) {
      throw new AppError('processing_error', { message: 'Card payments are not enabled on this platform.' });
    }
    const card = await options.cardMethods.resolveForPayment(scope, paymentMethod);
    let intent = await payments.confirmWithCard(scope, intentId, card, attemptOptions);
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
  async function requireCustomer(scope: MerchantContext, id: string): Promise<void> {
    if (await options.customerExists(scope, id)) return;
    throw new AppError('parameter_resource_missing', { message: `No such customer: '${id}'`, param: 'customer' });
  }

  /** An intent created with a card but not confirmed waits in requires_confirmation with that card. */
  async function attachCard(scope: MerchantContext, intentId: string, paymentMethod: string) {
    if (options.cardMethods === undefined) {
      throw new AppError('processing_error', { message: 'Card payments are not enabled on this platform.' });
    }
    const card = await options.cardMethods.resolveForPayment(scope, paymentMethod);
    return payments.setPaymentMethod(scope, intentId, card.paymentMethodId, 'card');
  }

  app.post(
    '/payment_intents',
    {
      config: { v1: intents },
      schema: {
        body: Type.Object(
          {
            amount: Amount,
            currency: Currency,
            capture_method: Type.Optional(Type.Union([Type.Literal('automatic'), Type.Literal('manual')])),
            customer: Type.Optional(V1Id()),
            description: Type.Optional(V1String({ maxLength: 1000 })),
            metadata: Type.Optional(V1Metadata),
            confirm: Type.Optional(V1Boolean()),
            payment_method: Type.Optional(V1String({ maxLength: 100 })),
            payment_method_types: Type.Optional(
              Type.Array(Type.Union([Type.Literal('card'), Type.Literal('wallet')]), { maxItems: 2 }),
            ),
            payment_method_data: Type.Optional(PaymentMethodData),
            return_url: Type.Optional(V1String({ maxLength: 2048 })),
            off_session: Type.Optional(V1Boolean()),
            expand: Type.Optional(V1Expand),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const scope = v1Scope(request);
      const body = request.body;
      if (body.customer !== undefined) await requireCustomer(scope, body.customer);
      const ids = v1RequestIds(request);
      const intentId = await ids.idFor('pi', 'payment_intent');
      let intent = await payments.createIntent(
        scope,
        {
          amountMinor: BigInt(body.amount),
          currency: body.currency.toUpperCase(),
          captureMethod: body.capture_method ?? 'automatic',
          customerId: body.customer ?? null,
          description: body.description ?? null,
          metadata: body.metadata === undefined || body.metadata === null || body.metadata === '' ? {} : body.metadata,
        },
        intentId === undefined ? {} : { id: intentId },
      );
      if (body.confirm === true) {
        intent = await confirmWith(
          scope,
          intent.id,
          {
            ...(body.payment_method === undefined ? {} : { paymentMethod: body.payment_method }),
            ...(body.payment_method_data === undefined ? {} : { data: body.payment_method_data }),
          },
          confirmContextOf(request, body),
          ids,
        );
      } else if (body.payment_method !== undefined) {
        intent = await attachCard(scope, intent.id, body.payment_method);
      }
      return intentDto(intent, { includeClientSecret: true });
    },
  );

  app.get(
    '/payment_intents/:id',
    {
      config: { v1: { ...intents, publishable: true } },
      schema: {
        params: IdParams,
        querystring: Type.Object(
          { expand: Type.Optional(V1Expand), client_secret: Type.Optional(V1String()) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const auth = v1Auth(request);
      const intent = await payments.retrieveIntent(v1Scope(request), request.params.id);
      if (auth.keyKind === 'publishable' && request.query.client_secret !== intent.clientSecret) {
        // With a publishable key, only the client secret opens an intent (Stripe answers the same).
        throw new AppError('resource_missing', {
          message: `No such payment_intent: '${request.params.id}'`,
          param: 'intent',
        });
      }
      return intentDto(intent, { includeClientSecret: true });
    },
  );

  app.post(
    '/payment_intents/:id',
    {
      config: { v1: intents },
      schema: {
        params: IdParams,
        body: Type.Object(
          {
            amount: Type.Optional(Amount),
            description: Type.Optional(V1Unsettable(V1String({ maxLength: 1000 }))),
            metadata: Type.Optional(V1Metadata),
            customer: Type.Optional(V1Unsettable(V1Id())),
            expand: Type.Optional(V1Expand),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const scope = v1Scope(request);
      const current = await payments.retrieveIntent(scope, request.params.id);
      const description = toUpdate(request.body.description);
      const customer = toUpdate(request.body.customer);
      if (typeof customer === 'string') await requireCustomer(scope, customer);
      const metadataUpdate = request.body.metadata;
      let metadata: Record<string, string> | undefined;
      if (metadataUpdate === '' || metadataUpdate === null) metadata = {};
      else if (metadataUpdate !== undefined) {
        metadata = { ...current.metadata };
        for (const [key, value] of Object.entries(metadataUpdate)) {
          if (value === '') delete metadata[key];
          else metadata[key] = value;
        }
      }
      const intent = await payments.updateIntent(scope, request.params.id, {
        ...(request.body.amount === undefined ? {} : { amountMinor: BigInt(request.body.amount) }),
        ...(description === undefined ? {} : { description }),
        ...(customer === undefined ? {} : { customerId: customer }),
        ...(metadata === undefined ? {} : { metadata }),
      });
      return intentDto(intent, { includeClientSecret: true });
    },
  );

  app.post(
    '/payment_intents/:id/confirm',
    {
      config: { v1: { ...intents, publishable: true } },
      schema: {
        params: IdParams,
        body: Type.Object(
          {
            payment_method: Type.Optional(V1String({ maxLength: 100 })),
            payment_method_data: Type.Optional(PaymentMethodData),
            client_secret: Type.Optional(V1String()),
            return_url: Type.Optional(V1String({ maxLength: 2048 })),
            off_session: Type.Optional(V1Boolean()),
            expand: Type.Optional(V1Expand),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const auth = v1Auth(request);
      const scope = v1Scope(request);
      const intent = await payments.retrieveIntent(scope, request.params.id);
      if (auth.keyKind === 'publishable' && request.body.client_secret !== intent.clientSecret) {
        throw new AppError('resource_missing', {
          message: `No such payment_intent: '${request.params.id}'`,
          param: 'intent',
        });
      }
      const confirmed = await confirmWith(
        scope,
        intent.id,
        {
          ...(request.body.payment_method === undefined ? {} : { paymentMethod: request.body.payment_method }),
          ...(request.body.payment_method_data === undefined ? {} : { data: request.body.payment_method_data }),
        },
        confirmContextOf(request, request.body),
        v1RequestIds(request),
      );
      return intentDto(confirmed, { includeClientSecret: true });
    },
  );

  app.post(
    '/payment_intents/:id/capture',
    {
      config: { v1: intents },
      schema: {
        params: IdParams,
        body: Type.Object(
          { amount_to_capture: Type.Optional(Amount), expand: Type.Optional(V1Expand) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const amount = request.body.amount_to_capture;
      const intent = await payments.capture(
        v1Scope(request),
        request.params.id,
        amount === undefined ? undefined : BigInt(amount),
        v1RequestIds(request).attempt,
      );
      return intentDto(intent, { includeClientSecret: true });
    },
  );

  app.post(
    '/payment_intents/:id/cancel',
    {
      config: { v1: intents },
      schema: {
        params: IdParams,
        body: Type.Object(
          {
            cancellation_reason: Type.Optional(
              Type.Union([
                Type.Literal('duplicate'),
                Type.Literal('fraudulent'),
                Type.Literal('requested_by_customer'),
                Type.Literal('abandoned'),
              ]),
            ),
            expand: Type.Optional(V1Expand),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const intent = await payments.cancel(
        v1Scope(request),
        request.params.id,
        request.body.cancellation_reason ?? null,
        v1RequestIds(request).attempt,
      );
      return intentDto(intent, { includeClientSecret: true });
    },
  );

  app.get(
    '/payment_intents',
    {
      config: { v1: { ...intents, list: true } },
      schema: {
        querystring: Type.Object(
          { ...V1ListParams, created: Type.Optional(V1CreatedFilter), customer: Type.Optional(V1Id()) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const page = await payments.list<PaymentIntent>(v1Scope(request), 'intents', pageRequestFrom(request.query), {
        ...(request.query.customer === undefined ? {} : { customer_id: request.query.customer }),
      });
      return listResponse({
        data: page.data.map((intent) => intentDto(intent, { includeClientSecret: true })),
        hasMore: page.hasMore,
        url: '/v1/payment_intents',
      });
    },
  );

  app.get(
    '/qr_codes/static',
    {
      config: { v1: { resource: 'payment_intents' } },
      schema: { querystring: Type.Object({}, { additionalProperties: false }) },
    },
    async (request) => {
      const code = await options.merchantQr.staticCode(v1Scope(request).accountId);
      return { object: 'qr_code' as const, type: 'static', ...code };
    },
  );

  const charges = { resource: 'charges', object: 'charge' };
  app.get(
    '/charges/:id',
    { config: { v1: charges }, schema: { params: IdParams, querystring: ExpandQuery } },
    async (request) => {
      const scope = v1Scope(request);
      const charge = await payments.retrieveCharge(scope, request.params.id);
      return chargeDto(charge, await payments.refundsOf(scope, charge.id));
    },
  );

  app.get(
    '/charges',
    {
      config: { v1: { ...charges, list: true } },
      schema: {
        querystring: Type.Object(
          { ...V1ListParams, created: Type.Optional(V1CreatedFilter), payment_intent: Type.Optional(V1Id()) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const scope = v1Scope(request);
      const page = await payments.list<Charge>(scope, 'charges', pageRequestFrom(request.query), {
        ...(request.query.payment_intent === undefined ? {} : { payment_intent_id: request.query.payment_intent }),
      });
      const data = await Promise.all(
        page.data.map(async (charge) => chargeDto(charge, await payments.refundsOf(scope, charge.id))),
      );
      return listResponse({ data, hasMore: page.hasMore, url: '/v1/charges' });
    },
  );

  const refunds = { resource: 'refunds', object: 'refund' };
  app.post(
    '/refunds',
    {
      config: { v1: refunds },
      schema: {
        body: Type.Object(
          {
            charge: Type.Optional(V1Id()),
            payment_intent: Type.Optional(V1Id()),
            amount: Type.Optional(Amount),
            reason: Type.Optional(
              Type.Union([
                Type.Literal('duplicate'),
                Type.Literal('fraudulent'),
                Type.Literal('requested_by_customer'),
              ]),
            ),
            metadata: Type.Optional(V1Metadata),
            expand: Type.Optional(V1Expand),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const scope = v1Scope(request);
      const body = request.body;
      let chargeId = body.charge;
      if (chargeId !== undefined && body.payment_intent !== undefined) {
        const charge = await payments.retrieveCharge(scope, chargeId);
        if (charge.paymentIntentId !== body.payment_intent) {
          throw new AppError('parameter_invalid', {
            message: `The charge '${chargeId}' does not belong to the PaymentIntent '${body.payment_intent}'. Pass one of them, or both of the same payment.`,
            param: 'payment_intent',
          });
        }
      }
      if (chargeId === undefined) {
        if (body.payment_intent === undefined) {
          throw new AppError('parameter_missing', {
            message: 'Provide a charge or a payment_intent to refund.',
            param: 'charge',
          });
        }
        const intent = await payments.retrieveIntent(scope, body.payment_intent);
        if (intent.latestChargeId === null) {
          throw new AppError('charge_not_refundable', {
            param: 'payment_intent',
            message: 'This PaymentIntent has no charge.',
          });
        }
        chargeId = intent.latestChargeId;
      }
      const ids = v1RequestIds(request);
      const refundId = await ids.idFor('re', 'refund');
      const refund = await walletMethod.refund(
        scope,
        {
          chargeId,
          ...(body.amount === undefined ? {} : { amountMinor: BigInt(body.amount) }),
          reason: body.reason ?? null,
          metadata: body.metadata === undefined || body.metadata === null || body.metadata === '' ? {} : body.metadata,
        },
        { ...(refundId === undefined ? {} : { refundId }), call: ids.attempt?.call ?? null },
      );
      return refundDto(refund);
    },
  );

  app.get(
    '/refunds/:id',
    { config: { v1: refunds }, schema: { params: IdParams, querystring: ExpandQuery } },
    async (request) => refundDto(await payments.retrieveRefund(v1Scope(request), request.params.id)),
  );

  app.get(
    '/refunds',
    {
      config: { v1: { ...refunds, list: true } },
      schema: {
        querystring: Type.Object(
          {
            ...V1ListParams,
            created: Type.Optional(V1CreatedFilter),
            charge: Type.Optional(V1Id()),
            payment_intent: Type.Optional(V1Id()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const page = await payments.list<Refund>(v1Scope(request), 'refunds', pageRequestFrom(request.query), {
        ...(request.query.charge === undefined ? {} : { charge_id: request.query.charge }),
        ...(request.query.payment_intent === undefined ? {} : { payment_intent_id: request.query.payment_intent }),
      });
      return listResponse({ data: page.data.map(refundDto), hasMore: page.hasMore, url: '/v1/refunds' });
    },
  );

  app.get(
    '/balance',
    { config: { v1: { resource: 'balance', object: 'balance' } }, schema: { querystring: ExpandQuery } },
    async (request) => {
      const scope = v1Scope(request);
      const rows = await payments.balance(scope);
      return {
        object: 'balance' as const,
        available: rows.map((row) => ({
          amount: Number(row.availableMinor),
          currency: wire(row.currency),
          source_types: { wallet: Number(row.availableMinor) },
        })),
        connect_reserved: null,
        livemode: scope.livemode,
        pending: rows.map((row) => ({
          amount: Number(row.pendingMinor),
          currency: wire(row.currency),
          source_types: { wallet: Number(row.pendingMinor) },
        })),
      };
    },
  );

  const balanceTransactions = { resource: 'balance_transactions', object: 'balance_transaction' };
  app.get(
    '/balance_transactions/:id',
    { config: { v1: balanceTransactions }, schema: { params: IdParams, querystring: ExpandQuery } },
    async (request) => balanceTransactionDto(await payments.balanceTransaction(v1Scope(request), request.params.id)),
  );

  app.get(
    '/balance_transactions',
    {
      config: { v1: { ...balanceTransactions, list: true } },
      schema: {
        querystring: Type.Object(
          {
            ...V1ListParams,
            created: Type.Optional(V1CreatedFilter),
            type: Type.Optional(Type.Union([Type.Literal('charge'), Type.Literal('refund')])),
            source: Type.Optional(V1Id()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const page = await payments.list<BalanceTransaction>(
        v1Scope(request),
        'balance_transactions',
        pageRequestFrom(request.query),
        {
          ...(request.query.type === undefined ? {} : { type: request.query.type }),
          ...(request.query.source === undefined ? {} : { source_id: request.query.source }),
        },
      );
      return listResponse({
        data: page.data.map(balanceTransactionDto),
        hasMore: page.hasMore,
        url: '/v1/balance_transactions',
      });
    },
  );
};

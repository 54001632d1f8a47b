import { Type } from 'typebox';
import {
  V1CreatedFilter,
  V1Expand,
  V1Id,
  V1ListParams,
  V1Metadata,
  listResponse,
  pageRequestFrom,
  v1ErrorResponses,
  v1RequestIds,
  v1Scope,
} from '../../../v1/index.js';
import { AppError } from '../../../platform/errors.js';
import type { BalanceTransaction, Charge, MerchantContext, Refund } from '../model.js';
import {
  BalanceSchema,
  BalanceTransactionListSchema,
  BalanceTransactionSchema,
  ChargeListSchema,
  ChargeSchema,
  RefundListSchema,
  RefundSchema,
  balanceDto,
  balanceTransactionDto,
  chargeDto,
  refundDto,
} from '../wire.js';
import { Amount, ExpandQuery, IdParams, resources, type PaymentRoutesOptions, type V1App } from './shared.js';

/** /v1/charges, /v1/refunds, /v1/balance and /v1/balance_transactions. */

export function retrieveChargeRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.get(
    '/charges/:id',
    {
      config: { v1: resources.charges },
      schema: { response: { 200: ChargeSchema, ...v1ErrorResponses }, params: IdParams, querystring: ExpandQuery },
    },
    async (request) => {
      const scope = v1Scope(request);
      const charge = await payments.retrieveCharge(scope, request.params.id);
      return chargeDto(charge, await payments.refundsOf(scope, charge.id));
    },
  );
}

export function listChargesRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.get(
    '/charges',
    {
      config: { v1: { ...resources.charges, list: true } },
      schema: {
        response: { 200: ChargeListSchema, ...v1ErrorResponses },
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
}

/** The charge a refund request names: `charge`, or the latest charge of `payment_intent` (both: the same). */
async function chargeToRefund(
  payments: PaymentRoutesOptions['payments'],
  scope: MerchantContext,
  body: { charge?: string; payment_intent?: string },
): Promise<string> {
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
  return chargeId;
}

export function createRefundRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments, walletMethod } = options;
  app.post(
    '/refunds',
    {
      config: { v1: resources.refunds },
      schema: {
        response: { 200: RefundSchema, ...v1ErrorResponses },
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
      const chargeId = await chargeToRefund(payments, scope, body);
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
}

export function retrieveRefundRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.get(
    '/refunds/:id',
    {
      config: { v1: resources.refunds },
      schema: { response: { 200: RefundSchema, ...v1ErrorResponses }, params: IdParams, querystring: ExpandQuery },
    },
    async (request) => refundDto(await payments.retrieveRefund(v1Scope(request), request.params.id)),
  );
}

export function listRefundsRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.get(
    '/refunds',
    {
      config: { v1: { ...resources.refunds, list: true } },
      schema: {
        response: { 200: RefundListSchema, ...v1ErrorResponses },
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
}

export function balanceRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.get(
    '/balance',
    {
      config: { v1: { resource: 'balance', object: 'balance' } },
      schema: { response: { 200: BalanceSchema, ...v1ErrorResponses }, querystring: ExpandQuery },
    },
    async (request) => {
      const scope = v1Scope(request);
      return balanceDto(await payments.balance(scope), scope.livemode);
    },
  );
}

export function retrieveBalanceTransactionRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.get(
    '/balance_transactions/:id',
    {
      config: { v1: resources.balanceTransactions },
      schema: {
        response: { 200: BalanceTransactionSchema, ...v1ErrorResponses },
        params: IdParams,
        querystring: ExpandQuery,
      },
    },
    async (request) => balanceTransactionDto(await payments.balanceTransaction(v1Scope(request), request.params.id)),
  );
}

export function listBalanceTransactionsRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.get(
    '/balance_transactions',
    {
      config: { v1: { ...resources.balanceTransactions, list: true } },
      schema: {
        response: { 200: BalanceTransactionListSchema, ...v1ErrorResponses },
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
}

export function registerMoneyRoutes(app: V1App, options: PaymentRoutesOptions): void {
  retrieveChargeRoute(app, options);
  listChargesRoute(app, options);
  createRefundRoute(app, options);
  retrieveRefundRoute(app, options);
  listRefundsRoute(app, options);
  balanceRoute(app, options);
  retrieveBalanceTransactionRoute(app, options);
  listBalanceTransactionsRoute(app, options);
}

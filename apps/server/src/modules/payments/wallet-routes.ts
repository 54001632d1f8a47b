import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { assert } from '../../platform/errors.js';
import { checkIdempotencyKey, requestHash, type IdempotencyStore } from '../../platform/idempotency.js';
import type { MerchantQr } from './qr.js';
import type { PaymentApproval, WalletMethod } from './wallet-method.js';
import { errorResponses } from '../../platform/http-schemas.js';

const ApprovalSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('payment_approval'),
    amount: Type.Integer(),
    currency: Type.String(),
    merchant: Type.Object({ name: Type.String() }),
    payment_intent: Type.String(),
    /** False: the merchant is in test mode; approving simulates the payment and moves no money. */
    livemode: Type.Boolean(),
    status: Type.Union([
      Type.Literal('pending'),
      Type.Literal('approved'),
      Type.Literal('expired'),
      Type.Literal('canceled'),
    ]),
    expires_at: Type.Integer(),
    created: Type.Integer(),
  },
  { additionalProperties: false },
);

function approvalDto(approval: PaymentApproval) {
  return {
    id: approval.id,
    object: 'payment_approval' as const,
    amount: Number(approval.amountMinor),
    currency: approval.currency,
    merchant: { name: approval.merchantName },
    payment_intent: approval.paymentIntentId,
    livemode: approval.livemode,
    status: approval.status,
    expires_at: Math.floor(approval.expiresAt.getTime() / 1000),
    created: Math.floor(approval.createdAt.getTime() / 1000),
  };
}

export interface PaymentApprovalRoutesOptions {
  method: WalletMethod;
  merchantQr: MerchantQr;
  idempotency: IdempotencyStore;
  authenticate: (request: FastifyRequest) => Promise<{ userId: string }>;
}

type WalletApp = Parameters<FastifyPluginAsyncTypebox<PaymentApprovalRoutesOptions>>[0];
type UserOf = (request: FastifyRequest) => string;

const QrBody = Type.String({ minLength: 1, maxLength: 512 });
const PreviewSchema = Type.Object({
  object: Type.Literal('qr_preview'),
  dynamic: Type.Boolean(),
  merchant: Type.Object({ id: Type.String(), name: Type.String() }),
  amount: Type.Union([Type.Integer(), Type.Null()]),
  currency: Type.String(),
  payment_intent: Type.Union([Type.String(), Type.Null()]),
  /** False: the merchant is in test mode; paying is simulated and moves no money. */
  livemode: Type.Boolean(),
});

function listApprovalsRoute(app: WalletApp, options: PaymentApprovalRoutesOptions, userOf: UserOf): void {
  app.get(
    '/payment_approvals',
    {
      schema: {
        querystring: Type.Object({}, { additionalProperties: false }),
        response: {
          200: Type.Object({
            object: Type.Literal('list'),
            data: Type.Array(ApprovalSchema),
            has_more: Type.Boolean(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => ({
      object: 'list' as const,
      data: (await options.method.pendingApprovals(userOf(request))).map(approvalDto),
      has_more: false,
    }),
  );
}

function approveRoute(app: WalletApp, options: PaymentApprovalRoutesOptions, userOf: UserOf): void {
  app.post(
    '/payment_approvals/:id',
    {
      schema: {
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        body: Type.Object({ pin: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            approval: ApprovalSchema,
            payment_intent: Type.Object({ id: Type.String(), status: Type.String() }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { approval, intent } = await options.method.approve(userOf(request), request.params.id, request.body.pin);
      return { approval: approvalDto(approval), payment_intent: { id: intent.id, status: intent.status } };
    },
  );
}

function resolveQrRoute(app: WalletApp, options: PaymentApprovalRoutesOptions, userOf: UserOf): void {
  app.post(
    '/qr/resolve',
    {
      schema: {
        body: Type.Object({ data: QrBody }, { additionalProperties: false }),
        response: { 200: PreviewSchema, ...errorResponses },
      },
    },
    async (request) => {
      userOf(request);
      const preview = await options.merchantQr.resolve(request.body.data);
      return {
        object: 'qr_preview' as const,
        dynamic: preview.dynamic,
        merchant: preview.merchant,
        amount: preview.amountMinor === null ? null : Number(preview.amountMinor),
        currency: preview.currency,
        payment_intent: preview.paymentIntentId,
        livemode: preview.livemode,
      };
    },
  );
}

function payQrRoute(app: WalletApp, options: PaymentApprovalRoutesOptions, userOf: UserOf): void {
  app.post(
    '/qr/pay',
    {
      schema: {
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        body: Type.Object(
          {
            data: QrBody,
            amount: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
            pin: Type.String({ pattern: '^[0-9]{6}$' }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            payment_intent: Type.String(),
            status: Type.String(),
            amount: Type.Integer(),
            currency: Type.String(),
            /** False: a test-mode payment, simulated; no wallet money moved. */
            livemode: Type.Boolean(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const userId = userOf(request);
      const key = checkIdempotencyKey(request.headers['idempotency-key']);
      const { pin, ...parameters } = request.body;
      const outcome = await options.idempotency.run(
        { scope: `wallet:${userId}:qr_pay`, key, requestHash: requestHash(parameters) },
        async (attempt) => {
          const intent = await options.merchantQr.pay(
            userId,
            {
              data: request.body.data,
              pin,
              ...(request.body.amount === undefined ? {} : { amountMinor: BigInt(request.body.amount) }),
            },
            {
              intentId: await options.idempotency.derivedId(attempt.call, 'pi', 'payment_intent'),
              chargeId: await options.idempotency.derivedId(attempt.call, 'ch', 'charge'),
              call: attempt.call,
            },
          );
          return {
            status: 200,
            body: {
              payment_intent: intent.id,
              status: intent.status,
              amount: Number(intent.amountMinor),
              currency: intent.currency,
              livemode: intent.livemode,
            },
          };
        },
      );
      return outcome.body;
    },
  );
}

/**
 * /wallet/v1/payment_approvals: a scanned payment above the no-PIN threshold waits here until the
 * payer approves it with the PIN (or 60 s pass and it is canceled); and /wallet/v1/qr: resolving
 * and paying a merchant's QR.
 */
export const paymentApprovalRoutes: FastifyPluginAsyncTypebox<PaymentApprovalRoutesOptions> = async (app, options) => {
  const userIds = new WeakMap<FastifyRequest, string>();
  app.addHook('onRequest', async (request) => {
    userIds.set(request, (await options.authenticate(request)).userId);
  });
  const userOf = (request: FastifyRequest): string => {
    const userId = userIds.get(request);
    assert(userId !== undefined, 'approval route ran without authentication');
    return userId;
  };

  listApprovalsRoute(app, options, userOf);
  approveRoute(app, options, userOf);
  resolveQrRoute(app, options, userOf);
  payQrRoute(app, options, userOf);
};

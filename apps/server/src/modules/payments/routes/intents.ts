import { Type } from 'typebox';
import {
  V1Boolean,
  V1CreatedFilter,
  V1Expand,
  V1Id,
  V1ListParams,
  V1Metadata,
  V1String,
  V1Unsettable,
  listResponse,
  pageRequestFrom,
  toUpdate,
  v1Auth,
  v1ErrorResponses,
  v1RequestIds,
  v1Scope,
} from '../../../v1/index.js';
import { AppError } from '../../../platform/errors.js';
import type { PaymentIntent } from '../model.js';
import { PaymentIntentListSchema, PaymentIntentSchema, StaticQrSchema, intentDto } from '../wire.js';
import {
  Amount,
  Currency,
  IdParams,
  PaymentMethodData,
  attachCard,
  confirmContextOf,
  confirmWith,
  requireCustomer,
  resources,
  type PaymentRoutesOptions,
  type V1App,
} from './shared.js';

/** /v1/payment_intents (create, retrieve, update, confirm, capture, cancel, list) and the static QR. */

export function createIntentRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.post(
    '/payment_intents',
    {
      config: { v1: resources.intents },
      schema: {
        response: { 200: PaymentIntentSchema, ...v1ErrorResponses },
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
      if (body.customer !== undefined) await requireCustomer(options, scope, body.customer);
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
          options,
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
        intent = await attachCard(options, scope, intent.id, body.payment_method);
      }
      return intentDto(intent, { includeClientSecret: true });
    },
  );
}

export function retrieveIntentRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.get(
    '/payment_intents/:id',
    {
      config: { v1: { ...resources.intents, publishable: true } },
      schema: {
        response: { 200: PaymentIntentSchema, ...v1ErrorResponses },
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
        throw new AppError('not_found', {
          message: `No such payment_intent: '${request.params.id}'`,
          param: 'intent',
        });
      }
      return intentDto(intent, { includeClientSecret: true });
    },
  );
}

export function updateIntentRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.post(
    '/payment_intents/:id',
    {
      config: { v1: resources.intents },
      schema: {
        response: { 200: PaymentIntentSchema, ...v1ErrorResponses },
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
      if (typeof customer === 'string') await requireCustomer(options, scope, customer);
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
}

export function confirmIntentRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.post(
    '/payment_intents/:id/confirm',
    {
      config: { v1: { ...resources.intents, publishable: true } },
      schema: {
        response: { 200: PaymentIntentSchema, ...v1ErrorResponses },
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
        throw new AppError('not_found', {
          message: `No such payment_intent: '${request.params.id}'`,
          param: 'intent',
        });
      }
      const confirmed = await confirmWith(
        options,
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
}

export function captureIntentRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.post(
    '/payment_intents/:id/capture',
    {
      config: { v1: resources.intents },
      schema: {
        response: { 200: PaymentIntentSchema, ...v1ErrorResponses },
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
}

export function cancelIntentRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.post(
    '/payment_intents/:id/cancel',
    {
      config: { v1: resources.intents },
      schema: {
        response: { 200: PaymentIntentSchema, ...v1ErrorResponses },
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
}

export function listIntentsRoute(app: V1App, options: PaymentRoutesOptions): void {
  const { payments } = options;
  app.get(
    '/payment_intents',
    {
      config: { v1: { ...resources.intents, list: true } },
      schema: {
        response: { 200: PaymentIntentListSchema, ...v1ErrorResponses },
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
}

export function staticQrRoute(app: V1App, options: PaymentRoutesOptions): void {
  app.get(
    '/qr_codes/static',
    {
      config: { v1: { resource: 'payment_intents' } },
      schema: {
        response: { 200: StaticQrSchema, ...v1ErrorResponses },
        querystring: Type.Object({}, { additionalProperties: false }),
      },
    },
    async (request) => {
      const code = await options.merchantQr.staticCode(v1Scope(request).accountId);
      return { object: 'qr_code' as const, type: 'static', ...code };
    },
  );
}

export function registerIntentRoutes(app: V1App, options: PaymentRoutesOptions): void {
  createIntentRoute(app, options);
  retrieveIntentRoute(app, options);
  updateIntentRoute(app, options);
  confirmIntentRoute(app, options);
  captureIntentRoute(app, options);
  cancelIntentRoute(app, options);
  listIntentsRoute(app, options);
  staticQrRoute(app, options);
}

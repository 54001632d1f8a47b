import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { AppError } from '../../../platform/errors.js';
import {
  V1Address,
  V1AddressUpdate,
  V1Expand,
  V1Id,
  V1Integer,
  V1ListParams,
  V1Metadata,
  V1String,
  V1Unsettable,
  listResponse,
  pageRequestFrom,
  toUpdate,
  v1Scope,
} from '../../../v1/index.js';
import type {
  BillingDetailsUpdate,
  PaymentMethodCreateInput,
  PaymentMethodUpdateInput,
  PaymentMethods,
  RequestInfo,
} from './service.js';
import { PaymentMethodListSchema, PaymentMethodSchema } from './wire.js';

export interface PaymentMethodRoutesOptions {
  paymentMethods: PaymentMethods;
}

const text = (maxLength: number) => V1String({ maxLength });

const Address = V1Address;
const AddressUpdate = V1AddressUpdate;
const Email = text(512);
const Name = text(256);
const Phone = text(20);

const BillingDetails = Type.Object(
  {
    address: Type.Optional(Address),
    email: Type.Optional(Email),
    name: Type.Optional(Name),
    phone: Type.Optional(Phone),
  },
  { additionalProperties: false },
);
const BillingDetailsUpdateBody = Type.Object(
  {
    address: Type.Optional(V1Unsettable(AddressUpdate)),
    email: Type.Optional(V1Unsettable(Email)),
    name: Type.Optional(V1Unsettable(Name)),
    phone: Type.Optional(V1Unsettable(Phone)),
  },
  { additionalProperties: false },
);

// Ranges are left to the service, so that exp_month=13 is Stripe's invalid_expiry_month card_error
// and not a parameter error; a wrong number or CVC likewise reaches the vault's checks.
const Card = Type.Object(
  {
    number: Type.Optional(text(64)),
    exp_month: Type.Optional(V1Integer()),
    exp_year: Type.Optional(V1Integer()),
    cvc: Type.Optional(text(8)),
    token: Type.Optional(V1Id()),
  },
  { additionalProperties: false },
);

const CreateBody = Type.Object(
  {
    type: text(64),
    card: Type.Optional(Card),
    billing_details: Type.Optional(BillingDetails),
    metadata: Type.Optional(V1Metadata),
    expand: Type.Optional(V1Expand),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    billing_details: Type.Optional(BillingDetailsUpdateBody),
    card: Type.Optional(
      Type.Object(
        { exp_month: Type.Optional(V1Integer()), exp_year: Type.Optional(V1Integer()) },
        { additionalProperties: false },
      ),
    ),
    metadata: Type.Optional(V1Metadata),
    expand: Type.Optional(V1Expand),
  },
  { additionalProperties: false },
);

const AttachBody = Type.Object({ customer: V1Id(), expand: Type.Optional(V1Expand) }, { additionalProperties: false });
const ExpandBody = Type.Object({ expand: Type.Optional(V1Expand) }, { additionalProperties: false });
const IdParams = Type.Object({ id: V1Id() });
const CustomerPaymentMethodParams = Type.Object({ id: V1Id(), payment_method: V1Id() });
const ExpandQuery = Type.Object({ expand: Type.Optional(V1Expand) }, { additionalProperties: false });
const ListQuery = Type.Object(
  { ...V1ListParams, customer: Type.Optional(V1Id()), type: Type.Optional(text(64)) },
  { additionalProperties: false },
);
const CustomerListQuery = Type.Object(
  { ...V1ListParams, type: Type.Optional(text(64)) },
  { additionalProperties: false },
);

const one = { 200: PaymentMethodSchema };
const list = { 200: PaymentMethodListSchema };

function requestInfo(request: FastifyRequest): RequestInfo {
  const key = request.headers['idempotency-key'];
  return { id: request.id, idempotencyKey: typeof key === 'string' ? key : null };
}

/** "" or null in a JSON or form body: create takes no unset, so they mean "not given". */
function given<T>(value: T | '' | null | undefined): T | undefined {
  return value === '' || value === null ? undefined : value;
}

/**
 * The card number and CVC of a create request, moved out of the body before the /v1 framework
 * hashes it for idempotency (that hash is stored, and it is not keyed). Only this file reads it.
 */
interface CardSecrets {
  number?: string;
  cvc?: string;
}
const cardSecrets = new WeakMap<FastifyRequest, CardSecrets>();

/** What stands for a given CVC in the body the framework sees; the handler takes the real one. */
const cvcPlaceholder = 'given';

function createInput(request: FastifyRequest, body: Static<typeof CreateBody>): PaymentMethodCreateInput {
  const secrets = cardSecrets.get(request) ?? {};
  const card = body.card;
  const metadata = given(body.metadata);
  return {
    type: body.type,
    ...(card === undefined
      ? {}
      : {
          card: {
            ...(secrets.number === undefined ? {} : { number: secrets.number }),
            ...(card.exp_month === undefined ? {} : { expMonth: card.exp_month }),
            ...(card.exp_year === undefined ? {} : { expYear: card.exp_year }),
            ...(secrets.cvc === undefined ? {} : { cvc: secrets.cvc }),
            ...(card.token === undefined ? {} : { token: card.token }),
          },
        }),
    ...(body.billing_details === undefined ? {} : { billingDetails: body.billing_details }),
    ...(metadata === undefined ? {} : { metadata }),
  };
}

function updateInput(body: Static<typeof UpdateBody>): PaymentMethodUpdateInput {
  const input: PaymentMethodUpdateInput = {};
  const billing = body.billing_details;
  if (billing !== undefined) {
    const update: BillingDetailsUpdate = {};
    const address = toUpdate(billing.address);
    const email = toUpdate(billing.email);
    const name = toUpdate(billing.name);
    const phone = toUpdate(billing.phone);
    if (address !== undefined) {
      update.address =
        address === null
          ? null
          : Object.fromEntries(Object.entries(address).map(([key, value]) => [key, toUpdate(value) ?? null]));
    }
    if (email !== undefined) update.email = email;
    if (name !== undefined) update.name = name;
    if (phone !== undefined) update.phone = phone;
    input.billingDetails = update;
  }
  if (body.card !== undefined) {
    input.card = {
      ...(body.card.exp_month === undefined ? {} : { expMonth: body.card.exp_month }),
      ...(body.card.exp_year === undefined ? {} : { expYear: body.card.exp_year }),
    };
  }
  if (body.metadata !== undefined) input.metadata = body.metadata;
  return input;
}

/**
 * /v1/payment_methods: create (publishable keys too, as Stripe.js does), retrieve, update, attach,
 * detach, list; and /v1/customers/:id/payment_methods.
 */
export const paymentMethodRoutes: FastifyPluginAsyncTypebox<PaymentMethodRoutesOptions> = async (app, options) => {
  const { paymentMethods } = options;
  const v1 = { resource: 'payment_methods', object: 'payment_method' };

  app.post(
    '/payment_methods',
    {
      config: { v1: { ...v1, publishable: true } },
      schema: { body: CreateBody, response: one },
      // Runs after the framework has parsed the body and before it hashes it for idempotency.
      preValidation: async (request) => {
        const card = (request.body as { card?: unknown } | null | undefined)?.card;
        if (card === null || typeof card !== 'object' || Array.isArray(card)) return;
        const fields = card as Record<string, unknown>;
        const secrets: CardSecrets = {};
        if (typeof fields.number === 'string') {
          secrets.number = fields.number;
          fields.number = paymentMethods.cardNumberDigest(fields.number);
        }
        if (typeof fields.cvc === 'string') {
          secrets.cvc = fields.cvc;
          fields.cvc = cvcPlaceholder;
        }
        cardSecrets.set(request, secrets);
      },
    },
    async (request) => paymentMethods.create(v1Scope(request), createInput(request, request.body)),
  );

  app.get(
    '/payment_methods/:id',
    { config: { v1 }, schema: { params: IdParams, querystring: ExpandQuery, response: one } },
    async (request) => paymentMethods.retrieve(v1Scope(request), request.params.id),
  );

  app.post(
    '/payment_methods/:id',
    { config: { v1 }, schema: { params: IdParams, body: UpdateBody, response: one } },
    async (request) =>
      paymentMethods.update(v1Scope(request), request.params.id, updateInput(request.body), requestInfo(request)),
  );

  app.post(
    '/payment_methods/:id/attach',
    { config: { v1 }, schema: { params: IdParams, body: AttachBody, response: one } },
    async (request) =>
      paymentMethods.attach(v1Scope(request), request.params.id, request.body.customer, requestInfo(request)),
  );

  app.post(
    '/payment_methods/:id/detach',
    { config: { v1 }, schema: { params: IdParams, body: ExpandBody, response: one } },
    async (request) => paymentMethods.detach(v1Scope(request), request.params.id, requestInfo(request)),
  );

  app.get(
    '/payment_methods',
    { config: { v1: { ...v1, list: true } }, schema: { querystring: ListQuery, response: list } },
    async (request) => {
      const page = await paymentMethods.list(v1Scope(request), {
        page: pageRequestFrom(request.query),
        ...(request.query.customer === undefined ? {} : { customer: request.query.customer }),
        ...(request.query.type === undefined ? {} : { type: request.query.type }),
      });
      return listResponse({ data: page.data, hasMore: page.hasMore, url: '/v1/payment_methods' });
    },
  );

  app.get(
    '/customers/:id/payment_methods',
    {
      config: { v1: { ...v1, list: true } },
      schema: { params: IdParams, querystring: CustomerListQuery, response: list },
    },
    async (request) => {
      const customer = request.params.id;
      const page = await paymentMethods.list(v1Scope(request), {
        page: pageRequestFrom(request.query),
        customer,
        ...(request.query.type === undefined ? {} : { type: request.query.type }),
      });
      return listResponse({
        data: page.data,
        hasMore: page.hasMore,
        url: `/v1/customers/${customer}/payment_methods`,
      });
    },
  );

  app.get(
    '/customers/:id/payment_methods/:payment_method',
    {
      config: { v1 },
      schema: { params: CustomerPaymentMethodParams, querystring: ExpandQuery, response: one },
    },
    async (request) => {
      const paymentMethod = await paymentMethods.retrieve(v1Scope(request), request.params.payment_method);
      if (paymentMethod.customer !== request.params.id) {
        // Stripe answers the same for a PaymentMethod of another customer.
        throw new AppError('not_found', {
          message: `No such PaymentMethod: '${request.params.payment_method}'`,
          param: 'payment_method',
        });
      }
      return paymentMethod;
    },
  );
};

import { CustomerListSchema, CustomerSchema, DeletedCustomerSchema } from './wire.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import {
  V1Address,
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
  toUpdate,
  v1Scope,
  v1ErrorResponses,
} from '../../v1/index.js';
import type { AddressInput, CustomerUpdateInput, Customers, RequestInfo, ShippingInput } from './service.js';

export interface CustomerRoutesOptions {
  customers: Customers;
}

const text = (maxLength: number) => V1String({ maxLength });
const Address = V1Address;
const Shipping = Type.Object(
  {
    address: Address,
    name: V1String({ minLength: 1, maxLength: 256 }),
    phone: Type.Optional(text(20)),
  },
  { additionalProperties: false },
);
const Email = V1String({ maxLength: 512 });
const Locales = Type.Array(V1String({ minLength: 2, maxLength: 16 }), { maxItems: 10 });
const Balance = V1Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER });

const CreateBody = Type.Object(
  {
    address: Type.Optional(Address),
    balance: Type.Optional(Balance),
    description: Type.Optional(text(350)),
    email: Type.Optional(Email),
    expand: Type.Optional(V1Expand),
    metadata: Type.Optional(V1Metadata),
    name: Type.Optional(text(256)),
    phone: Type.Optional(text(20)),
    preferred_locales: Type.Optional(Locales),
    shipping: Type.Optional(Shipping),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    address: Type.Optional(V1Unsettable(Address)),
    balance: Type.Optional(Balance),
    description: Type.Optional(V1Unsettable(text(350))),
    email: Type.Optional(V1Unsettable(Email)),
    expand: Type.Optional(V1Expand),
    metadata: Type.Optional(V1Metadata),
    name: Type.Optional(V1Unsettable(text(256))),
    phone: Type.Optional(V1Unsettable(text(20))),
    preferred_locales: Type.Optional(V1Unsettable(Locales)),
    shipping: Type.Optional(V1Unsettable(Shipping)),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: V1Id() });
const ExpandQuery = Type.Object({ expand: Type.Optional(V1Expand) }, { additionalProperties: false });

function requestInfo(request: FastifyRequest): RequestInfo {
  const key = request.headers['idempotency-key'];
  return { id: request.id, idempotencyKey: typeof key === 'string' ? key : null };
}

/** "" or null in a JSON or form body: create takes no unset, so they mean "not given". */
function given<T>(value: T | '' | null | undefined): T | undefined {
  return value === '' || value === null ? undefined : value;
}

function createInput(body: Static<typeof CreateBody>) {
  const metadata = given(body.metadata);
  return {
    ...(body.email === undefined ? {} : { email: body.email }),
    ...(body.name === undefined ? {} : { name: body.name }),
    ...(body.description === undefined ? {} : { description: body.description }),
    ...(body.phone === undefined ? {} : { phone: body.phone }),
    ...(body.address === undefined ? {} : { address: body.address as AddressInput }),
    ...(body.shipping === undefined ? {} : { shipping: body.shipping }),
    ...(metadata === undefined ? {} : { metadata }),
    ...(body.preferred_locales === undefined ? {} : { preferredLocales: body.preferred_locales }),
    ...(body.balance === undefined ? {} : { balance: body.balance }),
  };
}

function updateInput(body: Static<typeof UpdateBody>): CustomerUpdateInput {
  const input: CustomerUpdateInput = {};
  const email = toUpdate(body.email);
  const name = toUpdate(body.name);
  const description = toUpdate(body.description);
  const phone = toUpdate(body.phone);
  const address = toUpdate<AddressInput>(body.address);
  const shipping = toUpdate<ShippingInput>(body.shipping);
  const preferredLocales = toUpdate(body.preferred_locales);
  if (email !== undefined) input.email = email;
  if (name !== undefined) input.name = name;
  if (description !== undefined) input.description = description;
  if (phone !== undefined) input.phone = phone;
  if (address !== undefined) input.address = address;
  if (shipping !== undefined) input.shipping = shipping;
  if (preferredLocales !== undefined) input.preferredLocales = preferredLocales;
  if (body.metadata !== undefined) input.metadata = body.metadata;
  if (body.balance !== undefined) input.balance = body.balance;
  return input;
}

/** /v1/customers: create, retrieve, update, delete, list. */
export const customerRoutes: FastifyPluginAsyncTypebox<CustomerRoutesOptions> = async (app, options) => {
  const { customers } = options;
  const v1 = { resource: 'customers', object: 'customer' };

  const one = { 200: CustomerSchema, ...v1ErrorResponses };
  app.post('/customers', { config: { v1 }, schema: { body: CreateBody, response: one } }, async (request) =>
    customers.create(v1Scope(request), createInput(request.body), requestInfo(request)),
  );

  app.get(
    '/customers/:id',
    { config: { v1 }, schema: { params: IdParams, querystring: ExpandQuery, response: one } },
    async (request) => customers.retrieve(v1Scope(request), request.params.id),
  );

  app.post(
    '/customers/:id',
    { config: { v1 }, schema: { params: IdParams, body: UpdateBody, response: one } },
    async (request) =>
      customers.update(v1Scope(request), request.params.id, updateInput(request.body), requestInfo(request)),
  );

  app.delete(
    '/customers/:id',
    {
      config: { v1: { resource: 'customers' } },
      schema: { params: IdParams, response: { 200: DeletedCustomerSchema, ...v1ErrorResponses } },
    },
    async (request) => customers.delete(v1Scope(request), request.params.id, requestInfo(request)),
  );

  app.get(
    '/customers',
    {
      config: { v1: { ...v1, list: true } },
      schema: {
        querystring: Type.Object(
          { ...V1ListParams, created: Type.Optional(V1CreatedFilter), email: Type.Optional(Email) },
          { additionalProperties: false },
        ),
        response: { 200: CustomerListSchema, ...v1ErrorResponses },
      },
    },
    async (request) => {
      const page = await customers.list(v1Scope(request), {
        page: pageRequestFrom(request.query),
        ...(request.query.email === undefined ? {} : { email: request.query.email }),
      });
      return listResponse({ data: page.data, hasMore: page.hasMore, url: '/v1/customers' });
    },
  );
};

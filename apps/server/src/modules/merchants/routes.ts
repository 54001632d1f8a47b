import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { limits } from '../../platform/limits.js';
import type { ApiKeyInfo, Merchant, Merchants } from './service.js';
import { errorResponses } from '../../platform/http-schemas.js';

const unixSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

const MerchantSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('account'),
    name: Type.String(),
    country: Type.String(),
    default_currency: Type.String(),
    mcc: Type.String(),
    city: Type.Union([Type.String(), Type.Null()]),
    pricing: Type.Object({
      basis_points: Type.Integer(),
      fixed: Type.Record(Type.String(), Type.Integer(), { description: 'Minor units per currency' }),
    }),
    activated_at: Type.Union([Type.Integer(), Type.Null()]),
    charges_enabled: Type.Boolean({ description: 'Live mode is on (the merchant was activated)' }),
    created: Type.Integer(),
  },
  { additionalProperties: false },
);

const IssuedKeysSchema = Type.Intersect([
  MerchantSchema,
  Type.Object({
    secret_key: Type.String({ description: 'Shown once' }),
    publishable_key: Type.String({ description: 'Shown once' }),
  }),
]);

const ApiKeySchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('api_key'),
    type: Type.Union([Type.Literal('secret'), Type.Literal('publishable'), Type.Literal('restricted')]),
    livemode: Type.Boolean(),
    redacted: Type.String({ description: 'sk_test_…last4' }),
    permissions: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
    expires_at: Type.Union([Type.Integer(), Type.Null()]),
    created: Type.Integer(),
  },
  { additionalProperties: false },
);

function merchantWire(merchant: Merchant) {
  return {
    id: merchant.id,
    object: 'account' as const,
    name: merchant.name,
    country: merchant.country,
    default_currency: merchant.defaultCurrency,
    mcc: merchant.mcc,
    city: merchant.city,
    pricing: {
      basis_points: merchant.pricing.basisPoints,
      fixed: Object.fromEntries(Object.entries(merchant.pricing.fixedMinor).map(([code, v]) => [code, Number(v)])),
    },
    activated_at: merchant.activatedAt === null ? null : unixSeconds(merchant.activatedAt),
    charges_enabled: merchant.activatedAt !== null,
    created: unixSeconds(merchant.createdAt),
  };
}

function keyWire(key: ApiKeyInfo) {
  return {
    id: key.id,
    object: 'api_key' as const,
    type: key.kind,
    livemode: key.livemode,
    redacted: `${key.displayPrefix}…${key.last4}`,
    permissions: key.permissions,
    expires_at: key.expiresAt === null ? null : unixSeconds(key.expiresAt),
    created: unixSeconds(key.createdAt),
  };
}

const IdParams = Type.Object({ id: Type.String({ pattern: '^acct_[0-9A-Za-z]{1,64}$' }) });

export interface AdminMerchantRoutesOptions {
  merchants: Merchants;
}

/** /admin/v1/merchants: create, list, retrieve, activate (live keys), roll and restrict keys. */
export const adminMerchantRoutes: FastifyPluginAsyncTypebox<AdminMerchantRoutesOptions> = async (app, options) => {
  const { merchants } = options;

  app.post(
    '/merchants',
    {
      schema: {
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: limits.merchantNameLengthMax }),
            country: Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2' }),
            default_currency: Type.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217' }),
            mcc: Type.String({ pattern: '^[0-9]{4}$', description: 'Merchant category code (ISO 18245)' }),
            city: Type.Optional(Type.String({ minLength: 1, maxLength: limits.merchantCityLengthMax })),
            pricing: Type.Optional(
              Type.Object(
                {
                  basis_points: Type.Optional(Type.Integer({ minimum: 0, maximum: limits.merchantFeeBasisPointsMax })),
                  fixed: Type.Optional(
                    Type.Record(
                      Type.String({ pattern: '^[A-Za-z]{3}$' }),
                      Type.Integer({ minimum: 0, maximum: limits.merchantFeeFixedMinorMax }),
                      { maxProperties: 200 },
                    ),
                  ),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: IssuedKeysSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const issued = await merchants.create({
        name: body.name,
        country: body.country,
        defaultCurrency: body.default_currency,
        mcc: body.mcc,
        city: body.city ?? null,
        ...(body.pricing === undefined
          ? {}
          : {
              pricing: {
                ...(body.pricing.basis_points === undefined ? {} : { basisPoints: body.pricing.basis_points }),
                ...(body.pricing.fixed === undefined ? {} : { fixedMinor: body.pricing.fixed }),
              },
            }),
      });
      return reply.status(201).send({
        ...merchantWire(issued.merchant),
        secret_key: issued.secretKey,
        publishable_key: issued.publishableKey,
      });
    },
  );

  app.get(
    '/merchants',
    {
      schema: {
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.pageSizeMax, default: 10 })),
            starting_after: Type.Optional(Type.String({ maxLength: limits.v1ObjectIdLengthMax })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            object: Type.Literal('list'),
            data: Type.Array(MerchantSchema),
            has_more: Type.Boolean(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const page = await merchants.list({
        limit: request.query.limit ?? 10,
        ...(request.query.starting_after === undefined ? {} : { startingAfter: request.query.starting_after }),
      });
      return { object: 'list' as const, data: page.data.map(merchantWire), has_more: page.hasMore };
    },
  );

  app.get(
    '/merchants/:id',
    { schema: { params: IdParams, response: { 200: MerchantSchema, ...errorResponses } } },
    async (request) => merchantWire(await merchants.retrieve(request.params.id)),
  );

  app.post(
    '/merchants/:id/activate',
    {
      schema: {
        params: IdParams,
        response: { 200: IssuedKeysSchema, ...errorResponses },
      },
    },
    async (request) => {
      const issued = await merchants.activate(request.params.id);
      return {
        ...merchantWire(issued.merchant),
        secret_key: issued.secretKey,
        publishable_key: issued.publishableKey,
      };
    },
  );

  app.get(
    '/merchants/:id/keys',
    {
      schema: {
        params: IdParams,
        response: {
          200: Type.Object({ object: Type.Literal('list'), data: Type.Array(ApiKeySchema), has_more: Type.Boolean() }),
          ...errorResponses,
        },
      },
    },
    async (request) => ({
      object: 'list' as const,
      data: (await merchants.listKeys(request.params.id)).map(keyWire),
      has_more: false,
    }),
  );

  app.post(
    '/merchants/:id/keys/roll',
    {
      schema: {
        params: IdParams,
        body: Type.Object(
          {
            livemode: Type.Boolean(),
            expires_in_s: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: limits.merchantKeyRollGraceSMax,
                description: 'How long the old secret key keeps working (default 24 h; 0 = it stops now)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Intersect([
            ApiKeySchema,
            Type.Object({ secret: Type.String({ description: 'Shown once' }), rolled: Type.Array(ApiKeySchema) }),
          ]),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const result = await merchants.rollSecretKey(request.params.id, {
        livemode: request.body.livemode,
        expiresInS: request.body.expires_in_s ?? limits.merchantKeyRollGraceSDefault,
      });
      return { ...keyWire(result.key), secret: result.secretKey, rolled: result.rolled.map(keyWire) };
    },
  );

  app.post(
    '/merchants/:id/keys',
    {
      schema: {
        params: IdParams,
        body: Type.Object(
          {
            type: Type.Literal('restricted'),
            livemode: Type.Boolean(),
            permissions: Type.Record(
              Type.String({ pattern: '^[a-z][a-z_.]{0,63}$' }),
              Type.Union([Type.Literal('read'), Type.Literal('write')]),
              { minProperties: 1, maxProperties: 100 },
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Intersect([ApiKeySchema, Type.Object({ secret: Type.String({ description: 'Shown once' }) })]),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const result = await merchants.createRestrictedKey(request.params.id, {
        livemode: request.body.livemode,
        permissions: request.body.permissions,
      });
      return reply.status(201).send({ ...keyWire(result.key), secret: result.secretKey });
    },
  );
};

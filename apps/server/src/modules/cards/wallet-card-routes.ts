import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { errorResponses } from '../../platform/http-schemas.js';
import { limits } from '../../platform/limits.js';
import { type WalletCard, type WalletCards } from './wallet-cards.js';

const WalletCardSchema = Type.Object(
  {
    id: Type.String({ description: 'wc_…: use it as the source of a top-up' }),
    object: Type.Literal('wallet_card'),
    brand: Type.String(),
    last4: Type.String(),
    exp_month: Type.Integer(),
    exp_year: Type.Integer(),
    created: Type.Integer({ description: 'Unix seconds' }),
  },
  { additionalProperties: false },
);

function toWire(card: WalletCard) {
  return {
    id: card.id,
    object: 'wallet_card' as const,
    brand: card.brand,
    last4: card.last4,
    exp_month: card.expMonth,
    exp_year: card.expYear,
    created: Math.floor(card.createdAt.getTime() / 1000),
  };
}

export interface WalletCardRoutesOptions {
  walletCards: WalletCards;
  authenticate: (request: FastifyRequest) => Promise<{ userId: string }>;
}

/** /wallet/v1/cards: the cards a wallet user tops up from (numbers are kept in the vault only). */
export const walletCardRoutes: FastifyPluginAsyncTypebox<WalletCardRoutesOptions> = async (app, options) => {
  const { walletCards } = options;
  const userOf = async (request: FastifyRequest) => (await options.authenticate(request)).userId;

  app.post(
    '/cards',
    {
      schema: {
        body: Type.Union([
          Type.Object(
            {
              number: Type.String({ pattern: '^[0-9]{12,19}$', description: 'Digits only' }),
              exp_month: Type.Integer({ minimum: 1, maximum: 12 }),
              exp_year: Type.Integer({ minimum: 2000, maximum: 9999 }),
              cvc: Type.Optional(Type.String({ pattern: '^[0-9]{3,4}$', description: 'Checked, never stored' })),
              name: Type.Optional(Type.String({ maxLength: limits.cardVaultCardholderNameLengthMax })),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            { token: Type.String({ minLength: 1, maxLength: 64, description: 'Test token, e.g. tok_visa' }) },
            { additionalProperties: false },
          ),
        ]),
        response: { 201: WalletCardSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const userId = await userOf(request);
      const body = request.body;
      const card = await walletCards.save(
        userId,
        'token' in body
          ? { token: body.token }
          : {
              number: body.number,
              expMonth: body.exp_month,
              expYear: body.exp_year,
              ...(body.cvc === undefined ? {} : { cvc: body.cvc }),
              ...(body.name === undefined ? {} : { cardholderName: body.name }),
            },
      );
      return reply.status(201).send(toWire(card));
    },
  );

  app.get(
    '/cards',
    { schema: { response: { 200: Type.Object({ data: Type.Array(WalletCardSchema) }), ...errorResponses } } },
    async (request) => ({ data: (await walletCards.list(await userOf(request))).map(toWire) }),
  );

  app.delete(
    '/cards/:id',
    {
      schema: {
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await walletCards.remove(await userOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};

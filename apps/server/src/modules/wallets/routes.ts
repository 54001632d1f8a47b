import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { AppError } from '../../platform/errors.js';
import { checkIdempotencyKey, type IdempotentOutcome } from '../../platform/idempotency.js';
import { formatMinor } from '../../platform/money.js';
import { walletLimits, type WalletService, type WalletUser } from './service.js';
import { UnixSeconds, WalletTransactionSchema, toWire } from './wire.js';
import { errorResponses } from '../../platform/http-schemas.js';
import { retryAfterOnError } from '../../platform/rate-limit.js';

const RecentRecipientSchema = Type.Object(
  {
    id: Type.String({ description: 'rcp_…: names this person for you only (send to it, or look it up)' }),
    object: Type.Literal('recent_recipient'),
    name: Type.String({ description: 'Their display name' }),
    phone: Type.Union([Type.String(), Type.Null()], { description: 'Masked: +86 138****0001' }),
    last_sent: UnixSeconds,
  },
  { additionalProperties: false },
);

const RecipientPreviewSchema = Type.Object(
  {
    object: Type.Literal('recipient_preview'),
    name: Type.String({ description: 'Masked as payers see it: 李明 → *明, Alice Wong → A*' }),
    phone: Type.Union([Type.String(), Type.Null()], { description: 'Masked: +86 138****0001' }),
    email: Type.Union([Type.String(), Type.Null()], { description: 'Masked (a***@example.com), when no phone' }),
  },
  { additionalProperties: false },
);

const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' });
const AmountMinor = Type.Integer({
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'Positive integer in minor units of the currency (cents for CNY, yen for JPY, fils for KWD)',
});
const BalanceSchema = Type.Object(
  {
    currency: Type.String(),
    available: Type.Integer({ description: 'What the wallet can spend now' }),
    pending: Type.Integer({ description: 'Incoming money reserved but not yet posted' }),
  },
  { additionalProperties: false },
);

const IdempotencyHeaders = Type.Object({ 'idempotency-key': Type.Optional(Type.String()) });

/** Sends an idempotent outcome (a wire body), marking replays as Stripe does. */
function sendOutcome(reply: FastifyReply, outcome: IdempotentOutcome) {
  if (outcome.replayed) void reply.header('idempotent-replayed', 'true');
  return reply.status(outcome.status).send(outcome.body);
}

export { formatMinor } from '../../platform/money.js';

/** One CSV cell: quoted when needed, and never read as a formula by a spreadsheet. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const HistoryQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: walletLimits.historyPageMax, default: 10 })),
    starting_after: Type.Optional(Type.String({ maxLength: 64 })),
    type: Type.Optional(
      Type.Union([
        Type.Literal('topup'),
        Type.Literal('p2p_sent'),
        Type.Literal('p2p_received'),
        Type.Literal('payment'),
        Type.Literal('refund'),
      ]),
    ),
    status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')])),
    created_gte: Type.Optional(UnixSeconds),
    created_lte: Type.Optional(UnixSeconds),
  },
  { additionalProperties: false },
);

function filterFrom(query: Static<typeof HistoryQuery>) {
  return {
    ...(query.type === undefined ? {} : { type: query.type }),
    ...(query.status === undefined ? {} : { status: query.status }),
    ...(query.created_gte === undefined ? {} : { createdFrom: new Date(query.created_gte * 1000) }),
    ...(query.created_lte === undefined ? {} : { createdTo: new Date(query.created_lte * 1000) }),
  };
}

export interface WalletRoutesOptions {
  wallets: WalletService;
  authenticate: (request: FastifyRequest) => Promise<{ userId: string }>;
}

declare module 'fastify' {
  interface FastifyRequest {
    walletUserId?: string;
  }
}

function userOf(request: FastifyRequest): string {
  const userId = request.walletUserId;
  if (userId === undefined) throw new AppError('token_invalid');
  return userId;
}

/** /wallet/v1 money routes: balances, top-ups, P2P transfers and history. */
export const walletRoutes: FastifyPluginAsyncTypebox<WalletRoutesOptions> = async (app, options) => {
  const { wallets } = options;
  app.addHook('onRequest', async (request) => {
    request.walletUserId = (await options.authenticate(request)).userId;
  });
  app.addHook('onError', retryAfterOnError);

  app.get(
    '/balances',
    { schema: { response: { 200: Type.Array(BalanceSchema), ...errorResponses } } },
    async (request) =>
      (await wallets.balances(userOf(request))).map((balance) => ({
        currency: balance.currency,
        available: Number(balance.availableMinor),
        pending: Number(balance.pendingMinor),
      })),
  );

  app.post(
    '/topups',
    {
      schema: {
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            amount: AmountMinor,
            currency: Currency,
            source: Type.String({
              minLength: 1,
              maxLength: 64,
              description: 'A funding source token (test mode: tok_visa, …)',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 201: WalletTransactionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = checkIdempotencyKey(request.headers['idempotency-key']);
      const outcome = await wallets.topup(userOf(request), key, {
        amountMinor: BigInt(request.body.amount),
        currency: request.body.currency,
        source: request.body.source,
      });
      return sendOutcome(reply, outcome);
    },
  );

  app.post(
    '/transfers',
    {
      schema: {
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            to: Type.String({
              minLength: 1,
              maxLength: 254,
              description: 'Phone (E.164 or national), email, user id, or a recent recipient id (rcp_…)',
            }),
            amount: AmountMinor,
            currency: Currency,
            note: Type.Optional(Type.String({ maxLength: walletLimits.noteLengthMax })),
            pin: Type.String({ pattern: '^[0-9]{6}$' }),
          },
          { additionalProperties: false },
        ),
        response: { 201: WalletTransactionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = checkIdempotencyKey(request.headers['idempotency-key']);
      const outcome = await wallets.transfer(userOf(request), key, {
        to: request.body.to.trim(),
        amountMinor: BigInt(request.body.amount),
        currency: request.body.currency,
        note: request.body.note ?? null,
        pin: request.body.pin,
      });
      return sendOutcome(reply, outcome);
    },
  );

  app.get(
    '/recipients/recent',
    {
      schema: {
        response: {
          200: Type.Object({
            object: Type.Literal('list'),
            data: Type.Array(RecentRecipientSchema, { maxItems: walletLimits.recentRecipientsMax }),
            has_more: Type.Boolean(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const recipients = await wallets.recentRecipients(userOf(request));
      return {
        object: 'list' as const,
        data: recipients.map((recipient) => ({
          id: recipient.id,
          object: 'recent_recipient' as const,
          name: recipient.name,
          phone: recipient.phoneMasked,
          last_sent: Math.floor(recipient.lastSentAt.getTime() / 1000),
        })),
        has_more: false,
      };
    },
  );

  // A POST, so that the phone number stays out of URLs and access logs.
  app.post(
    '/recipients/lookup',
    {
      schema: {
        body: Type.Object(
          {
            to: Type.String({
              minLength: 1,
              maxLength: 254,
              description: 'A phone number (13800000001 or +86 138 0000 0001), an email, or a recent recipient id',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: RecipientPreviewSchema, ...errorResponses },
      },
    },
    async (request) => {
      const preview = await wallets.lookUpRecipient(userOf(request), request.body.to.trim());
      return {
        object: 'recipient_preview' as const,
        name: preview.nameMasked,
        phone: preview.phoneMasked,
        email: preview.emailMasked,
      };
    },
  );

  app.get(
    '/transactions',
    {
      schema: {
        querystring: HistoryQuery,
        response: {
          200: Type.Object({
            object: Type.Literal('list'),
            data: Type.Array(WalletTransactionSchema),
            has_more: Type.Boolean(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const page = await wallets.history(userOf(request), {
        limit: request.query.limit ?? 10,
        ...(request.query.starting_after === undefined ? {} : { startingAfter: request.query.starting_after }),
        filter: filterFrom(request.query),
      });
      return { object: 'list' as const, data: page.data.map(toWire), has_more: page.hasMore };
    },
  );

  app.get(
    '/transactions.csv',
    {
      schema: {
        querystring: Type.Omit(HistoryQuery, ['limit', 'starting_after']),
        response: { 200: Type.String(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const userId = userOf(request);
      const lines = ['id,created,type,status,amount,currency,fee,counterparty,note,reference,failure_code'];
      let startingAfter: string | undefined;
      for (let rows = 0; rows < walletLimits.csvRowsMax;) {
        const page = await wallets.history(userId, {
          limit: walletLimits.historyPageMax,
          ...(startingAfter === undefined ? {} : { startingAfter }),
          filter: filterFrom(request.query),
        });
        for (const t of page.data) {
          const signed = t.type === 'p2p_sent' ? -t.amountMinor : t.amountMinor;
          lines.push(
            [
              t.id,
              t.createdAt.toISOString(),
              t.type,
              t.status,
              formatMinor(signed, t.currency),
              t.currency,
              formatMinor(t.feeMinor, t.currency),
              t.counterpartyName ?? '',
              t.note ?? '',
              t.reference,
              t.failureCode ?? '',
            ]
              .map(csvCell)
              .join(','),
          );
        }
        rows += page.data.length;
        if (!page.hasMore || page.data.length === 0) break;
        startingAfter = page.data[page.data.length - 1]!.id;
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="yunpay-transactions.csv"')
        .send(`${lines.join('\r\n')}\r\n`);
    },
  );

  app.get(
    '/transactions/:id',
    {
      schema: {
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: WalletTransactionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const transaction = await wallets.getTransaction(userOf(request), request.params.id);
      // Another person's transaction is indistinguishable from one that does not exist.
      if (transaction === null) throw new AppError('not_found', { message: 'No such transaction.', param: 'id' });
      return toWire(transaction);
    },
  );
};

const AdminUserSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('user'),
    name: Type.String(),
    phone: Type.Union([Type.String(), Type.Null()]),
    email: Type.Union([Type.String(), Type.Null()]),
    kyc_tier: Type.Integer({ minimum: 0, maximum: 2 }),
    frozen: Type.Boolean(),
  },
  { additionalProperties: false },
);

export interface AdminWalletRoutesOptions {
  wallets: WalletService;
  users: {
    getUser(id: string): Promise<WalletUser | null>;
    listUsers(options: { limit: number; startingAfter?: string }): Promise<{ data: WalletUser[]; hasMore: boolean }>;
  };
}

/** /admin/v1 routes of the wallets context (the admin guard is applied by the enclosing plugin). */
export const adminWalletRoutes: FastifyPluginAsyncTypebox<AdminWalletRoutesOptions> = async (app, options) => {
  const { wallets, users } = options;

  async function adminUser(user: WalletUser) {
    const profile = await wallets.profile(user.id);
    return {
      id: user.id,
      object: 'user' as const,
      name: user.name,
      phone: user.phone,
      email: user.email,
      kyc_tier: profile.kycTier,
      frozen: profile.frozen,
    };
  }

  async function existingUser(id: string): Promise<WalletUser> {
    const user = await users.getUser(id);
    if (user === null) throw new AppError('not_found', { message: 'No such user.', param: 'id' });
    return user;
  }

  app.get(
    '/users',
    {
      schema: {
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: walletLimits.adminPageMax, default: 10 })),
            starting_after: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            object: Type.Literal('list'),
            data: Type.Array(AdminUserSchema),
            has_more: Type.Boolean(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const page = await users.listUsers({
        limit: request.query.limit ?? 10,
        ...(request.query.starting_after === undefined ? {} : { startingAfter: request.query.starting_after }),
      });
      const profiles = await wallets.profiles(page.data.map((user) => user.id));
      return {
        object: 'list' as const,
        data: page.data.map((user) => ({
          id: user.id,
          object: 'user' as const,
          name: user.name,
          phone: user.phone,
          email: user.email,
          kyc_tier: profiles.get(user.id)!.kycTier,
          frozen: profiles.get(user.id)!.frozen,
        })),
        has_more: page.hasMore,
      };
    },
  );

  const UserParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

  app.post(
    '/users/:id/tier',
    {
      schema: {
        params: UserParams,
        body: Type.Object(
          { tier: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)]) },
          { additionalProperties: false },
        ),
        response: { 200: AdminUserSchema, ...errorResponses },
      },
    },
    async (request) => {
      const user = await existingUser(request.params.id);
      await wallets.setTier(user.id, request.body.tier);
      return adminUser(user);
    },
  );

  for (const [action, frozen] of [
    ['freeze', true],
    ['unfreeze', false],
  ] as const) {
    app.post(
      `/users/:id/${action}`,
      { schema: { params: UserParams, response: { 200: AdminUserSchema, ...errorResponses } } },
      async (request) => {
        const user = await existingUser(request.params.id);
        await wallets.setFrozen(user.id, frozen);
        return adminUser(user);
      },
    );
  }
};

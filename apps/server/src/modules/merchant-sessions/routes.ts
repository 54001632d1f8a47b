import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { errorResponses, NoQuerySchema as NoQuery } from '../../platform/http-schemas.js';
import { checkIdempotencyKey } from '../../platform/idempotency.js';
import { AppError, assert } from '../../platform/errors.js';
import { limits } from '../../platform/limits.js';
import { retryAfterOnError } from '../../platform/rate-limit.js';
import { requestSite } from '../../platform/same-origin.js';
import type { V1Auth } from '../../v1/index.js';
import type { ApiKeyInfo, Merchant } from '../merchants/index.js';
import { summaryLimits, type DailyBalanceSummary } from '../payments/index.js';
import { merchantSessionLimits, type MerchantSession, type MerchantSessions } from './service.js';

/**
 * The cookie that carries a merchant session. Over https it is `__Host-` prefixed (the browser then
 * insists on Secure, Path=/ and no Domain); plain http (a laptop, tests) cannot use that prefix.
 */
const cookieNameSecure = '__Host-yunpay_msess';
const cookieNamePlain = 'yunpay_msess';
export const csrfHeader = 'x-csrf-token';

function isHttps(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

/** The session token from the Cookie header, or null. Only our own cookie names are read. */
export function sessionTokenOf(request: FastifyRequest): string | null {
  const header = request.headers.cookie;
  if (typeof header !== 'string' || header.length > 8_192) return null;
  const wanted = isHttps(request) ? [cookieNameSecure, cookieNamePlain] : [cookieNamePlain];
  for (const part of header.split(';')) {
    const equals = part.indexOf('=');
    if (equals === -1) continue;
    const name = part.slice(0, equals).trim();
    if (wanted.includes(name)) return part.slice(equals + 1).trim();
  }
  return null;
}

function sessionCookie(request: FastifyRequest, token: string, maxAgeS: number): string {
  const secure = isHttps(request);
  return [
    `${secure ? cookieNameSecure : cookieNamePlain}=${token}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeS}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/**
 * Same-origin check for cookie-authenticated requests: a browser says where a request comes from
 * (Sec-Fetch-Site, Origin); anything but this very origin is refused. A client that sends neither
 * is not a browser, so it cannot be the victim of a cross-site request.
 */
export function comesFromSameOrigin(request: FastifyRequest): boolean {
  return requestSite(request) !== 'cross-site';
}

/**
 * The session of a cookie-authenticated request, with the CSRF checks: same origin, and the
 * session's CSRF token in X-CSRF-Token (compared in constant time) unless `csrf: false`.
 * Returns null when the request carries no session cookie.
 */
export async function requestSession(
  sessions: MerchantSessions,
  request: FastifyRequest,
  options: { csrf: boolean } = { csrf: true },
): Promise<{ session: MerchantSession; token: string } | null> {
  const token = sessionTokenOf(request);
  if (token === null) return null;
  if (!comesFromSameOrigin(request)) {
    throw new AppError('forbidden', { message: 'Cross-site requests with a session cookie are refused.' });
  }
  if (options.csrf) {
    const presented = request.headers[csrfHeader];
    if (typeof presented !== 'string' || !sessions.csrfTokenMatches(token, presented)) {
      throw new AppError('forbidden', { message: 'The X-CSRF-Token header is missing or does not match the session.' });
    }
  }
  const session = await sessions.authenticate(token);
  if (session === null) throw new AppError('unauthorized', { message: 'The session has ended: sign in again.' });
  return { session, token };
}

/**
 * How /v1 accepts a session instead of an API key (v1Plugin `session` option): the signed-in
 * merchant acts with its secret key's rights, in the session's mode. null: no session cookie.
 */
export function merchantSessionV1Auth(sessions: MerchantSessions): (request: FastifyRequest) => Promise<V1Auth | null> {
  return async (request) => {
    const found = await requestSession(sessions, request);
    if (found === null) return null;
    return {
      accountId: found.session.accountId,
      livemode: found.session.livemode,
      keyKind: 'secret',
      keyId: found.session.keyId,
    };
  };
}

const unixSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

const AccountSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('account'),
    name: Type.String(),
    country: Type.String(),
    default_currency: Type.String({ description: 'Lower case, as /v1 writes currencies' }),
    city: Type.Union([Type.String(), Type.Null()]),
    charges_enabled: Type.Boolean(),
  },
  { additionalProperties: false },
);

const SessionSchema = Type.Object(
  {
    object: Type.Literal('merchant_session'),
    id: Type.String(),
    csrf_token: Type.String({ description: 'Send it as X-CSRF-Token on every cookie-authenticated request' }),
    livemode: Type.Boolean(),
    expires_at: Type.Integer({ description: 'Unix seconds: the session ends then at the latest' }),
    account: AccountSchema,
  },
  { additionalProperties: false },
);

const ApiKeySchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('api_key'),
    type: Type.Union([Type.Literal('secret'), Type.Literal('publishable'), Type.Literal('restricted')]),
    livemode: Type.Boolean(),
    redacted: Type.String(),
    value: Type.Union([Type.String(), Type.Null()], {
      description: 'The whole key: publishable keys only (they are public); null for secret and restricted keys',
    }),
    expires_at: Type.Union([Type.Integer(), Type.Null()]),
    created: Type.Integer(),
  },
  { additionalProperties: false },
);

const DailySchema = Type.Object(
  {
    day: Type.String({ description: 'YYYY-MM-DD (UTC)' }),
    currency: Type.String(),
    volume: Type.Integer(),
    refunded: Type.Integer(),
    fees: Type.Integer(),
    net: Type.Integer(),
    charge_count: Type.Integer(),
  },
  { additionalProperties: false },
);

function accountWire(merchant: Merchant) {
  return {
    id: merchant.id,
    object: 'account' as const,
    name: merchant.name,
    country: merchant.country,
    default_currency: merchant.defaultCurrency.toLowerCase(),
    city: merchant.city,
    charges_enabled: merchant.activatedAt !== null,
  };
}

/** A session as the API answers it (sign-in, sign-up, current, resume). */
function sessionWire(session: MerchantSession, csrfToken: string, merchant: Merchant) {
  return {
    object: 'merchant_session' as const,
    id: session.id,
    csrf_token: csrfToken,
    livemode: session.livemode,
    expires_at: unixSeconds(session.expiresAt),
    account: accountWire(merchant),
  };
}

function keyWire(key: ApiKeyInfo) {
  return {
    id: key.id,
    object: 'api_key' as const,
    type: key.kind,
    livemode: key.livemode,
    redacted: `${key.displayPrefix}…${key.last4}`,
    // Never a secret: the merchants context keeps the whole value of publishable keys only.
    value: key.kind === 'publishable' ? key.publishableValue : null,
    expires_at: key.expiresAt === null ? null : unixSeconds(key.expiresAt),
    created: unixSeconds(key.createdAt),
  };
}

function safeNumber(value: bigint): number {
  assert(value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER), 'sum fits a number');
  return Number(value);
}

export interface MerchantSessionRoutesOptions {
  sessions: MerchantSessions;
  /** The payments context's daily summary (payments/summary.ts). */
  /** `nowMs` is the route's clock: the days summed end with the day it answers as `today`. */
  dailySummary(options: {
    accountId: string;
    livemode: boolean;
    days: number;
    nowMs: number;
  }): Promise<DailyBalanceSummary[]>;
}

/**
 * /merchant/v1: sign-in to the POS and dashboard with a secret key (an httpOnly cookie session
 * with a CSRF token), and the dashboard's endpoints that /v1 does not have (keys, daily summary).
 */
export const merchantSessionRoutes: FastifyPluginAsyncTypebox<MerchantSessionRoutesOptions> = async (app, options) => {
  const { sessions } = options;
  app.addHook('onError', retryAfterOnError);

  const required = async (request: FastifyRequest, csrf = true) => {
    const found = await requestSession(sessions, request, { csrf });
    if (found === null) throw new AppError('unauthorized', { message: 'Sign in first.' });
    return found;
  };

  const sessionBody = async (session: MerchantSession, token: string) =>
    sessionWire(session, sessions.csrfTokenFor(token), await sessions.merchantOf(session));

  app.post(
    '/sessions',
    {
      schema: {
        querystring: NoQuery,
        body: Type.Object(
          { secret_key: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 201: SessionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      // No session yet, so no CSRF token; a cross-site form must still not sign the browser in.
      if (!comesFromSameOrigin(request)) {
        throw new AppError('forbidden', { message: 'Cross-site sign-in requests are refused.' });
      }
      const signedIn = await sessions.signIn({ secretKey: request.body.secret_key, clientKey: request.ip });
      void reply.header(
        'set-cookie',
        sessionCookie(request, signedIn.token, Math.floor(merchantSessionLimits.lifetimeMs / 1000)),
      );
      return reply.status(201).send(sessionWire(signedIn.session, signedIn.csrfToken, signedIn.merchant));
    },
  );

  // Self sign-up: a new merchant in test mode, signed in at once, with its test keys shown once.
  // Live keys stay the operator's decision (POST /admin/v1/merchants/{id}/activate).
  app.post(
    '/accounts',
    {
      schema: {
        summary: 'Sign up as a merchant (test mode), and sign in',
        description:
          'Creates the account with test-mode keys (returned once: the secret key is how you sign in again) and opens a test-mode session. Needs an Idempotency-Key: a retry returns the same account and keys. Live keys come when the operator activates the account.',
        querystring: NoQuery,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: limits.merchantNameLengthMax }),
            country: Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2' }),
            default_currency: Type.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217' }),
            mcc: Type.String({ pattern: '^[0-9]{4}$', description: 'Merchant category code (ISO 18245)' }),
            city: Type.Optional(Type.String({ minLength: 1, maxLength: limits.merchantCityLengthMax })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object(
            {
              session: SessionSchema,
              secret_key: Type.String({ description: 'Test-mode secret key, shown once' }),
              publishable_key: Type.String({ description: 'Test-mode publishable key' }),
            },
            { additionalProperties: false },
          ),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      if (!comesFromSameOrigin(request)) {
        throw new AppError('forbidden', { message: 'Cross-site sign-up requests are refused.' });
      }
      const idempotencyKey = checkIdempotencyKey(request.headers['idempotency-key'] as string | undefined);
      const body = request.body;
      const signedUp = await sessions.signUp({
        account: {
          name: body.name,
          country: body.country,
          defaultCurrency: body.default_currency,
          mcc: body.mcc,
          city: body.city ?? null,
        },
        clientKey: request.ip,
        idempotencyKey,
      });
      const { signedIn } = signedUp;
      void reply.header(
        'set-cookie',
        sessionCookie(request, signedIn.token, Math.floor(merchantSessionLimits.lifetimeMs / 1000)),
      );
      return reply.status(201).send({
        session: sessionWire(signedIn.session, signedIn.csrfToken, signedIn.merchant),
        secret_key: signedUp.secretKey,
        publishable_key: signedUp.publishableKey,
      });
    },
  );

  // The one cookie request without X-CSRF-Token: it is how a reloaded page learns the token. It
  // changes nothing, and another site cannot read its answer (no CORS), only the same origin can.
  app.get(
    '/sessions/current',
    { schema: { querystring: NoQuery, response: { 200: SessionSchema, ...errorResponses } } },
    async (request) => {
      const { session, token } = await required(request, false);
      return sessionBody(session, token);
    },
  );

  // The signed-out-friendly probe the POS and dashboard make on load: 200 either way, so that a
  // page opened signed out logs no HTTP error. Same rules as /sessions/current otherwise (no CSRF
  // token needed; a cross-site request with a cookie is refused); an ended session's cookie is dropped.
  app.get(
    '/sessions/resume',
    {
      schema: {
        summary: 'The current session, or signed_in false (never 401)',
        querystring: NoQuery,
        response: {
          200: Type.Object(
            { signed_in: Type.Boolean(), session: Type.Union([SessionSchema, Type.Null()]) },
            { additionalProperties: false },
          ),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      let found: Awaited<ReturnType<typeof requestSession>>;
      try {
        found = await requestSession(sessions, request, { csrf: false });
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'unauthorized')) throw error;
        void reply.header('set-cookie', sessionCookie(request, '', 0));
        found = null;
      }
      if (found === null) return { signed_in: false, session: null };
      return { signed_in: true, session: await sessionBody(found.session, found.token) };
    },
  );

  app.delete(
    '/sessions/current',
    { schema: { querystring: NoQuery, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      const { token } = await required(request);
      await sessions.signOut(token);
      void reply.header('set-cookie', sessionCookie(request, '', 0));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api_keys',
    {
      schema: {
        querystring: NoQuery,
        response: {
          200: Type.Object({ object: Type.Literal('list'), data: Type.Array(ApiKeySchema), has_more: Type.Boolean() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { session } = await required(request);
      return { object: 'list' as const, data: (await sessions.listKeys(session)).map(keyWire), has_more: false };
    },
  );

  app.post(
    '/api_keys/roll',
    {
      schema: {
        querystring: NoQuery,
        body: Type.Object(
          {
            expires_in_s: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: limits.merchantKeyRollGraceSMax,
                description: 'How long the old secret key keeps working (default 0: it stops now)',
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
      const { session } = await required(request);
      const result = await sessions.rollSecretKey(session, { expiresInS: request.body.expires_in_s ?? 0 });
      return { ...keyWire(result.key), secret: result.secretKey, rolled: result.rolled.map(keyWire) };
    },
  );

  app.get(
    '/balance/daily',
    {
      schema: {
        querystring: Type.Object(
          { days: Type.Optional(Type.Integer({ minimum: 1, maximum: summaryLimits.daysMax })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              object: Type.Literal('list'),
              days: Type.Integer(),
              today: Type.String({
                description: 'The server\'s current UTC day (YYYY-MM-DD): the overview\'s "today" is this row',
              }),
              data: Type.Array(DailySchema),
            },
            { additionalProperties: false },
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { session } = await required(request);
      const days = request.query.days ?? 30;
      const nowMs = Date.now();
      const rows = await options.dailySummary({
        accountId: session.accountId,
        livemode: session.livemode,
        days,
        nowMs,
      });
      return {
        object: 'list' as const,
        days,
        today: new Date(nowMs).toISOString().slice(0, 10),
        data: rows.map((row) => ({
          day: row.day,
          currency: row.currency.toLowerCase(),
          volume: safeNumber(row.volume),
          refunded: safeNumber(row.refunded),
          fees: safeNumber(row.fees),
          net: safeNumber(row.net),
          charge_count: row.chargeCount,
        })),
      };
    },
  );
};

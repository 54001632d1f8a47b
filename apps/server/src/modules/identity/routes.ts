import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { requestSite } from '../../platform/same-origin.js';
import { AppError } from '../../platform/errors.js';
import { limits } from '../../platform/limits.js';
import { retryAfterOnError } from '../../platform/rate-limit.js';
import type { Device, Identity, Principal, TokenPair, User } from './types.js';
import { errorResponses, NoQuerySchema } from '../../platform/http-schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by requireUser: who the bearer access token belongs to. */
    principal?: Principal;
  }
}

const NoContentSchema = Type.Null();

export const UserSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('user'),
  phone: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  created_at: Type.Integer({ description: 'Unix seconds.' }),
});
export type UserResponse = Static<typeof UserSchema>;

/** The wire form of a user (snake_case, no secrets); for other contexts' routes too (/admin/v1/users). */
export function toUserResponse(user: User): UserResponse {
  return {
    id: user.id,
    object: 'user',
    phone: user.phone,
    email: user.email,
    name: user.name,
    created_at: user.createdAt,
  };
}

const MeSchema = Type.Object({ ...UserSchema.properties, pin_set: Type.Boolean() });

const TokenPairSchema = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.Optional(
    Type.String({
      description: 'Absent when the refresh token is kept in the httpOnly cookie (refresh_token_cookie).',
    }),
  ),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds the access token lives.' }),
});

function toTokenPairResponse(pair: TokenPair): Static<typeof TokenPairSchema> {
  return {
    access_token: pair.accessToken,
    refresh_token: pair.refreshToken,
    token_type: pair.tokenType,
    expires_in: pair.expiresIn,
  };
}

/**
 * Cookie-kept refresh tokens, for the web apps: the refresh token travels only in an httpOnly
 * cookie scoped to the session routes, so page scripts (and whatever an XSS injects) never read it.
 * A cookie is ambient authority, so every route that reads or sets it also demands proof that the
 * request comes from our own pages (assertSameOriginRequest).
 */
export const refreshTokenCookieName = 'yunpay_rt';
const refreshTokenCookiePath = '/wallet/v1/sessions';
/** The header a cookie-authenticated request must carry; cross-site forms cannot send it without a CORS preflight (never granted). */
export const csrfHeaderName = 'x-yunpay-csrf';
const cookieValuePattern = /^[A-Za-z0-9_-]{1,128}$/;
/** Longer Cookie headers are not parsed (Node caps all headers at 16 KiB anyway). */
const cookieHeaderLengthMax = 8_192;

/** The Set-Cookie value that keeps (or, with null, clears) the refresh token. */
export function refreshTokenCookie(request: Pick<FastifyRequest, 'protocol'>, value: string | null): string {
  const attributes = [
    `${refreshTokenCookieName}=${value ?? ''}`,
    `Path=${refreshTokenCookiePath}`,
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${value === null ? 0 : limits.identityRefreshTokenLifetimeS}`,
  ];
  if (request.protocol === 'https') attributes.push('Secure');
  return attributes.join('; ');
}

/** The refresh token from the request's cookie, or null (absent or not shaped like one). */
function refreshTokenFromCookie(request: FastifyRequest): string | null {
  const header = request.headers.cookie;
  if (typeof header !== 'string' || header.length > cookieHeaderLengthMax) return null;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at === -1 || part.slice(0, at).trim() !== refreshTokenCookieName) continue;
    const value = part.slice(at + 1).trim();
    return cookieValuePattern.test(value) ? value : null;
  }
  return null;
}

/**
 * CSRF defence for requests the cookie authenticates: the custom header (a simple cross-site
 * request cannot carry it) and the browser's own word that the request is same-origin
 * (Sec-Fetch-Site, or the Origin's host equal to ours). Both are required.
 */
function assertSameOriginRequest(request: FastifyRequest): void {
  const refuse = (why: string): never => {
    throw new AppError('forbidden', { message: `Cookie-authenticated requests must come from this site: ${why}.` });
  };
  if (request.headers[csrfHeaderName] !== '1') refuse(`send the header X-Yunpay-CSRF: 1`);
  const site = requestSite(request);
  if (site === 'unstated') refuse('the request has neither Origin nor Sec-Fetch-Site');
  if (site === 'cross-site') refuse('Sec-Fetch-Site or Origin names another site');
}

const DeviceSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('device'),
  name: Type.String(),
  platform: Type.Union([Type.Literal('ios'), Type.Literal('android'), Type.Literal('web'), Type.Literal('other')]),
  created_at: Type.Integer(),
  last_seen_at: Type.Integer(),
  current: Type.Boolean(),
});

function toDeviceResponse(device: Device, principal: Principal): Static<typeof DeviceSchema> {
  return {
    id: device.id,
    object: 'device',
    name: device.name,
    platform: device.platform,
    created_at: device.createdAt,
    last_seen_at: device.lastSeenAt,
    current: device.id === principal.deviceId,
  };
}

// Login strings are bounded by the longest email; the service normalises and checks them.
const loginLengthMax = limits.identityEmailLengthMax;
// Schema bounds stop absurd input early; the password policy (12–128 code points) answers password_too_weak.
const passwordLengthMax = limits.identityPasswordLengthMax * 2;

const SignUpBodySchema = Type.Object(
  {
    phone: Type.Optional(Type.String({ minLength: 1, maxLength: limits.identityPhoneInputLengthMax })),
    email: Type.Optional(Type.String({ minLength: 3, maxLength: limits.identityEmailLengthMax })),
    password: Type.String({ minLength: 1, maxLength: passwordLengthMax }),
    name: Type.String({ minLength: 1, maxLength: limits.identityNameLengthMax }),
    pin: Type.Optional(
      Type.String({
        maxLength: 64,
        description:
          'The payment PIN (6 digits), set with the account in one transaction. Every invalid field is listed in error.details.fields.',
      }),
    ),
  },
  { additionalProperties: false },
);

const SignInBodySchema = Type.Object(
  {
    login: Type.String({ minLength: 1, maxLength: loginLengthMax }),
    password: Type.String({ minLength: 1, maxLength: passwordLengthMax }),
    device: Type.Object(
      {
        id: Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' }),
        name: Type.String({ minLength: 1, maxLength: limits.identityDeviceNameLengthMax }),
        platform: Type.Union([
          Type.Literal('ios'),
          Type.Literal('android'),
          Type.Literal('web'),
          Type.Literal('other'),
        ]),
      },
      { additionalProperties: false },
    ),
    refresh_token_cookie: Type.Optional(
      Type.Boolean({
        description:
          'Web apps: keep the refresh token in an httpOnly cookie instead of the body (needs X-Yunpay-CSRF: 1 and a same-origin request).',
      }),
    ),
  },
  { additionalProperties: false },
);

const RefreshBodySchema = Type.Object(
  {
    refresh_token: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'Absent: the refresh token cookie is used (needs X-Yunpay-CSRF: 1 and a same-origin request).',
      }),
    ),
  },
  { additionalProperties: false },
);

const PinBodySchema = Type.Object(
  {
    pin: Type.String({ pattern: '^[0-9]{6}$' }),
    password: Type.String({ minLength: 1, maxLength: passwordLengthMax }),
  },
  { additionalProperties: false },
);

const DeviceParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const JwkSchema = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String(),
  kid: Type.String(),
  alg: Type.Literal('EdDSA'),
  use: Type.Literal('sig'),
});

/**
 * An onRequest hook for routes that need a signed-in person: verifies the bearer access token
 * (and that its session is live) and sets request.principal. Anything wrong answers 401 token_invalid.
 */
export function requireUser(identity: Identity) {
  return async function requireUserHook(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      request.principal = await identity.authenticate(request.headers.authorization);
    } catch (error) {
      if (error instanceof AppError && error.code === 'token_invalid') {
        void reply.header('www-authenticate', 'Bearer realm="yunpay-wallet", error="invalid_token"');
      }
      throw error;
    }
  };
}

/** request.principal after requireUser; a route that forgot the hook crashes instead of serving anyone. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new Error('assertion failed: route needs the requireUser hook');
  return request.principal;
}

/** /wallet/v1 identity routes: register with `{ prefix: '/wallet/v1', identity }`. */
export const identityRoutes: FastifyPluginAsyncTypebox<{ identity: Identity }> = async (app, options) => {
  const { identity } = options;
  const authenticated = requireUser(identity);
  app.addHook('onError', retryAfterOnError);

  app.post(
    '/users',
    {
      schema: {
        summary: 'Sign up',
        body: SignUpBodySchema,
        querystring: NoQuerySchema,
        response: { 201: UserSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = await identity.signUp({ ...request.body, clientKey: request.ip });
      return reply.status(201).send(toUserResponse(user));
    },
  );

  app.post(
    '/sessions',
    {
      schema: {
        summary: 'Sign in',
        body: SignInBodySchema,
        querystring: NoQuerySchema,
        response: { 200: TokenPairSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { refresh_token_cookie: cookieMode, ...credentials } = request.body;
      if (cookieMode === true) assertSameOriginRequest(request);
      const pair = await identity.signIn({ ...credentials, clientKey: request.ip });
      if (cookieMode !== true) return toTokenPairResponse(pair);
      void reply.header('set-cookie', refreshTokenCookie(request, pair.refreshToken));
      const { refresh_token: _kept, ...body } = toTokenPairResponse(pair);
      return body;
    },
  );

  app.post(
    '/sessions/refresh',
    {
      schema: {
        summary: 'Rotate a refresh token for a new token pair',
        body: RefreshBodySchema,
        querystring: NoQuerySchema,
        response: { 200: TokenPairSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const bodyToken = request.body.refresh_token;
      if (bodyToken !== undefined) {
        return toTokenPairResponse(await identity.refresh({ refreshToken: bodyToken, clientKey: request.ip }));
      }
      const cookieToken = refreshTokenFromCookie(request);
      if (cookieToken === null) throw new AppError('refresh_token_invalid');
      assertSameOriginRequest(request);
      let pair: TokenPair;
      try {
        pair = await identity.refresh({ refreshToken: cookieToken, clientKey: request.ip });
      } catch (error) {
        // A spent or revoked token is of no further use: drop the cookie.
        if (error instanceof AppError && error.status === 401) {
          void reply.header('set-cookie', refreshTokenCookie(request, null));
        }
        throw error;
      }
      void reply.header('set-cookie', refreshTokenCookie(request, pair.refreshToken));
      const { refresh_token: _kept, ...body } = toTokenPairResponse(pair);
      return body;
    },
  );

  // The web app's probe on load (cookie mode): a new token pair from the refresh token cookie, or
  // signed_in false when there is no cookie or it is spent. 200 either way, so that a page opened
  // signed out logs no HTTP error; /sessions/refresh keeps answering 401 for API clients.
  app.post(
    '/sessions/resume',
    {
      schema: {
        summary: 'Resume a web session from the refresh token cookie, or signed_in false (never 401)',
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        querystring: NoQuerySchema,
        response: {
          200: Type.Object(
            {
              signed_in: Type.Boolean(),
              tokens: Type.Union([Type.Omit(TokenPairSchema, ['refresh_token']), Type.Null()]),
            },
            { additionalProperties: false },
          ),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const cookieToken = refreshTokenFromCookie(request);
      if (cookieToken === null) return { signed_in: false, tokens: null };
      assertSameOriginRequest(request);
      let pair: TokenPair;
      try {
        pair = await identity.refresh({ refreshToken: cookieToken, clientKey: request.ip });
      } catch (error) {
        if (!(error instanceof AppError && error.status === 401)) throw error;
        void reply.header('set-cookie', refreshTokenCookie(request, null));
        return { signed_in: false, tokens: null };
      }
      void reply.header('set-cookie', refreshTokenCookie(request, pair.refreshToken));
      const { refresh_token: _kept, ...tokens } = toTokenPairResponse(pair);
      return { signed_in: true, tokens };
    },
  );

  app.delete(
    '/sessions/current',
    {
      schema: {
        summary: 'Sign out (bearer access token, or the refresh token cookie)',
        querystring: NoQuerySchema,
        response: { 204: NoContentSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const cookieToken = refreshTokenFromCookie(request);
      if (request.headers.authorization !== undefined || cookieToken === null) {
        await authenticated(request, reply);
        await identity.signOut(principalOf(request));
      } else {
        assertSameOriginRequest(request);
        // The session behind the cookie is found by rotating its token once; a token that no
        // longer rotates (spent, revoked, expired) belongs to a session that is over already.
        const pair = await identity.refresh({ refreshToken: cookieToken, clientKey: request.ip }).catch((error) => {
          if (error instanceof AppError && error.status === 401) return null;
          throw error;
        });
        if (pair !== null) await identity.signOut(await identity.authenticate(`Bearer ${pair.accessToken}`));
      }
      if (cookieToken !== null) void reply.header('set-cookie', refreshTokenCookie(request, null));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      onRequest: authenticated,
      schema: {
        summary: 'The signed-in person',
        querystring: NoQuerySchema,
        response: { 200: MeSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const [user, pinSet] = await Promise.all([
        identity.getUser(principal.userId),
        identity.hasPaymentPin(principal.userId),
      ]);
      if (user === null) throw new AppError('token_invalid');
      return { ...toUserResponse(user), pin_set: pinSet };
    },
  );

  app.get(
    '/devices',
    {
      onRequest: authenticated,
      schema: {
        summary: 'Devices signed in to this account',
        querystring: NoQuerySchema,
        response: {
          200: Type.Object({ object: Type.Literal('list'), data: Type.Array(DeviceSchema) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const devices = await identity.listDevices(principal.userId);
      return { object: 'list' as const, data: devices.map((device) => toDeviceResponse(device, principal)) };
    },
  );

  app.delete(
    '/devices/:id',
    {
      onRequest: authenticated,
      schema: {
        summary: 'Remove a device: signs it out and revokes what is bound to it',
        params: DeviceParamsSchema,
        querystring: NoQuerySchema,
        response: { 204: NoContentSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      await identity.revokeDevice({ userId: principalOf(request).userId, deviceId: request.params.id });
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/pin',
    {
      onRequest: authenticated,
      schema: {
        summary: 'Set or change the payment PIN (needs the password)',
        body: PinBodySchema,
        querystring: NoQuerySchema,
        response: { 204: NoContentSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      await identity.setPaymentPin({
        userId: principalOf(request).userId,
        pin: request.body.pin,
        password: request.body.password,
      });
      return reply.status(204).send(null);
    },
  );
};

/** GET /.well-known/jwks.json (no auth): register at the root, without a prefix. */
export const wellKnownRoutes: FastifyPluginAsyncTypebox<{ identity: Identity }> = async (app, options) => {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        summary: 'Public keys that verify access tokens',
        querystring: NoQuerySchema,
        response: { 200: Type.Object({ keys: Type.Array(JwkSchema) }), ...errorResponses },
      },
    },
    async () => {
      const { keys } = await options.identity.jwks();
      return {
        keys: keys.map((key) => ({
          kty: 'OKP' as const,
          crv: 'Ed25519' as const,
          x: String(key.x),
          kid: String(key.kid),
          alg: 'EdDSA' as const,
          use: 'sig' as const,
        })),
      };
    },
  );
};

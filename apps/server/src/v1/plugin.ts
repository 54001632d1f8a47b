import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import type { AuthenticatedKey, Merchants } from '../modules/merchants/index.js';
import { redactApiKey } from '../modules/merchants/index.js';
import { AppError } from '../platform/errors.js';
import { requestHash, type IdempotencyStore, type IdempotentAttempt } from '../platform/idempotency.js';
import { limits } from '../platform/limits.js';
import { retryAfterOnError } from '../platform/rate-limit.js';
import { assertNoNulCharacters } from '../platform/nul-characters.js';
import { requestPathForMessage } from '../platform/request-path.js';
import { v1ErrorResponse, toV1AppError } from './errors.js';
import type { ExpandRegistry, V1Scope } from './expand.js';
import { checkShape, parseForm } from './form.js';
import { coerceToSchema } from './schema.js';

/** What a /v1 route declares in `config: { v1: { … } }`. */
export interface V1RouteConfig {
  /** Publishable keys (pk_) may call this route (Stripe: retrieve/confirm with a client_secret). */
  publishable?: boolean;
  /** The resource restricted keys need a permission for (`customers`); GET needs read, others write. */
  resource?: string;
  /** The object type the route returns, for expand[] (`customer`); `list: true` for a list of them. */
  object?: string;
  list?: boolean;
}

/** The caller of a /v1 request, set by the plugin's authentication. */
export type V1Auth = Pick<AuthenticatedKey, 'accountId' | 'livemode' | 'keyKind' | 'keyId'>;

interface V1IdempotencyState {
  scope: string;
  key: string;
  replayed: boolean;
  /** The request holding the key (with what a dead earlier attempt left, when it took one over). */
  attempt: IdempotentAttempt | null;
  /** The id of an object this request creates, the same for every attempt with its key. */
  derivedId(prefix: string, name?: string): Promise<string>;
}

/**
 * How a /v1 request names what it creates: with an Idempotency-Key, ids derived from it (a retry
 * after a crash finds the first attempt's objects); without one, none (random ids).
 */
export interface V1RequestIds {
  attempt: IdempotentAttempt | null;
  /** The derived id, or undefined without a key. */
  idFor(prefix: string, name?: string): Promise<string | undefined>;
}

export function v1RequestIds(request: FastifyRequest): V1RequestIds {
  const state = request.v1Idempotency;
  if (state === undefined || state.replayed) return { attempt: null, idFor: async () => undefined };
  return { attempt: state.attempt, idFor: (prefix, name) => state.derivedId(prefix, name) };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    v1?: V1RouteConfig;
  }
  interface FastifyRequest {
    /** Set on every authenticated /v1 request; undefined elsewhere. */
    v1?: V1Auth;
    v1Expand?: readonly string[];
    v1Idempotency?: V1IdempotencyState;
  }
}

/** The authenticated caller; throws when a route outside /v1 asks. */
export function v1Auth(request: FastifyRequest): V1Auth {
  const auth = request.v1;
  if (auth === undefined) throw new AppError('api_key_missing');
  return auth;
}

/** The account and mode every /v1 query filters on. */
export function v1Scope(request: FastifyRequest): V1Scope {
  const auth = v1Auth(request);
  return { accountId: auth.accountId, livemode: auth.livemode };
}

export interface V1PluginOptions {
  merchants: Pick<Merchants, 'authenticateKey'>;
  idempotency: IdempotencyStore;
  expand: ExpandRegistry;
  /** Registers the resources' route plugins inside /v1 (they share auth, parsing, errors, idempotency). */
  resources: (v1: FastifyInstance) => Promise<void>;
  /**
   * Merchant POS/dashboard sessions (modules/merchant-sessions): the caller of a request without an
   * Authorization header, from its session cookie and CSRF token; null when there is no session
   * cookie. Absent: API keys only.
   */
  session?: (request: FastifyRequest) => Promise<V1Auth | null>;
}

const keyMissingMessage =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').";

/** The raw key from `Authorization: Bearer sk_…` or Basic with the key as user name. */
function keyFromAuthorization(header: string | undefined): string {
  if (header === undefined || header.trim() === '')
    throw new AppError('api_key_missing', { message: keyMissingMessage });
  const [scheme, credentials = ''] = header.trim().split(/\s+/, 2);
  if (scheme?.toLowerCase() === 'bearer') {
    if (credentials === '') throw new AppError('api_key_missing', { message: keyMissingMessage });
    return credentials;
  }
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon === -1 ? decoded : decoded.slice(0, colon);
    if (user === '') throw new AppError('api_key_missing', { message: keyMissingMessage });
    return user;
  }
  throw new AppError('api_key_invalid', {
    message: 'Invalid Authorization header: use Bearer auth with your API key (Authorization: Bearer sk_…).',
  });
}

function sendV1Error(request: FastifyRequest, reply: FastifyReply, error: AppError) {
  const { status, body } = v1ErrorResponse(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: error.code, param: error.param }, 'request rejected');
  return reply.status(status).send(body);
}

const idempotencyKeyPattern = /^[\x20-\x7e]{1,255}$/;

/**
 * The Stripe-compatible API framework at /v1: API-key authentication, form bodies with bracket
 * notation (and JSON), Stripe-shaped parameter errors, idempotency keys on every POST, expand[].
 */
export const v1Plugin: FastifyPluginAsync<V1PluginOptions> = async (v1, options) => {
  const { merchants, idempotency, expand } = options;

  v1.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: limits.httpBodyBytesMax },
    (_request, body, done) => {
      try {
        done(null, parseForm(typeof body === 'string' ? body : body.toString('utf8')));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );

  // 429s (an offline code throttle, …) tell the caller when to come back.
  v1.addHook('onError', retryAfterOnError);

  v1.setErrorHandler(async (error: unknown, request, reply) => {
    const appError = toV1AppError(error);
    if (appError === null) {
      request.log.error({ err: error }, 'request failed with an unexpected error');
      return sendV1Error(request, reply, new AppError('internal_error'));
    }
    return sendV1Error(request, reply, appError);
  });

  v1.setNotFoundHandler(async (request, reply) => {
    const path = requestPathForMessage(request.url);
    return sendV1Error(
      request,
      reply,
      new AppError('url_unrecognized', {
        message: `Unrecognized request URL (${request.method}: ${path}). Please see the API reference for the supported endpoints.`,
      }),
    );
  });

  v1.addHook('onRequest', async (request) => {
    // Merchant session (cookie + X-CSRF-Token), only when no Authorization header is sent: an API
    // key keeps working exactly as before. A session acts as the account's secret key.
    if (request.headers.authorization === undefined && options.session !== undefined) {
      const sessionAuth = await options.session(request);
      if (sessionAuth !== null) {
        request.v1 = sessionAuth;
        return;
      }
    }
    const raw = keyFromAuthorization(request.headers.authorization);
    let auth: AuthenticatedKey;
    try {
      auth = await merchants.authenticateKey(raw);
    } catch (error) {
      if (error instanceof AppError && (error.code === 'api_key_invalid' || error.code === 'api_key_expired')) {
        const what = error.code === 'api_key_expired' ? 'Expired' : 'Invalid';
        throw new AppError(error.code, { message: `${what} API Key provided: ${redactApiKey(raw)}` });
      }
      throw error;
    }
    request.v1 = { accountId: auth.accountId, livemode: auth.livemode, keyKind: auth.keyKind, keyId: auth.keyId };
    const config = request.routeOptions.config.v1 ?? {};
    if (auth.keyKind === 'publishable' && config.publishable !== true) {
      throw new AppError('api_key_publishable_not_allowed', {
        message:
          'This API call cannot be made with a publishable API key. Please use a secret API key. You can find your API keys with the merchant admin API.',
      });
    }
    if (auth.keyKind === 'restricted') {
      const needed = request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write';
      const granted = config.resource === undefined ? undefined : auth.permissions?.[config.resource];
      if (granted === undefined || (needed === 'write' && granted !== 'write')) {
        throw new AppError('api_key_permission_denied', {
          message: `The provided key '${redactApiKey(raw)}' does not have the required permissions for this endpoint${
            config.resource === undefined ? '' : ` (${config.resource}: ${needed})`
          }.`,
        });
      }
    }
  });

  // Stripe's bracket notation in query strings too (`expand[]=customer`, `created[gte]=…`).
  v1.addHook('preValidation', async (request) => {
    const url = request.raw.url ?? '';
    const question = url.indexOf('?');
    const query = question === -1 ? {} : parseForm(url.slice(question + 1));
    // The app checked Fastify's parse of the query; this is ours, which the routes will see.
    assertNoNulCharacters('query', query, 'brackets');
    const schema = request.routeOptions.schema;
    (request as { query: unknown }).query =
      schema?.querystring === undefined ? query : coerceToSchema(schema.querystring as TSchema, query);
    if (request.body !== undefined && request.body !== null && typeof request.body === 'object')
      checkShape(request.body);
    if (schema?.body !== undefined) request.body = coerceToSchema(schema.body as TSchema, request.body);
  });

  v1.addHook('preHandler', async (request, reply) => {
    const auth = v1Auth(request);
    const source = request.method === 'GET' ? request.query : request.body;
    const paths = (source as { expand?: unknown } | null | undefined)?.expand;
    if (Array.isArray(paths) && paths.length > 0) {
      const config = request.routeOptions.config.v1 ?? {};
      expand.validate(
        paths as string[],
        config.object === undefined ? null : { objectType: config.object, list: config.list === true },
      );
      request.v1Expand = paths as string[];
    }
    if (request.method !== 'POST') return;
    const key = request.headers['idempotency-key'];
    if (key === undefined) return;
    if (typeof key !== 'string' || !idempotencyKeyPattern.test(key)) {
      throw new AppError('invalid_request', {
        message: 'The Idempotency-Key header must be 1 to 255 printable ASCII characters.',
        param: 'Idempotency-Key',
      });
    }
    const scope = `v1:${auth.accountId}:${auth.livemode ? 'live' : 'test'}`;
    const hash = requestHash({
      method: request.method,
      path: (request.raw.url ?? '').split('?')[0],
      body: request.body,
    });
    let claim;
    try {
      claim = await idempotency.claim({ scope, key, requestHash: hash });
    } catch (error) {
      if (error instanceof AppError && error.code === 'idempotency_key_reused') {
        throw new AppError('idempotency_key_reused', {
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        });
      }
      if (error instanceof AppError && error.code === 'idempotency_key_in_use') {
        throw new AppError('idempotency_key_in_use', {
          message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
        });
      }
      throw error;
    }
    void reply.header('idempotency-key', key);
    if (claim.state === 'replay') {
      request.v1Idempotency = { scope, key, replayed: true, attempt: null, derivedId: async () => '' };
      void reply.header('idempotent-replayed', 'true');
      return reply.status(claim.response.status).send(claim.response.body);
    }
    const attempt = claim.attempt;
    request.v1Idempotency = {
      scope,
      key,
      replayed: false,
      attempt,
      derivedId: (prefix, name) => idempotency.derivedId(attempt.call, prefix, name),
    };
    return undefined;
  });

  v1.addHook('preSerialization', async (request, reply, payload: unknown) => {
    const paths = request.v1Expand;
    const auth = request.v1;
    if (paths === undefined || auth === undefined || reply.statusCode >= 300 || request.v1Idempotency?.replayed) {
      return payload;
    }
    return expand.expand({ accountId: auth.accountId, livemode: auth.livemode }, payload, paths);
  });

  v1.addHook('onSend', async (request, reply, payload) => {
    void reply.header('request-id', request.id);
    const state = request.v1Idempotency;
    if (state === undefined || state.replayed) return payload;
    const status = reply.statusCode;
    try {
      // Stripe keeps every outcome, errors included, except its own failures and rate limiting.
      if (status >= 500 || status === 429 || typeof payload !== 'string') {
        await idempotency.release({ scope: state.scope, key: state.key });
      } else {
        await idempotency.complete({
          scope: state.scope,
          key: state.key,
          response: { status, body: JSON.parse(payload) as unknown },
        });
      }
    } catch (error) {
      // The response stands; the record stays in progress and a retry takes it over once stale.
      request.log.error({ err: error }, 'idempotency record could not be stored');
    }
    return payload;
  });

  await options.resources(v1);
};

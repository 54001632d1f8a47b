import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import {
  TypeBoxValidatorCompiler,
  type FastifyPluginAsyncTypebox,
  type TypeBoxTypeProvider,
} from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import swagger from '@fastify/swagger';
import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import { allMigrations } from './migrations.js';
import { ErrorBodySchema, errorResponses, NoQuerySchema, type ErrorBody } from './platform/http-schemas.js';
import { codeRoutes } from './modules/codes/index.js';
import { paymentMethodRoutes, walletCardRoutes } from './modules/cards/index.js';
import { customerRoutes } from './modules/customers/index.js';
import { eventRoutes, notificationRoutes, webhookRoutes } from './modules/events/index.js';
import { adminMerchantRoutes } from './modules/merchants/index.js';
import { identityRoutes, wellKnownRoutes } from './modules/identity/index.js';
import { verifyLedger } from './modules/ledger/index.js';
import { adminWalletRoutes, walletRoutes } from './modules/wallets/index.js';
import type { Services } from './services.js';
import { cardChallengeRoutes, paymentApprovalRoutes, paymentRoutes } from './modules/payments/index.js';
import { v1ErrorResponse, v1Plugin, type V1PluginOptions } from './v1/index.js';
// Merchant POS/dashboard sessions.
import { merchantSessionRoutes, merchantSessionV1Auth } from './modules/merchant-sessions/index.js';
import { dailyBalanceSummary } from './modules/payments/index.js';
import { apiDescription, apiTags, documentOperation, dropUnusedTags, securitySchemes } from './api-reference.js';
import { docsRoutes } from './docs-page.js';
import { landingRoutes } from './landing.js';
import { moneyVerifyChecks } from './worker-jobs.js';
import { defaultWebDir, webRoutes } from './web.js';
import { createAdminGuard } from './platform/admin-auth.js';
import type { TrustProxy } from './platform/config.js';
import type { Db } from './platform/db.js';
import { AppError, assert, errorCatalog, isAppError, type ErrorCode } from './platform/errors.js';
import { limits } from './platform/limits.js';
import { Lifecycle } from './platform/lifecycle.js';
import { rejectNulCharacters } from './platform/nul-characters.js';
import { requestPathForMessage } from './platform/request-path.js';
import type { Logger } from './platform/logger.js';
import type { Metrics } from './platform/metrics.js';
import { migrationsAreApplied, type Migration } from './platform/migrations.js';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface AppDependencies {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  /** The bearer token that opens /admin/v1 (config.ts resolveAdminToken). */
  adminToken: string;
  /** Shared with the CLI so that /readyz turns 503 as soon as shutdown begins. */
  lifecycle?: Lifecycle;
  /** What /readyz expects to find applied; every bounded context's migrations by default. */
  migrations?: readonly Migration[];
  /** The bounded contexts whose routes this node serves (absent: operations endpoints only). */
  services?: Services;
  /** The card network timeout (config): it sets the recovery bound that ledger verify judges by. */
  cardNetworkRequestTimeoutMs?: number;
  /** The built web apps (wallet /app/, /pos/, /dashboard/); default apps/web/dist. (web.ts) */
  webDir?: string;
  /**
   * YUNPAY_TRUST_PROXY (config.ts): the reverse proxies whose X-Forwarded-For, -Proto and -Host give
   * request.ip (per-IP rate limits) and request.protocol (Secure cookies). Absent or false: nobody's.
   */
  trustProxy?: TrustProxy;
  /** Serve HTTPS with this PEM certificate and key (platform/tls.ts); absent: HTTP. */
  https?: { cert: string; key: string };
}

/** The API document's version (the server's package version). */
const apiVersion = '0.1.0';

const requestIdPattern = new RegExp(`^[A-Za-z0-9._-]{1,${limits.requestIdLengthMax}}$`);

/** Honours a sane incoming X-Request-Id (so ids follow a request across services), else a new one. */
export function requestIdFor(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  if (typeof header === 'string' && requestIdPattern.test(header)) return header;
  return `req_${randomUUID().replaceAll('-', '')}`;
}

const securityHeaders: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

export { ErrorBodySchema, type ErrorBody };

const ReadinessChecksSchema = Type.Object({
  database: Type.Union([Type.Literal('ok'), Type.Literal('unreachable')]),
  migrations: Type.Union([Type.Literal('ok'), Type.Literal('pending'), Type.Literal('unknown')]),
});
type ReadinessChecks = Static<typeof ReadinessChecksSchema>;

const LedgerVerifyReportSchema = Type.Object({
  object: Type.Literal('ledger_verify_report'),
  ok: Type.Boolean(),
  checks: Type.Array(
    Type.Object({
      name: Type.String(),
      ok: Type.Boolean(),
      violation_count: Type.Integer({ minimum: 0 }),
      samples: Type.Array(Type.String()),
    }),
  ),
});

function errorBody(request: FastifyRequest, error: AppError, message: string): ErrorBody {
  return {
    error: {
      code: error.code,
      message,
      ...(error.param === undefined ? {} : { param: error.param }),
      ...(error.details === undefined ? {} : { details: error.details }),
      request_id: request.id,
    },
  };
}

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** The dotted path of the first invalid field, e.g. body `/card/number` → `card.number`. */
function validationParam(issue: ValidationIssue | undefined): string | undefined {
  if (issue === undefined) return undefined;
  const segments = (issue.instancePath ?? '').split('/').filter((segment) => segment !== '');
  const params = issue.params ?? {};
  const firstOf = (value: unknown): string | undefined =>
    Array.isArray(value) && typeof value[0] === 'string' ? value[0] : typeof value === 'string' ? value : undefined;
  const named =
    firstOf(params.requiredProperties) ??
    firstOf(params.missingProperty) ??
    firstOf(params.additionalProperties) ??
    firstOf(params.additionalProperty);
  if (named !== undefined && (issue.keyword === 'required' || issue.keyword === 'additionalProperties')) {
    segments.push(named);
  }
  return segments.length === 0
    ? undefined
    : segments.map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~')).join('.');
}

/** Turns anything thrown while handling a request into an AppError; null means an unexpected failure. */
function toAppError(error: unknown): AppError | null {
  if (isAppError(error)) return error;
  const fastifyError = error as Partial<FastifyError> & { validation?: ValidationIssue[] };
  if (Array.isArray(fastifyError.validation)) {
    const issue = fastifyError.validation[0];
    const param = validationParam(issue);
    const where = fastifyError.validationContext ?? 'request';
    // TypeBox reports an unknown field as the field failing a `false` schema ("boolean").
    const what =
      issue?.keyword === 'additionalProperties' || issue?.keyword === 'boolean'
        ? 'is not a known field'
        : issue?.keyword === 'required'
          ? 'is required'
          : (issue?.message ?? 'is not valid');
    return new AppError('invalid_request', {
      message: param === undefined ? `The ${where} ${what}.` : `Invalid ${where} field ${param}: ${what}.`,
      ...(param === undefined ? {} : { param }),
    });
  }
  const knownCodes: Partial<Record<string, { code: ErrorCode; message?: string }>> = {
    FST_ERR_CTP_BODY_TOO_LARGE: {
      code: 'body_too_large',
      message: `The request body is larger than ${limits.httpBodyBytesMax} bytes.`,
    },
    FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type' },
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
      code: 'invalid_request',
      message: 'The Content-Length header does not match the body.',
    },
    FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'invalid_request', message: 'The JSON body is empty.' },
    FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_request', message: 'The request body is not valid JSON.' },
  };
  const known = typeof fastifyError.code === 'string' ? knownCodes[fastifyError.code] : undefined;
  if (known !== undefined) {
    return new AppError(known.code, known.message === undefined ? {} : { message: known.message });
  }
  // JSON.parse failures from the body parser carry status 400 and no FST code.
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new AppError('invalid_request', { message: 'The request body is not valid JSON.' });
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    // Another client-side failure detected by the framework: its wording is Fastify's, so keep ours.
    return new AppError('invalid_request');
  }
  return null;
}

/**
 * Fastify's trustProxy option for a validated YUNPAY_TRUST_PROXY. A hop count becomes a function:
 * Fastify 5 deliberately ignores a plain number (it cannot tell a proxy from a client that connects
 * directly), so a hop count is only safe when clients cannot reach the server but through the proxy;
 * docs/identity.md says so, and recommends the address list.
 */
function trustProxyOption(trustProxy: TrustProxy): false | string[] | ((address: string, hop: number) => boolean) {
  if (trustProxy === false) return false;
  if (typeof trustProxy === 'number') {
    const hops = trustProxy;
    assert(Number.isSafeInteger(hops) && hops >= 1, 'a trusted hop count is a positive integer');
    // hop 0 is the socket's peer, hop 1 the last X-Forwarded-For entry, and so on.
    return (_address, hop) => hop < hops;
  }
  assert(trustProxy.length > 0, 'a trusted proxy list is not empty');
  return [...trustProxy];
}

/** /v1 answers in Stripe's envelope (v1/errors.ts); every other path in ours. */
function isV1Url(url: string): boolean {
  return /^\/v1(?:[/?]|$)/.test(url);
}

/** What the router refuses before any route matches: its own errors, in our words. */
function routerError(error: FastifyError): AppError {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return new AppError('invalid_request', { message: 'The URL path contains malformed percent-encoding.' });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('invalid_request', {
        message: `A path parameter is longer than ${limits.httpParamLengthMax} characters.`,
      });
    default:
      return new AppError('internal_error');
  }
}

/**
 * Fastify's frameworkErrors: a malformed percent-encoding, a path parameter over
 * limits.httpParamLengthMax. These are answered before any route or hook runs (no error handler, no
 * onSend), so the envelope and the headers the hooks would set are set here: the same error shape
 * as every other answer of the API the path belongs to, and the request id.
 */
function sendRouterError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const appError = routerError(error);
  if (appError.status >= 500) request.log.error({ err: error }, 'request failed in the router');
  else request.log.info({ code: appError.code, router_code: error.code }, 'request rejected by the router');
  void reply.header('x-request-id', request.id);
  for (const [name, value] of Object.entries(securityHeaders)) void reply.header(name, value);
  if (isV1Url(request.url)) {
    const { status, body } = v1ErrorResponse(appError);
    void reply.header('request-id', request.id).status(status).send(body);
    return;
  }
  const message = appError.status >= 500 ? errorCatalog[appError.code].message : appError.message;
  void reply.status(appError.status).send(errorBody(request, appError, message));
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Builds the HTTP app without listening: the CLI listens, tests inject or listen on port 0.
 */
export function buildApp(dependencies: AppDependencies): App {
  const app = createFastify(dependencies);
  addHooks(app, dependencies.metrics);
  setErrorHandlers(app);
  registerOpenApi(app);
  // Operations endpoints (inside a plugin, so that they load after swagger and are documented).
  void app.register(operationsRoutes(dependencies));
  void app.register(adminRoutes(dependencies), { prefix: '/admin/v1' });
  // The web apps (web.ts): pages answer 503 until `npm run build` has made the directory.
  void app.register(webRoutes, { webDir: dependencies.webDir ?? defaultWebDir() });
  void app.register(landingRoutes);
  void app.register(docsRoutes);
  if (dependencies.services !== undefined) registerServiceRoutes(app, dependencies.services, dependencies.db);
  return app;
}

function createFastify(dependencies: AppDependencies): App {
  // Fastify's logger type is pino's, minus what Fastify does not use.
  const logger: FastifyBaseLogger = dependencies.logger;
  // With `https` the server is an https.Server; requests and replies are the same Node objects.
  const https = dependencies.https === undefined ? {} : { https: dependencies.https };
  const app = Fastify({
    ...(https as Record<string, never>),
    loggerInstance: logger,
    bodyLimit: limits.httpBodyBytesMax,
    connectionTimeout: limits.httpConnectionTimeoutMs,
    requestTimeout: limits.httpRequestTimeoutMs,
    keepAliveTimeout: limits.httpKeepAliveTimeoutMs,
    routerOptions: { maxParamLength: limits.httpParamLengthMax },
    frameworkErrors: sendRouterError,
    // We read X-Request-Id ourselves so that an unsafe one is replaced instead of trusted.
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    genReqId: requestIdFor,
    return503OnClosing: true,
    // Off unless configured: a client's own X-Forwarded-* must never choose its IP or protocol.
    trustProxy: trustProxyOption(dependencies.trustProxy ?? false),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.addSchema(ErrorBodySchema);
  return app;
}

function addHooks(app: App, metrics: Metrics): void {
  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header('x-request-id', request.id);
    // A route that serves a page sets its own Content-Security-Policy (and may relax others).
    for (const [name, value] of Object.entries(securityHeaders)) {
      if (!reply.hasHeader(name)) void reply.header(name, value);
    }
    return payload;
  });

  // Before any route's validation: PostgreSQL cannot store U+0000, so it is refused here, once.
  // /v1 requests are authenticated by now (request.v1) and name parameters Stripe's way.
  app.addHook('preValidation', async (request) => {
    rejectNulCharacters(request, request.v1 === undefined ? 'dotted' : 'brackets');
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequestDurationSeconds.observe(
      {
        method: request.method,
        // The route pattern, never the raw URL, so that label values stay bounded.
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1_000,
    );
  });
}

function setErrorHandlers(app: App): void {
  app.setErrorHandler(async (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error);
    if (appError === null) {
      request.log.error({ err: error }, 'request failed with an unexpected error');
      const internal = new AppError('internal_error');
      return reply.status(internal.status).send(errorBody(request, internal, errorCatalog.internal_error.message));
    }
    if (appError.status >= 500) {
      request.log.error({ err: appError }, 'request failed');
    } else {
      request.log.info({ code: appError.code, param: appError.param }, 'request rejected');
    }
    // 5xx messages come from the catalog only: an AppError's own message may name internals.
    const message = appError.status >= 500 ? errorCatalog[appError.code].message : appError.message;
    return reply.status(appError.status).send(errorBody(request, appError, message));
  });

  app.setNotFoundHandler(sendRouteNotFound);
}

async function sendRouteNotFound(request: FastifyRequest, reply: FastifyReply) {
  const error = new AppError('route_not_found', {
    message: `No route ${request.method} ${requestPathForMessage(request.url)}.`,
  });
  return reply.status(error.status).send(errorBody(request, error, error.message));
}

/** The OpenAPI document is built from every route's schemas; swagger must load before them. */
function registerOpenApi(app: App): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Yunpay API', version: apiVersion, description: apiDescription },
      tags: [...apiTags],
      components: { securitySchemes },
    },
    // Summaries, tags, authentication and /v1 form bodies: src/api-reference.ts.
    transform: documentOperation as SwaggerTransform,
    transformObject: dropUnusedTags as SwaggerTransformObject,
  });
  void app.register(async (api) => {
    api.get('/openapi.json', { schema: { hide: true, querystring: NoQuerySchema } }, async () => app.swagger());
  });
}

/** /healthz, /readyz and /metrics. */
function operationsRoutes(dependencies: AppDependencies): FastifyPluginAsyncTypebox {
  const { db, metrics } = dependencies;
  const readinessDeps: ReadinessDeps = {
    db,
    lifecycle: dependencies.lifecycle ?? new Lifecycle(),
    migrations: dependencies.migrations ?? allMigrations,
  };
  return async (ops) => {
    ops.get(
      '/healthz',
      {
        schema: {
          querystring: NoQuerySchema,
          response: { 200: Type.Object({ status: Type.Literal('ok') }), ...errorResponses },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    ops.get(
      '/readyz',
      {
        schema: {
          querystring: NoQuerySchema,
          response: {
            200: Type.Object({ status: Type.Literal('ready'), checks: ReadinessChecksSchema }),
            ...errorResponses,
          },
        },
      },
      async (request) => readiness(readinessDeps, request),
    );

    ops.get(
      '/metrics',
      { schema: { querystring: NoQuerySchema, response: { 200: Type.String(), ...errorResponses } } },
      async (_request, reply) => {
        const text = await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).send(text);
      },
    );
  };
}

interface ReadinessDeps {
  db: Db;
  lifecycle: Lifecycle;
  migrations: readonly Migration[];
}

/** /readyz: the database answers and every migration is applied; not ready once shutdown begins. */
async function readiness(
  { db, lifecycle, migrations }: ReadinessDeps,
  request: FastifyRequest,
): Promise<{ status: 'ready'; checks: ReadinessChecks }> {
  if (lifecycle.shuttingDown) throw new AppError('shutting_down');
  const checks: ReadinessChecks = { database: 'unreachable', migrations: 'unknown' };
  try {
    await withTimeout(db.query('select 1 as one'), limits.readinessCheckTimeoutMs);
    checks.database = 'ok';
    const applied = await withTimeout(migrationsAreApplied(db, migrations), limits.readinessCheckTimeoutMs);
    checks.migrations = applied ? 'ok' : 'pending';
  } catch (error) {
    request.log.warn({ err: error }, 'readiness check failed');
  }
  if (checks.database !== 'ok' || checks.migrations !== 'ok') {
    throw new AppError('not_ready', { details: { checks } });
  }
  return { status: 'ready' as const, checks };
}

/** /admin/v1: ledger verify, and the wallets' and merchants' admin routes when this node serves them. */
function adminRoutes(dependencies: AppDependencies): FastifyPluginAsyncTypebox {
  const { db } = dependencies;
  return async (admin) => {
    // Every route in this plugin, and its 404s, need the token: an unauthenticated caller learns nothing.
    admin.addHook('onRequest', createAdminGuard({ token: dependencies.adminToken }));
    admin.setNotFoundHandler(sendRouteNotFound);
    admin.get(
      '/ledger/verify',
      { schema: { querystring: NoQuerySchema, response: { 200: LedgerVerifyReportSchema, ...errorResponses } } },
      async () => {
        const report = await verifyLedger(db, {
          extraChecks: moneyVerifyChecks(
            dependencies.cardNetworkRequestTimeoutMs ?? limits.cardNetworkRequestTimeoutMsDefault,
          ),
        });
        return {
          object: 'ledger_verify_report' as const,
          ok: report.ok,
          checks: report.checks.map((check) => ({
            name: check.name,
            ok: check.ok,
            violation_count: check.violationCount,
            samples: check.samples,
          })),
        };
      },
    );
    if (dependencies.services !== undefined) {
      await admin.register(adminWalletRoutes, {
        wallets: dependencies.services.wallets,
        users: dependencies.services.identity,
      });
      await admin.register(adminMerchantRoutes, { merchants: dependencies.services.merchants });
    }
  };
}

type Authenticate = (request: FastifyRequest) => Promise<{ userId: string }>;

/** The bounded contexts' routes: wallet API, /v1, merchant sessions. Registration order is kept. */
function registerServiceRoutes(app: App, services: Services, db: Db): void {
  const authenticate: Authenticate = async (request) => ({
    userId: (await services.identity.authenticate(request.headers.authorization)).userId,
  });
  registerWalletRoutes(app, services, authenticate);
  void app.register(v1Plugin, {
    prefix: '/v1',
    merchants: services.merchants,
    idempotency: services.idempotency,
    expand: services.v1Expand,
    // Merchant POS/dashboard sessions: a session cookie with its CSRF token instead of an API key.
    session: merchantSessionV1Auth(services.merchantSessions),
    resources: v1Resources(services),
  });
  // Merchant POS/dashboard sessions: sign-in, keys, daily summary (modules/merchant-sessions).
  void app.register(merchantSessionRoutes, {
    prefix: '/merchant/v1',
    sessions: services.merchantSessions,
    dailySummary: (summaryOptions) => dailyBalanceSummary(db, summaryOptions),
  });
  void app.register(paymentApprovalRoutes, {
    prefix: '/wallet/v1',
    method: services.walletMethod,
    merchantQr: services.merchantQr,
    idempotency: services.idempotency,
    authenticate,
  });
  void app.register(notificationRoutes, {
    prefix: '/wallet/v1',
    notifications: services.notifications,
    authenticate,
  });
}

/** Identity, wallets, codes, 3-D Secure challenges and saved wallet cards. */
function registerWalletRoutes(app: App, services: Services, authenticate: Authenticate): void {
  void app.register(wellKnownRoutes, { identity: services.identity });
  void app.register(identityRoutes, { prefix: '/wallet/v1', identity: services.identity });
  void app.register(walletRoutes, { prefix: '/wallet/v1', wallets: services.wallets, authenticate });
  void app.register(codeRoutes, { prefix: '/wallet/v1', codes: services.codes, identity: services.identity });
  if (services.cardChallenges !== null) {
    void app.register(cardChallengeRoutes, { challenges: services.cardChallenges });
  }
  if (services.cards !== null) {
    void app.register(walletCardRoutes, {
      prefix: '/wallet/v1',
      walletCards: services.cards.walletCards,
      authenticate,
    });
  }
}

/** The /v1 resources, registered inside v1Plugin (they share its auth, parsing, errors, idempotency). */
function v1Resources(services: Services): V1PluginOptions['resources'] {
  return async (v1) => {
    await v1.register(customerRoutes, { customers: services.customers });
    await v1.register(eventRoutes, { events: services.merchantEvents });
    await v1.register(webhookRoutes, { webhooks: services.webhooks });
    const cards = services.cards;
    await v1.register(paymentRoutes, {
      payments: services.payments,
      customerExists: async (scope, id) => (await services.customers.find(scope, id)) !== null,
      walletMethod: services.walletMethod,
      merchantQr: services.merchantQr,
      ...(cards === null
        ? {}
        : { cardMethods: { resolveForPayment: (scope, idOrToken) => services.cardForPayment(scope, idOrToken) } }),
      ...(services.cardChallenges === null ? {} : { cardChallenges: services.cardChallenges }),
    });
    if (cards !== null) await v1.register(paymentMethodRoutes, { paymentMethods: cards.paymentMethods });
  };
}

import { Type } from 'typebox';
import type { FastifyError } from 'fastify';
import { AppError, errorCatalog, isAppError, type ErrorCode } from '../platform/errors.js';
import { limits } from '../platform/limits.js';

/**
 * Stripe's error envelope for /v1, and the one table that maps our AppError codes to Stripe's
 * error type, code and HTTP status. Other contexts add their codes with registerV1ErrorCodes
 * (e.g. card_declined → card_error 402 with decline_code from the error's details).
 */
export type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'rate_limit_error';

export interface V1ErrorMapping {
  type: StripeErrorType;
  /** Stripe's `code`; null: Stripe sends none; absent: our code is sent as is. */
  code?: string | null;
  /** Overrides the catalog's HTTP status. */
  status?: number;
}

export interface V1ErrorBody {
  error: {
    type: StripeErrorType;
    code?: string;
    message: string;
    param?: string;
    decline_code?: string;
    payment_intent?: unknown;
    charge?: string;
    doc_url?: string;
    request_log_url?: string;
  };
}

/** The error body's schema (open: Stripe adds fields to some errors), for every /v1 route's 4xx and 5xx. */
export const V1ErrorSchema = Type.Object(
  {
    error: Type.Object(
      {
        type: Type.String(),
        code: Type.Optional(Type.String()),
        message: Type.String(),
        param: Type.Optional(Type.String()),
        decline_code: Type.Optional(Type.String()),
        charge: Type.Optional(Type.String()),
        doc_url: Type.Optional(Type.String()),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);

/** Spread into a /v1 route's `response`: its error answers, documented. */
export const v1ErrorResponses = { '4xx': V1ErrorSchema, '5xx': V1ErrorSchema } as const;

const mappings = new Map<string, V1ErrorMapping>();

/**
 * Adds mappings for error codes; registering a code twice with a different mapping is a
 * programmer error (a code's meaning on the wire never changes).
 */
export function registerV1ErrorCodes(entries: Partial<Record<ErrorCode, V1ErrorMapping>>): void {
  for (const [code, mapping] of Object.entries(entries) as [ErrorCode, V1ErrorMapping][]) {
    const existing = mappings.get(code);
    if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(mapping)) {
      throw new Error(`assertion failed: /v1 error code ${code} is already mapped differently`);
    }
    mappings.set(code, mapping);
  }
}

// Authentication failures: Stripe answers 401/403 with type invalid_request_error (its SDKs
// choose the error class from the status: StripeAuthenticationError, StripePermissionError).
registerV1ErrorCodes({
  api_key_missing: { type: 'invalid_request_error', code: null },
  api_key_invalid: { type: 'invalid_request_error', code: null },
  api_key_expired: { type: 'invalid_request_error', code: 'api_key_expired' },
  api_key_publishable_not_allowed: { type: 'invalid_request_error', code: null },
  api_key_permission_denied: { type: 'permission_error', code: null },
  unauthorized: { type: 'authentication_error', code: null },
  forbidden: { type: 'permission_error', code: null },
  resource_missing: { type: 'invalid_request_error', code: 'resource_missing' },
  parameter_resource_missing: { type: 'invalid_request_error', code: 'resource_missing' },
  not_found: { type: 'invalid_request_error', code: 'resource_missing' },
  url_unrecognized: { type: 'invalid_request_error', code: null },
  route_not_found: { type: 'invalid_request_error', code: null },
  parameter_unknown: { type: 'invalid_request_error', code: 'parameter_unknown' },
  parameter_missing: { type: 'invalid_request_error', code: 'parameter_missing' },
  parameter_invalid_integer: { type: 'invalid_request_error', code: 'parameter_invalid_integer' },
  parameter_invalid_empty: { type: 'invalid_request_error', code: 'parameter_invalid_empty' },
  parameter_invalid: { type: 'invalid_request_error', code: null },
  parameter_invalid_characters: { type: 'invalid_request_error', code: 'parameter_invalid_characters' },
  expand_invalid: { type: 'invalid_request_error', code: null },
  invalid_request: { type: 'invalid_request_error', code: null },
  body_too_large: { type: 'invalid_request_error', code: null },
  unsupported_media_type: { type: 'invalid_request_error', code: null },
  idempotency_key_reused: { type: 'idempotency_error', code: null },
  idempotency_key_in_use: { type: 'idempotency_error', code: 'idempotency_key_in_use', status: 409 },
  rate_limited: { type: 'rate_limit_error', code: 'rate_limit' },
  currency_unsupported: { type: 'invalid_request_error', code: null },
  card_declined: { type: 'card_error', code: 'card_declined' },
  insufficient_funds: { type: 'card_error', code: 'card_declined' },
  conflict: { type: 'invalid_request_error', code: null },
});

function defaultType(status: number): StripeErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'card_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** Stripe names nested parameters with brackets: `metadata[order_id]`, `items[0][price]`. */
export function bracketParam(path: readonly (string | number)[]): string | undefined {
  if (path.length === 0) return undefined;
  const [head, ...rest] = path;
  return `${String(head)}${rest.map((segment) => `[${String(segment)}]`).join('')}`;
}

/** Our dotted params (`pricing.fixed.CNY`) in Stripe's bracket form. */
function toBracket(param: string | undefined): string | undefined {
  if (param === undefined || param.includes('[') || !param.includes('.')) return param;
  return bracketParam(param.split('.'));
}

export function v1ErrorResponse(error: AppError): { status: number; body: V1ErrorBody } {
  const mapping = mappings.get(error.code);
  const status = mapping?.status ?? error.status;
  const type = mapping?.type ?? defaultType(status);
  const code = mapping === undefined || mapping.code === undefined ? error.code : mapping.code;
  // 5xx messages come from the catalog only: an AppError's own message may name internals.
  const message = status >= 500 ? errorCatalog[error.code].message : error.message;
  const details = error.details ?? {};
  const param = toBracket(error.param);
  const body: V1ErrorBody = {
    error: {
      type,
      ...(code === null ? {} : { code }),
      message,
      ...(param === undefined ? {} : { param }),
      ...(typeof details.decline_code === 'string' ? { decline_code: details.decline_code } : {}),
      ...(details.payment_intent !== undefined ? { payment_intent: details.payment_intent } : {}),
      ...(typeof details.charge === 'string' ? { charge: details.charge } : {}),
      ...(typeof details.doc_url === 'string' ? { doc_url: details.doc_url } : {}),
    },
  };
  return { status, body };
}

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** A schema failure the coercion step did not already report (ranges, lengths, enums …). */
function validationError(issue: ValidationIssue | undefined, where: string): AppError {
  const segments = (issue?.instancePath ?? '')
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
  const param = bracketParam(segments);
  const keyword = issue?.keyword;
  if (keyword === 'type' && issue?.params?.type === 'integer') {
    return new AppError('parameter_invalid_integer', {
      message: `Invalid integer${param === undefined ? '' : ` for ${param}`}.`,
      ...(param === undefined ? {} : { param }),
    });
  }
  const detail = issue?.message ?? 'is not valid';
  return new AppError('parameter_invalid', {
    message: param === undefined ? `The ${where} ${detail}.` : `Invalid value for ${param}: ${detail}.`,
    ...(param === undefined ? {} : { param }),
  });
}

/** Turns anything thrown while serving /v1 into an AppError; null means an unexpected failure. */
export function toV1AppError(error: unknown): AppError | null {
  if (isAppError(error)) return error;
  const fastifyError = error as Partial<FastifyError> & { validation?: ValidationIssue[] };
  if (Array.isArray(fastifyError.validation)) {
    return validationError(fastifyError.validation[0], fastifyError.validationContext ?? 'request');
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('body_too_large', {
        message: `The request body is larger than ${limits.httpBodyBytesMax} bytes.`,
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', {
        message: 'The request body must be application/x-www-form-urlencoded or application/json.',
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_request', { message: 'The JSON body is empty.' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_request', { message: 'The request body is not valid JSON.' });
    default:
      break;
  }
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new AppError('invalid_request', { message: 'The request body is not valid JSON.' });
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new AppError('invalid_request');
  }
  return null;
}

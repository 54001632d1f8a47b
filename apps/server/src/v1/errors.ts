import { Type } from 'typebox';
import type { FastifyError } from 'fastify';
import { AppError, errorCatalog, isAppError, type StripeErrorType } from '../platform/errors.js';
import { limits } from '../platform/limits.js';

/**
 * Stripe's error envelope for /v1. How each of our codes shows there (Stripe's type, code and
 * status) is part of the error catalog (platform/errors.ts), next to the code itself.
 */

type StripeMapping = { type: StripeErrorType; code?: string | null; status?: number };
export type { StripeErrorType } from '../platform/errors.js';

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
  const mapping = (errorCatalog[error.code] as { stripe?: StripeMapping }).stripe;
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

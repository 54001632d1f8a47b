/**
 * Typed errors with stable snake_case codes: one code per condition. The HTTP status of every
 * code, and how the Stripe-compatible /v1 API shows it (Stripe's error `type`, its `code`, and a
 * status of its own where Stripe's differs), are decided here and nowhere else. Codes are never
 * renamed or reused once published.
 */

/** Stripe's error types (the `type` of a /v1 error body). */
export type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'rate_limit_error';

interface CatalogEntry {
  status: number;
  message: string;
  /**
   * How /v1 shows the code: Stripe's type; its code (null: Stripe sends none; absent: ours as is);
   * a status of its own. Absent: the type follows the status, and our code is sent.
   */
  stripe?: { type: StripeErrorType; code?: string | null; status?: number };
}
export const errorCatalog = {
  invalid_request: {
    status: 400,
    message: 'The request is not valid.',
    stripe: { type: 'invalid_request_error', code: null },
  },
  body_too_large: {
    status: 413,
    message: 'The request body is too large.',
    stripe: { type: 'invalid_request_error', code: null },
  },
  unsupported_media_type: {
    status: 415,
    message: 'The request body must be JSON.',
    stripe: { type: 'invalid_request_error', code: null },
  },
  unauthorized: {
    status: 401,
    message: 'Authentication is required.',
    stripe: { type: 'authentication_error', code: null },
  },
  forbidden: {
    status: 403,
    message: 'You are not allowed to do this.',
    stripe: { type: 'permission_error', code: null },
  },
  not_found: {
    status: 404,
    message: 'Nothing exists at this address.',
    stripe: { type: 'invalid_request_error', code: 'resource_missing' },
  },
  route_not_found: { status: 404, message: 'No such route.', stripe: { type: 'invalid_request_error', code: null } },
  method_not_allowed: { status: 405, message: 'This method is not allowed here.' },
  conflict: {
    status: 409,
    message: 'The request conflicts with the current state.',
    stripe: { type: 'invalid_request_error', code: null },
  },
  rate_limited: {
    status: 429,
    message: 'Too many requests. Retry later.',
    stripe: { type: 'rate_limit_error', code: 'rate_limit' },
  },
  internal_error: { status: 500, message: 'Something went wrong on our side.' },
  not_ready: { status: 503, message: 'The service is not ready.' },
  shutting_down: { status: 503, message: 'The service is shutting down.' },
  config_invalid: { status: 500, message: 'The configuration is not valid.' },
  data_dir_locked: { status: 500, message: 'The data directory is in use by another process.' },
  migration_failed: { status: 500, message: 'A database migration failed.' },
  // identity
  password_too_weak: { status: 400, message: 'The password is too short or too common.' },
  login_taken: { status: 409, message: 'An account with this phone number or email already exists.' },
  invalid_credentials: { status: 401, message: 'The login or password is wrong.' },
  account_locked: { status: 423, message: 'Too many failed sign-ins: the account is locked for a while.' },
  token_invalid: { status: 401, message: 'The access token is missing, expired or not valid.' },
  refresh_token_invalid: { status: 401, message: 'The refresh token is not valid.' },
  refresh_token_reused: { status: 401, message: 'This refresh token was already used: the session was revoked.' },
  pin_not_set: { status: 409, message: 'Set a payment PIN first.' },
  phone_invalid: { status: 400, message: 'This is not a valid phone number.' },
  pin_invalid: { status: 403, message: 'The payment PIN is wrong.' },
  pin_locked: { status: 423, message: 'Too many wrong PINs: payments are locked for a while.' },
  // money
  idempotency_key_required: { status: 400, message: 'This request needs an Idempotency-Key header.' },
  idempotency_key_reused: {
    status: 400,
    message: 'This Idempotency-Key was used with different parameters.',
    stripe: { type: 'idempotency_error', code: null },
  },
  idempotency_key_in_use: {
    status: 409,
    message: 'A request with this Idempotency-Key is still being processed.',
    stripe: { type: 'idempotency_error', code: 'idempotency_key_in_use', status: 409 },
  },
  currency_unsupported: {
    status: 400,
    message: 'This currency is not supported.',
    stripe: { type: 'invalid_request_error', code: null },
  },
  insufficient_funds: {
    status: 402,
    message: 'The balance is too low for this payment.',
    stripe: { type: 'card_error', code: 'card_declined' },
  },
  limit_exceeded: {
    status: 402,
    message: 'This payment is over a limit of your verification tier.',
    stripe: { type: 'card_error', code: 'card_declined' },
  },
  card_declined: {
    status: 402,
    message: 'The card was declined.',
    stripe: { type: 'card_error', code: 'card_declined' },
  },
  recipient_not_found: { status: 404, message: 'No wallet matches this recipient.' },
  recipient_is_sender: { status: 400, message: 'You cannot send money to yourself.' },
  wallet_frozen: {
    status: 403,
    message: 'This wallet is frozen: it can receive refunds but not pay.',
    stripe: { type: 'card_error', code: 'card_declined' },
  },
  // payments (Stripe's codes)
  payment_intent_unexpected_state: {
    status: 400,
    message: 'The PaymentIntent is not in a state that allows this.',
    stripe: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state' },
  },
  qr_expired: { status: 400, message: 'This QR code has expired: ask for a new one.' },
  qr_already_paid: { status: 409, message: 'This QR code has already been paid.' },
  payment_approval_closed: { status: 409, message: 'This payment can no longer be approved.' },
  charge_not_refundable: {
    status: 400,
    message: 'This charge cannot be refunded.',
    stripe: { type: 'invalid_request_error', code: 'charge_not_refundable' },
  },
  charge_already_refunded: {
    status: 400,
    message: 'This charge has already been refunded in full.',
    stripe: { type: 'invalid_request_error', code: 'charge_already_refunded' },
  },
  amount_too_large: {
    status: 400,
    message: 'The amount is greater than what remains.',
    stripe: { type: 'invalid_request_error', code: 'amount_too_large' },
  },
  ledger_closed: { status: 503, message: 'The ledger is shutting down and takes no new transfers.' },
  ledger_overloaded: { status: 503, message: 'The ledger has too many transfers waiting. Retry later.' },
  // codes (consumer payment codes, merchant QR)
  payment_code_invalid: {
    status: 400,
    message: 'This payment code is not valid.',
    stripe: { type: 'invalid_request_error', code: 'payment_code_invalid' },
  },
  payment_code_expired: {
    status: 400,
    message: 'This payment code has expired: show a new one.',
    stripe: { type: 'invalid_request_error', code: 'payment_code_expired' },
  },
  payment_code_used: {
    status: 409,
    message: 'This payment code was already used.',
    stripe: { type: 'invalid_request_error', code: 'payment_code_used', status: 400 },
  },
  offline_limit_exceeded: {
    status: 402,
    message: 'This payment is over the offline payment limit.',
    stripe: { type: 'card_error', code: 'card_declined' },
  },
  qr_invalid: { status: 400, message: 'This QR code is not a valid Yunpay merchant code.' },
  qr_checksum_invalid: { status: 400, message: 'The QR code checksum does not match: scan it again.' },
  // merchants and the Stripe-compatible /v1 API (src/v1/errors.ts maps them to Stripe's types)
  api_key_missing: {
    status: 401,
    message: 'You did not provide an API key.',
    stripe: { type: 'invalid_request_error', code: null },
  },
  api_key_invalid: {
    status: 401,
    message: 'Invalid API key provided.',
    stripe: { type: 'invalid_request_error', code: null },
  },
  api_key_expired: {
    status: 401,
    message: 'Expired API key provided.',
    stripe: { type: 'invalid_request_error', code: 'api_key_expired' },
  },
  api_key_publishable_not_allowed: {
    status: 403,
    message: 'This API call cannot be made with a publishable API key. Please use a secret API key.',
    stripe: { type: 'invalid_request_error', code: null },
  },
  api_key_permission_denied: {
    status: 403,
    message: 'The provided key does not have the required permissions.',
    stripe: { type: 'permission_error', code: null },
  },
  merchant_not_found: { status: 404, message: 'No merchant has this id.' },
  merchant_already_activated: { status: 409, message: 'This merchant is already activated.' },
  merchant_not_activated: { status: 409, message: 'This merchant is not activated: it has no live keys.' },
  /** A parameter (not the URL) names an object the caller cannot see: Stripe's 400 resource_missing. */
  parameter_resource_missing: {
    status: 400,
    message: 'A parameter names an object that does not exist.',
    stripe: { type: 'invalid_request_error', code: 'resource_missing' },
  },
  parameter_unknown: {
    status: 400,
    message: 'Received unknown parameter.',
    stripe: { type: 'invalid_request_error', code: 'parameter_unknown' },
  },
  parameter_missing: {
    status: 400,
    message: 'Missing required param.',
    stripe: { type: 'invalid_request_error', code: 'parameter_missing' },
  },
  parameter_invalid_integer: {
    status: 400,
    message: 'Invalid integer.',
    stripe: { type: 'invalid_request_error', code: 'parameter_invalid_integer' },
  },
  parameter_invalid_empty: {
    status: 400,
    message: 'You passed an empty string for a parameter that cannot be unset.',
    stripe: { type: 'invalid_request_error', code: 'parameter_invalid_empty' },
  },
  parameter_invalid: {
    status: 400,
    message: 'Invalid parameter.',
    stripe: { type: 'invalid_request_error', code: null },
  },
  /** A NUL character (U+0000) anywhere in a request's path, query or body, on every API. */
  parameter_invalid_characters: {
    status: 400,
    message: 'A parameter contains a character that is not allowed.',
    stripe: { type: 'invalid_request_error', code: 'parameter_invalid_characters' },
  },
  expand_invalid: {
    status: 400,
    message: 'This property cannot be expanded.',
    stripe: { type: 'invalid_request_error', code: null },
  },
  url_unrecognized: {
    status: 404,
    message: 'Unrecognized request URL.',
    stripe: { type: 'invalid_request_error', code: null },
  },
  // webhooks
  url_invalid: {
    status: 400,
    message: 'The URL is not valid or not allowed.',
    stripe: { type: 'invalid_request_error', code: 'url_invalid' },
  },
  // cards: ISO 8583 codec (modules/cards/iso8583); details.reason says what is wrong, never a field value
  iso8583_invalid: { status: 400, message: 'The ISO 8583 message is not valid.' },
  iso8583_frame_invalid: { status: 400, message: 'The ISO 8583 frame is not valid: the stream is out of sync.' },
  // cards: vault (modules/cards/vault); the first four are Stripe's card_error codes
  invalid_number: {
    status: 402,
    message: 'The card number is not a valid credit card number.',
    stripe: { type: 'card_error', code: 'invalid_number' },
  },
  invalid_expiry_month: {
    status: 402,
    message: "The card's expiration month is invalid.",
    stripe: { type: 'card_error', code: 'invalid_expiry_month' },
  },
  invalid_expiry_year: {
    status: 402,
    message: "The card's expiration year is invalid.",
    stripe: { type: 'card_error', code: 'invalid_expiry_year' },
  },
  invalid_cvc: {
    status: 402,
    message: "The card's security code is invalid.",
    stripe: { type: 'card_error', code: 'invalid_cvc' },
  },
  card_vault_key_unknown: { status: 500, message: 'A stored card is encrypted under a key that is not configured.' },
  card_vault_record_unreadable: {
    status: 500,
    message: 'A stored card failed its integrity check and cannot be read.',
  },
  // cards: payment methods, gateway and network (modules/cards); the card_error ones are Stripe's codes
  expired_card: { status: 402, message: 'The card has expired.', stripe: { type: 'card_error', code: 'expired_card' } },
  incorrect_cvc: {
    status: 402,
    message: "The card's security code is incorrect.",
    stripe: { type: 'card_error', code: 'incorrect_cvc' },
  },
  incorrect_number: {
    status: 402,
    message: 'The card number is incorrect.',
    stripe: { type: 'card_error', code: 'incorrect_number' },
  },
  processing_error: {
    status: 402,
    message: 'An error occurred while processing the card. Try again later.',
    stripe: { type: 'card_error', code: 'processing_error' },
  },
  authentication_required: {
    status: 402,
    message: 'The card was declined: the issuer requires authentication.',
    stripe: { type: 'card_error', code: 'authentication_required' },
  },
  payment_method_unexpected_state: {
    status: 400,
    message: 'The PaymentMethod is not in a state that allows this.',
  },
  payment_method_unactivated: { status: 400, message: 'Test payment methods are not available in live mode.' },
  card_network_unavailable: { status: 503, message: 'The card network cannot be reached. Nothing was sent.' },
  card_network_timeout: { status: 504, message: 'The card network did not answer in time.' },
  card_network_response_invalid: {
    status: 502,
    message: 'The card network answered with a response that does not match.',
  },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof errorCatalog;

export interface AppErrorOptions {
  message?: string;
  /** The request field at fault, when there is one (dotted path). */
  param?: string;
  /** Extra machine-readable facts that are safe to show the caller. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly param: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, options: AppErrorOptions = {}) {
    super(
      options.message ?? errorCatalog[code].message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'AppError';
    this.code = code;
    this.status = errorCatalog[code].status;
    this.param = options.param;
    this.details = options.details;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Programmer errors: a broken invariant crashes loudly instead of corrupting state. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/**
 * The card gateway (acquirer side): sends authorizations, sales, completions, refunds and
 * reversals to the card network and records each card transaction in cards_network_transactions,
 * so that every caller's request has exactly one outcome and no card is charged twice, whatever
 * the network or this process does. docs/card-network.md ("Gateway") describes the design.
 *
 * The pattern for every network call: record the intent (a row, committed), call the network with
 * no transaction open, then finalise the row with a conditional update (`where status = …`), so a
 * sweep that took the row over meanwhile wins and the late answer changes nothing.
 */
import type { Db } from '../../../platform/db.js';
import { AppError, assert, isAppError } from '../../../platform/errors.js';
import { newObjectId } from '../../../platform/ids.js';
import { checkDefaultInRange, checkLimitTable, limits as platformLimits } from '../../../platform/limits.js';
import { isKnownCurrency } from '../../../platform/money.js';
import type { Iso8583Message } from '../iso8583/index.js';
import type { CardVault, RevealedCard } from '../vault/index.js';
import {
  amountMinorMaxOnWire,
  buildAuthorizationRequest,
  buildCompletionRequest,
  buildRefundRequest,
  buildReversalRequest,
  buildSaleRequest,
  declineOf,
  parseResponse,
  rrnOf,
  stanOf,
  type Decline,
  type OriginalRequestInput,
  type ProcessingCode,
} from './transformers.js';

/**
 * What the gateway needs of the TCP connector (modules/cards/network/connector.ts implements it).
 * Declared here so the gateway depends on the shape, not the socket code.
 */
export interface CardNetworkTransport {
  /**
   * Resolves with the matching response. Rejects with AppError card_network_unavailable
   * (details.outcome 'not_sent': nothing was written) or card_network_timeout (details.outcome
   * 'unknown': it may have reached the network).
   */
  request(message: Iso8583Message, options?: { timeoutMs?: number }): Promise<Iso8583Message>;
}

/**
 * Bounds of the gateway (modules/cards/gateway owns them; checkCardGatewayLimits runs at start-up).
 * The request timeout is the operator's: platform/limits.ts cardNetworkRequestTimeoutMs*.
 */
export const cardGatewayLimits = {
  /** 0400s sent in the caller's request before the sweep takes over. */
  reversalAttemptsMaxDefault: 3,
  reversalAttemptsMaxMax: 10,
  /** Sends of one 0220 in the caller's request before the sweep takes over. */
  completionAttemptsMaxDefault: 3,
  completionAttemptsMaxMax: 10,
  /** First pause between two attempts inside one request; doubles each time. */
  retryBackoffMsDefault: 100,
  retryBackoffMsMax: 2_000,
  /** First delay before the sweep repeats an unconfirmed reversal or advice; doubles per attempt. */
  sweepRetryDelayMsDefault: 1_000,
  sweepRetryDelayMsMax: 300_000,
  sweepBatchSizeMax: 100,
  /** How often a second request with a reference in flight looks at the row again. */
  inFlightPollMs: 25,
  referenceLengthMax: 255,
  merchantAccountIdLengthMax: 255,
} as const;

export type CardGatewayLimits = { readonly [Name in keyof typeof cardGatewayLimits]: number };

/** Crashes on an inconsistent table; run at start-up by checkAllLimits (and by the tests). */
export function checkCardGatewayLimits(table: CardGatewayLimits = cardGatewayLimits): void {
  checkLimitTable('cardGatewayLimits', table);
  checkDefaultInRange('reversalAttemptsMax', {
    defaultValue: table.reversalAttemptsMaxDefault,
    max: table.reversalAttemptsMaxMax,
  });
  checkDefaultInRange('completionAttemptsMax', {
    defaultValue: table.completionAttemptsMaxDefault,
    max: table.completionAttemptsMaxMax,
  });
  checkDefaultInRange('retryBackoffMs', { defaultValue: table.retryBackoffMsDefault, max: table.retryBackoffMsMax });
  checkDefaultInRange('sweepRetryDelayMs', {
    defaultValue: table.sweepRetryDelayMsDefault,
    max: table.sweepRetryDelayMsMax,
  });
}

export type CardTransactionKind = 'authorization' | 'sale' | 'completion' | 'refund';
export type CardTransactionStatus = 'sending' | 'approved' | 'declined' | 'reversal_pending' | 'reversed' | 'failed';
/** abandoned: closed unsent by a recovery (resolveOriginal) before any sender recorded it. */
export type CardFailureReason = 'network_unavailable' | 'timeout' | 'response_invalid' | 'abandoned';

export interface FailedDecline {
  code: 'processing_error';
  declineCode: 'processing_error' | 'issuer_not_available';
  message: string;
}

/** The answer to an authorize or refund: given once per reference, the same on every repeat. */
export type CardTransactionOutcome =
  | { status: 'approved'; transactionId: string; authCode: string; rrn: string }
  | { status: 'declined'; transactionId: string; responseCode: string; decline: Decline }
  | { status: 'failed'; transactionId: string; reason: CardFailureReason; decline: FailedDecline };

/**
 * The answer to a capture. pending: the advice is recorded and not yet acknowledged by the network;
 * the sweep delivers it (look it up with transaction(reference, 'completion')).
 */
export type CaptureOutcome =
  | { status: 'approved'; transactionId: string; authCode: string; rrn: string; pending: boolean }
  | { status: 'declined'; transactionId: string; responseCode: string; decline: Decline };

export interface VoidOutcome {
  transactionId: string;
  /** reversal_pending: not yet confirmed; the sweep repeats the 0400 until the network answers. */
  status: 'reversed' | 'reversal_pending';
}

/** A card transaction as callers may see it: never a card number. */
export interface CardNetworkTransaction {
  id: string;
  kind: CardTransactionKind;
  reference: string;
  cardId: string;
  originalId: string | null;
  status: CardTransactionStatus;
  outcome: 'approved' | 'declined' | 'failed' | null;
  failureReason: CardFailureReason | null;
  rrn: string;
  stan: string;
  authCode: string | null;
  responseCode: string | null;
  decline: Decline | null;
  amountMinor: bigint;
  currency: string;
  merchantAccountId: string;
  attempts: number;
  reversalAttempts: number;
  reversalResponseCode: string | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface AuthorizeInput {
  /** The caller's id for this payment (a charge id, a top-up id): one authorization per reference. */
  reference: string;
  /** Vault id (card_…). */
  cardId: string;
  amountMinor: bigint;
  /** ISO 4217 alpha. */
  currency: string;
  merchantAccountId: string;
  /** automatic: an 0200 sale; manual: an 0100 that holds the funds until capture or void. */
  capture: 'automatic' | 'manual';
  /** The cardholder passed 3-D Secure. */
  authenticated?: boolean;
  /** The expiry to send when it differs from the vault record's (a PaymentMethod's updated expiry). */
  expiry?: { month: number; year: number };
}

export interface CaptureInput {
  /** The caller's id for this capture. */
  reference: string;
  /** The reference the manual authorization was made with. */
  authorizationReference: string;
  /** At most the authorized amount; the rest is released. */
  amountMinor: bigint;
}

export interface RefundInput {
  /** The caller's id for this refund (re_…). */
  reference: string;
  /** The expiry to send when it differs from the vault record's (a PaymentMethod's updated expiry). */
  expiry?: { month: number; year: number };
  cardId: string;
  amountMinor: bigint;
  currency: string;
  merchantAccountId: string;
}

export interface SweepOptions {
  batchSizeMax: number;
}

export interface SweepReport {
  /** Rows taken in this sweep. */
  claimedCount: number;
  /** Rows found in 'sending' past their lease (a process died mid-call), now being reversed. */
  abandonedCount: number;
  reversedCount: number;
  reversalPendingCount: number;
  completionApprovedCount: number;
  completionDeclinedCount: number;
  completionPendingCount: number;
  /** Rows whose attempt threw (logged); they come back once their lease ends. */
  errorCount: number;
}

export interface CardGateway {
  authorize(input: AuthorizeInput): Promise<CardTransactionOutcome>;
  capture(input: CaptureInput): Promise<CaptureOutcome>;
  void(input: { authorizationReference: string }): Promise<VoidOutcome>;
  refund(input: RefundInput): Promise<CardTransactionOutcome>;
  sweep(options: SweepOptions): Promise<SweepReport>;
  transaction(reference: string, kind: CardTransactionKind): Promise<CardNetworkTransaction | null>;
  /**
   * For a recovery that finds a payment's attempt unfinished: the outcome of the original
   * transaction sent with this reference, or, if none was ever recorded, closes the reference so
   * that none ever will be (the outcome is then failed, reason abandoned). null while a send is
   * still under way. Race-free against a late sender: exactly one of them holds the reference.
   */
  resolveOriginal(reference: string, kind: 'authorization' | 'sale' | 'refund'): Promise<CardTransactionOutcome | null>;
}

/** The log methods the gateway uses (a pino Logger fits). Lines carry ids and RRNs, never a PAN. */
export interface CardGatewayLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface CardGatewayDeps {
  db: Db;
  vault: Pick<CardVault, 'reveal'>;
  transport: CardNetworkTransport;
  /** Field 32. */
  acquirerId?: string;
  /** Field 41. */
  terminalId?: string;
  requestTimeoutMs?: number;
  reversalAttemptsMax?: number;
  completionAttemptsMax?: number;
  retryBackoffMs?: number;
  sweepRetryDelayMs?: number;
  /** Milliseconds since the epoch: every time the gateway writes or compares. */
  now?: () => number;
  logger?: CardGatewayLogger;
}

interface TransactionRow {
  id: string;
  kind: CardTransactionKind;
  reference: string;
  card_id: string;
  exp_month: number | null;
  exp_year: number | null;
  original_id: string | null;
  mti: '0100' | '0200' | '0220';
  processing_code: ProcessingCode;
  rrn: string;
  stan: string;
  transmitted_at: Date;
  amount: bigint;
  currency: string;
  merchant_account_id: string;
  acquirer_id: string;
  terminal_id: string;
  status: CardTransactionStatus;
  outcome: 'approved' | 'declined' | 'failed' | null;
  failure_reason: CardFailureReason | null;
  response_code: string | null;
  auth_code: string | null;
  decline_error_code: string | null;
  decline_code: string | null;
  decline_message: string | null;
  attempts: number;
  reversal_attempts: number;
  reversal_stan: string | null;
  reversal_response_code: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const table = 'cards_network_transactions';
/** A new transaction id: 'ntx_' and 22 base62 characters (at least 128 random bits). */
export function newNetworkTransactionId(): string {
  return newObjectId('ntx');
}

const referencePattern = /^[\x21-\x7e]{1,255}$/;
const merchantAccountIdPattern = /^[\x21-\x7e]{1,255}$/;
const cardIdPattern = /^card_[0-9A-Za-z]{22}$/;

function invalid(param: string, message: string): AppError {
  return new AppError('invalid_request', { param, message });
}

function checkReference(value: unknown, param: string): asserts value is string {
  if (typeof value !== 'string' || !referencePattern.test(value)) {
    throw invalid(param, `The ${param} must be 1-255 printable characters without spaces.`);
  }
}

function checkAmount(value: unknown): asserts value is bigint {
  if (typeof value !== 'bigint' || value <= 0n || value > amountMinorMaxOnWire) {
    throw invalid('amount', `The amount must be a whole number of minor units from 1 to ${amountMinorMaxOnWire}.`);
  }
}

function checkCardTransactionInput(input: {
  reference: unknown;
  cardId: unknown;
  amountMinor: unknown;
  currency: unknown;
  merchantAccountId: unknown;
}): void {
  checkReference(input.reference, 'reference');
  if (typeof input.cardId !== 'string' || !cardIdPattern.test(input.cardId)) {
    throw invalid('card', 'The card must be a vault id (card_…).');
  }
  checkAmount(input.amountMinor);
  if (typeof input.currency !== 'string' || !/^[A-Z]{3}$/.test(input.currency) || !isKnownCurrency(input.currency)) {
    throw new AppError('currency_unsupported', { param: 'currency' });
  }
  if (typeof input.merchantAccountId !== 'string' || !merchantAccountIdPattern.test(input.merchantAccountId)) {
    throw invalid('merchant_account_id', 'The merchant account id must be 1-255 printable characters.');
  }
}

function failedDeclineOf(reason: CardFailureReason): FailedDecline {
  switch (reason) {
    case 'network_unavailable':
      return {
        code: 'processing_error',
        declineCode: 'issuer_not_available',
        message: 'The card network could not be reached. Try again in a little bit.',
      };
    case 'timeout':
      return {
        code: 'processing_error',
        declineCode: 'issuer_not_available',
        message: 'The card issuer did not answer in time. The card was not charged. Try again in a little bit.',
      };
    case 'response_invalid':
      return {
        code: 'processing_error',
        declineCode: 'processing_error',
        message: 'An error occurred while processing your card. The card was not charged.',
      };
    case 'abandoned':
      return {
        code: 'processing_error',
        declineCode: 'processing_error',
        message: 'The payment was interrupted before it reached the card network. The card was not charged.',
      };
  }
}

function declineFromRow(row: TransactionRow): Decline | null {
  if (row.decline_error_code === null || row.decline_code === null || row.decline_message === null) return null;
  return { code: row.decline_error_code, declineCode: row.decline_code, message: row.decline_message };
}

function toTransaction(row: TransactionRow): CardNetworkTransaction {
  return {
    id: row.id,
    kind: row.kind,
    reference: row.reference,
    cardId: row.card_id,
    originalId: row.original_id,
    status: row.status,
    outcome: row.outcome,
    failureReason: row.failure_reason,
    rrn: row.rrn,
    stan: row.stan,
    authCode: row.auth_code,
    responseCode: row.response_code,
    decline: declineFromRow(row),
    amountMinor: row.amount,
    currency: row.currency,
    merchantAccountId: row.merchant_account_id,
    attempts: Number(row.attempts),
    reversalAttempts: Number(row.reversal_attempts),
    reversalResponseCode: row.reversal_response_code,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The recorded outcome of an authorization, sale or refund; null while it is still being sent. */
function outcomeOf(row: TransactionRow): CardTransactionOutcome | null {
  assert(row.kind !== 'completion', 'a completion has a capture outcome');
  switch (row.outcome) {
    case null:
      return null;
    case 'approved':
      assert(row.auth_code !== null, 'an approved transaction has an authorization code');
      return { status: 'approved', transactionId: row.id, authCode: row.auth_code, rrn: row.rrn };
    case 'declined': {
      const decline = declineFromRow(row);
      assert(row.response_code !== null && decline !== null, 'a declined transaction has its response code');
      return { status: 'declined', transactionId: row.id, responseCode: row.response_code, decline };
    }
    case 'failed':
      assert(row.failure_reason !== null, 'a failed transaction has a reason');
      return {
        status: 'failed',
        transactionId: row.id,
        reason: row.failure_reason,
        decline: failedDeclineOf(row.failure_reason),
      };
  }
}

function captureOutcomeOf(row: TransactionRow): CaptureOutcome {
  assert(row.kind === 'completion', 'a capture outcome is a completion’s');
  assert(row.auth_code !== null, 'a completion carries the authorization code');
  if (row.status === 'declined') {
    const decline = declineFromRow(row);
    assert(row.response_code !== null && decline !== null, 'a declined completion has its response code');
    return { status: 'declined', transactionId: row.id, responseCode: row.response_code, decline };
  }
  assert(row.status === 'sending' || row.status === 'approved', `a completion is never ${row.status}`);
  return {
    status: 'approved',
    transactionId: row.id,
    authCode: row.auth_code,
    rrn: row.rrn,
    pending: row.status === 'sending',
  };
}

type SendResult =
  | { kind: 'answered'; response: Iso8583Message }
  | { kind: 'not_sent' }
  | { kind: 'unknown'; reason: 'timeout' | 'response_invalid' };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function optionInRange(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  const chosen = value ?? fallback;
  assert(Number.isInteger(chosen) && chosen >= min && chosen <= max, `${name} must be an integer in ${min}-${max}`);
  return chosen;
}

export function createCardGateway(deps: CardGatewayDeps): CardGateway {
  const { db, vault, transport } = deps;
  const limits = cardGatewayLimits;
  const acquirerId = deps.acquirerId ?? '999001';
  const terminalId = deps.terminalId ?? 'YUNPAY01';
  assert(/^[0-9]{1,11}$/.test(acquirerId), 'acquirerId is 1-11 digits');
  assert(/^[\x20-\x7e]{1,8}$/.test(terminalId), 'terminalId is 1-8 printable characters');
  const requestTimeoutMs = optionInRange(
    deps.requestTimeoutMs,
    platformLimits.cardNetworkRequestTimeoutMsDefault,
    1,
    platformLimits.cardNetworkRequestTimeoutMsMax,
    'requestTimeoutMs',
  );
  const reversalAttemptsMax = optionInRange(
    deps.reversalAttemptsMax,
    limits.reversalAttemptsMaxDefault,
    1,
    limits.reversalAttemptsMaxMax,
    'reversalAttemptsMax',
  );
  const completionAttemptsMax = optionInRange(
    deps.completionAttemptsMax,
    limits.completionAttemptsMaxDefault,
    1,
    limits.completionAttemptsMaxMax,
    'completionAttemptsMax',
  );
  const retryBackoffMs = optionInRange(
    deps.retryBackoffMs,
    limits.retryBackoffMsDefault,
    0,
    limits.retryBackoffMsMax,
    'retryBackoffMs',
  );
  const sweepRetryDelayMs = optionInRange(
    deps.sweepRetryDelayMs,
    limits.sweepRetryDelayMsDefault,
    0,
    limits.sweepRetryDelayMsMax,
    'sweepRetryDelayMs',
  );
  const now = deps.now ?? Date.now;
  const logger = deps.logger;
  /**
   * How long a row is a process's own while it calls the network: past it, the row counts as
   * abandoned (the process died) and the sweep takes it over. One call takes at most
   * requestTimeoutMs, and every attempt renews the lease.
   */
  const leaseMs = 2 * requestTimeoutMs;

  const at = (offsetMs = 0): Date => new Date(now() + offsetMs);
  const backoffMs = (attempt: number): number => Math.min(retryBackoffMs * 2 ** attempt, limits.retryBackoffMsMax);
  const sweepDelayMs = (attempts: number): number =>
    Math.min(sweepRetryDelayMs * 2 ** Math.min(attempts, 20), limits.sweepRetryDelayMsMax);

  async function nextStan(): Promise<string> {
    const rows = await db.query<{ value: bigint }>(`select nextval('cards_network_stan_seq') as value`);
    assert(rows[0] !== undefined, 'nextval returns a row');
    return stanOf(BigInt(rows[0].value));
  }

  async function nextRrnAndStan(): Promise<{ rrn: string; stan: string }> {
    const rows = await db.query<{ rrn: bigint; stan: bigint }>(
      `select nextval('cards_network_rrn_seq') as rrn, nextval('cards_network_stan_seq') as stan`,
    );
    assert(rows[0] !== undefined, 'nextval returns a row');
    return { rrn: rrnOf(BigInt(rows[0].rrn)), stan: stanOf(BigInt(rows[0].stan)) };
  }

  async function rowById(id: string): Promise<TransactionRow> {
    const rows = await db.query<TransactionRow>(`select * from ${table} where id = $1`, [id]);
    assert(rows[0] !== undefined, 'a transaction row is never deleted');
    return rows[0];
  }

  async function rowByReference(reference: string, kind: CardTransactionKind): Promise<TransactionRow | null> {
    const rows = await db.query<TransactionRow>(`select * from ${table} where reference = $1 and kind = $2`, [
      reference,
      kind,
    ]);
    return rows[0] ?? null;
  }

  /** Sends one message; turns every way it can fail into "nothing sent" or "may have arrived". */
  async function send(message: Iso8583Message, context: Record<string, unknown>): Promise<SendResult> {
    try {
      const response = await transport.request(message, { timeoutMs: requestTimeoutMs });
      return { kind: 'answered', response };
    } catch (error) {
      if (isAppError(error)) {
        if (error.code === 'card_network_unavailable' && error.details?.outcome !== 'unknown') {
          return { kind: 'not_sent' };
        }
        if (error.code === 'card_network_timeout') return { kind: 'unknown', reason: 'timeout' };
        if (
          error.code === 'card_network_response_invalid' ||
          error.code === 'iso8583_invalid' ||
          error.code === 'iso8583_frame_invalid'
        ) {
          return { kind: 'unknown', reason: 'response_invalid' };
        }
      }
      // Anything else (a connector bug): the message may have been written, so it is reversed.
      logger?.error(
        { ...context, mti: message.mti, error: isAppError(error) ? error.code : String(error) },
        'card network transport failed unexpectedly; treating the message as possibly delivered',
      );
      return { kind: 'unknown', reason: 'timeout' };
    }
  }

  async function revealCard(cardId: string, context: Record<string, unknown>): Promise<RevealedCard | null> {
    try {
      return await vault.reveal(cardId);
    } catch (error) {
      logger?.error(
        { ...context, cardId, error: isAppError(error) ? error.code : 'unexpected' },
        'the card could not be read from the vault',
      );
      return null;
    }
  }

  // --- reversals ---------------------------------------------------------------------------

  /**
   * One 0400 for a row in reversal_pending: its own STAN, the original's RRN, amount and field 3.
   * 0410 00 (reversed) or 25 (the network never had it) confirm; anything else leaves the row for
   * a later attempt.
   */
  async function reverseOnce(id: string): Promise<'reversed' | 'pending' | 'gone'> {
    let stan = await nextStan();
    const original = await rowById(id);
    // After the STAN sequence wraps, the next value can be the original's own: a reversal needs its own.
    if (stan === original.stan) stan = await nextStan();
    const claimed = await db.query<TransactionRow>(
      `update ${table} set reversal_attempts = reversal_attempts + 1, reversal_stan = $2,
         next_attempt_at = $3, updated_at = $4
       where id = $1 and status = 'reversal_pending' returning *`,
      [id, stan, at(leaseMs), at()],
    );
    const row = claimed[0];
    if (row === undefined) return 'gone';
    assert(row.kind !== 'completion', 'completions are repeated, never reversed');
    const context = { transactionId: row.id, rrn: row.rrn, reversalStan: stan };
    const card = await revealCard(row.card_id, context);
    let answerCode: string | null = null;
    if (card !== null) {
      const message = buildReversalRequest({
        pan: card.pan,
        expMonth: row.exp_month === null ? card.expMonth : Number(row.exp_month),
        expYear: row.exp_year === null ? card.expYear : Number(row.exp_year),
        amountMinor: row.amount,
        currency: row.currency,
        stan,
        rrn: row.rrn,
        transmittedAt: at(),
        transactionAt: row.transmitted_at,
        merchantAccountId: row.merchant_account_id,
        terminalId: row.terminal_id,
        acquirerId: row.acquirer_id,
        processingCode: row.processing_code,
        original: { mti: row.mti, stan: row.stan, transmittedAt: row.transmitted_at, acquirerId: row.acquirer_id },
      });
      const result = await send(message, context);
      if (result.kind === 'answered') {
        const parsed = parseResponse(message, result.response);
        if (parsed.valid) answerCode = parsed.responseCode;
        else logger?.warn({ ...context, reason: parsed.reason }, 'a reversal response does not match its request');
      }
    }
    if (answerCode === '00' || answerCode === '25') {
      const done = await db.query<{ id: string }>(
        `update ${table} set status = 'reversed', reversal_response_code = $2, next_attempt_at = null, updated_at = $3
         where id = $1 and status = 'reversal_pending' returning id`,
        [id, answerCode, at()],
      );
      logger?.info({ ...context, responseCode: answerCode }, 'card transaction reversed');
      return done.length === 1 ? 'reversed' : 'gone';
    }
    await db.query(
      `update ${table} set reversal_response_code = coalesce($2, reversal_response_code), next_attempt_at = $3,
         updated_at = $4
       where id = $1 and status = 'reversal_pending'`,
      [id, answerCode, at(sweepDelayMs(row.reversal_attempts)), at()],
    );
    logger?.warn(
      { ...context, responseCode: answerCode, reversalAttempts: row.reversal_attempts },
      'a reversal is not confirmed yet; it will be repeated',
    );
    return 'pending';
  }

  /** Up to attemptsMax reversals with a short backoff; the sweep repeats what is left. */
  async function reverse(id: string, attemptsMax: number): Promise<'reversed' | 'pending' | 'gone'> {
    let result: 'reversed' | 'pending' | 'gone' = 'pending';
    for (let attempt = 0; attempt < attemptsMax; attempt += 1) {
      if (attempt > 0) await sleep(backoffMs(attempt - 1));
      result = await reverseOnce(id);
      if (result !== 'pending') break;
    }
    return result;
  }

  /**
   * The original's fate is unknown (timeout, garbled or mismatched answer): the caller's outcome is
   * failed, and the card transaction is reversed. Conditional on 'sending': if a sweep took the
   * row over meanwhile, it already decided.
   */
  async function failAndReverse(id: string, reason: CardFailureReason): Promise<void> {
    const moved = await db.query<{ id: string }>(
      `update ${table} set status = 'reversal_pending', outcome = 'failed', failure_reason = $2,
         next_attempt_at = $3, updated_at = $4
       where id = $1 and status = 'sending' returning id`,
      [id, reason, at(leaseMs), at()],
    );
    if (moved.length === 1) await reverse(id, reversalAttemptsMax);
  }

  // --- authorizations, sales, refunds ------------------------------------------------------

  async function waitForOutcome(row: TransactionRow): Promise<CardTransactionOutcome> {
    let current = row;
    const pollsMax = Math.ceil(leaseMs / limits.inFlightPollMs) + 1;
    for (let poll = 0; poll < pollsMax; poll += 1) {
      const outcome = outcomeOf(current);
      if (outcome !== null) return outcome;
      if (current.next_attempt_at !== null && current.next_attempt_at.getTime() <= now()) {
        // Its lease ran out: the process sending it died. Take it over as the sweep would.
        await failAndReverse(current.id, 'timeout');
      } else {
        await sleep(limits.inFlightPollMs);
      }
      current = await rowById(current.id);
    }
    const outcome = outcomeOf(current);
    if (outcome !== null) return outcome;
    throw new AppError('conflict', {
      message: 'A card transaction with this reference is still being sent. Retry in a few seconds.',
      details: { reason: 'in_progress', transactionId: current.id },
    });
  }

  function sameRequest(row: TransactionRow, input: Omit<RefundInput, 'reference'>): boolean {
    return (
      row.card_id === input.cardId &&
      row.amount === input.amountMinor &&
      row.currency === input.currency &&
      row.merchant_account_id === input.merchantAccountId
    );
  }

  async function replay(row: TransactionRow, input: Omit<RefundInput, 'reference'>): Promise<CardTransactionOutcome> {
    if (!sameRequest(row, input)) {
      throw new AppError('conflict', {
        param: 'reference',
        message: `The reference was already used for a ${row.kind} with different parameters.`,
        details: { reason: 'reference_reused', transactionId: row.id },
      });
    }
    return waitForOutcome(row);
  }

  function abandonedOutcome(): CardTransactionOutcome {
    return { status: 'failed', transactionId: '', reason: 'abandoned', decline: failedDeclineOf('abandoned') };
  }

  async function referenceState(reference: string, kind: string): Promise<'sent' | 'closed' | null> {
    const rows = await db.query<{ state: 'sent' | 'closed' }>(
      'select state from cards_gateway_references where reference = $1 and kind = $2',
      [reference, kind],
    );
    return rows[0]?.state ?? null;
  }

  async function resolveOriginal(
    reference: string,
    kind: 'authorization' | 'sale' | 'refund',
  ): Promise<CardTransactionOutcome | null> {
    checkReference(reference, 'reference');
    const closed = await db.query(
      `insert into cards_gateway_references (reference, kind, state, created_at) values ($1, $2, 'closed', $3)
       on conflict (reference, kind) do nothing returning reference`,
      [reference, kind, at()],
    );
    if (closed.length === 1) {
      logger?.info({ reference, kind }, 'card transaction reference closed unsent by recovery');
      return abandonedOutcome();
    }
    if ((await referenceState(reference, kind)) === 'closed') return abandonedOutcome();
    const row = await rowByReference(reference, kind);
    assert(row !== null, 'a sent reference has its transaction row (written in one transaction)');
    if (row.next_attempt_at !== null && row.status === 'sending' && row.next_attempt_at.getTime() <= now()) {
      // Its sender's lease ran out: the process died mid-call. Reverse it, as the sweep would.
      await failAndReverse(row.id, 'timeout');
      return outcomeOf(await rowById(row.id));
    }
    return outcomeOf(row);
  }

  async function sendOriginal(
    kind: 'authorization' | 'sale' | 'refund',
    input: RefundInput & { authenticated?: boolean },
  ): Promise<CardTransactionOutcome> {
    checkCardTransactionInput(input);
    const existing = await rowByReference(input.reference, kind);
    if (existing !== null) return replay(existing, input);
    if ((await referenceState(input.reference, kind)) === 'closed') return abandonedOutcome();

    const card = await vault.reveal(input.cardId);
    const { rrn, stan } = await nextRrnAndStan();
    const transmittedAt = at();
    const messageInput: OriginalRequestInput = {
      pan: card.pan,
      expMonth: input.expiry?.month ?? card.expMonth,
      expYear: input.expiry?.year ?? card.expYear,
      amountMinor: input.amountMinor,
      currency: input.currency,
      stan,
      rrn,
      transmittedAt,
      merchantAccountId: input.merchantAccountId,
      terminalId,
      acquirerId,
      authenticated: input.authenticated === true,
    };
    const build = { authorization: buildAuthorizationRequest, sale: buildSaleRequest, refund: buildRefundRequest }[
      kind
    ];
    const message = build(messageInput);
    const id = newNetworkTransactionId();
    // The intent, committed before anything is sent: from here a crash leaves a row the sweep
    // reverses. The reference is taken in the same transaction: a recovery that closed it first wins.
    const claim = await db.transaction(async (tx) => {
      const taken = await tx.query(
        `insert into cards_gateway_references (reference, kind, state, created_at) values ($1, $2, 'sent', $3)
         on conflict (reference, kind) do nothing returning reference`,
        [input.reference, kind, transmittedAt],
      );
      if (taken.length === 0) return null;
      return tx.query<TransactionRow>(
        `insert into ${table} (id, kind, reference, card_id, mti, processing_code, rrn, stan, transmitted_at, amount,
         currency, merchant_account_id, acquirer_id, terminal_id, status, attempts, next_attempt_at, created_at,
         updated_at, exp_month, exp_year)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'sending', 1, $15, $9, $9, $16, $17)
       on conflict (reference, kind) do nothing
       returning *`,
        [
          id,
          kind,
          input.reference,
          input.cardId,
          message.mti,
          message.fields.get(3)!,
          rrn,
          stan,
          transmittedAt,
          input.amountMinor,
          input.currency,
          input.merchantAccountId,
          acquirerId,
          terminalId,
          at(leaseMs),
          messageInput.expMonth,
          messageInput.expYear,
        ],
      );
    });
    if (claim === null && (await referenceState(input.reference, kind)) === 'closed') return abandonedOutcome();
    const inserted = claim ?? [];
    if (inserted[0] === undefined) {
      // Another request with this reference won the insert: its row is the one.
      const winner = await rowByReference(input.reference, kind);
      assert(winner !== null, 'the conflicting row exists');
      return replay(winner, input);
    }
    assert(inserted[0].amount === input.amountMinor && inserted[0].rrn === rrn, 'the stored row is the one sent');
    const context = { transactionId: id, kind, reference: input.reference, rrn, stan };

    const result = await send(message, context);
    if (result.kind === 'not_sent') {
      await db.query(
        `update ${table} set status = 'failed', outcome = 'failed', failure_reason = 'network_unavailable',
           next_attempt_at = null, updated_at = $2
         where id = $1 and status = 'sending'`,
        [id, at()],
      );
    } else if (result.kind === 'unknown') {
      logger?.warn({ ...context, reason: result.reason }, 'no answer from the card network; reversing');
      await failAndReverse(id, result.reason);
    } else {
      const parsed = parseResponse(message, result.response);
      if (!parsed.valid) {
        logger?.warn(
          { ...context, reason: parsed.reason, fields: parsed.mismatchedFields },
          'the card network answer does not match the request; reversing',
        );
        await failAndReverse(id, 'response_invalid');
      } else if (parsed.approved) {
        await db.query(
          `update ${table} set status = 'approved', outcome = 'approved', response_code = $2, auth_code = $3,
             next_attempt_at = null, updated_at = $4
           where id = $1 and status = 'sending'`,
          [id, parsed.responseCode, parsed.authCode, at()],
        );
      } else {
        const decline = declineOf(parsed.responseCode);
        await db.query(
          `update ${table} set status = 'declined', outcome = 'declined', response_code = $2, auth_code = $3,
             decline_error_code = $4, decline_code = $5, decline_message = $6, next_attempt_at = null, updated_at = $7
           where id = $1 and status = 'sending'`,
          [id, parsed.responseCode, parsed.authCode, decline.code, decline.declineCode, decline.message, at()],
        );
      }
    }
    // Whatever was written above, or by a sweep that took the row over first, is the outcome.
    const final = await rowById(id);
    const outcome = outcomeOf(final);
    assert(outcome !== null, 'a transaction has an outcome once its send is over');
    return outcome;
  }

  // --- completions -------------------------------------------------------------------------

  /**
   * Sends a recorded 0220 up to attemptsMax times. Every repeat is the same message byte for byte
   * (same STAN, RRN and field 7), so the network recognises a retransmission and answers it
   * without completing twice.
   */
  async function deliverCompletion(id: string, attemptsMax: number): Promise<TransactionRow> {
    let row = await rowById(id);
    if (row.status !== 'sending') return row;
    const authorization = await rowById(row.original_id!);
    const context = { transactionId: row.id, rrn: row.rrn, stan: row.stan };
    const card = await revealCard(row.card_id, context);
    if (card !== null) {
      assert(row.auth_code !== null, 'a completion carries the authorization code');
      const message = buildCompletionRequest({
        pan: card.pan,
        expMonth: row.exp_month === null ? card.expMonth : Number(row.exp_month),
        expYear: row.exp_year === null ? card.expYear : Number(row.exp_year),
        amountMinor: row.amount,
        currency: row.currency,
        stan: row.stan,
        rrn: row.rrn,
        transmittedAt: row.transmitted_at,
        merchantAccountId: row.merchant_account_id,
        terminalId: row.terminal_id,
        acquirerId: row.acquirer_id,
        authCode: row.auth_code,
        authorization: {
          mti: '0100',
          stan: authorization.stan,
          transmittedAt: authorization.transmitted_at,
          acquirerId: authorization.acquirer_id,
        },
      });
      for (let attempt = 0; attempt < attemptsMax; attempt += 1) {
        if (attempt > 0) await sleep(backoffMs(attempt - 1));
        const claimed = await db.query<TransactionRow>(
          `update ${table} set attempts = attempts + 1, next_attempt_at = $2, updated_at = $3
           where id = $1 and status = 'sending' returning *`,
          [id, at(leaseMs), at()],
        );
        if (claimed[0] === undefined) return rowById(id);
        row = claimed[0];
        const result = await send(message, context);
        if (result.kind !== 'answered') continue;
        const parsed = parseResponse(message, result.response);
        if (!parsed.valid) {
          logger?.warn({ ...context, reason: parsed.reason }, 'a completion response does not match its request');
          continue;
        }
        if (parsed.approved) {
          await db.query(
            `update ${table} set status = 'approved', outcome = 'approved', response_code = $2,
               next_attempt_at = null, updated_at = $3
             where id = $1 and status = 'sending'`,
            [id, parsed.responseCode, at()],
          );
        } else {
          const decline = declineOf(parsed.responseCode);
          await db.query(
            `update ${table} set status = 'declined', outcome = 'declined', response_code = $2,
               decline_error_code = $3, decline_code = $4, decline_message = $5, next_attempt_at = null, updated_at = $6
             where id = $1 and status = 'sending'`,
            [id, parsed.responseCode, decline.code, decline.declineCode, decline.message, at()],
          );
        }
        return rowById(id);
      }
    }
    await db.query(`update ${table} set next_attempt_at = $2, updated_at = $3 where id = $1 and status = 'sending'`, [
      id,
      at(sweepDelayMs(row.attempts)),
      at(),
    ]);
    logger?.warn({ ...context, attempts: row.attempts }, 'a completion is not acknowledged yet; it will be repeated');
    return rowById(id);
  }

  async function capture(input: CaptureInput): Promise<CaptureOutcome> {
    checkReference(input.reference, 'reference');
    checkReference(input.authorizationReference, 'authorization_reference');
    checkAmount(input.amountMinor);
    const replayCapture = async (row: TransactionRow): Promise<CaptureOutcome> => {
      const authorization = await rowById(row.original_id!);
      if (authorization.reference !== input.authorizationReference || row.amount !== input.amountMinor) {
        throw new AppError('conflict', {
          param: 'reference',
          message: 'The reference was already used for a capture with different parameters.',
          details: { reason: 'reference_reused', transactionId: row.id },
        });
      }
      return captureOutcomeOf(row);
    };
    const existing = await rowByReference(input.reference, 'completion');
    if (existing !== null) return replayCapture(existing);

    const stan = await nextStan();
    const id = newNetworkTransactionId();
    const recorded = await db.transaction(async (tx) => {
      const authorizations = await tx.query<TransactionRow>(
        `select * from ${table} where reference = $1 and kind = 'authorization' for update`,
        [input.authorizationReference],
      );
      const authorization = authorizations[0];
      if (authorization === undefined) {
        throw new AppError('resource_missing', {
          param: 'authorization_reference',
          message: 'No authorization has this reference.',
        });
      }
      if (authorization.status !== 'approved') {
        throw new AppError('conflict', {
          param: 'authorization_reference',
          message: `The authorization is ${authorization.status}: it cannot be captured.`,
          details: { reason: 'authorization_not_capturable', status: authorization.status },
        });
      }
      if (input.amountMinor > authorization.amount) {
        throw new AppError('amount_too_large', {
          param: 'amount',
          message: 'The amount to capture is greater than the authorized amount.',
        });
      }
      const transmittedAt = at();
      const inserted = await tx.query<TransactionRow>(
        `insert into ${table} (id, kind, reference, card_id, original_id, mti, processing_code, rrn, stan,
           transmitted_at, amount, currency, merchant_account_id, acquirer_id, terminal_id, status, auth_code,
           attempts, next_attempt_at, created_at, updated_at, exp_month, exp_year)
         values ($1, 'completion', $2, $3, $4, '0220', '000000', $5, $6, $7, $8, $9, $10, $11, $12, 'sending', $13,
           0, $14, $7, $7, $15, $16)
         on conflict do nothing
         returning *`,
        [
          id,
          input.reference,
          authorization.card_id,
          authorization.id,
          authorization.rrn,
          stan,
          transmittedAt,
          input.amountMinor,
          authorization.currency,
          authorization.merchant_account_id,
          authorization.acquirer_id,
          authorization.terminal_id,
          authorization.auth_code,
          at(leaseMs),
          authorization.exp_month,
          authorization.exp_year,
        ],
      );
      return inserted[0] ?? null;
    });
    if (recorded === null) {
      const winner = await rowByReference(input.reference, 'completion');
      if (winner !== null) return replayCapture(winner);
      throw new AppError('conflict', {
        param: 'authorization_reference',
        message: 'This authorization was already captured.',
        details: { reason: 'authorization_already_captured' },
      });
    }
    const row = await deliverCompletion(recorded.id, completionAttemptsMax);
    return captureOutcomeOf(row);
  }

  // --- voids -------------------------------------------------------------------------------

  async function voidAuthorization(input: { authorizationReference: string }): Promise<VoidOutcome> {
    checkReference(input.authorizationReference, 'authorization_reference');
    const authorization = await db.transaction(async (tx) => {
      const rows = await tx.query<TransactionRow>(
        `select * from ${table} where reference = $1 and kind = 'authorization' for update`,
        [input.authorizationReference],
      );
      const row = rows[0];
      if (row === undefined) {
        throw new AppError('resource_missing', {
          param: 'authorization_reference',
          message: 'No authorization has this reference.',
        });
      }
      if (row.status === 'reversed' || row.status === 'reversal_pending') return row;
      if (row.status !== 'approved') {
        throw new AppError('conflict', {
          param: 'authorization_reference',
          message: `The authorization is ${row.status}: there is nothing to void.`,
          details: { reason: 'authorization_not_voidable', status: row.status },
        });
      }
      const completions = await tx.query<{ id: string }>(
        `select id from ${table} where original_id = $1 and kind = 'completion' and status in ('sending', 'approved')`,
        [row.id],
      );
      if (completions.length > 0) {
        throw new AppError('conflict', {
          param: 'authorization_reference',
          message: 'The authorization was captured: refund it instead.',
          details: { reason: 'authorization_captured' },
        });
      }
      const moved = await tx.query<TransactionRow>(
        `update ${table} set status = 'reversal_pending', next_attempt_at = $2, updated_at = $3
         where id = $1 returning *`,
        [row.id, at(leaseMs), at()],
      );
      return moved[0]!;
    });
    if (authorization.status === 'reversal_pending') {
      // A void already in flight elsewhere keeps its lease: this just tries too, which is safe (the
      // network reverses at most once).
      await reverse(authorization.id, reversalAttemptsMax);
    }
    const final = await rowById(authorization.id);
    assert(final.status === 'reversed' || final.status === 'reversal_pending', 'a voided authorization stays voided');
    return { transactionId: final.id, status: final.status };
  }

  // --- sweep -------------------------------------------------------------------------------

  async function sweep(options: SweepOptions): Promise<SweepReport> {
    const batchSizeMax = options.batchSizeMax;
    assert(
      Number.isInteger(batchSizeMax) && batchSizeMax >= 1 && batchSizeMax <= limits.sweepBatchSizeMax,
      `batchSizeMax must be 1-${limits.sweepBatchSizeMax}`,
    );
    const sweptAt = at();
    // Claim in one short statement: due rows, locked rows skipped (another sweeper has them), each
    // leased so that no other sweeper takes it before this one is done. A row still 'sending' past
    // its lease was abandoned mid-call: an original becomes reversal_pending (its outcome: failed).
    const claimed = await db.transaction((tx) =>
      tx.query<TransactionRow & { abandoned: boolean }>(
        `with due as (
           select id, status = 'sending' and kind <> 'completion' as abandoned from ${table}
           where status in ('sending', 'reversal_pending') and next_attempt_at <= $1
           order by next_attempt_at, id
           limit $2
           for update skip locked
         )
         update ${table} t set
           status = case when due.abandoned then 'reversal_pending' else t.status end,
           outcome = case when due.abandoned then 'failed' else t.outcome end,
           failure_reason = case when due.abandoned then 'timeout' else t.failure_reason end,
           next_attempt_at = $3,
           updated_at = $1
         from due where t.id = due.id
         returning t.*, due.abandoned`,
        [sweptAt, batchSizeMax, at(leaseMs)],
      ),
    );
    const report: SweepReport = {
      claimedCount: claimed.length,
      abandonedCount: claimed.filter((row) => row.abandoned).length,
      reversedCount: 0,
      reversalPendingCount: 0,
      completionApprovedCount: 0,
      completionDeclinedCount: 0,
      completionPendingCount: 0,
      errorCount: 0,
    };
    // Network calls after the claim committed, at most batchSizeMax at once. A row whose attempt
    // throws (the database went away) keeps its lease and comes back in a later sweep.
    await Promise.all(
      claimed.map(async (row) => {
        try {
          await sweepOne(row);
        } catch (error) {
          report.errorCount += 1;
          logger?.error(
            { transactionId: row.id, rrn: row.rrn, error: isAppError(error) ? error.code : String(error) },
            'a sweep attempt failed',
          );
        }
      }),
    );
    return report;

    async function sweepOne(row: TransactionRow & { abandoned: boolean }): Promise<void> {
      if (row.abandoned) {
        logger?.warn({ transactionId: row.id, rrn: row.rrn }, 'a card transaction was abandoned mid-call; reversing');
      }
      if (row.status === 'reversal_pending') {
        const result = await reverseOnce(row.id);
        if (result === 'reversed') report.reversedCount += 1;
        else if (result === 'pending') report.reversalPendingCount += 1;
      } else {
        assert(row.kind === 'completion' && row.status === 'sending', 'only completions are re-sent');
        const after = await deliverCompletion(row.id, 1);
        if (after.status === 'approved') report.completionApprovedCount += 1;
        else if (after.status === 'declined') report.completionDeclinedCount += 1;
        else report.completionPendingCount += 1;
      }
    }
  }

  return {
    authorize(input) {
      const kind = input.capture === 'manual' ? 'authorization' : 'sale';
      assert(input.capture === 'manual' || input.capture === 'automatic', 'capture is automatic or manual');
      return sendOriginal(kind, input);
    },
    capture,
    void: voidAuthorization,
    refund(input) {
      return sendOriginal('refund', input);
    },
    sweep,
    resolveOriginal,
    async transaction(reference, kind) {
      if (typeof reference !== 'string' || !referencePattern.test(reference)) return null;
      const row = await rowByReference(reference, kind);
      return row === null ? null : toTransaction(row);
    },
  };
}

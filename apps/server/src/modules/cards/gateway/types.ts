import { checkDefaultInRange, checkLimitTable } from '../../../platform/limits.js';
import type { CardVault } from '../vault/index.js';
import type { Iso8583Message } from '../iso8583/index.js';
import type { Decline } from './transformers.js';
import type { Db } from '../../../platform/db.js';

/** The gateway's public types and bounds (gateway.ts builds it; the sections implement it). */

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

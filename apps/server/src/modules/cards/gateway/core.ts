import { limits as platformLimits } from '../../../platform/limits.js';
import type { Db } from '../../../platform/db.js';
import { AppError, assert, isAppError } from '../../../platform/errors.js';
import { isKnownCurrency } from '../../../platform/money.js';
import type { Iso8583Message } from '../iso8583/index.js';
import type { CardVault, RevealedCard } from '../vault/index.js';
import { amountMinorMaxOnWire } from './transformers.js';
import type { CardGatewayDeps, CardGatewayLogger, CardNetworkTransport } from './types.js';
import { cardGatewayLimits } from './types.js';

/**
 * What every section of the gateway works with: the database, the vault, the transport, the
 * logger, the settings (bounded, checked once here) and the clock. Built once by createCardGateway.
 */
export interface GatewayCore {
  db: Db;
  vault: Pick<CardVault, 'reveal'>;
  transport: CardNetworkTransport;
  logger: CardGatewayLogger | undefined;
  acquirerId: string;
  terminalId: string;
  requestTimeoutMs: number;
  reversalAttemptsMax: number;
  completionAttemptsMax: number;
  /**
   * How long a row is a process's own while it calls the network: past it, the row counts as
   * abandoned (the process died) and the sweep takes it over. One call takes at most
   * requestTimeoutMs, and every attempt renews the lease.
   */
  leaseMs: number;
  now(): number;
  /** The clock plus an offset, as a Date. */
  at(offsetMs?: number): Date;
  /** The pause before repeat `attempt` inside one request. */
  backoffMs(attempt: number): number;
  /** The delay before the sweep repeats a reversal or advice tried `attempts` times. */
  sweepDelayMs(attempts: number): number;
}

export function gatewayCoreOf(deps: CardGatewayDeps): GatewayCore {
  const limits = cardGatewayLimits;
  const acquirerId = deps.acquirerId ?? '999001';
  const terminalId = deps.terminalId ?? 'YUNPAY01';
  assert(/^[0-9]{1,11}$/.test(acquirerId), 'acquirerId is 1-11 digits');
  assert(/^[\x20-\x7e]{1,8}$/.test(terminalId), 'terminalId is 1-8 printable characters');
  const setting = (value: number | undefined, fallback: number, min: number, max: number, name: string) =>
    optionInRange(value, fallback, min, max, name);
  const requestTimeoutMs = setting(
    deps.requestTimeoutMs,
    platformLimits.cardNetworkRequestTimeoutMsDefault,
    1,
    platformLimits.cardNetworkRequestTimeoutMsMax,
    'requestTimeoutMs',
  );
  const retryBackoffMs = setting(
    deps.retryBackoffMs,
    limits.retryBackoffMsDefault,
    0,
    limits.retryBackoffMsMax,
    'retryBackoffMs',
  );
  const sweepRetryDelayMs = setting(
    deps.sweepRetryDelayMs,
    limits.sweepRetryDelayMsDefault,
    0,
    limits.sweepRetryDelayMsMax,
    'sweepRetryDelayMs',
  );
  const now = deps.now ?? Date.now;
  return {
    db: deps.db,
    vault: deps.vault,
    transport: deps.transport,
    logger: deps.logger,
    acquirerId,
    terminalId,
    requestTimeoutMs,
    reversalAttemptsMax: setting(
      deps.reversalAttemptsMax,
      limits.reversalAttemptsMaxDefault,
      1,
      limits.reversalAttemptsMaxMax,
      'reversalAttemptsMax',
    ),
    completionAttemptsMax: setting(
      deps.completionAttemptsMax,
      limits.completionAttemptsMaxDefault,
      1,
      limits.completionAttemptsMaxMax,
      'completionAttemptsMax',
    ),
    leaseMs: 2 * requestTimeoutMs,
    now,
    at: (offsetMs = 0) => new Date(now() + offsetMs),
    backoffMs: (attempt) => Math.min(retryBackoffMs * 2 ** attempt, limits.retryBackoffMsMax),
    sweepDelayMs: (attempts) => Math.min(sweepRetryDelayMs * 2 ** Math.min(attempts, 20), limits.sweepRetryDelayMsMax),
  };
}

export const referencePattern = /^[\x21-\x7e]{1,255}$/;
export const merchantAccountIdPattern = /^[\x21-\x7e]{1,255}$/;
export const cardIdPattern = /^card_[0-9A-Za-z]{22}$/;

export function invalid(param: string, message: string): AppError {
  return new AppError('invalid_request', { param, message });
}

export function checkReference(value: unknown, param: string): asserts value is string {
  if (typeof value !== 'string' || !referencePattern.test(value)) {
    throw invalid(param, `The ${param} must be 1-255 printable characters without spaces.`);
  }
}

export function checkAmount(value: unknown): asserts value is bigint {
  if (typeof value !== 'bigint' || value <= 0n || value > amountMinorMaxOnWire) {
    throw invalid('amount', `The amount must be a whole number of minor units from 1 to ${amountMinorMaxOnWire}.`);
  }
}

export function checkCardTransactionInput(input: {
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

export type SendResult =
  | { kind: 'answered'; response: Iso8583Message }
  | { kind: 'not_sent' }
  | { kind: 'unknown'; reason: 'timeout' | 'response_invalid' };

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function optionInRange(
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
  name: string,
): number {
  const chosen = value ?? fallback;
  assert(Number.isInteger(chosen) && chosen >= min && chosen <= max, `${name} must be an integer in ${min}-${max}`);
  return chosen;
}

/** Sends one message; turns every way it can fail into "nothing sent" or "may have arrived". */
export async function send(
  g: GatewayCore,
  message: Iso8583Message,
  context: Record<string, unknown>,
): Promise<SendResult> {
  try {
    const response = await g.transport.request(message, { timeoutMs: g.requestTimeoutMs });
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
    g.logger?.error(
      { ...context, mti: message.mti, error: isAppError(error) ? error.code : String(error) },
      'card network g.transport failed unexpectedly; treating the message as possibly delivered',
    );
    return { kind: 'unknown', reason: 'timeout' };
  }
}

export async function revealCard(
  g: GatewayCore,
  cardId: string,
  context: Record<string, unknown>,
): Promise<RevealedCard | null> {
  try {
    return await g.vault.reveal(cardId);
  } catch (error) {
    g.logger?.error(
      { ...context, cardId, error: isAppError(error) ? error.code : 'unexpected' },
      'the card could not be read from the g.vault',
    );
    return null;
  }
}

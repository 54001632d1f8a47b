import type { SqlExecutor } from '../../../platform/db.js';
import { AppError, assert } from '../../../platform/errors.js';
import { buildCompletionRequest, declineOf, parseResponse } from './transformers.js';
import { type GatewayCore } from './core.js';
import { type CaptureInput, type CaptureOutcome } from './types.js';
import {
  type TransactionRow,
  captureOutcomeOf,
  newNetworkTransactionId,
  nextStan,
  rowById,
  rowByReference,
  table,
} from './repository.js';
import { checkAmount, checkReference, revealCard, send, sleep } from './core.js';

/**
 * Sends a recorded 0220 up to attemptsMax times. Every repeat is the same message byte for byte
 * (same STAN, RRN and field 7), so the network recognises a retransmission and answers it
 * without completing twice.
 */
export async function deliverCompletion(g: GatewayCore, id: string, attemptsMax: number): Promise<TransactionRow> {
  let row = await rowById(g, id);
  if (row.status !== 'sending') return row;
  const authorization = await rowById(g, row.original_id!);
  const context = { transactionId: row.id, rrn: row.rrn, stan: row.stan };
  const card = await revealCard(g, row.card_id, context);
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
      if (attempt > 0) await sleep(g.backoffMs(attempt - 1));
      const claimed = await g.db.query<TransactionRow>(
        `update ${table} set attempts = attempts + 1, next_attempt_at = $2, updated_at = $3
         where id = $1 and status = 'sending' returning *`,
        [id, g.at(g.leaseMs), g.at()],
      );
      if (claimed[0] === undefined) return rowById(g, id);
      row = claimed[0];
      const result = await send(g, message, context);
      if (result.kind !== 'answered') continue;
      const parsed = parseResponse(message, result.response);
      if (!parsed.valid) {
        g.logger?.warn({ ...context, reason: parsed.reason }, 'a completion response does not match its request');
        continue;
      }
      if (parsed.approved) {
        await g.db.query(
          `update ${table} set status = 'approved', outcome = 'approved', response_code = $2,
             next_attempt_at = null, updated_at = $3
           where id = $1 and status = 'sending'`,
          [id, parsed.responseCode, g.at()],
        );
      } else {
        const decline = declineOf(parsed.responseCode);
        await g.db.query(
          `update ${table} set status = 'declined', outcome = 'declined', response_code = $2,
             decline_error_code = $3, decline_code = $4, decline_message = $5, next_attempt_at = null, updated_at = $6
           where id = $1 and status = 'sending'`,
          [id, parsed.responseCode, decline.code, decline.declineCode, decline.message, g.at()],
        );
      }
      return rowById(g, id);
    }
  }
  await g.db.query(`update ${table} set next_attempt_at = $2, updated_at = $3 where id = $1 and status = 'sending'`, [
    id,
    g.at(g.sweepDelayMs(row.attempts)),
    g.at(),
  ]);
  g.logger?.warn({ ...context, attempts: row.attempts }, 'a completion is not acknowledged yet; it will be repeated');
  return rowById(g, id);
}

/** A capture's repeat: the same reference must name the same authorization and amount. */
async function replayCapture(g: GatewayCore, input: CaptureInput, row: TransactionRow): Promise<CaptureOutcome> {
  const authorization = await rowById(g, row.original_id!);
  if (authorization.reference !== input.authorizationReference || row.amount !== input.amountMinor) {
    throw new AppError('conflict', {
      param: 'reference',
      message: 'The reference was already used for a capture with different parameters.',
      details: { reason: 'reference_reused', transactionId: row.id },
    });
  }
  return captureOutcomeOf(row);
}

/** The approved authorization a capture completes, locked; refuses one that cannot be captured for this amount. */
async function capturableAuthorization(tx: SqlExecutor, input: CaptureInput): Promise<TransactionRow> {
  const authorizations = await tx.query<TransactionRow>(
    `select * from ${table} where reference = $1 and kind = 'authorization' for update`,
    [input.authorizationReference],
  );
  const authorization = authorizations[0];
  if (authorization === undefined) {
    throw new AppError('not_found', {
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
  return authorization;
}

/** Records the 0220 (before it is sent) in one transaction with the authorization locked; null if one exists. */
async function recordCompletion(g: GatewayCore, input: CaptureInput): Promise<TransactionRow | null> {
  const stan = await nextStan(g);
  const id = newNetworkTransactionId();
  return g.db.transaction(async (tx) => {
    const authorization = await capturableAuthorization(tx, input);
    const transmittedAt = g.at();
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
        g.at(g.leaseMs),
        authorization.exp_month,
        authorization.exp_year,
      ],
    );
    return inserted[0] ?? null;
  });
}

export async function completeAuthorization(g: GatewayCore, input: CaptureInput): Promise<CaptureOutcome> {
  checkReference(input.reference, 'reference');
  checkReference(input.authorizationReference, 'authorization_reference');
  checkAmount(input.amountMinor);
  const existing = await rowByReference(g, input.reference, 'completion');
  if (existing !== null) return replayCapture(g, input, existing);
  const recorded = await recordCompletion(g, input);
  if (recorded === null) {
    const winner = await rowByReference(g, input.reference, 'completion');
    if (winner !== null) return replayCapture(g, input, winner);
    throw new AppError('conflict', {
      param: 'authorization_reference',
      message: 'This authorization was already captured.',
      details: { reason: 'authorization_already_captured' },
    });
  }
  const row = await deliverCompletion(g, recorded.id, g.completionAttemptsMax);
  return captureOutcomeOf(row);
}

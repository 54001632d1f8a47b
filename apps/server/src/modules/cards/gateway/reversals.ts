import { assert } from '../../../platform/errors.js';
import { buildReversalRequest, parseResponse } from './transformers.js';
import { type GatewayCore } from './core.js';
import { type CardFailureReason } from './types.js';
import { type TransactionRow, nextStan, rowById, table } from './repository.js';
import { revealCard, send, sleep } from './core.js';

/**
 * One 0400 for a row in reversal_pending: its own STAN, the original's RRN, amount and field 3.
 * 0410 00 (reversed) or 25 (the network never had it) confirm; anything else leaves the row for
 * a later attempt.
 */
export async function reverseOnce(g: GatewayCore, id: string): Promise<'reversed' | 'pending' | 'gone'> {
  let stan = await nextStan(g);
  const original = await rowById(g, id);
  // After the STAN sequence wraps, the next value can be the original's own: a reversal needs its own.
  if (stan === original.stan) stan = await nextStan(g);
  const claimed = await g.db.query<TransactionRow>(
    `update ${table} set reversal_attempts = reversal_attempts + 1, reversal_stan = $2,
       next_attempt_at = $3, updated_at = $4
     where id = $1 and status = 'reversal_pending' returning *`,
    [id, stan, g.at(g.leaseMs), g.at()],
  );
  const row = claimed[0];
  if (row === undefined) return 'gone';
  assert(row.kind !== 'completion', 'completions are repeated, never reversed');
  const context = { transactionId: row.id, rrn: row.rrn, reversalStan: stan };
  const card = await revealCard(g, row.card_id, context);
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
      transmittedAt: g.at(),
      transactionAt: row.transmitted_at,
      merchantAccountId: row.merchant_account_id,
      terminalId: row.terminal_id,
      acquirerId: row.acquirer_id,
      processingCode: row.processing_code,
      original: { mti: row.mti, stan: row.stan, transmittedAt: row.transmitted_at, acquirerId: row.acquirer_id },
    });
    const result = await send(g, message, context);
    if (result.kind === 'answered') {
      const parsed = parseResponse(message, result.response);
      if (parsed.valid) answerCode = parsed.responseCode;
      else g.logger?.warn({ ...context, reason: parsed.reason }, 'a reversal response does not match its request');
    }
  }
  if (answerCode === '00' || answerCode === '25') {
    const done = await g.db.query<{ id: string }>(
      `update ${table} set status = 'reversed', reversal_response_code = $2, next_attempt_at = null, updated_at = $3
       where id = $1 and status = 'reversal_pending' returning id`,
      [id, answerCode, g.at()],
    );
    g.logger?.info({ ...context, responseCode: answerCode }, 'card transaction reversed');
    return done.length === 1 ? 'reversed' : 'gone';
  }
  await g.db.query(
    `update ${table} set reversal_response_code = coalesce($2, reversal_response_code), next_attempt_at = $3,
       updated_at = $4
     where id = $1 and status = 'reversal_pending'`,
    [id, answerCode, g.at(g.sweepDelayMs(row.reversal_attempts)), g.at()],
  );
  g.logger?.warn(
    { ...context, responseCode: answerCode, reversalAttempts: row.reversal_attempts },
    'a reversal is not confirmed yet; it will be repeated',
  );
  return 'pending';
}

/** Up to attemptsMax reversals with a short backoff; the sweep repeats what is left. */
export async function reverse(
  g: GatewayCore,
  id: string,
  attemptsMax: number,
): Promise<'reversed' | 'pending' | 'gone'> {
  let result: 'reversed' | 'pending' | 'gone' = 'pending';
  for (let attempt = 0; attempt < attemptsMax; attempt += 1) {
    if (attempt > 0) await sleep(g.backoffMs(attempt - 1));
    result = await reverseOnce(g, id);
    if (result !== 'pending') break;
  }
  return result;
}

/**
 * The original's fate is unknown (timeout, garbled or mismatched answer): the caller's outcome is
 * failed, and the card transaction is reversed. Conditional on 'sending': if a sweep took the
 * row over meanwhile, it already decided.
 */
export async function failAndReverse(g: GatewayCore, id: string, reason: CardFailureReason): Promise<void> {
  const moved = await g.db.query<{ id: string }>(
    `update ${table} set status = 'reversal_pending', outcome = 'failed', failure_reason = $2,
       next_attempt_at = $3, updated_at = $4
     where id = $1 and status = 'sending' returning id`,
    [id, reason, g.at(g.leaseMs), g.at()],
  );
  if (moved.length === 1) await reverse(g, id, g.reversalAttemptsMax);
}

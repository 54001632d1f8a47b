import { AppError, assert } from '../../../platform/errors.js';
import {
  buildAuthorizationRequest,
  buildRefundRequest,
  buildSaleRequest,
  declineOf,
  parseResponse,
  type OriginalRequestInput,
} from './transformers.js';
import {
  type TransactionRow,
  failedDeclineOf,
  newNetworkTransactionId,
  nextRrnAndStan,
  outcomeOf,
  referenceState,
  rowById,
  rowByReference,
  table,
} from './repository.js';
import type { Iso8583Message } from '../iso8583/index.js';
import { checkCardTransactionInput, checkReference, send, sleep, type GatewayCore, type SendResult } from './core.js';
import { failAndReverse } from './reversals.js';
import { cardGatewayLimits as limits, type CardTransactionOutcome, type RefundInput } from './types.js';

export async function waitForOutcome(g: GatewayCore, row: TransactionRow): Promise<CardTransactionOutcome> {
  let current = row;
  const pollsMax = Math.ceil(g.leaseMs / limits.inFlightPollMs) + 1;
  for (let poll = 0; poll < pollsMax; poll += 1) {
    const outcome = outcomeOf(current);
    if (outcome !== null) return outcome;
    if (current.next_attempt_at !== null && current.next_attempt_at.getTime() <= g.now()) {
      // Its lease ran out: the process sending it died. Take it over as the sweep would.
      await failAndReverse(g, current.id, 'timeout');
    } else {
      await sleep(limits.inFlightPollMs);
    }
    current = await rowById(g, current.id);
  }
  const outcome = outcomeOf(current);
  if (outcome !== null) return outcome;
  throw new AppError('conflict', {
    message: 'A card transaction with this reference is still being sent. Retry in a few seconds.',
    details: { reason: 'in_progress', transactionId: current.id },
  });
}

export function sameRequest(row: TransactionRow, input: Omit<RefundInput, 'reference'>): boolean {
  return (
    row.card_id === input.cardId &&
    row.amount === input.amountMinor &&
    row.currency === input.currency &&
    row.merchant_account_id === input.merchantAccountId
  );
}

export async function replay(
  g: GatewayCore,
  row: TransactionRow,
  input: Omit<RefundInput, 'reference'>,
): Promise<CardTransactionOutcome> {
  if (!sameRequest(row, input)) {
    throw new AppError('conflict', {
      param: 'reference',
      message: `The reference was already used for a ${row.kind} with different parameters.`,
      details: { reason: 'reference_reused', transactionId: row.id },
    });
  }
  return waitForOutcome(g, row);
}

export function abandonedOutcome(): CardTransactionOutcome {
  return { status: 'failed', transactionId: '', reason: 'abandoned', decline: failedDeclineOf('abandoned') };
}

export async function resolveOriginal(
  g: GatewayCore,
  reference: string,
  kind: 'authorization' | 'sale' | 'refund',
): Promise<CardTransactionOutcome | null> {
  checkReference(reference, 'reference');
  const closed = await g.db.query(
    `insert into cards_gateway_references (reference, kind, state, created_at) values ($1, $2, 'closed', $3)
     on conflict (reference, kind) do nothing returning reference`,
    [reference, kind, g.at()],
  );
  if (closed.length === 1) {
    g.logger?.info({ reference, kind }, 'card transaction reference closed unsent by recovery');
    return abandonedOutcome();
  }
  if ((await referenceState(g, reference, kind)) === 'closed') return abandonedOutcome();
  const row = await rowByReference(g, reference, kind);
  assert(row !== null, 'a sent reference has its transaction row (written in one transaction)');
  if (row.next_attempt_at !== null && row.status === 'sending' && row.next_attempt_at.getTime() <= g.now()) {
    // Its sender's lease ran out: the process died mid-call. Reverse it, as the sweep would.
    await failAndReverse(g, row.id, 'timeout');
    return outcomeOf(await rowById(g, row.id));
  }
  return outcomeOf(row);
}

export async function sendOriginal(
  g: GatewayCore,
  kind: 'authorization' | 'sale' | 'refund',
  input: RefundInput & { authenticated?: boolean },
): Promise<CardTransactionOutcome> {
  checkCardTransactionInput(input);
  const existing = await rowByReference(g, input.reference, kind);
  if (existing !== null) return replay(g, existing, input);
  if ((await referenceState(g, input.reference, kind)) === 'closed') return abandonedOutcome();
  const prepared = await prepareOriginal(g, kind, input);
  const claim = await recordOriginal(g, kind, input, prepared);
  if (claim === 'closed') return abandonedOutcome();
  if (claim === 'taken') {
    // Another request with this reference won the insert: its row is the one.
    const winner = await rowByReference(g, input.reference, kind);
    assert(winner !== null, 'the conflicting row exists');
    return replay(g, winner, input);
  }
  const context = {
    transactionId: prepared.id,
    kind,
    reference: input.reference,
    rrn: prepared.rrn,
    stan: prepared.stan,
  };
  const result = await send(g, prepared.message, context);
  await settleOriginal(g, prepared, result, context);
  // Whatever was written above, or by a sweep that took the row over first, is the outcome.
  const outcome = outcomeOf(await rowById(g, prepared.id));
  assert(outcome !== null, 'a transaction has an outcome once its send is over');
  return outcome;
}

/** An original transaction ready to record and send: its ids and its message. */
interface PreparedOriginal {
  id: string;
  rrn: string;
  stan: string;
  transmittedAt: Date;
  message: Iso8583Message;
  expMonth: number;
  expYear: number;
}

async function prepareOriginal(
  g: GatewayCore,
  kind: 'authorization' | 'sale' | 'refund',
  input: RefundInput & { authenticated?: boolean },
): Promise<PreparedOriginal> {
  const card = await g.vault.reveal(input.cardId);
  const { rrn, stan } = await nextRrnAndStan(g);
  const transmittedAt = g.at();
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
    terminalId: g.terminalId,
    acquirerId: g.acquirerId,
    authenticated: input.authenticated === true,
  };
  const build = { authorization: buildAuthorizationRequest, sale: buildSaleRequest, refund: buildRefundRequest }[kind];
  return {
    id: newNetworkTransactionId(),
    rrn,
    stan,
    transmittedAt,
    message: build(messageInput),
    expMonth: messageInput.expMonth,
    expYear: messageInput.expYear,
  };
}

/**
 * The intent, committed before anything is sent: from here a crash leaves a row the sweep
 * reverses. The reference is taken in the same transaction: a recovery that closed it first wins
 * ('closed'); another sender that took it first wins ('taken').
 */
async function recordOriginal(
  g: GatewayCore,
  kind: 'authorization' | 'sale' | 'refund',
  input: RefundInput,
  prepared: PreparedOriginal,
): Promise<'recorded' | 'taken' | 'closed'> {
  const { id, rrn, stan, transmittedAt, message } = prepared;
  const inserted = await g.db.transaction(async (tx) => {
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
        g.acquirerId,
        g.terminalId,
        g.at(g.leaseMs),
        prepared.expMonth,
        prepared.expYear,
      ],
    );
  });
  if (inserted === null) return (await referenceState(g, input.reference, kind)) === 'closed' ? 'closed' : 'taken';
  if (inserted[0] === undefined) return 'taken';
  assert(inserted[0].amount === input.amountMinor && inserted[0].rrn === rrn, 'the stored row is the one sent');
  return 'recorded';
}

/** Writes what the network said (or reverses what it may have done), conditional on 'sending'. */
async function settleOriginal(
  g: GatewayCore,
  prepared: PreparedOriginal,
  result: SendResult,
  context: Record<string, unknown>,
): Promise<void> {
  const { id, message } = prepared;
  if (result.kind === 'not_sent') {
    await g.db.query(
      `update ${table} set status = 'failed', outcome = 'failed', failure_reason = 'network_unavailable',
         next_attempt_at = null, updated_at = $2
       where id = $1 and status = 'sending'`,
      [id, g.at()],
    );
    return;
  }
  if (result.kind === 'unknown') {
    g.logger?.warn({ ...context, reason: result.reason }, 'no answer from the card network; reversing');
    await failAndReverse(g, id, result.reason);
    return;
  }
  const parsed = parseResponse(message, result.response);
  if (!parsed.valid) {
    g.logger?.warn(
      { ...context, reason: parsed.reason, fields: parsed.mismatchedFields },
      'the card network answer does not match the request; reversing',
    );
    await failAndReverse(g, id, 'response_invalid');
  } else if (parsed.approved) {
    await g.db.query(
      `update ${table} set status = 'approved', outcome = 'approved', response_code = $2, auth_code = $3,
         next_attempt_at = null, updated_at = $4
       where id = $1 and status = 'sending'`,
      [id, parsed.responseCode, parsed.authCode, g.at()],
    );
  } else {
    const decline = declineOf(parsed.responseCode);
    await g.db.query(
      `update ${table} set status = 'declined', outcome = 'declined', response_code = $2, auth_code = $3,
         decline_error_code = $4, decline_code = $5, decline_message = $6, next_attempt_at = null, updated_at = $7
       where id = $1 and status = 'sending'`,
      [id, parsed.responseCode, parsed.authCode, decline.code, decline.declineCode, decline.message, g.at()],
    );
  }
}

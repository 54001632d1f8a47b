import { assert } from '../../../platform/errors.js';
import { newObjectId } from '../../../platform/ids.js';
import { rrnOf, stanOf, type Decline, type ProcessingCode } from './transformers.js';
import type {
  CardFailureReason,
  CardNetworkTransaction,
  CardTransactionKind,
  CardTransactionOutcome,
  CaptureOutcome,
  CardTransactionStatus,
  FailedDecline,
} from './types.js';
import type { GatewayCore } from './core.js';

/** The gateway's table: rows, their mapping to outcomes, and the queries by id and reference. */

export interface TransactionRow {
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

export const table = 'cards_network_transactions';
/** A new transaction id: 'ntx_' and 22 base62 characters (at least 128 random bits). */
export function newNetworkTransactionId(): string {
  return newObjectId('ntx');
}

export function failedDeclineOf(reason: CardFailureReason): FailedDecline {
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

export function declineFromRow(row: TransactionRow): Decline | null {
  if (row.decline_error_code === null || row.decline_code === null || row.decline_message === null) return null;
  return { code: row.decline_error_code, declineCode: row.decline_code, message: row.decline_message };
}

export function toTransaction(row: TransactionRow): CardNetworkTransaction {
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
export function outcomeOf(row: TransactionRow): CardTransactionOutcome | null {
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

export function captureOutcomeOf(row: TransactionRow): CaptureOutcome {
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

export async function nextStan(g: GatewayCore): Promise<string> {
  const rows = await g.db.query<{ value: bigint }>(`select nextval('cards_network_stan_seq') as value`);
  assert(rows[0] !== undefined, 'nextval returns a row');
  return stanOf(BigInt(rows[0].value));
}

export async function nextRrnAndStan(g: GatewayCore): Promise<{ rrn: string; stan: string }> {
  const rows = await g.db.query<{ rrn: bigint; stan: bigint }>(
    `select nextval('cards_network_rrn_seq') as rrn, nextval('cards_network_stan_seq') as stan`,
  );
  assert(rows[0] !== undefined, 'nextval returns a row');
  return { rrn: rrnOf(BigInt(rows[0].rrn)), stan: stanOf(BigInt(rows[0].stan)) };
}

export async function rowById(g: GatewayCore, id: string): Promise<TransactionRow> {
  const rows = await g.db.query<TransactionRow>(`select * from ${table} where id = $1`, [id]);
  assert(rows[0] !== undefined, 'a transaction row is never deleted');
  return rows[0];
}

export async function rowByReference(
  g: GatewayCore,
  reference: string,
  kind: CardTransactionKind,
): Promise<TransactionRow | null> {
  const rows = await g.db.query<TransactionRow>(`select * from ${table} where reference = $1 and kind = $2`, [
    reference,
    kind,
  ]);
  return rows[0] ?? null;
}

export async function referenceState(
  g: GatewayCore,
  reference: string,
  kind: string,
): Promise<'sent' | 'closed' | null> {
  const rows = await g.db.query<{ state: 'sent' | 'closed' }>(
    'select state from cards_gateway_references where reference = $1 and kind = $2',
    [reference, kind],
  );
  return rows[0]?.state ?? null;
}

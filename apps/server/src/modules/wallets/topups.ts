import { AppError, assert } from '../../platform/errors.js';
import {
  recordedFailure,
  requestHash,
  type IdempotentAttempt,
  type IdempotentOutcome,
} from '../../platform/idempotency.js';
import { transferIdFrom, type TransferResult, type TransferResultCode } from '../ledger/index.js';
import type { CardOutcome } from '../cards/index.js';
import { transferCodes, type WalletsCore } from './core.js';
import * as repo from './repository.js';
import { balanceCapOf } from './transfers.js';
import { toWire } from './wire.js';

/**
 * Top-ups, in three phases (docs/crash-safety.md):
 * 1. claim: the source is checked (an unknown source, or another user's saved card, is refused
 *    before anything is written), then the history row is written pending, named after the
 *    idempotency key, with its planned ledger transfer id;
 * 2. the money: a test source credits the wallet with one transfer; a saved card first reserves
 *    the credit in the ledger (a pending transfer, so the wallet's balance cap holds under the
 *    ledger's lock), then charges the card through the card network, then posts or voids the
 *    reservation;
 * 3. finish (one transaction): the row's outcome and the notification.
 * A retry with the same key, or the recovery sweep, continues a pending row: the ledger answers
 * the same for the same ids, and the card network's record (the gateway) gives the card's outcome,
 * closing a card attempt that was never sent so that it never will be.
 */

export interface TopupRequest {
  amountMinor: bigint;
  currency: string;
  source: string;
}

/** Test funding sources for top-ups, behaving as Stripe's test tokens do. */
export const testSources: Readonly<Record<string, 'ok' | 'card_declined' | 'insufficient_funds'>> = {
  tok_visa: 'ok',
  tok_mastercard: 'ok',
  tok_chargeDeclined: 'card_declined',
  tok_insufficientFunds: 'insufficient_funds',
};

/** Card decline codes a failed top-up answers with (each is a code of the error catalog). */
const cardFailureCodes = new Set([
  'card_declined',
  'expired_card',
  'incorrect_cvc',
  'incorrect_number',
  'processing_error',
  'authentication_required',
] as const);
type CardFailureCode = typeof cardFailureCodes extends Set<infer T> ? T : never;

type CardStep = 'send' | 'resolve';

/** How a top-up ended, with the card's own answer when this attempt has it. */
interface TopupResult {
  row: repo.WalletTransaction;
  card: CardOutcome | null;
}

export async function topup(
  core: WalletsCore,
  userId: string,
  idempotencyKey: string,
  request: TopupRequest,
): Promise<IdempotentOutcome> {
  return core.idempotency.run(
    { scope: `wallet:${userId}:topups`, key: idempotencyKey, requestHash: requestHash(request) },
    async (attempt) => {
      const id = repo.digestId('txn', userId, attempt.call.key, 'topup');
      if ((await repo.transactionById(core.db, id)) === null) {
        await claimTopup(core, userId, attempt, request, id);
      }
      return answerFor(await continueTopup(core, id, 'send'));
    },
  );
}

function answerFor(result: TopupResult): { status: number; body: unknown } {
  const { row, card } = result;
  if (row.status === 'succeeded') return { status: 201, body: toWire(row) };
  assert(row.status === 'failed', 'a top-up request ends with an outcome');
  const failureCode = row.failureCode ?? 'processing_error';
  if (card !== null && !card.approved) {
    const code: CardFailureCode = cardFailureCodes.has(card.code as CardFailureCode)
      ? (card.code as CardFailureCode)
      : 'card_declined';
    throw recordedFailure(
      new AppError(code, {
        message: card.message,
        param: 'source',
        details: { transaction: row.id, decline_code: failureCode },
      }),
    );
  }
  if (failureCode === 'limit_exceeded') {
    throw recordedFailure(
      new AppError('limit_exceeded', {
        message: 'This top-up would take the wallet over the balance limit of its verification tier.',
        details: { transaction: row.id, limit: 'balance' },
      }),
    );
  }
  const code: CardFailureCode | 'insufficient_funds' =
    failureCode === 'insufficient_funds'
      ? 'insufficient_funds'
      : cardFailureCodes.has(failureCode as CardFailureCode)
        ? (failureCode as CardFailureCode)
        : 'card_declined';
  throw recordedFailure(new AppError(code, { param: 'source', details: { transaction: row.id } }));
}

function isCardSource(core: WalletsCore, source: string): boolean {
  return core.cardFunding?.isCardSource(source) === true;
}

async function claimTopup(
  core: WalletsCore,
  userId: string,
  attempt: IdempotentAttempt,
  request: TopupRequest,
  id: string,
): Promise<void> {
  const key = attempt.call.key;
  core.checkAmount(request.amountMinor, request.currency);
  if (isCardSource(core, request.source)) {
    // Another user's card, or an unknown one: refused here, before any row is written.
    await core.cardFunding!.checkSource(userId, request.source);
  } else if (!core.testTopupsEnabled || testSources[request.source] === undefined) {
    throw new AppError('invalid_request', {
      message: core.testTopupsEnabled
        ? `Unknown funding source. Test sources: ${Object.keys(testSources).join(', ')}.`
        : 'Top-ups from this source are not available.',
      param: 'source',
    });
  }
  await checkOwnCap(core, userId, request.currency, request.amountMinor);
  await core.walletAccount(userId, request.currency);
  await core.db.transaction(async (tx) => {
    await core.idempotency.recordPoint(tx, attempt.call, 'topup_claimed', { transaction: id });
    await repo.insertTransaction(tx, {
      id,
      userId,
      type: 'topup',
      status: 'pending',
      amountMinor: request.amountMinor,
      currency: request.currency,
      source: request.source,
      reference: repo.digestId('top', userId, key),
      ledgerTransferId: transferIdFrom('wallets.topup', `${userId}:${key}`),
      createdAt: core.now(),
    });
  });
}

/** An early, friendly refusal; the binding check is the ledger's (creditBalanceMaxMinor). */
async function checkOwnCap(core: WalletsCore, userId: string, currency: string, amountMinor: bigint) {
  const cap = await balanceCapOf(core, userId, currency);
  if (cap === null) return;
  const [account] = await core.ledger.lookupAccounts([await core.walletAccount(userId, currency)]);
  const balance =
    account === undefined ? 0n : account.creditsPostedMinor + account.creditsPendingMinor - account.debitsPostedMinor;
  if (balance + amountMinor > cap) {
    throw new AppError('limit_exceeded', {
      message: 'This top-up would take the wallet over the balance limit of its verification tier.',
      details: { limit: 'balance', limit_amount: Number(cap) },
    });
  }
}

/** Phases 2 and 3 of a top-up row; a finished row is returned as it is. */
export async function continueTopup(core: WalletsCore, id: string, step: CardStep): Promise<TopupResult> {
  const row = await repo.transactionById(core.db, id);
  assert(row !== null && row.type === 'topup' && row.source !== null, 'a claimed top-up has its row');
  if (row.status !== 'pending') return { row, card: null };
  assert(row.ledgerTransferId !== null, 'a pending top-up has its planned transfer');
  const [walletId, cap] = await Promise.all([
    core.walletAccount(row.userId, row.currency),
    balanceCapOf(core, row.userId, row.currency),
  ]);
  const credit = {
    id: row.ledgerTransferId,
    creditAccountId: walletId,
    amountMinor: row.amountMinor,
    currency: row.currency,
    code: transferCodes.topup,
    metadata: { reference: row.reference, source: row.source },
    ...(cap === null ? {} : { creditBalanceMaxMinor: cap }),
  };
  if (!isCardSource(core, row.source)) {
    const outcome = testSources[row.source];
    if (outcome !== 'ok') return { row: await finish(core, row, outcome ?? 'processing_error'), card: null };
    const clearingId = await core.topupClearingAccount(row.currency);
    const [result] = await core.ledger.submitTransfers([{ ...credit, debitAccountId: clearingId }]);
    const failure = await failureOf(core, result);
    return { row: await finish(core, row, failure), card: null };
  }
  // A saved card: reserve the credit first (the cap holds), then charge, then post or void.
  const clearingId = await core.cardFunding!.clearingAccount(row.currency);
  const [reserved] = await core.ledger.submitTransfers([
    { ...credit, debitAccountId: clearingId, phase: 'pending', timeoutS: 0 },
  ]);
  const refused = await failureOf(core, reserved);
  if (refused !== null) return { row: await finish(core, row, refused), card: null };
  const card = await cardOutcome(core, row, step);
  if (card === null) return { row, card: null };
  const [resolved] = await core.ledger.submitTransfers([
    {
      id: transferIdFrom(card.approved ? 'wallets.topup_post' : 'wallets.topup_void', row.ledgerTransferId),
      phase: card.approved ? 'post_pending' : 'void_pending',
      pendingId: row.ledgerTransferId,
      code: transferCodes.topup,
    },
  ]);
  assert(resolved?.result === 'ok' || resolved?.result === 'exists', `top-up reservation: ${resolved?.result}`);
  const failureCode = card.approved ? null : (card.declineCode ?? card.code);
  return { row: await finish(core, row, failureCode), card };
}

async function cardOutcome(
  core: WalletsCore,
  row: repo.WalletTransaction,
  step: CardStep,
): Promise<CardOutcome | null> {
  const funding = core.cardFunding!;
  if (step === 'resolve') return funding.resolve(row.id);
  try {
    return await funding.charge({
      userId: row.userId,
      source: row.source!,
      reference: row.id,
      amountMinor: row.amountMinor,
      currency: row.currency,
    });
  } catch (error) {
    // Nothing reached the network (the gateway records before it sends): close the attempt.
    const resolved = await funding.resolve(row.id);
    if (resolved === null) throw error;
    return resolved;
  }
}

async function failureOf(core: WalletsCore, result: TransferResult | undefined): Promise<string | null> {
  assert(result !== undefined, 'one result per transfer');
  if (result.result === 'ok' || result.result === 'exists') return null;
  let code: TransferResultCode = result.result;
  if (code === 'id_already_failed') code = (await core.ledger.lookupFailures([result.id])).get(result.id) ?? code;
  if (code === 'exceeds_balance_max') return 'limit_exceeded';
  if (code === 'account_closed') return 'wallet_frozen';
  throw new Error(`unexpected ledger result on a top-up: ${code}`);
}

async function finish(
  core: WalletsCore,
  row: repo.WalletTransaction,
  failureCode: string | null,
): Promise<repo.WalletTransaction> {
  await core.db.transaction(async (tx) => {
    const finished = await repo.finishTransaction(
      tx,
      row.id,
      failureCode === null ? { status: 'succeeded', failureCode: null } : { status: 'failed', failureCode },
    );
    if (finished === null || failureCode !== null) return;
    await core.notifications.write(tx, {
      userId: row.userId,
      type: 'topup.succeeded',
      data: { amount: Number(row.amountMinor), currency: row.currency, transaction: row.id },
    });
  });
  const after = await repo.transactionById(core.db, row.id);
  assert(after !== null, 'the top-up row exists');
  return after;
}

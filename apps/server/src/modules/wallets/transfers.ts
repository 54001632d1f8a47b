import { AppError, assert } from '../../platform/errors.js';
import {
  recordedFailure,
  requestHash,
  type IdempotentAttempt,
  type IdempotentOutcome,
} from '../../platform/idempotency.js';
import { transferIdFrom, type TransferResultCode } from '../ledger/index.js';
import { maskPhone } from '../identity/index.js';
import { transferCodes, type WalletsCore } from './core.js';
import * as repo from './repository.js';
import { findRecipient } from './recipients.js';
import { toWire } from './wire.js';

/**
 * P2P transfers, in three phases (docs/crash-safety.md):
 * 1. claim (one transaction): the sender's history row is written pending, named after the
 *    idempotency key, with the planned ledger transfer id and the limit periods; the amount is
 *    counted against the sender's limits only when that row is new (a retry does not count twice);
 * 2. the ledger moves the money (the transfer's id derives from the key; the recipient's balance
 *    cap is a condition of the transfer, checked under the ledger's lock);
 * 3. finish (one transaction): the sender's row, the recipient's row and both notifications, or,
 *    when the ledger refused, the failure and the limits given back.
 * A retry with the same key finds the row and continues from it; the recovery sweep does the same
 * for rows a crash left pending.
 */

export interface TransferRequest {
  /** A phone, an email, a usr_ id, or one of the sender's recent recipients (rcp_…). */
  to: string;
  amountMinor: bigint;
  currency: string;
  note: string | null;
  pin: string;
}

export async function transfer(
  core: WalletsCore,
  senderId: string,
  idempotencyKey: string,
  request: TransferRequest,
): Promise<IdempotentOutcome> {
  const { pin: _pin, ...parameters } = request;
  return core.idempotency.run(
    { scope: `wallet:${senderId}:transfers`, key: idempotencyKey, requestHash: requestHash(parameters) },
    (attempt) => runTransfer(core, senderId, attempt, request),
  );
}

async function runTransfer(
  core: WalletsCore,
  senderId: string,
  attempt: IdempotentAttempt,
  request: TransferRequest,
): Promise<{ status: number; body: unknown }> {
  const key = attempt.call.key;
  const sentId = repo.digestId('txn', senderId, key, 'sent');
  const existing = await repo.transactionById(core.db, sentId);
  if (existing === null) {
    await claimTransfer(core, senderId, attempt, request, sentId);
  }
  const finished = await continueTransfer(core, sentId);
  return answerFor(finished);
}

/** A finished (or still pending) sent row as the request's answer: 201, or the recorded failure. */
function answerFor(sent: repo.WalletTransaction): { status: number; body: unknown } {
  if (sent.status === 'failed') {
    const code = sent.failureCode === 'limit_exceeded' ? 'limit_exceeded' : failureCodeOf(sent.failureCode);
    throw recordedFailure(
      new AppError(code, {
        ...(code === 'limit_exceeded'
          ? { message: "This payment would take the recipient's wallet over its balance limit." }
          : {}),
        details: { transaction: sent.id, ...(code === 'limit_exceeded' ? { limit: 'recipient_balance' } : {}) },
      }),
    );
  }
  return { status: 201, body: toWire(sent) };
}

function failureCodeOf(code: string | null): 'insufficient_funds' | 'wallet_frozen' {
  return code === 'wallet_frozen' ? 'wallet_frozen' : 'insufficient_funds';
}

async function claimTransfer(
  core: WalletsCore,
  senderId: string,
  attempt: IdempotentAttempt,
  request: TransferRequest,
  sentId: string,
): Promise<void> {
  const key = attempt.call.key;
  core.checkAmount(request.amountMinor, request.currency);
  const sender = await repo.profileOf(core.db, senderId);
  if (sender.frozen) throw new AppError('wallet_frozen');
  const recipient = await findRecipient(core, senderId, request.to, 'to', { userIds: true });
  if (recipient.id === senderId) throw new AppError('recipient_is_sender', { param: 'to' });
  await core.identity.verifyPaymentPin(senderId, request.pin);
  await checkRecipientCap(core, recipient.id, request.currency, request.amountMinor);
  // Both accounts exist before the money moves (created on first use, outside any transaction).
  await Promise.all([
    core.walletAccount(senderId, request.currency),
    core.walletAccount(recipient.id, request.currency),
  ]);
  const createdAt = core.now();
  const periods = { day: repo.utcDay(createdAt), month: repo.utcMonthStart(createdAt) };
  await core.db.transaction(async (tx) => {
    const inserted = await repo.insertTransaction(tx, {
      id: sentId,
      userId: senderId,
      type: 'p2p_sent',
      status: 'pending',
      amountMinor: request.amountMinor,
      currency: request.currency,
      counterpartyUserId: recipient.id,
      counterpartyName: recipient.name,
      note: request.note,
      reference: repo.digestId('p2p', senderId, key),
      ledgerTransferId: transferIdFrom('wallets.p2p', `${senderId}:${key}`),
      limitPeriods: periods,
      createdAt,
    });
    if (!inserted) return;
    await repo.reserveLimits(tx, {
      userId: senderId,
      currency: request.currency,
      amountMinor: request.amountMinor,
      limits: core.tierLimits(request.currency, sender.kycTier),
      periods,
    });
    await core.idempotency.recordPoint(tx, attempt.call, 'transfer_claimed', { transaction: sentId });
  });
}

/** An early, friendly refusal; the binding check is the ledger's (creditBalanceMaxMinor). */
async function checkRecipientCap(core: WalletsCore, recipientId: string, currency: string, amountMinor: bigint) {
  const cap = await balanceCapOf(core, recipientId, currency);
  if (cap === null) return;
  const [account] = await core.ledger.lookupAccounts([await core.walletAccount(recipientId, currency)]);
  const balance =
    account === undefined ? 0n : account.creditsPostedMinor + account.creditsPendingMinor - account.debitsPostedMinor;
  if (balance + amountMinor > cap) throw recipientCapError(cap);
}

function recipientCapError(cap: bigint): AppError {
  return new AppError('limit_exceeded', {
    message: "This payment would take the recipient's wallet over its balance limit.",
    details: { limit: 'recipient_balance', limit_amount: Number(cap) },
  });
}

/** The balance cap of the user's verification tier in a currency; null: none. */
export async function balanceCapOf(core: WalletsCore, userId: string, currency: string): Promise<bigint | null> {
  const profile = await repo.profileOf(core.db, userId);
  return core.tierLimits(currency, profile.kycTier).balanceMax;
}

/** Phases 2 and 3 of a sent row (a retry or the recovery sweep); a finished row is returned as it is. */
export async function continueTransfer(core: WalletsCore, sentId: string): Promise<repo.WalletTransaction> {
  const sent = await repo.transactionById(core.db, sentId);
  assert(sent !== null && sent.type === 'p2p_sent', 'a claimed transfer has its sent row');
  if (sent.status !== 'pending') return sent;
  const recipientId = sent.counterpartyUserId;
  assert(recipientId !== null && sent.ledgerTransferId !== null, 'a pending transfer names its recipient and transfer');
  const [fromAccount, toAccount, cap] = await Promise.all([
    core.walletAccount(sent.userId, sent.currency),
    core.walletAccount(recipientId, sent.currency),
    balanceCapOf(core, recipientId, sent.currency),
  ]);
  const [result] = await core.ledger.submitTransfers([
    {
      id: sent.ledgerTransferId,
      debitAccountId: fromAccount,
      creditAccountId: toAccount,
      amountMinor: sent.amountMinor,
      currency: sent.currency,
      code: transferCodes.p2p,
      metadata: { reference: sent.reference },
      ...(cap === null ? {} : { creditBalanceMaxMinor: cap }),
    },
  ]);
  assert(result !== undefined, 'one result per transfer');
  if (result.result === 'ok' || result.result === 'exists') return finishSucceeded(core, sent, recipientId);
  const code =
    result.result === 'id_already_failed'
      ? ((await core.ledger.lookupFailures([sent.ledgerTransferId])).get(sent.ledgerTransferId) ?? result.result)
      : result.result;
  return finishFailed(core, sent, failureOf(code));
}

function failureOf(code: TransferResultCode): string {
  switch (code) {
    case 'exceeds_credits':
      return 'insufficient_funds';
    case 'account_closed':
      return 'wallet_frozen';
    case 'exceeds_balance_max':
      return 'limit_exceeded';
    default:
      // Anything else means our own accounts are wrong: a bug, not the customer's doing.
      throw new Error(`unexpected ledger result ${code}`);
  }
}

async function finishSucceeded(
  core: WalletsCore,
  sent: repo.WalletTransaction,
  recipientId: string,
): Promise<repo.WalletTransaction> {
  const [sender, recipient] = await Promise.all([
    core.identity.getUser(sent.userId),
    core.identity.getUser(recipientId),
  ]);
  assert(sender !== null, 'a sender exists');
  await core.db.transaction(async (tx) => {
    const finished = await repo.finishTransaction(tx, sent.id, { status: 'succeeded', failureCode: null });
    if (finished === null) return;
    const receivedId = receivedIdOf(sent);
    await repo.insertTransaction(tx, {
      id: receivedId,
      userId: recipientId,
      type: 'p2p_received',
      status: 'succeeded',
      amountMinor: sent.amountMinor,
      currency: sent.currency,
      counterpartyUserId: sent.userId,
      counterpartyName: sender.name,
      note: sent.note,
      reference: sent.reference,
      ledgerTransferId: sent.ledgerTransferId,
      createdAt: sent.createdAt,
    });
    const money = { amount: Number(sent.amountMinor), currency: sent.currency };
    await core.notifications.write(tx, {
      userId: recipientId,
      type: 'money.received',
      // Who sent it, as the recipient's toast says: the name and the phone with its middle hidden.
      data: {
        ...money,
        transaction: receivedId,
        from: sender.name,
        from_phone: sender.phone === null ? null : maskPhone(sender.phone),
      },
    });
    await core.notifications.write(tx, {
      userId: sent.userId,
      type: 'payment.made',
      data: { ...money, transaction: sent.id, to: recipient?.name ?? sent.counterpartyName ?? '' },
    });
  });
  const after = await repo.transactionById(core.db, sent.id);
  assert(after !== null, 'the sent row exists');
  return after;
}

/** The recipient's row is named after the sender's: one per transfer, found again by a retry. */
function receivedIdOf(sent: repo.WalletTransaction): string {
  return repo.digestId('txn', sent.id, 'received');
}

async function finishFailed(
  core: WalletsCore,
  sent: repo.WalletTransaction,
  failureCode: string,
): Promise<repo.WalletTransaction> {
  await core.db.transaction(async (tx) => {
    const finished = await repo.finishTransaction(tx, sent.id, { status: 'failed', failureCode });
    if (finished === null || finished.limitPeriods === null) return;
    await repo.releaseLimits(tx, {
      userId: sent.userId,
      currency: sent.currency,
      amountMinor: sent.amountMinor,
      periods: finished.limitPeriods,
    });
  });
  const after = await repo.transactionById(core.db, sent.id);
  assert(after !== null, 'the sent row exists');
  return after;
}

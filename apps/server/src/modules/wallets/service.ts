import { createHash } from 'node:crypto';
import type { Db, SqlExecutor } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import {
  recordedFailure,
  requestHash,
  type IdempotencyStore,
  type IdempotentOutcome,
} from '../../platform/idempotency.js';
import { currencyInfo } from '../../platform/money.js';
import type { NotificationWriter } from '../events/types.js';
import { transferIdFrom, type Ledger, type TransferResultCode } from '../ledger/index.js';
import type { KycTier, TierLimits, WalletLimitsTable } from './tiers.js';
import { toWire } from './wire.js';

/** What wallets need to know about a person (the identity context provides it). */
export interface WalletUser {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
}

export interface WalletIdentity {
  verifyPaymentPin(userId: string, pin: string): Promise<void>;
  findUserByLogin(login: string): Promise<WalletUser | null>;
  getUser(id: string): Promise<WalletUser | null>;
  listUsers(options: { limit: number; startingAfter?: string }): Promise<{ data: WalletUser[]; hasMore: boolean }>;
}

/** Ledger account codes (kinds) and transfer codes the wallets context uses. */
export const walletAccountCode = 1;
export const topupClearingAccountCode = 100;
export const transferCodes = { topup: 1001, p2p: 1002 } as const;

export const walletLimits = {
  noteLengthMax: 140,
  historyPageMax: 100,
  csvRowsMax: 10_000,
  adminPageMax: 100,
} as const;

export type TransactionType = 'topup' | 'p2p_sent' | 'p2p_received' | 'payment' | 'refund';
export type TransactionStatus = 'pending' | 'succeeded' | 'failed';

export interface WalletTransaction {
  id: string;
  userId: string;
  type: TransactionType;
  status: TransactionStatus;
  amountMinor: bigint;
  currency: string;
  feeMinor: bigint;
  counterpartyUserId: string | null;
  counterpartyName: string | null;
  note: string | null;
  source: string | null;
  failureCode: string | null;
  reference: string;
  createdAt: Date;
}

/** A payment's hold on a wallet: what completePayment needs to finish or undo it. */
export interface PaymentAuthorization {
  userId: string;
  transactionId: string;
  periods: { day: string; month: string };
  amountMinor: bigint;
  currency: string;
}

export interface Balance {
  currency: string;
  availableMinor: bigint;
  pendingMinor: bigint;
}

export interface WalletProfile {
  userId: string;
  kycTier: KycTier;
  frozen: boolean;
}

/** Test funding sources for top-ups, behaving as Stripe's test tokens do. */
const testSources: Record<string, 'ok' | 'card_declined' | 'insufficient_funds'> = {
  tok_visa: 'ok',
  tok_mastercard: 'ok',
  tok_chargeDeclined: 'card_declined',
  tok_insufficientFunds: 'insufficient_funds',
};

function digestId(prefix: string, ...parts: string[]): string {
  return `${prefix}_${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)}`;
}

function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function utcMonthStart(date: Date): string {
  return `${date.toISOString().slice(0, 7)}-01`;
}

interface TransactionRow {
  id: string;
  user_id: string;
  type: TransactionType;
  status: TransactionStatus;
  amount: bigint;
  currency: string;
  fee: bigint;
  counterparty_user_id: string | null;
  counterparty_name: string | null;
  note: string | null;
  source: string | null;
  failure_code: string | null;
  reference: string;
  created_at: Date;
}

function transactionFromRow(row: TransactionRow): WalletTransaction {
  return {
    id: row.id,
    userId: row.user_id,
    type: row.type,
    status: row.status,
    amountMinor: row.amount,
    currency: row.currency,
    feeMinor: row.fee,
    counterpartyUserId: row.counterparty_user_id,
    counterpartyName: row.counterparty_name,
    note: row.note,
    source: row.source,
    failureCode: row.failure_code,
    reference: row.reference,
    createdAt: row.created_at,
  };
}

const transactionColumns =
  'id, user_id, type, status, amount, currency, fee, counterparty_user_id, counterparty_name, note, source, failure_code, reference, created_at';

export interface TransferRequest {
  to: string;
  amountMinor: bigint;
  currency: string;
  note: string | null;
  pin: string;
}

export interface TopupRequest {
  amountMinor: bigint;
  currency: string;
  source: string;
}

export interface HistoryFilter {
  type?: TransactionType;
  status?: TransactionStatus;
  createdFrom?: Date;
  createdTo?: Date;
}

export interface WalletServiceDeps {
  db: Db;
  ledger: Ledger;
  identity: WalletIdentity;
  notifications: NotificationWriter;
  idempotency: IdempotencyStore;
  limits: WalletLimitsTable;
  /** Accept Stripe-style test tokens as top-up sources (until top-ups go through the card gateway). */
  testTopupsEnabled: boolean;
  /** Top-ups from saved cards (the cards context); absent: only test sources. */
  cardFunding?: WalletCardFunding;
  now?: () => Date;
}

/** What the card network answered for a top-up. */
export type CardFundingOutcome =
  { approved: true } | { approved: false; code: string; declineCode: string | null; message: string };

/** Top-ups from a user's saved cards, through the card gateway. */
export interface WalletCardFunding {
  /** Whether a top-up source names a saved card (wc_…). */
  isCardSource(source: string): boolean;
  /** Charges the saved card (a network call: no transaction is open). Idempotent by reference. */
  charge(input: {
    userId: string;
    source: string;
    reference: string;
    amountMinor: bigint;
    currency: string;
  }): Promise<CardFundingOutcome>;
  /** The ledger account card money comes in through (the card network clearing account). */
  clearingAccount(currency: string): Promise<string>;
}

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

export type WalletService = ReturnType<typeof createWalletService>;

export function createWalletService(deps: WalletServiceDeps) {
  const { db, ledger, identity, notifications, idempotency } = deps;
  const now = deps.now ?? (() => new Date());

  function tierLimits(currency: string, tier: KycTier): TierLimits {
    const table = deps.limits.get(currency);
    if (table === undefined) throw new AppError('currency_unsupported', { param: 'currency' });
    return table[tier];
  }

  async function profile(userId: string, executor: SqlExecutor = db): Promise<WalletProfile> {
    await executor.query(`insert into wallets_profiles (user_id) values ($1) on conflict (user_id) do nothing`, [
      userId,
    ]);
    const rows = await executor.query<{ kyc_tier: number; frozen: boolean }>(
      'select kyc_tier, frozen from wallets_profiles where user_id = $1',
      [userId],
    );
    const row = rows[0];
    assert(row !== undefined, 'a profile exists after its upsert');
    return { userId, kycTier: row.kyc_tier as KycTier, frozen: row.frozen };
  }

  /** The wallet's ledger account in a currency, created on first use (idempotent). */
  async function walletAccount(userId: string, currency: string): Promise<string> {
    const ledgerAccountId = transferIdFrom('wallets.account', `${userId}:${currency}`);
    const existing = await db.query<{ ledger_account_id: string }>(
      'select ledger_account_id from wallets_accounts where user_id = $1 and currency = $2',
      [userId, currency],
    );
    if (existing.length === 1) return existing[0]!.ledger_account_id;
    const [result] = await ledger.createAccounts([
      {
        id: ledgerAccountId,
        currency,
        code: walletAccountCode,
        flags: { debitsMustNotExceedCredits: true },
        metadata: { user_id: userId },
      },
    ]);
    assert(result?.result === 'ok' || result?.result === 'exists', `wallet ledger account: ${result?.result}`);
    await db.query(
      `insert into wallets_accounts (user_id, currency, ledger_account_id) values ($1, $2, $3)
       on conflict (user_id, currency) do nothing`,
      [userId, currency, ledgerAccountId],
    );
    return ledgerAccountId;
  }

  async function topupClearingAccount(currency: string): Promise<string> {
    const id = transferIdFrom('wallets.system', `topup_clearing:${currency}`);
    const [result] = await ledger.createAccounts([
      { id, currency, code: topupClearingAccountCode, metadata: { purpose: 'topup_clearing' } },
    ]);
    assert(result?.result === 'ok' || result?.result === 'exists', `clearing account: ${result?.result}`);
    return id;
  }

  async function balances(userId: string): Promise<Balance[]> {
    const rows = await db.query<{ currency: string; ledger_account_id: string }>(
      'select currency, ledger_account_id from wallets_accounts where user_id = $1 order by currency',
      [userId],
    );
    if (rows.length === 0) return [];
    const accounts = new Map(
      (await ledger.lookupAccounts(rows.map((row) => row.ledger_account_id))).map((account) => [account.id, account]),
    );
    return rows.map((row) => {
      const account = accounts.get(row.ledger_account_id);
      assert(account !== undefined, 'a wallet account exists in the ledger');
      return {
        currency: row.currency,
        availableMinor: account.creditsPostedMinor - account.debitsPostedMinor - account.debitsPendingMinor,
        pendingMinor: account.creditsPendingMinor,
      };
    });
  }

  async function balanceIn(userId: string, currency: string): Promise<bigint> {
    return (await balances(userId)).find((balance) => balance.currency === currency)?.availableMinor ?? 0n;
  }

  function checkAmount(amountMinor: bigint, currency: string): void {
    if (currencyInfo(currency) === undefined || !deps.limits.has(currency)) {
      throw new AppError('currency_unsupported', { param: 'currency' });
    }
    if (amountMinor <= 0n)
      throw new AppError('invalid_request', { message: 'amount must be positive', param: 'amount' });
  }

  /** Refuses an inflow that would take the wallet over its tier's balance cap. */
  async function checkBalanceCap(userId: string, currency: string, amountMinor: bigint, who: 'self' | 'recipient') {
    const { kycTier } = await profile(userId);
    const cap = tierLimits(currency, kycTier).balanceMax;
    if (cap === null) return;
    if ((await balanceIn(userId, currency)) + amountMinor > cap) {
      throw new AppError('limit_exceeded', {
        message:
          who === 'self'
            ? 'This top-up would take the wallet over the balance limit of its verification tier.'
            : "This payment would take the recipient's wallet over its balance limit.",
        details: { limit: who === 'self' ? 'balance' : 'recipient_balance', limit_amount: Number(cap) },
      });
    }
  }

  /**
   * Counts an outgoing payment against the daily and monthly limits in one transaction with
   * conditional increments: of two concurrent payments that together pass a limit, one fails.
   */
  async function reserveLimits(tx: SqlExecutor, userId: string, currency: string, amountMinor: bigint, tier: KycTier) {
    const limits = tierLimits(currency, tier);
    if (amountMinor > limits.perPaymentMax) {
      throw new AppError('limit_exceeded', {
        message: 'This payment is over the per-payment limit of your verification tier.',
        details: { limit: 'per_payment', limit_amount: Number(limits.perPaymentMax) },
      });
    }
    const at = now();
    for (const [period, start, max] of [
      ['day', utcDay(at), limits.dailyMax],
      ['month', utcMonthStart(at), limits.monthlyMax],
    ] as const) {
      const rows = await tx.query<{ used: bigint }>(
        `insert into wallets_limit_usage (user_id, currency, period, period_start, used)
         select $1, $2, $3, $4::date, $5::bigint where $5::bigint <= $6::bigint
         on conflict (user_id, currency, period, period_start)
           do update set used = wallets_limit_usage.used + excluded.used
           where wallets_limit_usage.used + excluded.used <= $6::bigint
         returning used`,
        [userId, currency, period, start, amountMinor, max],
      );
      if (rows.length === 0) {
        throw new AppError('limit_exceeded', {
          message: `This payment is over the ${period === 'day' ? 'daily' : 'monthly'} limit of your verification tier.`,
          details: { limit: period === 'day' ? 'daily' : 'monthly', limit_amount: Number(max) },
        });
      }
    }
    return { day: utcDay(at), month: utcMonthStart(at) };
  }

  async function releaseLimits(
    userId: string,
    currency: string,
    amountMinor: bigint,
    periods: { day: string; month: string },
  ): Promise<void> {
    await db.query(
      `update wallets_limit_usage set used = greatest(used - $3::bigint, 0)
        where user_id = $1 and currency = $2
          and ((period = 'day' and period_start = $4::date) or (period = 'month' and period_start = $5::date))`,
      [userId, currency, amountMinor, periods.day, periods.month],
    );
  }

  /** A history row; what a row does not name is empty (no fee, counterparty, note, source or failure). */
  async function insertTransaction(
    tx: SqlExecutor,
    row: Pick<
      WalletTransaction,
      'id' | 'userId' | 'type' | 'status' | 'amountMinor' | 'currency' | 'reference' | 'createdAt'
    > &
      Partial<
        Pick<
          WalletTransaction,
          'feeMinor' | 'counterpartyUserId' | 'counterpartyName' | 'note' | 'source' | 'failureCode'
        >
      >,
  ) {
    const t: WalletTransaction = {
      feeMinor: 0n,
      counterpartyUserId: null,
      counterpartyName: null,
      note: null,
      source: null,
      failureCode: null,
      ...row,
    };
    await tx.query(
      `insert into wallets_transactions (${transactionColumns})
       values ($1, $2, $3, $4, $5::bigint, $6, $7::bigint, $8, $9, $10, $11, $12, $13, $14)
       on conflict (id) do nothing`,
      [
        t.id,
        t.userId,
        t.type,
        t.status,
        t.amountMinor,
        t.currency,
        t.feeMinor,
        t.counterpartyUserId,
        t.counterpartyName,
        t.note,
        t.source,
        t.failureCode,
        t.reference,
        t.createdAt,
      ],
    );
  }

  async function finalizeTransactions(
    tx: SqlExecutor,
    ids: readonly string[],
    outcome: { status: 'succeeded' | 'failed'; failureCode: string | null; ledgerTransferId: string | null },
  ): Promise<void> {
    await tx.query(
      `update wallets_transactions set status = $2, failure_code = $3, ledger_transfer_id = $4, updated_at = now()
        where id = any($1::text[]) and status = 'pending'`,
      [`{${ids.join(',')}}`, outcome.status, outcome.failureCode, outcome.ledgerTransferId],
    );
  }

  async function getTransaction(userId: string, id: string): Promise<WalletTransaction | null> {
    const rows = await db.query<TransactionRow>(
      `select ${transactionColumns} from wallets_transactions where id = $1 and user_id = $2`,
      [id, userId],
    );
    return rows[0] === undefined ? null : transactionFromRow(rows[0]);
  }

  function failureFor(code: TransferResultCode): AppError {
    switch (code) {
      case 'exceeds_credits':
        return new AppError('insufficient_funds');
      case 'account_closed':
        return new AppError('wallet_frozen', { message: 'This wallet is closed.' });
      default:
        // Anything else means our own accounts are wrong: a bug, not the customer's doing.
        throw new Error(`unexpected ledger result ${code}`);
    }
  }

  async function transfer(
    senderId: string,
    idempotencyKey: string,
    request: TransferRequest,
  ): Promise<IdempotentOutcome> {
    const { pin, ...parameters } = request;
    return idempotency.run(
      { scope: `wallet:${senderId}:transfers`, key: idempotencyKey, requestHash: requestHash(parameters) },
      async () => {
        checkAmount(request.amountMinor, request.currency);
        const sender = await profile(senderId);
        if (sender.frozen) throw new AppError('wallet_frozen');
        const recipient = await identity.findUserByLogin(request.to);
        if (recipient === null) throw new AppError('recipient_not_found', { param: 'to' });
        if (recipient.id === senderId) throw new AppError('recipient_is_sender', { param: 'to' });
        await identity.verifyPaymentPin(senderId, pin);
        await checkBalanceCap(recipient.id, request.currency, request.amountMinor, 'recipient');
        const senderUser = await identity.getUser(senderId);
        assert(senderUser !== null, 'an authenticated sender exists');
        const [fromAccount, toAccount] = await Promise.all([
          walletAccount(senderId, request.currency),
          walletAccount(recipient.id, request.currency),
        ]);
        const reference = digestId('p2p', senderId, idempotencyKey);
        const sentId = digestId('txn', senderId, idempotencyKey, 'sent');
        const receivedId = digestId('txn', senderId, idempotencyKey, 'received');
        const createdAt = now();
        // Record the intent and count it against the limits, then move the money, then finalize.
        const periods = await db.transaction(async (tx) => {
          const reserved = await reserveLimits(tx, senderId, request.currency, request.amountMinor, sender.kycTier);
          await insertTransaction(tx, {
            id: sentId,
            userId: senderId,
            type: 'p2p_sent',
            status: 'pending',
            amountMinor: request.amountMinor,
            currency: request.currency,
            counterpartyUserId: recipient.id,
            counterpartyName: recipient.name,
            note: request.note,
            reference,
            createdAt,
          });
          return reserved;
        });
        const ledgerTransferId = transferIdFrom('wallets.p2p', `${senderId}:${idempotencyKey}`);
        const [result] = await ledger.submitTransfers([
          {
            id: ledgerTransferId,
            debitAccountId: fromAccount,
            creditAccountId: toAccount,
            amountMinor: request.amountMinor,
            currency: request.currency,
            code: transferCodes.p2p,
            metadata: { reference },
          },
        ]);
        assert(result !== undefined, 'one result per transfer');
        if (result.result !== 'ok' && result.result !== 'exists') {
          const failure = failureFor(result.result);
          await releaseLimits(senderId, request.currency, request.amountMinor, periods);
          await db.transaction((tx) =>
            finalizeTransactions(tx, [sentId], { status: 'failed', failureCode: failure.code, ledgerTransferId: null }),
          );
          throw recordedFailure(new AppError(failure.code, { details: { transaction: sentId } }));
        }
        await db.transaction(async (tx) => {
          await finalizeTransactions(tx, [sentId], { status: 'succeeded', failureCode: null, ledgerTransferId });
          await insertTransaction(tx, {
            id: receivedId,
            userId: recipient.id,
            type: 'p2p_received',
            status: 'succeeded',
            amountMinor: request.amountMinor,
            currency: request.currency,
            counterpartyUserId: senderId,
            counterpartyName: senderUser.name,
            note: request.note,
            reference,
            createdAt,
          });
          await tx.query('update wallets_transactions set ledger_transfer_id = $2 where id = $1', [
            receivedId,
            ledgerTransferId,
          ]);
          const money = { amount: Number(request.amountMinor), currency: request.currency };
          await notifications.write(tx, {
            userId: recipient.id,
            type: 'money.received',
            data: { ...money, transaction: receivedId, from: senderUser.name },
          });
          await notifications.write(tx, {
            userId: senderId,
            type: 'payment.made',
            data: { ...money, transaction: sentId, to: recipient.name },
          });
        });
        const sent = await getTransaction(senderId, sentId);
        assert(sent !== null, 'the sent transaction was recorded');
        return { status: 201, body: toWire(sent) };
      },
    );
  }

  async function topup(userId: string, idempotencyKey: string, request: TopupRequest): Promise<IdempotentOutcome> {
    return idempotency.run(
      { scope: `wallet:${userId}:topups`, key: idempotencyKey, requestHash: requestHash(request) },
      async () => {
        checkAmount(request.amountMinor, request.currency);
        const cardFunding = deps.cardFunding?.isCardSource(request.source) === true ? deps.cardFunding : null;
        const outcome =
          cardFunding !== null ? 'card' : deps.testTopupsEnabled ? testSources[request.source] : undefined;
        if (outcome === undefined) {
          throw new AppError('invalid_request', {
            message: deps.testTopupsEnabled
              ? `Unknown funding source. Test sources: ${Object.keys(testSources).join(', ')}.`
              : 'Top-ups from this source are not available.',
            param: 'source',
          });
        }
        await checkBalanceCap(userId, request.currency, request.amountMinor, 'self');
        const [walletAccountId, clearingId] = await Promise.all([
          walletAccount(userId, request.currency),
          cardFunding === null ? topupClearingAccount(request.currency) : cardFunding.clearingAccount(request.currency),
        ]);
        const id = digestId('txn', userId, idempotencyKey, 'topup');
        const reference = digestId('top', userId, idempotencyKey);
        await db.transaction((tx) =>
          insertTransaction(tx, {
            id,
            userId,
            type: 'topup',
            status: 'pending',
            amountMinor: request.amountMinor,
            currency: request.currency,
            source: request.source,
            reference,
            createdAt: now(),
          }),
        );
        if (cardFunding !== null) {
          const charged = await cardFunding.charge({
            userId,
            source: request.source,
            reference: id,
            amountMinor: request.amountMinor,
            currency: request.currency,
          });
          if (!charged.approved) {
            const failureCode = charged.declineCode ?? charged.code;
            await db.transaction((tx) =>
              finalizeTransactions(tx, [id], { status: 'failed', failureCode, ledgerTransferId: null }),
            );
            const code: CardFailureCode = cardFailureCodes.has(charged.code as CardFailureCode)
              ? (charged.code as CardFailureCode)
              : 'card_declined';
            throw recordedFailure(
              new AppError(code, {
                message: charged.message,
                param: 'source',
                details: { transaction: id, decline_code: failureCode },
              }),
            );
          }
        } else if (outcome !== 'ok' && outcome !== 'card') {
          await db.transaction((tx) =>
            finalizeTransactions(tx, [id], { status: 'failed', failureCode: outcome, ledgerTransferId: null }),
          );
          throw recordedFailure(new AppError(outcome, { param: 'source', details: { transaction: id } }));
        }
        const ledgerTransferId = transferIdFrom('wallets.topup', `${userId}:${idempotencyKey}`);
        const [result] = await ledger.submitTransfers([
          {
            id: ledgerTransferId,
            debitAccountId: clearingId,
            creditAccountId: walletAccountId,
            amountMinor: request.amountMinor,
            currency: request.currency,
            code: transferCodes.topup,
            metadata: { reference, source: request.source },
          },
        ]);
        assert(result?.result === 'ok' || result?.result === 'exists', `top-up transfer: ${result?.result}`);
        await db.transaction(async (tx) => {
          await finalizeTransactions(tx, [id], { status: 'succeeded', failureCode: null, ledgerTransferId });
          await notifications.write(tx, {
            userId,
            type: 'topup.succeeded',
            data: { amount: Number(request.amountMinor), currency: request.currency, transaction: id },
          });
        });
        const recorded = await getTransaction(userId, id);
        assert(recorded !== null, 'the top-up was recorded');
        return { status: 201, body: toWire(recorded) };
      },
    );
  }

  async function history(
    userId: string,
    options: { limit: number; startingAfter?: string; filter: HistoryFilter },
  ): Promise<{ data: WalletTransaction[]; hasMore: boolean }> {
    const conditions = ['user_id = $1'];
    const params: (string | number | Date)[] = [userId];
    const add = (condition: string, value: string | number | Date) => {
      params.push(value);
      conditions.push(condition.replace('?', `$${params.length}`));
    };
    if (options.filter.type !== undefined) add('type = ?', options.filter.type);
    if (options.filter.status !== undefined) add('status = ?', options.filter.status);
    if (options.filter.createdFrom !== undefined) add('created_at >= ?', options.filter.createdFrom);
    if (options.filter.createdTo !== undefined) add('created_at <= ?', options.filter.createdTo);
    if (options.startingAfter !== undefined) {
      const cursor = await getTransaction(userId, options.startingAfter);
      if (cursor === null) {
        throw new AppError('invalid_request', {
          message: 'starting_after names no transaction of yours',
          param: 'starting_after',
        });
      }
      params.push(cursor.createdAt, cursor.id);
      conditions.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(options.limit + 1);
    const rows = await db.query<TransactionRow>(
      `select ${transactionColumns} from wallets_transactions where ${conditions.join(' and ')}
        order by created_at desc, id desc limit $${params.length}`,
      params,
    );
    return { data: rows.slice(0, options.limit).map(transactionFromRow), hasMore: rows.length > options.limit };
  }

  async function setTier(userId: string, tier: KycTier): Promise<WalletProfile> {
    await profile(userId);
    await db.query('update wallets_profiles set kyc_tier = $2, updated_at = now() where user_id = $1', [userId, tier]);
    return profile(userId);
  }

  async function setFrozen(userId: string, frozen: boolean): Promise<WalletProfile> {
    await profile(userId);
    await db.query('update wallets_profiles set frozen = $2, updated_at = now() where user_id = $1', [userId, frozen]);
    return profile(userId);
  }

  async function profiles(userIds: readonly string[]): Promise<Map<string, WalletProfile>> {
    const rows = await db.query<{ user_id: string; kyc_tier: number; frozen: boolean }>(
      'select user_id, kyc_tier, frozen from wallets_profiles where user_id = any($1::text[])',
      [`{${userIds.map((id) => `"${id.replace(/["\\]/g, '')}"`).join(',')}}`],
    );
    const found = new Map(
      rows.map((row) => [row.user_id, { userId: row.user_id, kycTier: row.kyc_tier as KycTier, frozen: row.frozen }]),
    );
    return new Map(userIds.map((id) => [id, found.get(id) ?? { userId: id, kycTier: 0, frozen: false }]));
  }

  /**
   * The payer side of a payment to a merchant (the payments context calls it): checks that the
   * wallet may pay, counts the amount against the tier's limits, records the history row as
   * pending, and names the ledger account to debit. completePayment finishes it either way.
   */
  async function authorizePayment(input: {
    userId: string;
    amountMinor: bigint;
    currency: string;
    merchantName: string;
    merchantAccountId: string;
    /** Unique per payment attempt (the charge id): makes the history row idempotent. */
    reference: string;
  }): Promise<{ ledgerAccountId: string; authorization: PaymentAuthorization }> {
    checkAmount(input.amountMinor, input.currency);
    const payer = await profile(input.userId);
    if (payer.frozen) throw new AppError('wallet_frozen');
    const ledgerAccountId = await walletAccount(input.userId, input.currency);
    const transactionId = digestId('txn', input.userId, input.reference, 'payment');
    const periods = await db.transaction(async (tx) => {
      const reserved = await reserveLimits(tx, input.userId, input.currency, input.amountMinor, payer.kycTier);
      await insertTransaction(tx, {
        id: transactionId,
        userId: input.userId,
        type: 'payment',
        status: 'pending',
        amountMinor: input.amountMinor,
        currency: input.currency,
        counterpartyUserId: input.merchantAccountId,
        counterpartyName: input.merchantName,
        reference: input.reference,
        createdAt: now(),
      });
      return reserved;
    });
    return {
      ledgerAccountId,
      authorization: {
        userId: input.userId,
        transactionId,
        periods,
        amountMinor: input.amountMinor,
        currency: input.currency,
      },
    };
  }

  async function completePayment(
    authorization: PaymentAuthorization,
    outcome: { succeeded: true } | { succeeded: false; failureCode: string },
  ): Promise<void> {
    if (!outcome.succeeded) {
      await releaseLimits(
        authorization.userId,
        authorization.currency,
        authorization.amountMinor,
        authorization.periods,
      );
    }
    await db.transaction(async (tx) => {
      await finalizeTransactions(tx, [authorization.transactionId], {
        status: outcome.succeeded ? 'succeeded' : 'failed',
        failureCode: outcome.succeeded ? null : outcome.failureCode,
        ledgerTransferId: null,
      });
      if (outcome.succeeded) {
        const rows = await tx.query<{ counterparty_name: string | null }>(
          'select counterparty_name from wallets_transactions where id = $1',
          [authorization.transactionId],
        );
        await notifications.write(tx, {
          userId: authorization.userId,
          type: 'payment.made',
          data: {
            amount: Number(authorization.amountMinor),
            currency: authorization.currency,
            transaction: authorization.transactionId,
            to: rows[0]?.counterparty_name ?? '',
          },
        });
      }
    });
  }

  /** A merchant refunded (part of) a payment: the payer's history and a notification. */
  async function recordRefund(input: {
    userId: string;
    amountMinor: bigint;
    currency: string;
    merchantName: string;
    merchantAccountId: string;
    reference: string;
  }): Promise<void> {
    const id = digestId('txn', input.userId, input.reference, 'refund');
    await db.transaction(async (tx) => {
      await insertTransaction(tx, {
        id,
        userId: input.userId,
        type: 'refund',
        status: 'succeeded',
        amountMinor: input.amountMinor,
        currency: input.currency,
        counterpartyUserId: input.merchantAccountId,
        counterpartyName: input.merchantName,
        reference: input.reference,
        createdAt: now(),
      });
      await notifications.write(tx, {
        userId: input.userId,
        type: 'refund.received',
        data: {
          amount: Number(input.amountMinor),
          currency: input.currency,
          transaction: id,
          from: input.merchantName,
        },
      });
    });
  }

  /** Payments at or below this need no PIN (scanned codes); null: always ask. */
  function noPinMax(currency: string, tier: KycTier): bigint | null {
    return tierLimits(currency, tier).noPinMax ?? null;
  }

  return {
    profile: (userId: string) => profile(userId),
    profiles,
    balances,
    transfer,
    topup,
    history,
    getTransaction,
    setTier,
    setFrozen,
    tierLimits,
    supportedCurrencies: () => [...deps.limits.keys()],
    authorizePayment,
    completePayment,
    recordRefund,
    noPinMax,
  };
}

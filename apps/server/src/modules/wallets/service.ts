import type { Db, SqlExecutor } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import type { IdempotentOutcome } from '../../platform/idempotency.js';
import {
  createWalletsCore,
  walletLimits,
  type WalletCardFunding,
  type WalletIdentity,
  type WalletUser,
  type WalletsCore,
  type WalletsCoreDeps,
} from './core.js';
import type { WalletPayerPort } from '../payments/index.js';
import { createWalletPayer } from './payer.js';
import * as repo from './repository.js';
import type { KycTier, TierLimits } from './tiers.js';
import { continueTopup, topup, type TopupRequest } from './topups.js';
import { continueTransfer, transfer, type TransferRequest } from './transfers.js';
import { lookUpRecipient, recentRecipients, type RecentRecipient, type RecipientPreview } from './recipients.js';
import { RateLimiter } from '../../platform/rate-limit.js';

export { walletLimits, type WalletCardFunding, type WalletIdentity, type WalletUser };
export type { RecentRecipient, RecipientPreview, TopupRequest, TransferRequest };
export type { TransactionType, TransactionStatus, WalletTransaction, WalletProfile } from './repository.js';
export { transferCodes, walletAccountCode, topupClearingAccountCode } from './core.js';

export interface Balance {
  currency: string;
  availableMinor: bigint;
  pendingMinor: bigint;
}

export interface HistoryFilter {
  type?: repo.TransactionType;
  status?: repo.TransactionStatus;
  createdFrom?: Date;
  createdTo?: Date;
}

export type WalletServiceDeps = WalletsCoreDeps;

/** What the recovery sweep finished. */
export interface WalletRecoveryReport {
  transfers: number;
  topups: number;
  /** Card top-ups whose send is still under way: left for the next run. */
  waiting: number;
  errors: number;
}

/** The wallets context's service: routes, the payments context (as its payer port) and the worker. */
export interface WalletService {
  profile(userId: string): Promise<repo.WalletProfile>;
  profiles(userIds: readonly string[]): Promise<Map<string, repo.WalletProfile>>;
  balances(userId: string): Promise<Balance[]>;
  /** A P2P transfer (idempotent by key; a retry after a crash resumes it). */
  transfer(senderId: string, idempotencyKey: string, request: TransferRequest): Promise<IdempotentOutcome>;
  /** The people this user sent money to, newest first (at most walletLimits.recentRecipientsMax). */
  recentRecipients(userId: string): Promise<RecentRecipient[]>;
  /**
   * The confirm step: the masked name and phone of the person `to` names (a phone, an email or a
   * recent recipient's rcp_ id). Rate-limited per user (rate_limited); recipient_not_found, phone_invalid.
   */
  lookUpRecipient(userId: string, to: string): Promise<RecipientPreview>;
  /** A top-up (idempotent by key; a retry after a crash resumes it). */
  topup(userId: string, idempotencyKey: string, request: TopupRequest): Promise<IdempotentOutcome>;
  history(
    userId: string,
    options: { limit: number; startingAfter?: string; filter: HistoryFilter },
  ): Promise<{ data: repo.WalletTransaction[]; hasMore: boolean }>;
  getTransaction(userId: string, id: string): Promise<repo.WalletTransaction | null>;
  setTier(userId: string, tier: KycTier): Promise<repo.WalletProfile>;
  setFrozen(userId: string, frozen: boolean): Promise<repo.WalletProfile>;
  tierLimits(currency: string, tier: KycTier): TierLimits;
  supportedCurrencies(): string[];
  /** Payments at or below this need no PIN (scanned codes); null: always ask. */
  noPinMax(currency: string, tier: KycTier): bigint | null;
  /** The payments context's WalletPayerPort (live wallet payments to merchants). */
  ledgerAccount: WalletPayerPort['ledgerAccount'];
  hold: WalletPayerPort['hold'];
  settle: WalletPayerPort['settle'];
  refunded: WalletPayerPort['refunded'];
  /** Finishes transfers and top-ups a crash left pending (the worker calls it). */
  recover(options: {
    olderThanMs: number;
    batchSizeMax: number;
    onError?: (error: unknown, id: string) => void;
  }): Promise<WalletRecoveryReport>;
}

export function createWalletService(deps: WalletServiceDeps): WalletService {
  const core = createWalletsCore(deps);
  const { db } = core;
  const payer = createWalletPayer(core);
  // Look-ups answer whether a phone number has a wallet: a brake on trying many numbers.
  const recipientLookups = new RateLimiter({
    requestsMax: walletLimits.recipientLookupsPerUserMax,
    windowMs: walletLimits.recipientLookupWindowMs,
    keysMax: walletLimits.recipientLookupKeysMax,
    now: () => core.now().getTime(),
  });

  return {
    profile: (userId) => repo.profileOf(db, userId),
    profiles: (userIds) => profiles(db, userIds),
    balances: (userId) => balances(core, userId),
    transfer: (senderId, key, request) => transfer(core, senderId, key, request),
    topup: (userId, key, request) => topup(core, userId, key, request),
    recentRecipients: (userId) => recentRecipients(core, userId),
    lookUpRecipient: async (userId, to) => {
      recipientLookups.consume(userId);
      return lookUpRecipient(core, userId, to);
    },
    history: (userId, options) => history(db, userId, options),
    getTransaction: (userId, id) => repo.transactionOf(db, userId, id),
    setTier: (userId, tier) =>
      setProfileField(db, userId, (executor) =>
        executor.query('update wallets_profiles set kyc_tier = $2, updated_at = now() where user_id = $1', [
          userId,
          tier,
        ]),
      ),
    setFrozen: (userId, frozen) =>
      setProfileField(db, userId, (executor) =>
        executor.query('update wallets_profiles set frozen = $2, updated_at = now() where user_id = $1', [
          userId,
          frozen,
        ]),
      ),
    tierLimits: (currency, tier) => core.tierLimits(currency, tier),
    supportedCurrencies: () => [...deps.limits.keys()],
    noPinMax: (currency, tier) => core.tierLimits(currency, tier).noPinMax ?? null,
    ...payer,
    recover: (options) => recover(core, options),
  };
}

async function balances(core: WalletsCore, userId: string): Promise<Balance[]> {
  const { db, ledger } = core;
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

/** Every user's profile; a user with no profile row yet gets the defaults (tier 0, not frozen). */
async function profiles(db: Db, userIds: readonly string[]): Promise<Map<string, repo.WalletProfile>> {
  const rows = await db.query<{ user_id: string; kyc_tier: number; frozen: boolean }>(
    'select user_id, kyc_tier, frozen from wallets_profiles where user_id = any($1::text[])',
    [`{${userIds.map((id) => `"${id.replace(/["\\]/g, '')}"`).join(',')}}`],
  );
  const found = new Map(
    rows.map((row) => [row.user_id, { userId: row.user_id, kycTier: row.kyc_tier as KycTier, frozen: row.frozen }]),
  );
  return new Map(userIds.map((id) => [id, found.get(id) ?? { userId: id, kycTier: 0, frozen: false }]));
}

async function history(
  db: Db,
  userId: string,
  options: { limit: number; startingAfter?: string; filter: HistoryFilter },
): Promise<{ data: repo.WalletTransaction[]; hasMore: boolean }> {
  let after: { createdAt: Date; id: string } | undefined;
  if (options.startingAfter !== undefined) {
    const cursor = await repo.transactionOf(db, userId, options.startingAfter);
    if (cursor === null) {
      throw new AppError('invalid_request', {
        message: 'starting_after names no transaction of yours',
        param: 'starting_after',
      });
    }
    after = { createdAt: cursor.createdAt, id: cursor.id };
  }
  return repo.historyPage(db, {
    userId,
    limit: options.limit,
    ...options.filter,
    ...(after === undefined ? {} : { after }),
  });
}

async function setProfileField(
  db: Db,
  userId: string,
  update: (executor: SqlExecutor) => Promise<unknown>,
): Promise<repo.WalletProfile> {
  await repo.profileOf(db, userId);
  await update(db);
  return repo.profileOf(db, userId);
}

async function recover(
  core: WalletsCore,
  options: { olderThanMs: number; batchSizeMax: number; onError?: (error: unknown, id: string) => void },
): Promise<WalletRecoveryReport> {
  assert(options.batchSizeMax > 0 && options.batchSizeMax <= walletLimits.recoveryBatchSizeMax, 'batch size');
  const before = new Date(core.now().getTime() - options.olderThanMs);
  const report: WalletRecoveryReport = { transfers: 0, topups: 0, waiting: 0, errors: 0 };
  const rows = await repo.pendingTransactionsBefore(core.db, ['p2p_sent', 'topup'], before, options.batchSizeMax);
  for (const row of rows) {
    try {
      if (row.type === 'p2p_sent') {
        await continueTransfer(core, row.id);
        report.transfers += 1;
      } else if ((await continueTopup(core, row.id, 'resolve')).row.status === 'pending') {
        report.waiting += 1;
      } else {
        report.topups += 1;
      }
    } catch (error) {
      report.errors += 1;
      options.onError?.(error, row.id);
    }
  }
  return report;
}

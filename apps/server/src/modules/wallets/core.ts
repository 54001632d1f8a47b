import type { Db } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import type { IdempotencyStore } from '../../platform/idempotency.js';
import { checkLimitTable, limits } from '../../platform/limits.js';
import { currencyInfo } from '../../platform/money.js';
import type { NotificationWriter } from '../events/index.js';
import { accountCodes, transferCodes as ledgerTransferCodes, transferIdFrom, type Ledger } from '../ledger/index.js';
import type { CardOutcome } from '../cards/index.js';
import type { KycTier, TierLimits, WalletLimitsTable } from './tiers.js';

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

/** Top-ups from a user's saved cards, through the card gateway (the cards context implements it). */
export interface WalletCardFunding {
  /** Whether a top-up source names a saved card (wc_…), by its shape. */
  isCardSource(source: string): boolean;
  /** Refuses (card_not_found, 404) a saved card that is not this user's, before anything is recorded. */
  checkSource(userId: string, source: string): Promise<void>;
  /** Charges the saved card (a network call: no transaction is open). Idempotent by reference. */
  charge(input: {
    userId: string;
    source: string;
    reference: string;
    amountMinor: bigint;
    currency: string;
  }): Promise<CardOutcome>;
  /** Recovery: the charge's outcome, closing a reference never sent; null while a send is under way. */
  resolve(reference: string): Promise<CardOutcome | null>;
  /** The ledger account card money comes in through (the card network clearing account). */
  clearingAccount(currency: string): Promise<string>;
}

/** Ledger account codes (kinds) and transfer codes the wallets context uses. */
export const walletAccountCode = accountCodes.wallet;
export const topupClearingAccountCode = accountCodes.topupClearing;
export const transferCodes = { topup: ledgerTransferCodes.topup, p2p: ledgerTransferCodes.p2p } as const;

export const walletLimits = {
  noteLengthMax: 140,
  historyPageMax: 100,
  csvRowsMax: 10_000,
  adminPageMax: 100,
  /** Pending history rows the recovery sweep finishes per run. */
  recoveryBatchSizeMax: 100,
  /** People GET /recipients/recent lists at most. */
  recentRecipientsMax: 20,
  /** Newest sent transfers the recent list is drawn from (the query's work stays bounded). */
  recentRecipientsScanMax: 1_000,
  /** Recipient look-ups (POST /recipients/lookup) one person may make per window, per node. */
  recipientLookupsPerUserMax: 20,
  recipientLookupWindowMs: 60_000,
  /** People the look-up rate limiter remembers per node; past it the oldest window is forgotten. */
  recipientLookupKeysMax: 100_000,
} as const;

/** Crashes on an inconsistent table; run at start-up by checkAllLimits (and by the tests). */
export function checkWalletLimits(
  table: { readonly [Name in keyof typeof walletLimits]: number } = walletLimits,
): void {
  checkLimitTable('walletLimits', table);
  assert(table.historyPageMax <= limits.pageSizeMax, 'walletLimits.historyPageMax must fit in one page');
  assert(table.adminPageMax <= limits.pageSizeMax, 'walletLimits.adminPageMax must fit in one page');
  assert(
    table.recentRecipientsMax <= table.recentRecipientsScanMax,
    'walletLimits.recentRecipientsMax must not exceed the rows it is drawn from',
  );
}

export interface WalletsCoreDeps {
  db: Db;
  ledger: Ledger;
  identity: WalletIdentity;
  notifications: NotificationWriter;
  idempotency: IdempotencyStore;
  limits: WalletLimitsTable;
  /** Accept Stripe-style test tokens as top-up sources. */
  testTopupsEnabled: boolean;
  /** Top-ups from saved cards (the cards context); absent: only test sources. */
  cardFunding?: WalletCardFunding;
  now?: () => Date;
}

/** What the wallets' workflows share: dependencies and the helpers every one of them needs. */
export interface WalletsCore extends Omit<WalletsCoreDeps, 'now'> {
  now(): Date;
  tierLimits(currency: string, tier: KycTier): TierLimits;
  /** The wallet's ledger account in a currency, created on first use (idempotent). */
  walletAccount(userId: string, currency: string): Promise<string>;
  topupClearingAccount(currency: string): Promise<string>;
  /** Refuses an unsupported currency or a non-positive amount. */
  checkAmount(amountMinor: bigint, currency: string): void;
}

export function createWalletsCore(deps: WalletsCoreDeps): WalletsCore {
  const { db, ledger } = deps;
  const knownAccounts = new Set<string>();
  const knownAccountsMax = 10_000;
  function remember(id: string): void {
    if (knownAccounts.size >= knownAccountsMax) knownAccounts.clear();
    knownAccounts.add(id);
  }
  function tierLimits(currency: string, tier: KycTier): TierLimits {
    const table = deps.limits.get(currency);
    if (table === undefined) throw new AppError('currency_unsupported', { param: 'currency' });
    return table[tier];
  }
  return {
    ...deps,
    now: deps.now ?? (() => new Date()),
    tierLimits,
    async walletAccount(userId, currency) {
      const ledgerAccountId = transferIdFrom('wallets.account', `${userId}:${currency}`);
      if (knownAccounts.has(ledgerAccountId)) return ledgerAccountId;
      const existing = await db.query<{ ledger_account_id: string }>(
        'select ledger_account_id from wallets_accounts where user_id = $1 and currency = $2',
        [userId, currency],
      );
      if (existing.length === 1) {
        remember(existing[0]!.ledger_account_id);
        return existing[0]!.ledger_account_id;
      }
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
      remember(ledgerAccountId);
      return ledgerAccountId;
    },
    async topupClearingAccount(currency) {
      const id = transferIdFrom('wallets.system', `topup_clearing:${currency}`);
      if (knownAccounts.has(id)) return id;
      const [result] = await ledger.createAccounts([
        { id, currency, code: topupClearingAccountCode, metadata: { purpose: 'topup_clearing' } },
      ]);
      assert(result?.result === 'ok' || result?.result === 'exists', `clearing account: ${result?.result}`);
      remember(id);
      return id;
    },
    checkAmount(amountMinor, currency) {
      if (currencyInfo(currency) === undefined || !deps.limits.has(currency)) {
        throw new AppError('currency_unsupported', { param: 'currency' });
      }
      if (amountMinor <= 0n)
        throw new AppError('invalid_request', { message: 'amount must be positive', param: 'amount' });
    },
  };
}

/** Account flags (stored as a bit set). */
export interface AccountFlags {
  /** The account may never hold more debits (posted + pending) than posted credits: a wallet. */
  debitsMustNotExceedCredits: boolean;
  /** The account may never hold more credits (posted + pending) than posted debits. */
  creditsMustNotExceedDebits: boolean;
  /** No new transfer may touch the account (posting or voiding an earlier pending one still may). */
  closed: boolean;
}

export interface AccountInput {
  /** Client-chosen UUID: creating the same account twice is idempotent. */
  id: string;
  /** ISO 4217 code; every transfer on this account must be in it. */
  currency: string;
  /** What kind of account this is (1–65535), chosen by the owning context. */
  code: number;
  flags?: Partial<AccountFlags>;
  metadata?: Record<string, unknown> | null;
}

export interface Account {
  id: string;
  currency: string;
  code: number;
  flags: AccountFlags;
  debitsPostedMinor: bigint;
  creditsPostedMinor: bigint;
  debitsPendingMinor: bigint;
  creditsPendingMinor: bigint;
  metadata: Record<string, unknown> | null;
  createdAt: Date;
}

export const accountResultCodes = [
  'ok',
  'exists',
  'exists_with_different_fields',
  'id_must_be_uuid',
  'currency_unknown',
  'code_must_be_in_range',
  'flags_are_mutually_exclusive',
] as const;
export type AccountResultCode = (typeof accountResultCodes)[number];

export interface AccountResult {
  id: string;
  result: AccountResultCode;
}

export type TransferPhase = 'single' | 'pending' | 'post_pending' | 'void_pending';

export interface TransferInput {
  /** Client-chosen UUID, the idempotency key: resubmitting it never moves money twice. */
  id: string;
  /** Required for single and pending transfers; for post/void, omitted or equal to the pending transfer's. */
  debitAccountId?: string;
  creditAccountId?: string;
  /** Positive minor units. For post_pending, omitted means the whole pending amount; void ignores it unless given. */
  amountMinor?: bigint;
  currency?: string;
  /** What kind of transfer this is (1–65535), chosen by the submitting context. */
  code: number;
  /** Chains this transfer to the next one in the same submission: all apply or none does. */
  linked?: boolean;
  /** single (default), pending (reserve), post_pending or void_pending (resolve pendingId). */
  phase?: TransferPhase;
  /** pending only: seconds until the reservation expires (0 = never). */
  timeoutS?: number;
  /**
   * single and pending only: a condition, not a stored field. The transfer fails with
   * exceeds_balance_max if it would take the credit account's balance (posted and pending credits
   * minus posted debits) past this many minor units: a wallet's balance cap, checked in order with
   * every other transfer on the account, so two racing top-ups cannot pass it together.
   */
  creditBalanceMaxMinor?: bigint;
  /** post_pending / void_pending: the pending transfer to resolve. */
  pendingId?: string;
  metadata?: Record<string, unknown> | null;
}

export interface Transfer {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: bigint;
  currency: string;
  code: number;
  linked: boolean;
  phase: TransferPhase;
  timeoutS: number;
  pendingId: string | null;
  metadata: Record<string, unknown> | null;
  createdAt: Date;
}

/**
 * Transfer results, in the order they are checked (the first that applies wins). Stable codes:
 * never renamed or reused.
 */
export const transferResultCodes = [
  'ok',
  'linked_event_chain_open',
  'exists',
  'exists_with_different_fields',
  'id_already_failed',
  'accounts_must_be_different',
  'amount_must_be_positive',
  'timeout_reserved_for_pending_transfer',
  'account_not_found',
  'currency_mismatch',
  'account_closed',
  'pending_transfer_not_found',
  'pending_transfer_not_pending',
  'pending_transfer_has_different_fields',
  'pending_transfer_already_posted',
  'pending_transfer_already_voided',
  'pending_transfer_expired',
  'exceeds_pending_transfer_amount',
  'overflows_debits',
  'overflows_credits',
  'exceeds_credits',
  'exceeds_debits',
  'exceeds_balance_max',
  'linked_event_failed',
] as const;
export type TransferResultCode = (typeof transferResultCodes)[number];

export interface TransferResult {
  id: string;
  result: TransferResultCode;
  /** The stored transfer for ok and exists. */
  transfer: Transfer | null;
}

export interface Entry {
  seq: bigint;
  transferId: string;
  accountId: string;
  side: 'debit' | 'credit';
  /** Added to the account's posted debits or credits (>= 0). */
  postedAmountMinor: bigint;
  /** Change to the account's pending debits or credits (negative when a reservation is resolved). */
  pendingAmountMinor: bigint;
  /** The account's posted credits minus posted debits after this entry. */
  balanceAfterMinor: bigint;
}

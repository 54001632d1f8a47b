import type { SqlExecutor } from '../../platform/db.js';
import { newObjectId } from '../../platform/ids.js';
import type { IdempotentCall } from '../../platform/idempotency.js';
import type { CardOutcome } from '../cards/index.js';
import { accountCodes, transferCodes } from '../ledger/index.js';

/**
 * The payments context's objects and the ports it needs from others. Pure types and constants:
 * the state machine, the repository and the workflows all speak these.
 */

/** Whose request this is: a merchant account, in test or live mode. */
export interface MerchantContext {
  accountId: string;
  livemode: boolean;
}

/** A live wallet paying: its hold (limits, pending history row) is taken and settled with the charge. */
export interface WalletPayer {
  userId: string;
  /** Shown in the payer's history. */
  merchantName: string;
}

/** Where a payment's money comes from: a ledger account the payments context may debit. */
export interface Payer {
  ledgerAccountId: string;
  /** Shown on the charge (e.g. the wallet user id, or a masked code). */
  reference: string;
  /** payment_method_details of the charge, e.g. {type: 'wallet', wallet: {...}}. */
  details: Record<string, unknown>;
  /** A live wallet: the wallets context holds and settles its side in the payment's transactions. */
  wallet?: WalletPayer;
}

export type { CardOutcome };

/**
 * The card side of payments, implemented by the cards context: each call goes to the card network,
 * so none is made inside a database transaction. Calls are idempotent by charge or refund id.
 */
export interface CardNetworkPort {
  /** 0200 sale (automatic capture) or 0100 authorization (manual capture) of a charge. */
  authorize(input: {
    ctx: MerchantContext;
    chargeId: string;
    paymentMethodId: string;
    amountMinor: bigint;
    currency: string;
    captureMethod: 'automatic' | 'manual';
    /** The cardholder passed 3-D Secure for this payment. */
    authenticated?: boolean;
  }): Promise<CardOutcome>;
  /** 0220 completion of a charge's authorization for the captured amount. */
  capture(input: { ctx: MerchantContext; chargeId: string; amountMinor: bigint }): Promise<CardOutcome>;
  /** 0400 reversal of a charge's uncaptured authorization (it is sure to go out, now or by the sweep). */
  void(input: { ctx: MerchantContext; chargeId: string }): Promise<void>;
  /** A credit to the card. */
  refund(input: {
    ctx: MerchantContext;
    refundId: string;
    paymentMethodId: string;
    amountMinor: bigint;
    currency: string;
  }): Promise<CardOutcome>;
  /**
   * Recovery: the outcome of a charge's authorization; if the gateway never recorded one, the
   * charge's reference is closed so that none is ever sent (failed). null while a send is under way.
   */
  resolveCharge(input: { chargeId: string; captureMethod: 'automatic' | 'manual' }): Promise<CardOutcome | null>;
  /** Recovery: the same for a refund's credit. */
  resolveRefund(input: { refundId: string }): Promise<CardOutcome | null>;
}

/**
 * The wallet side of a live wallet payment, implemented by the wallets context. Every call runs in
 * the payment's own transaction, so the wallet's history, limits and the payment change together.
 */
export interface WalletPayerPort {
  /** The wallet's ledger account in a currency (created on first use; no transaction open). */
  ledgerAccount(userId: string, currency: string): Promise<string>;
  /**
   * In the claim: checks that the wallet may pay, counts the amount against its limits and records
   * the pending history row `holdId`. Idempotent by holdId. Throws (rolling the claim back) when the
   * wallet may not pay.
   */
  hold(
    tx: SqlExecutor,
    input: {
      holdId: string;
      userId: string;
      amountMinor: bigint;
      currency: string;
      merchantName: string;
      merchantAccountId: string;
      reference: string;
    },
  ): Promise<void>;
  /** In the finishing transaction: the history row's outcome; a failure releases the limits. */
  settle(
    tx: SqlExecutor,
    holdId: string,
    outcome: { succeeded: true } | { succeeded: false; failureCode: string },
  ): Promise<void>;
  /** In a refund's finishing transaction: the payer's history row and notification. */
  refunded(
    tx: SqlExecutor,
    input: {
      userId: string;
      amountMinor: bigint;
      currency: string;
      merchantName: string;
      merchantAccountId: string;
      reference: string;
    },
  ): Promise<void>;
}

/** A card PaymentMethod as the payments context needs it. */
export interface CardForPayment {
  paymentMethodId: string;
  /** payment_method_details.card of the charge (brand, last4, exp, fingerprint, funding…; never the number). */
  details: Record<string, unknown>;
  /** Shown as the payer reference, e.g. `visa •••• 4242`. */
  reference: string;
}

/** The Stripe event types the payments context emits. */
export type PaymentEventType =
  | 'payment_intent.created'
  | 'payment_intent.updated'
  | 'payment_intent.requires_action'
  | 'payment_intent.payment_failed'
  | 'payment_intent.amount_capturable_updated'
  | 'payment_intent.succeeded'
  | 'payment_intent.canceled'
  | 'charge.succeeded'
  | 'charge.failed'
  | 'charge.captured'
  | 'charge.refunded'
  | 'refund.created'
  | 'refund.failed';

/** Something that records state changes as events in the caller's transaction (the outbox). */
/**
 * The object an event shows, when the workflow already holds it as the transaction left it (from
 * the update's `returning`): the sink then need not read it again.
 */
export type EventSnapshot =
  { kind: 'intent'; intent: PaymentIntent } | { kind: 'charge'; charge: Charge; refunds: readonly Refund[] };

export interface PaymentEventSink {
  record(
    tx: SqlExecutor,
    event: { accountId: string; livemode: boolean; type: PaymentEventType; objectId: string; snapshot?: EventSnapshot },
  ): Promise<void>;
}

/** Records a workflow's recovery point on its idempotency key, in the phase's transaction. */
export interface RecoveryPointRecorder {
  recordPoint(
    tx: SqlExecutor,
    call: IdempotentCall | null,
    point: string,
    resources?: Readonly<Record<string, string>>,
  ): Promise<void>;
}

/** How a workflow was called: the idempotent request it serves (null: none), for recovery points. */
export interface WorkflowCall {
  call?: IdempotentCall | null;
}

export const paymentAccountCodes = {
  merchantBalance: accountCodes.merchantBalance,
  feeRevenue: accountCodes.feeRevenue,
  testPayerClearing: accountCodes.testPayerClearing,
  cardNetworkClearing: accountCodes.cardNetworkClearing,
} as const;
export const paymentTransferCodes = {
  charge: transferCodes.charge,
  fee: transferCodes.fee,
  refund: transferCodes.refund,
  feeRefund: transferCodes.feeRefund,
} as const;

export const paymentLimits = {
  descriptionLengthMax: 1000,
  /** Manual-capture reservations expire (and are voided) after this long, as card authorizations do. */
  authorizationHoldS: 7 * 24 * 60 * 60,
  /** Charges become available to pay out after this long (settlement moves them). */
  availableAfterMs: 24 * 60 * 60 * 1000,
  /** Middle states the recovery sweep finishes per run, per kind. */
  recoveryBatchSizeMax: 100,
  /** Ledger account ids known to exist, remembered per process (no round trip to create them again). */
  knownAccountsMax: 10_000,
} as const;

export type IntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'succeeded'
  | 'canceled';

/** What an intent in processing is doing besides a confirmation (which has its pending charge). */
export interface PendingAction {
  action: 'capture' | 'cancel';
  /** capture: the amount to capture. */
  amountMinor: bigint | null;
  /** cancel: the cancellation reason. */
  reason: string | null;
  since: Date;
}

export interface PaymentIntent {
  id: string;
  accountId: string;
  livemode: boolean;
  amountMinor: bigint;
  currency: string;
  status: IntentStatus;
  captureMethod: 'automatic' | 'manual';
  amountCapturableMinor: bigint;
  amountReceivedMinor: bigint;
  customerId: string | null;
  description: string | null;
  metadata: Record<string, string>;
  clientSecret: string;
  paymentMethodType: string | null;
  paymentMethodId: string | null;
  latestChargeId: string | null;
  lastPaymentError: Record<string, unknown> | null;
  nextAction: Record<string, unknown> | null;
  canceledAt: Date | null;
  cancellationReason: string | null;
  pendingAction: PendingAction | null;
  createdAt: Date;
  updatedAt: Date;
}

export type ChargeStatus = 'pending' | 'succeeded' | 'failed';

export interface Charge {
  id: string;
  accountId: string;
  livemode: boolean;
  paymentIntentId: string;
  amountMinor: bigint;
  amountCapturedMinor: bigint;
  amountRefundedMinor: bigint;
  currency: string;
  feeMinor: bigint;
  feeRefundedMinor: bigint;
  status: ChargeStatus;
  captured: boolean;
  paymentMethodDetails: Record<string, unknown>;
  paymentMethodId: string | null;
  payerLedgerAccountId: string;
  /** A live wallet payer's hold (its history row), settled with the charge; else null. */
  payerHoldId: string | null;
  balanceTransactionId: string | null;
  failureCode: string | null;
  /** Stripe's decline_code of a failed card charge (e.g. insufficient_funds), else null. */
  failureDeclineCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
}

export type RefundStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

export interface Refund {
  id: string;
  accountId: string;
  livemode: boolean;
  chargeId: string;
  paymentIntentId: string;
  amountMinor: bigint;
  feeRefundedMinor: bigint;
  currency: string;
  status: RefundStatus;
  reason: string | null;
  /** Why a card refund failed (Stripe's failure_reason), else null. */
  failureReason: string | null;
  metadata: Record<string, string>;
  balanceTransactionId: string | null;
  createdAt: Date;
}

export interface BalanceTransaction {
  id: string;
  accountId: string;
  livemode: boolean;
  type: 'charge' | 'refund';
  amountMinor: bigint;
  feeMinor: bigint;
  netMinor: bigint;
  currency: string;
  sourceId: string;
  status: 'pending' | 'available';
  availableOn: Date;
  createdAt: Date;
}

/** A failure as a charge records it and last_payment_error shows it. */
export interface PaymentFailure {
  code: string;
  declineCode: string | null;
  message: string;
}

/**
 * A prefixed id with 22 base62 characters (at least 128 random bits): `pi_` ids are 25 characters,
 * the most an EMVCo QR reference label (tag 62/05) holds.
 */
export function newId(prefix: string): string {
  return newObjectId(prefix);
}

/** The charge is a card charge (its money came through the card network). */
export function isCardCharge(charge: Pick<Charge, 'paymentMethodDetails'>): boolean {
  return charge.paymentMethodDetails.type === 'card';
}

/** The live wallet user a charge was paid from, or null (test mode, cards). */
export function walletUserOf(charge: Pick<Charge, 'paymentMethodDetails' | 'livemode'>): string | null {
  if (!charge.livemode || charge.paymentMethodDetails.type !== 'wallet') return null;
  const wallet = charge.paymentMethodDetails.wallet as { user?: unknown } | undefined;
  return typeof wallet?.user === 'string' ? wallet.user : null;
}

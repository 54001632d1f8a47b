import type { Db, SqlExecutor } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import {
  transferIdFrom,
  type Ledger,
  type TransferInput,
  type TransferResult,
  type TransferResultCode,
} from '../ledger/index.js';
import type { Pricing } from './fees.js';
import {
  paymentAccountCodes,
  paymentLimits,
  paymentTransferCodes,
  type CardNetworkPort,
  type MerchantContext,
  type EventSnapshot,
  type PaymentEventType,
  type PaymentFailure,
  type PaymentIntent,
  type RecoveryPointRecorder,
  type WalletPayerPort,
} from './model.js';

/**
 * What every payments workflow works with: the database, the ledger and the ports, plus the few
 * helpers they share (ledger accounts, events, the ledger legs of a charge). Built once by
 * createPaymentService; the workflows (workflows/*.ts) take it as their first argument.
 */
export interface PaymentsCore {
  db: Db;
  ledger: Ledger;
  pricingOf(accountId: string): Promise<Pricing>;
  merchantName(accountId: string): Promise<string>;
  cards: CardNetworkPort | null;
  walletPayer: WalletPayerPort | null;
  recovery: RecoveryPointRecorder | null;
  now(): Date;
  recordEvent(
    tx: SqlExecutor,
    ctx: MerchantContext,
    type: PaymentEventType,
    objectId: string,
    snapshot?: EventSnapshot,
  ): Promise<void>;
  accounts: PaymentAccounts;
}

export interface PaymentAccounts {
  /** The merchant's balance account in a currency (merchant balances may go negative, as Stripe's do). */
  merchant(ctx: MerchantContext, currency: string): Promise<string>;
  feeRevenue(livemode: boolean, currency: string): Promise<string>;
  /** The ledger account card money comes in through (credited to merchants, to wallets on top-ups). */
  cardClearing(livemode: boolean, currency: string): Promise<string>;
  /** Test mode's stand-in for a wallet: test payments never move a wallet's money. */
  testPayer(currency: string): Promise<string>;
}

/**
 * The payments context's ledger accounts, created on first use. Their ids derive from what they
 * are, so creating one twice is harmless; ids known to exist are remembered (bounded) so the hot
 * path does not ask the ledger again.
 */
export function createPaymentAccounts(ledger: Ledger): PaymentAccounts {
  const known = new Set<string>();
  async function ensure(
    id: string,
    input: { currency: string; code: number; metadata: Record<string, unknown> },
  ): Promise<string> {
    if (known.has(id)) return id;
    const [result] = await ledger.createAccounts([{ id, ...input }]);
    assert(result?.result === 'ok' || result?.result === 'exists', `payments ledger account: ${result?.result}`);
    if (known.size >= paymentLimits.knownAccountsMax) known.clear();
    known.add(id);
    return id;
  }
  return {
    merchant: (ctx, currency) =>
      ensure(transferIdFrom('payments.merchant', `${ctx.accountId}:${ctx.livemode}:${currency}`), {
        currency,
        code: paymentAccountCodes.merchantBalance,
        metadata: { account_id: ctx.accountId, livemode: ctx.livemode },
      }),
    feeRevenue: (livemode, currency) =>
      ensure(transferIdFrom('payments.system', `${livemode}:${currency}:fee_revenue`), {
        currency,
        code: paymentAccountCodes.feeRevenue,
        metadata: { purpose: 'fee_revenue', livemode },
      }),
    cardClearing: (livemode, currency) =>
      ensure(transferIdFrom('payments.system', `${livemode}:${currency}:card_network_clearing`), {
        currency,
        code: paymentAccountCodes.cardNetworkClearing,
        metadata: { purpose: 'card_network_clearing', livemode },
      }),
    testPayer: (currency) =>
      ensure(transferIdFrom('payments.system', `false:${currency}:test_payer_clearing`), {
        currency,
        code: paymentAccountCodes.testPayerClearing,
        metadata: { purpose: 'test_payer_clearing' },
      }),
  };
}

/** Ledger transfer ids of a charge and a refund: derived from their ids, so posting twice posts once. */
export const transferIds = {
  charge: (chargeId: string) => transferIdFrom('payments.charge', chargeId),
  fee: (chargeId: string) => transferIdFrom('payments.fee', chargeId),
  capture: (chargeId: string) => transferIdFrom('payments.capture', chargeId),
  void: (chargeId: string) => transferIdFrom('payments.void', chargeId),
  refund: (refundId: string) => transferIdFrom('payments.refund', refundId),
  feeRefund: (refundId: string) => transferIdFrom('payments.fee_refund', refundId),
} as const;

/** The fee leg of a charge's linked chain (merchant → fee revenue); none when the fee is zero. */
export function feeTransfers(
  chargeId: string,
  leg: { merchantId: string; feeRevenueId: string; feeMinor: bigint; currency: string },
): TransferInput[] {
  if (leg.feeMinor <= 0n) return [];
  return [
    {
      id: transferIds.fee(chargeId),
      debitAccountId: leg.merchantId,
      creditAccountId: leg.feeRevenueId,
      amountMinor: leg.feeMinor,
      currency: leg.currency,
      code: paymentTransferCodes.fee,
      metadata: { charge: chargeId },
    },
  ];
}

/**
 * The first real failure among a submission's results, with the code it failed with the first
 * time (a resubmission only says id_already_failed); null when everything posted (or had).
 */
export async function ledgerFailure(
  ledger: Ledger,
  results: readonly TransferResult[],
): Promise<TransferResultCode | null> {
  const failed = results.find(
    (result) => result.result !== 'ok' && result.result !== 'exists' && result.result !== 'linked_event_failed',
  );
  if (failed === undefined) {
    // A chain whose every member says linked_event_failed failed as a whole: look for the cause.
    const linked = results.filter((result) => result.result === 'linked_event_failed');
    if (linked.length === 0) return null;
    const causes = await ledger.lookupFailures(linked.map((result) => result.id));
    return causes.values().next().value ?? 'linked_event_failed';
  }
  if (failed.result !== 'id_already_failed') return failed.result;
  const causes = await ledger.lookupFailures([failed.id]);
  return causes.get(failed.id) ?? 'id_already_failed';
}

/** What a payer sees when the ledger refuses a payment from their wallet. */
export function paymentFailureOf(code: TransferResultCode): PaymentFailure {
  switch (code) {
    case 'exceeds_credits':
      return {
        code: 'insufficient_funds',
        declineCode: null,
        message: 'The wallet balance is too low for this payment.',
      };
    case 'account_closed':
      return { code: 'wallet_closed', declineCode: null, message: 'The wallet is closed.' };
    default:
      throw new Error(`unexpected ledger result ${code}`);
  }
}

export function unexpectedState(intent: Pick<PaymentIntent, 'id' | 'status'>, action: string): AppError {
  return new AppError('payment_intent_unexpected_state', {
    message: `You cannot ${action} this PaymentIntent because it has a status of ${intent.status}.`,
    param: 'intent',
    details: { payment_intent: intent.id, status: intent.status },
  });
}

/** A workflow's phase that another writer finished first: nothing to do but read the result. */
export function lostRace(what: string): never {
  throw new Error(`assertion failed: ${what} moved under a conditional update that should have held`);
}

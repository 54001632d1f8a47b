import { createHash } from 'node:crypto';
import type { Db } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import type { IdempotentCall } from '../../platform/idempotency.js';
import type { NotificationWriter } from '../events/index.js';
import type { WalletService } from '../wallets/index.js';
import {
  newId,
  type MerchantContext,
  type Payer,
  type PaymentIntent,
  type Refund,
  type WalletPayerPort,
} from './model.js';
import type { PaymentService } from './service.js';
import { transitionApprovals } from './state-machine.js';

/**
 * The wallet payment method: a customer's payment code scanned by the merchant pays from the
 * customer's wallet. Small payments go through at once; above the payer's no-PIN threshold the
 * intent waits in requires_action (next_action wallet_await_customer) until the payer approves it
 * with the PIN in the app, or is canceled after 60 s. In test mode the code must still be real,
 * but the money comes from a test-mode clearing account: test mode never moves a wallet's money.
 */

/** What the codes context answers for a redeemed code (single use). */
export interface RedeemedCode {
  userId: string;
  deviceId: string;
  mode: 'online' | 'offline';
  redemptionId: string;
}

export interface WalletMethodPorts {
  /**
   * Redeems a code for a payment: single use, except that the same code redeemed again for the
   * same intent (a retry) answers with the same redemption.
   */
  redeemPaymentCode(
    code: string,
    options: {
      amountMinor: bigint;
      currency: string;
      merchantAccountId: string;
      livemode: boolean;
      paymentIntentId: string;
    },
  ): Promise<RedeemedCode>;
  wallets: Pick<WalletService, 'profile' | 'noPinMax'> & Pick<WalletPayerPort, 'ledgerAccount'>;
  verifyPaymentPin(userId: string, pin: string): Promise<void>;
  merchantName(accountId: string): Promise<string>;
}

/** How a wallet payment request was made: the charge id its key names (resumable), and the key. */
export interface WalletPaymentOptions {
  chargeId?: string;
  call?: IdempotentCall | null;
}

export const walletMethodLimits = {
  approvalTtlMs: 60_000,
  expirySweepMax: 500,
} as const;

export interface PaymentApproval {
  id: string;
  paymentIntentId: string;
  userId: string;
  amountMinor: bigint;
  currency: string;
  merchantName: string;
  /** False: a test-mode merchant's payment, simulated; no wallet money moves. */
  livemode: boolean;
  status: 'pending' | 'approved' | 'expired' | 'canceled';
  expiresAt: Date;
  createdAt: Date;
}

type ApprovalRow = {
  id: string;
  charge_id: string | null;
  account_id: string;
  livemode: boolean;
  payment_intent_id: string;
  user_id: string;
  redemption_id: string;
  amount: bigint;
  currency: string;
  merchant_name: string;
  status: PaymentApproval['status'];
  expires_at: Date;
  created_at: Date;
};

function approvalFromRow(row: ApprovalRow): PaymentApproval {
  return {
    id: row.id,
    paymentIntentId: row.payment_intent_id,
    userId: row.user_id,
    amountMinor: row.amount,
    currency: row.currency,
    merchantName: row.merchant_name,
    livemode: row.livemode,
    status: row.status,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  };
}

export interface WalletMethod {
  /** Confirms an intent with a scanned customer code (or answers a retry of one). */
  confirmWithCode(
    ctx: MerchantContext,
    intentId: string,
    code: string,
    options?: WalletPaymentOptions,
  ): Promise<PaymentIntent>;
  /** Pays an intent for a payer who is present (scanned the merchant's QR and gave the PIN). */
  payAsPayer(
    ctx: MerchantContext,
    intentId: string,
    userId: string,
    pin: string,
    options?: WalletPaymentOptions,
  ): Promise<PaymentIntent>;
  /** The payer's pending approvals, newest first. */
  pendingApprovals(userId: string): Promise<PaymentApproval[]>;
  /** The payer approves with the PIN: the payment runs now (a retry resumes it). Another person's approval is not found. */
  approve(
    userId: string,
    approvalId: string,
    pin: string,
  ): Promise<{ approval: PaymentApproval; intent: PaymentIntent }>;
  /** Cancels intents whose approval was not given in time (the worker calls this). */
  expireApprovals(): Promise<number>;
  /** Pays approved approvals a crash left unpaid (the worker calls this); how many it paid. */
  recoverApprovals(options: { olderThanMs: number; batchSizeMax: number }): Promise<number>;
  /** Refunds; for live wallets the payer's history and notification come with it. */
  refund(
    ctx: MerchantContext,
    input: { chargeId: string; amountMinor?: bigint; reason?: string | null; metadata?: Record<string, string> },
    options?: { refundId?: string; call?: IdempotentCall | null },
  ): Promise<Refund>;
}

/** One approval per redemption: a retry that redeems the same code again finds the same approval. */
function approvalIdOf(redemptionId: string): string {
  return `apr_${createHash('sha256').update(`approval\u0000${redemptionId}`).digest('hex').slice(0, 32)}`;
}

/** What the wallet payment method works with (built once by createWalletMethod). */
export interface WalletMethodDeps {
  db: Db;
  payments: PaymentService;
  ports: WalletMethodPorts;
  notifications: NotificationWriter;
  now: () => Date;
}

/** The payer of a wallet payment: the wallet itself (live) or the test-mode stand-in. */
async function payerFor(
  deps: WalletMethodDeps,
  ctx: MerchantContext,
  intent: PaymentIntent,
  code: RedeemedCode,
): Promise<Payer> {
  const details = { type: 'wallet', wallet: { user: code.userId, mode: code.mode, device: code.deviceId } };
  if (!ctx.livemode) {
    return { ledgerAccountId: await deps.payments.testPayerAccount(intent.currency), reference: code.userId, details };
  }
  return {
    ledgerAccountId: await deps.ports.wallets.ledgerAccount(code.userId, intent.currency),
    reference: code.userId,
    details,
    wallet: { userId: code.userId, merchantName: await deps.ports.merchantName(ctx.accountId) },
  };
}

async function pay(
  deps: WalletMethodDeps,
  ctx: MerchantContext,
  intent: PaymentIntent,
  code: RedeemedCode,
  options: WalletPaymentOptions,
): Promise<PaymentIntent> {
  const payer = await payerFor(deps, ctx, intent, code);
  const paid = await deps.payments.confirmWithPayer(ctx, intent.id, payer, 'wallet', options);
  if (!ctx.livemode && paid.status === 'succeeded') await notifyTestPayment(deps, ctx, paid, code.userId);
  return paid;
}

/**
 * A test-mode payment moves no wallet money, so the wallets context writes no history and no
 * payment.made: the payer is told here, marked livemode false, so the app can say it was a test
 * (and the Pay screen can replace the code it used). Written after the payment committed: a crash
 * in between loses only this notice of a simulated payment, never money.
 */
async function notifyTestPayment(deps: WalletMethodDeps, ctx: MerchantContext, intent: PaymentIntent, userId: string) {
  assert(!ctx.livemode && intent.livemode === false, 'a test payment notice is for test mode only');
  const merchantName = await deps.ports.merchantName(ctx.accountId);
  await deps.db.transaction((tx) =>
    deps.notifications.write(tx, {
      userId,
      type: 'payment.made',
      data: {
        amount: Number(intent.amountMinor),
        currency: intent.currency,
        payment_intent: intent.id,
        to: merchantName,
        livemode: false,
      },
    }),
  );
}

async function resumed(deps: WalletMethodDeps, ctx: MerchantContext, intentId: string, options: WalletPaymentOptions) {
  return options.chargeId === undefined ? null : deps.payments.resumeConfirmation(ctx, intentId, options.chargeId);
}

/** Records the approval and puts the intent in requires_action, in one transaction (idempotent per redemption). */
async function requestApproval(
  deps: WalletMethodDeps,
  ctx: MerchantContext,
  intent: PaymentIntent,
  redeemed: RedeemedCode,
) {
  const approvalId = approvalIdOf(redeemed.redemptionId);
  const expiresAt = new Date(deps.now().getTime() + walletMethodLimits.approvalTtlMs);
  const merchantName = await deps.ports.merchantName(ctx.accountId);
  const requested = await deps.db.transaction(async (tx) => {
    const inserted = await tx.query(
      `insert into payments_approvals (id, account_id, livemode, payment_intent_id, user_id, redemption_id, amount, currency,
         merchant_name, status, expires_at, created_at, charge_id)
       values ($1, $2, $3, $4, $5, $6, $7::bigint, $8, $9, 'pending', $10, $11, $12)
       on conflict (id) do nothing returning id`,
      [
        approvalId,
        ctx.accountId,
        ctx.livemode,
        intent.id,
        redeemed.userId,
        redeemed.redemptionId,
        intent.amountMinor,
        intent.currency,
        merchantName,
        expiresAt,
        deps.now(),
        newId('ch'),
      ],
    );
    // A retry of the same confirmation: the approval (and its notification) exist already.
    if (inserted.length === 0) return null;
    await deps.notifications.write(tx, {
      userId: redeemed.userId,
      type: 'payment.approval_requested',
      data: {
        approval: approvalId,
        amount: Number(intent.amountMinor),
        currency: intent.currency,
        merchant: merchantName,
        expires_at: Math.floor(expiresAt.getTime() / 1000),
      },
    });
    return deps.payments.requireAction(
      ctx,
      intent.id,
      {
        type: 'wallet_await_customer',
        wallet_await_customer: { expires_at: Math.floor(expiresAt.getTime() / 1000) },
      },
      'wallet',
      { tx },
    );
  });
  return requested ?? deps.payments.retrieveIntent(ctx, intent.id);
}

/** Pays an approved approval with the charge id it recorded, or answers how that charge ended. */
async function payApproved(deps: WalletMethodDeps, row: ApprovalRow): Promise<PaymentIntent> {
  const ctx = { accountId: row.account_id, livemode: row.livemode };
  const chargeId = row.charge_id ?? undefined;
  const done =
    chargeId === undefined ? null : await deps.payments.resumeConfirmation(ctx, row.payment_intent_id, chargeId);
  if (done !== null) return done;
  const intent = await deps.payments.retrieveIntent(ctx, row.payment_intent_id);
  return pay(
    deps,
    ctx,
    intent,
    { userId: row.user_id, deviceId: '', mode: 'online', redemptionId: row.redemption_id },
    {
      ...(chargeId === undefined ? {} : { chargeId }),
    },
  );
}

/** An approval whose payment has not ended: no charge yet, or its charge still pending. */
async function approvalUnfinished(deps: WalletMethodDeps, row: ApprovalRow): Promise<boolean> {
  if (row.charge_id === null) return false;
  const rows = await deps.db.query<{ status: string }>('select status from payments_charges where id = $1', [
    row.charge_id,
  ]);
  return rows[0] === undefined || rows[0].status === 'pending';
}

export async function confirmWithCode(
  deps: WalletMethodDeps,
  ctx: MerchantContext,
  intentId: string,
  code: string,
  options: WalletPaymentOptions = {},
): Promise<PaymentIntent> {
  const earlier = await resumed(deps, ctx, intentId, options);
  if (earlier !== null) return earlier;
  const intent = await deps.payments.retrieveIntent(ctx, intentId);
  if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(intent.status)) {
    throw new AppError('payment_intent_unexpected_state', {
      message: `You cannot confirm this PaymentIntent because it has a status of ${intent.status}.`,
      param: 'intent',
    });
  }
  const redeemed = await deps.ports.redeemPaymentCode(code, {
    amountMinor: intent.amountMinor,
    currency: intent.currency,
    merchantAccountId: ctx.accountId,
    livemode: ctx.livemode,
    paymentIntentId: intent.id,
  });
  const profile = await deps.ports.wallets.profile(redeemed.userId);
  const noPinMax = deps.ports.wallets.noPinMax(intent.currency, profile.kycTier);
  // Offline codes are capped by the codes context and never ask for a PIN below the cap.
  const needsApproval = redeemed.mode === 'online' && (noPinMax === null || intent.amountMinor > noPinMax);
  if (!needsApproval) return pay(deps, ctx, intent, redeemed, options);
  return requestApproval(deps, ctx, intent, redeemed);
}

export async function payAsPayer(
  deps: WalletMethodDeps,
  ctx: MerchantContext,
  intentId: string,
  userId: string,
  pin: string,
  options: WalletPaymentOptions = {},
): Promise<PaymentIntent> {
  const earlier = await resumed(deps, ctx, intentId, options);
  if (earlier !== null) return earlier;
  await deps.ports.verifyPaymentPin(userId, pin);
  const intent = await deps.payments.retrieveIntent(ctx, intentId);
  return pay(deps, ctx, intent, { userId, deviceId: '', mode: 'online', redemptionId: `qr:${intent.id}` }, options);
}

export async function pendingApprovals(deps: WalletMethodDeps, userId: string): Promise<PaymentApproval[]> {
  const rows = await deps.db.query<ApprovalRow>(
    // An intent the merchant canceled meanwhile (Cancel at the till) is no longer the payer's to approve.
    `select a.* from payments_approvals a join payments_intents i on i.id = a.payment_intent_id
      where a.user_id = $1 and a.status = 'pending' and a.expires_at > $2 and i.status = 'requires_action'
      order by a.created_at desc limit 20`,
    [userId, deps.now()],
  );
  return rows.map(approvalFromRow);
}

export async function approve(
  deps: WalletMethodDeps,
  userId: string,
  approvalId: string,
  pin: string,
): Promise<{ approval: PaymentApproval; intent: PaymentIntent }> {
  const rows = await deps.db.query<ApprovalRow>('select * from payments_approvals where id = $1 and user_id = $2', [
    approvalId,
    userId,
  ]);
  const row = rows[0];
  if (row === undefined) throw new AppError('not_found', { message: 'No such payment approval.', param: 'id' });
  if (row.status === 'approved' && (await approvalUnfinished(deps, row))) {
    // A retry after the approval was given and the request died before its payment finished.
    await deps.ports.verifyPaymentPin(userId, pin);
    return { approval: approvalFromRow(row), intent: await payApproved(deps, row) };
  }
  if (row.status !== 'pending' || row.expires_at.getTime() <= deps.now().getTime()) {
    throw new AppError('payment_approval_closed', {
      message: `This payment can no longer be approved (${row.status === 'pending' ? 'expired' : row.status}).`,
    });
  }
  await deps.ports.verifyPaymentPin(userId, pin);
  // Claimed only while its intent still waits: a payment the merchant canceled cannot be approved.
  const claimed = await transitionApprovals(deps.db, 'approve', {
    sql: `id = $1 and expires_at > $2 and exists (select 1 from payments_intents i
            where i.id = payments_approvals.payment_intent_id and i.status = 'requires_action')`,
    params: [approvalId, deps.now()],
  });
  if (claimed.length === 0) throw new AppError('payment_approval_closed');
  const approved = claimed[0] as unknown as ApprovalRow;
  return { approval: approvalFromRow(approved), intent: await payApproved(deps, approved) };
}

export async function expireApprovals(deps: WalletMethodDeps): Promise<number> {
  const rows = (await transitionApprovals(deps.db, 'expire', {
    sql: 'id in (select id from payments_approvals where status = $1 and expires_at <= $2 limit $3)',
    params: ['pending', deps.now(), walletMethodLimits.expirySweepMax],
  })) as unknown as ApprovalRow[];
  for (const row of rows) {
    const ctx = { accountId: row.account_id, livemode: row.livemode };
    await deps.payments.cancel(ctx, row.payment_intent_id, 'abandoned').catch((error: unknown) => {
      // Already moved on (e.g. canceled by the merchant): nothing to undo.
      if (!(error instanceof AppError && error.code === 'payment_intent_unexpected_state')) throw error;
    });
  }
  return rows.length;
}

export async function recoverApprovals(
  deps: WalletMethodDeps,
  options: { olderThanMs: number; batchSizeMax: number },
): Promise<number> {
  // Approved (the payer gave the PIN) but the intent still waits: the request died before the claim.
  const rows = await deps.db.query<ApprovalRow>(
    `select a.* from payments_approvals a join payments_intents i on i.id = a.payment_intent_id
      where a.status = 'approved' and i.status = 'requires_action' and i.updated_at < $1
      order by a.created_at limit $2`,
    [new Date(deps.now().getTime() - options.olderThanMs), options.batchSizeMax],
  );
  let paid = 0;
  for (const row of rows) {
    await payApproved(deps, row).catch((error: unknown) => {
      if (!(error instanceof AppError && error.status < 500)) throw error;
    });
    paid += 1;
  }
  return paid;
}

export function createWalletMethod(options: {
  db: Db;
  payments: PaymentService;
  ports: WalletMethodPorts;
  notifications: NotificationWriter;
  now?: () => Date;
}): WalletMethod {
  const deps: WalletMethodDeps = { ...options, now: options.now ?? (() => new Date()) };
  return {
    confirmWithCode: (ctx, intentId, code, paymentOptions) =>
      confirmWithCode(deps, ctx, intentId, code, paymentOptions),
    payAsPayer: (ctx, intentId, userId, pin, paymentOptions) =>
      payAsPayer(deps, ctx, intentId, userId, pin, paymentOptions),
    pendingApprovals: (userId) => pendingApprovals(deps, userId),
    approve: (userId, approvalId, pin) => approve(deps, userId, approvalId, pin),
    expireApprovals: () => expireApprovals(deps),
    recoverApprovals: (recoveryOptions) => recoverApprovals(deps, recoveryOptions),
    refund: (ctx, input, refundOptions = {}) => deps.payments.refund(ctx, input, refundOptions),
  };
}

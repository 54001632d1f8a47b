import { randomBytes } from 'node:crypto';
import type { Db } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import type { NotificationWriter } from '../events/types.js';
import type { WalletService } from '../wallets/index.js';
import { transferIdFrom, type Ledger } from '../ledger/index.js';
import type { MerchantContext, PaymentIntent, PaymentService, Refund } from './service.js';

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
  redeemPaymentCode(
    code: string,
    options: { amountMinor: bigint; currency: string; merchantAccountId: string; livemode: boolean },
  ): Promise<RedeemedCode>;
  wallets: Pick<WalletService, 'profile' | 'noPinMax' | 'authorizePayment' | 'completePayment' | 'recordRefund'>;
  verifyPaymentPin(userId: string, pin: string): Promise<void>;
  merchantName(accountId: string): Promise<string>;
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
  status: 'pending' | 'approved' | 'expired' | 'canceled';
  expiresAt: Date;
  createdAt: Date;
}

type ApprovalRow = {
  id: string;
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
    status: row.status,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  };
}

export type WalletMethod = ReturnType<typeof createWalletMethod>;

export function createWalletMethod(deps: {
  db: Db;
  ledger: Ledger;
  payments: PaymentService;
  ports: WalletMethodPorts;
  notifications: NotificationWriter;
  now?: () => Date;
}) {
  const { db, ledger, payments, ports } = deps;
  const now = deps.now ?? (() => new Date());

  async function testPayerAccount(currency: string): Promise<string> {
    const id = transferIdFrom('payments.system', `false:${currency}:test_payer_clearing`);
    const [result] = await ledger.createAccounts([
      { id, currency, code: 203, metadata: { purpose: 'test_payer_clearing' } },
    ]);
    assert(result?.result === 'ok' || result?.result === 'exists', `test payer account: ${result?.result}`);
    return id;
  }

  /** Moves the money: from the wallet (live) or the test clearing account (test). */
  async function pay(ctx: MerchantContext, intent: PaymentIntent, code: RedeemedCode): Promise<PaymentIntent> {
    const details = {
      type: 'wallet',
      wallet: { user: code.userId, mode: code.mode, device: code.deviceId },
    };
    if (!ctx.livemode) {
      const ledgerAccountId = await testPayerAccount(intent.currency);
      return payments.confirmWithPayer(ctx, intent.id, { ledgerAccountId, reference: code.userId, details }, 'wallet');
    }
    const merchantName = await ports.merchantName(ctx.accountId);
    const { ledgerAccountId, authorization } = await ports.wallets.authorizePayment({
      userId: code.userId,
      amountMinor: intent.amountMinor,
      currency: intent.currency,
      merchantName,
      merchantAccountId: ctx.accountId,
      reference: `${intent.id}:${code.redemptionId}`,
    });
    let result: PaymentIntent;
    try {
      result = await payments.confirmWithPayer(
        ctx,
        intent.id,
        { ledgerAccountId, reference: code.userId, details },
        'wallet',
      );
    } catch (error) {
      await ports.wallets.completePayment(authorization, { succeeded: false, failureCode: 'processing_error' });
      throw error;
    }
    const succeeded = result.status === 'succeeded' || result.status === 'requires_capture';
    await ports.wallets.completePayment(
      authorization,
      succeeded
        ? { succeeded: true }
        : {
            succeeded: false,
            failureCode:
              typeof result.lastPaymentError?.code === 'string' ? result.lastPaymentError.code : 'payment_failed',
          },
    );
    return result;
  }

  return {
    /** Confirms an intent with a scanned customer code. */
    async confirmWithCode(ctx: MerchantContext, intentId: string, code: string): Promise<PaymentIntent> {
      const intent = await payments.retrieveIntent(ctx, intentId);
      if (!['requires_payment_method', 'requires_confirmation'].includes(intent.status)) {
        throw new AppError('payment_intent_unexpected_state', {
          message: `You cannot confirm this PaymentIntent because it has a status of ${intent.status}.`,
          param: 'intent',
        });
      }
      const redeemed = await ports.redeemPaymentCode(code, {
        amountMinor: intent.amountMinor,
        currency: intent.currency,
        merchantAccountId: ctx.accountId,
        livemode: ctx.livemode,
      });
      const profile = await ports.wallets.profile(redeemed.userId);
      const noPinMax = ports.wallets.noPinMax(intent.currency, profile.kycTier);
      // Offline codes are capped by the codes context and never ask for a PIN below the cap.
      const needsApproval = redeemed.mode === 'online' && (noPinMax === null || intent.amountMinor > noPinMax);
      if (!needsApproval) return pay(ctx, intent, redeemed);
      const approvalId = `apr_${randomBytes(16).toString('hex')}`;
      const expiresAt = new Date(now().getTime() + walletMethodLimits.approvalTtlMs);
      const merchantName = await ports.merchantName(ctx.accountId);
      await db.transaction(async (tx) => {
        await tx.query(
          `insert into payments_approvals (id, account_id, livemode, payment_intent_id, user_id, redemption_id, amount, currency,
             merchant_name, status, expires_at, created_at)
           values ($1, $2, $3, $4, $5, $6, $7::bigint, $8, $9, 'pending', $10, $11)`,
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
            now(),
          ],
        );
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
      });
      return payments.requireAction(
        ctx,
        intent.id,
        {
          type: 'wallet_await_customer',
          wallet_await_customer: { expires_at: Math.floor(expiresAt.getTime() / 1000) },
        },
        'wallet',
      );
    },

    /** Pays an intent for a payer who is present (scanned the merchant's QR and gave the PIN). */
    async payAsPayer(ctx: MerchantContext, intentId: string, userId: string, pin: string): Promise<PaymentIntent> {
      await ports.verifyPaymentPin(userId, pin);
      const intent = await payments.retrieveIntent(ctx, intentId);
      return pay(ctx, intent, { userId, deviceId: '', mode: 'online', redemptionId: `qr:${intent.id}` });
    },

    /** The payer's pending approvals, newest first. */
    async pendingApprovals(userId: string): Promise<PaymentApproval[]> {
      const rows = await db.query<ApprovalRow>(
        `select * from payments_approvals where user_id = $1 and status = 'pending' and expires_at > $2
          order by created_at desc limit 20`,
        [userId, now()],
      );
      return rows.map(approvalFromRow);
    },

    /** The payer approves with the PIN: the payment runs now. Another person's approval is not found. */
    async approve(
      userId: string,
      approvalId: string,
      pin: string,
    ): Promise<{ approval: PaymentApproval; intent: PaymentIntent }> {
      const rows = await db.query<ApprovalRow>('select * from payments_approvals where id = $1 and user_id = $2', [
        approvalId,
        userId,
      ]);
      const row = rows[0];
      if (row === undefined) throw new AppError('not_found', { message: 'No such payment approval.', param: 'id' });
      if (row.status !== 'pending' || row.expires_at.getTime() <= now().getTime()) {
        throw new AppError('payment_approval_closed', {
          message: `This payment can no longer be approved (${row.status === 'pending' ? 'expired' : row.status}).`,
        });
      }
      await ports.verifyPaymentPin(userId, pin);
      const claimed = await db.query<{ id: string }>(
        `update payments_approvals set status = 'approved' where id = $1 and status = 'pending' and expires_at > $2 returning id`,
        [approvalId, now()],
      );
      if (claimed.length === 0) throw new AppError('payment_approval_closed');
      const ctx = { accountId: row.account_id, livemode: row.livemode };
      const intent = await payments.retrieveIntent(ctx, row.payment_intent_id);
      const paid = await pay(ctx, intent, {
        userId,
        deviceId: '',
        mode: 'online',
        redemptionId: row.redemption_id,
      });
      const approved = await db.query<ApprovalRow>('select * from payments_approvals where id = $1', [approvalId]);
      return { approval: approvalFromRow(approved[0]!), intent: paid };
    },

    /** Cancels intents whose approval was not given in time (the worker calls this). */
    async expireApprovals(): Promise<number> {
      const rows = await db.query<ApprovalRow>(
        `update payments_approvals set status = 'expired'
          where id in (select id from payments_approvals where status = 'pending' and expires_at <= $1 limit $2)
          returning *`,
        [now(), walletMethodLimits.expirySweepMax],
      );
      for (const row of rows) {
        const ctx = { accountId: row.account_id, livemode: row.livemode };
        await payments.cancel(ctx, row.payment_intent_id, 'abandoned').catch((error: unknown) => {
          // Already moved on (e.g. canceled by the merchant): nothing to undo.
          if (!(error instanceof AppError && error.code === 'payment_intent_unexpected_state')) throw error;
        });
      }
      return rows.length;
    },

    /** Refunds, and tells the payer (live wallets) in their history and notifications. */
    async refund(
      ctx: MerchantContext,
      input: { chargeId: string; amountMinor?: bigint; reason?: string | null; metadata?: Record<string, string> },
    ): Promise<Refund> {
      const refund = await payments.refund(ctx, input);
      if (ctx.livemode) {
        const charge = await payments.retrieveCharge(ctx, input.chargeId);
        const wallet = (charge.paymentMethodDetails as { type?: string; wallet?: { user?: string } }).wallet;
        if (charge.paymentMethodDetails.type === 'wallet' && typeof wallet?.user === 'string') {
          await ports.wallets.recordRefund({
            userId: wallet.user,
            amountMinor: refund.amountMinor,
            currency: refund.currency,
            merchantName: await ports.merchantName(ctx.accountId),
            merchantAccountId: ctx.accountId,
            reference: refund.id,
          });
        }
      }
      return refund;
    },
  };
}

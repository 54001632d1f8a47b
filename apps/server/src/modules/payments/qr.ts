import type { IdempotentCall } from '../../platform/idempotency.js';
import { AppError } from '../../platform/errors.js';
import { currencyInfo } from '../../platform/money.js';
import { emvText, encodeMerchantQr, parseMerchantQr, qrImages } from '../codes/index.js';
import type { Merchant } from '../merchants/index.js';
import type { MerchantContext, PaymentIntent, PaymentService } from './service.js';
import type { WalletMethod } from './wallet-method.js';

/**
 * Merchant-presented QR codes (EMVCo MPM): a dynamic code for one payment intent, shown by the
 * POS as next_action.wallet_display_qr_code, and a static code for the counter (the payer types
 * the amount). The wallet resolves a code to a preview, then pays it with the PIN.
 */
export const qrLimits = { dynamicTtlMs: 5 * 60_000 } as const;

export interface QrPreview {
  dynamic: boolean;
  merchant: { id: string; name: string };
  amountMinor: bigint | null;
  currency: string;
  paymentIntentId: string | null;
  /** False for a merchant in test mode: paying it is simulated and moves no wallet money. */
  livemode: boolean;
}

/** What the merchant QR works with (built once by createMerchantQr). */
export interface MerchantQrDeps {
  payments: PaymentService;
  walletMethod: WalletMethod;
  getMerchant: (accountId: string) => Promise<Merchant>;
  now: () => Date;
}

function payload(deps: MerchantQrDeps, merchant: Merchant, currency: string, intent: PaymentIntent | null): string {
  const info = currencyInfo(currency);
  if (info === undefined) throw new AppError('currency_unsupported', { param: 'currency' });
  return encodeMerchantQr({
    merchantAccountId: merchant.id,
    merchantName: emvText(merchant.name, 25) ?? 'YUNPAY MERCHANT',
    city: emvText(merchant.city ?? '', 15) ?? 'NA',
    mcc: merchant.mcc,
    currencyNumeric: info.numeric,
    countryCode: merchant.country,
    exponent: info.exponent,
    dynamic: intent !== null,
    ...(intent === null ? {} : { amountMinor: intent.amountMinor, paymentIntentId: intent.id }),
  });
}

/** The dynamic QR of an intent: the intent waits in requires_action until a wallet pays it. */
export async function display(deps: MerchantQrDeps, ctx: MerchantContext, intentId: string): Promise<PaymentIntent> {
  const intent = await deps.payments.retrieveIntent(ctx, intentId);
  const merchant = await deps.getMerchant(ctx.accountId);
  const data = payload(deps, merchant, intent.currency, intent);
  const images = await qrImages(data);
  const expiresAt = Math.floor((deps.now().getTime() + qrLimits.dynamicTtlMs) / 1000);
  return deps.payments.requireAction(
    ctx,
    intentId,
    {
      type: 'wallet_display_qr_code',
      wallet_display_qr_code: {
        data,
        image_data_url: images.image_data_url,
        image_url_svg: images.image_url_svg,
        expires_at: expiresAt,
      },
    },
    'wallet',
  );
}

/** The merchant's reusable counter code (no amount). */
export async function staticCode(deps: MerchantQrDeps, accountId: string) {
  const merchant = await deps.getMerchant(accountId);
  const data = payload(deps, merchant, merchant.defaultCurrency.toUpperCase(), null);
  return { data, ...(await qrImages(data)) };
}

/** A dynamic code's intent, checked against the payload; throws clear errors. */
async function payableIntent(
  deps: MerchantQrDeps,
  scanned: ReturnType<typeof parseMerchantQr>,
): Promise<PaymentIntent> {
  const intent =
    scanned.paymentIntentId === null ? null : await deps.payments.findIntentForPayer(scanned.paymentIntentId);
  if (intent === null || intent.accountId !== scanned.merchantAccountId) {
    throw new AppError('qr_invalid', { message: 'This QR code does not name a payment.', param: 'data' });
  }
  if (intent.amountMinor !== scanned.amountMinor || intent.currency !== scanned.currency) {
    throw new AppError('qr_invalid', { message: 'This QR code does not match its payment.', param: 'data' });
  }
  if (intent.status === 'succeeded' || intent.status === 'processing' || intent.status === 'requires_capture') {
    throw new AppError('qr_already_paid', { param: 'data' });
  }
  const display = intent.nextAction?.wallet_display_qr_code as { expires_at?: number; data?: string } | undefined;
  if (
    intent.status !== 'requires_action' ||
    display === undefined ||
    (display.expires_at ?? 0) * 1000 <= deps.now().getTime()
  ) {
    throw new AppError('qr_expired', { param: 'data' });
  }
  return intent;
}

export async function resolveQr(deps: MerchantQrDeps, data: string): Promise<QrPreview> {
  const scanned = parseMerchantQr(data);
  const merchant = await deps.getMerchant(scanned.merchantAccountId).catch(() => null);
  if (merchant === null) throw new AppError('qr_invalid', { message: 'Unknown merchant.', param: 'data' });
  if (!scanned.dynamic) {
    return {
      dynamic: false,
      merchant: { id: merchant.id, name: merchant.name },
      amountMinor: null,
      currency: scanned.currency,
      paymentIntentId: null,
      livemode: merchant.activatedAt !== null,
    };
  }
  const intent = await payableIntent(deps, scanned);
  return {
    dynamic: true,
    merchant: { id: merchant.id, name: merchant.name },
    amountMinor: intent.amountMinor,
    currency: intent.currency,
    paymentIntentId: intent.id,
    livemode: intent.livemode,
  };
}

export async function payQr(
  deps: MerchantQrDeps,
  userId: string,
  input: { data: string; amountMinor?: bigint; pin: string },
  ids: { intentId?: string; chargeId?: string; call?: IdempotentCall | null } = {},
): Promise<PaymentIntent> {
  const paymentOptions = {
    ...(ids.chargeId === undefined ? {} : { chargeId: ids.chargeId }),
    call: ids.call ?? null,
  };
  const scanned = parseMerchantQr(input.data);
  if (scanned.dynamic) {
    if (input.amountMinor !== undefined) {
      throw new AppError('invalid_request', { message: 'A dynamic code carries its own amount.', param: 'amount' });
    }
    // A retry of this very payment (its charge exists) is answered before the QR is checked again.
    const known =
      scanned.paymentIntentId === null ? null : await deps.payments.findIntentForPayer(scanned.paymentIntentId);
    if (known !== null && ids.chargeId !== undefined) {
      const ctx = { accountId: known.accountId, livemode: known.livemode };
      const earlier = await deps.payments.resumeConfirmation(ctx, known.id, ids.chargeId).catch(() => null);
      if (earlier !== null) return earlier;
    }
    const intent = await payableIntent(deps, scanned);
    try {
      return await deps.walletMethod.payAsPayer(
        { accountId: intent.accountId, livemode: intent.livemode },
        intent.id,
        userId,
        input.pin,
        paymentOptions,
      );
    } catch (error) {
      // Another wallet paid it first (the intent's transition lets exactly one through).
      if (error instanceof AppError && error.code === 'payment_intent_unexpected_state') {
        throw new AppError('qr_already_paid', { param: 'data' });
      }
      throw error;
    }
  }
  if (input.amountMinor === undefined) {
    throw new AppError('invalid_request', { message: 'Type the amount to pay.', param: 'amount' });
  }
  const merchant = await deps.getMerchant(scanned.merchantAccountId).catch(() => null);
  if (merchant === null) throw new AppError('qr_invalid', { message: 'Unknown merchant.', param: 'data' });
  const ctx = { accountId: merchant.id, livemode: merchant.activatedAt !== null };
  const intent = await deps.payments.createIntent(
    ctx,
    { amountMinor: input.amountMinor, currency: scanned.currency, description: 'Counter QR payment' },
    ids.intentId === undefined ? {} : { id: ids.intentId },
  );
  return deps.walletMethod.payAsPayer(ctx, intent.id, userId, input.pin, paymentOptions);
}

export interface MerchantQr {
  /** The dynamic QR of an intent: the intent waits in requires_action until a wallet pays it. */
  display(ctx: MerchantContext, intentId: string): Promise<PaymentIntent>;
  /** The merchant's reusable counter code (no amount). */
  staticCode(accountId: string): ReturnType<typeof staticCode>;
  /** What a scanned code is: merchant, amount, intent. */
  resolve(data: string): Promise<QrPreview>;
  /** Pays a scanned code (a retry of this very payment resumes it). */
  pay(
    userId: string,
    input: { data: string; amountMinor?: bigint; pin: string },
    ids?: { intentId?: string; chargeId?: string; call?: IdempotentCall | null },
  ): Promise<PaymentIntent>;
}

export function createMerchantQr(options: Omit<MerchantQrDeps, 'now'> & { now?: () => Date }): MerchantQr {
  const deps: MerchantQrDeps = { ...options, now: options.now ?? (() => new Date()) };
  return {
    display: (ctx, intentId) => display(deps, ctx, intentId),
    staticCode: (accountId) => staticCode(deps, accountId),
    resolve: (data) => resolveQr(deps, data),
    pay: (userId, input, ids = {}) => payQr(deps, userId, input, ids),
  };
}

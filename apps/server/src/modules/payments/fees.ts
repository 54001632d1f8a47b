/**
 * Merchant fees, in integer minor units. The rule: fee = round_half_up(amount × bps / 10,000)
 * + fixed, never more than the amount. A refund gives back the same share of the fee as of the
 * amount, rounded down (so the fees refunded over several partial refunds never pass the fee).
 */
export interface Pricing {
  /** Percentage fee in basis points (60 = 0.60 %). */
  basisPoints: number;
  /** Fixed fee per payment in minor units of the payment's currency (absent: 0). */
  fixedMinor: Readonly<Record<string, bigint>>;
}

export function paymentFee(amountMinor: bigint, currency: string, pricing: Pricing): bigint {
  if (amountMinor <= 0n) throw new Error('assertion failed: fees are for positive amounts');
  if (!Number.isInteger(pricing.basisPoints) || pricing.basisPoints < 0 || pricing.basisPoints > 10_000) {
    throw new Error('assertion failed: basis points from 0 to 10,000');
  }
  const percentage = (amountMinor * BigInt(pricing.basisPoints) + 5_000n) / 10_000n;
  const fee = percentage + (pricing.fixedMinor[currency] ?? 0n);
  return fee > amountMinor ? amountMinor : fee;
}

/**
 * The fee given back for a refund: fee × (refunded so far + this refund) / captured, minus what
 * was already given back — computed on the running total, so that refunding everything in parts
 * gives back exactly the whole fee.
 */
export function refundedFee(options: {
  feeMinor: bigint;
  capturedMinor: bigint;
  refundedBeforeMinor: bigint;
  refundMinor: bigint;
  feeRefundedBeforeMinor: bigint;
}): bigint {
  const { feeMinor, capturedMinor, refundedBeforeMinor, refundMinor, feeRefundedBeforeMinor } = options;
  if (capturedMinor <= 0n || refundMinor <= 0n || refundedBeforeMinor + refundMinor > capturedMinor) {
    throw new Error('assertion failed: a refund within what was captured');
  }
  const totalShare = (feeMinor * (refundedBeforeMinor + refundMinor)) / capturedMinor;
  return totalShare - feeRefundedBeforeMinor;
}

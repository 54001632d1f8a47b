import { Type, type TSchema } from 'typebox';
import { listResponse, unixSeconds } from '../../v1/index.js';
import type { BalanceTransaction, Charge, PaymentIntent, Refund } from './model.js';

/**
 * The payments context's /v1 objects as Stripe shapes them (fields we do not support yet are
 * present as null: docs/stripe-compatibility.md), and their response schemas. The schema is the
 * last guard against a leak: a field not listed in it is not serialised. Currencies are lower-case
 * on the wire, as Stripe's are.
 */

const wire = (currency: string) => currency.toLowerCase();

export function intentDto(intent: PaymentIntent, options: { includeClientSecret: boolean }) {
  return {
    id: intent.id,
    object: 'payment_intent' as const,
    amount: Number(intent.amountMinor),
    amount_capturable: Number(intent.amountCapturableMinor),
    amount_details: null,
    amount_received: Number(intent.amountReceivedMinor),
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: intent.canceledAt === null ? null : unixSeconds(intent.canceledAt),
    cancellation_reason: intent.cancellationReason,
    capture_method: intent.captureMethod,
    client_secret: options.includeClientSecret ? intent.clientSecret : null,
    confirmation_method: 'automatic' as const,
    created: unixSeconds(intent.createdAt),
    currency: wire(intent.currency),
    customer: intent.customerId,
    customer_account: null,
    description: intent.description,
    excluded_payment_method_types: null,
    last_payment_error: intent.lastPaymentError,
    latest_charge: intent.latestChargeId,
    livemode: intent.livemode,
    managed_payments: null,
    metadata: intent.metadata,
    next_action: intent.nextAction,
    on_behalf_of: null,
    payment_method: intent.paymentMethodId,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: intent.paymentMethodType === null ? ['card', 'wallet'] : [intent.paymentMethodType],
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: intent.status,
    transfer_data: null,
    transfer_group: null,
  };
}

/** Stripe's charge.outcome: what the network (or the wallet) said; null while pending. */
function chargeOutcome(charge: Charge) {
  if (charge.status === 'pending') return null;
  if (charge.status === 'succeeded') {
    return {
      network_status: 'approved_by_network',
      reason: null,
      risk_level: 'normal',
      seller_message: 'Payment complete.',
      type: 'authorized',
    };
  }
  return {
    network_status: 'declined_by_network',
    reason: charge.failureDeclineCode ?? charge.failureCode,
    risk_level: 'normal',
    seller_message: charge.failureMessage,
    type: 'issuer_declined',
  };
}

export function chargeDto(charge: Charge, refunds: Refund[]) {
  return {
    id: charge.id,
    object: 'charge' as const,
    amount: Number(charge.amountMinor),
    amount_captured: Number(charge.amountCapturedMinor),
    amount_refunded: Number(charge.amountRefundedMinor),
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: charge.balanceTransactionId,
    billing_details: { address: null, email: null, name: null, phone: null },
    calculated_statement_descriptor: null,
    captured: charge.captured,
    created: unixSeconds(charge.createdAt),
    currency: wire(charge.currency),
    customer: null,
    description: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: charge.failureCode,
    failure_message: charge.failureMessage,
    fraud_details: {},
    livemode: charge.livemode,
    metadata: {},
    on_behalf_of: null,
    outcome: chargeOutcome(charge),
    paid: charge.status === 'succeeded',
    payment_intent: charge.paymentIntentId,
    payment_method: charge.paymentMethodId,
    payment_method_details: charge.paymentMethodDetails,
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: charge.captured && charge.amountRefundedMinor === charge.amountCapturedMinor,
    refunds: listResponse({
      data: refunds.map(refundDto),
      hasMore: false,
      url: `/v1/charges/${charge.id}/refunds`,
    }),
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: charge.status,
    transfer_data: null,
    transfer_group: null,
  };
}

export function refundDto(refund: Refund) {
  return {
    id: refund.id,
    object: 'refund' as const,
    amount: Number(refund.amountMinor),
    balance_transaction: refund.balanceTransactionId,
    charge: refund.chargeId,
    created: unixSeconds(refund.createdAt),
    currency: wire(refund.currency),
    customer: null,
    customer_account: null,
    destination_details: null,
    ...(refund.failureReason === null ? {} : { failure_reason: refund.failureReason }),
    metadata: refund.metadata,
    payment_intent: refund.paymentIntentId,
    payment_method: null,
    reason: refund.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: refund.status,
    transfer_reversal: null,
  };
}

export function balanceTransactionDto(entry: BalanceTransaction) {
  return {
    id: entry.id,
    object: 'balance_transaction' as const,
    amount: Number(entry.amountMinor),
    available_on: unixSeconds(entry.availableOn),
    balance_type: 'payments',
    created: unixSeconds(entry.createdAt),
    currency: wire(entry.currency),
    description: null,
    exchange_rate: null,
    fee: Number(entry.feeMinor),
    fee_details:
      entry.feeMinor === 0n
        ? []
        : [
            {
              amount: Number(entry.feeMinor),
              application: null,
              currency: wire(entry.currency),
              description: 'Yunpay processing fees',
              type: 'stripe_fee',
            },
          ],
    net: Number(entry.netMinor),
    reporting_category: entry.type === 'charge' ? 'charge' : 'refund',
    source: entry.sourceId,
    status: entry.status,
    type: entry.type,
  };
}

/** Pending and available per currency, as Stripe's balance object. */
export function balanceDto(
  rows: readonly { currency: string; availableMinor: bigint; pendingMinor: bigint }[],
  livemode: boolean,
) {
  const part = (amountMinor: bigint, currency: string) => ({
    amount: Number(amountMinor),
    currency: wire(currency),
    source_types: { wallet: Number(amountMinor) },
  });
  return {
    object: 'balance' as const,
    available: rows.map((row) => part(row.availableMinor, row.currency)),
    connect_reserved: null,
    livemode,
    pending: rows.map((row) => part(row.pendingMinor, row.currency)),
  };
}

// --- response schemas ---------------------------------------------------------------------

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const NullableString = Nullable(Type.String());
const NullableInteger = Nullable(Type.Integer());
/** An object whose fields are open (details, errors, next actions): serialised as it is. */
const Open = Type.Object({}, { additionalProperties: true });
/** A field expand[] may turn from an id into the object. */
const Expandable = Type.Union([Type.String(), Type.Null(), Open]);
const Metadata = Type.Record(Type.String(), Type.String());
const Currency = Type.String({ pattern: '^[a-z]{3}$' });

export const PaymentIntentSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_intent'),
  amount: Type.Integer(),
  amount_capturable: Type.Integer(),
  amount_details: Type.Null(),
  amount_received: Type.Integer(),
  application: Type.Null(),
  application_fee_amount: Type.Null(),
  automatic_payment_methods: Type.Null(),
  canceled_at: NullableInteger,
  cancellation_reason: NullableString,
  capture_method: Type.Union([Type.Literal('automatic'), Type.Literal('manual')]),
  client_secret: NullableString,
  confirmation_method: Type.Literal('automatic'),
  created: Type.Integer(),
  currency: Currency,
  customer: Expandable,
  customer_account: Type.Null(),
  description: NullableString,
  excluded_payment_method_types: Type.Null(),
  last_payment_error: Nullable(Open),
  latest_charge: Expandable,
  livemode: Type.Boolean(),
  managed_payments: Type.Null(),
  metadata: Metadata,
  next_action: Nullable(Open),
  on_behalf_of: Type.Null(),
  payment_method: Expandable,
  payment_method_configuration_details: Type.Null(),
  payment_method_options: Open,
  payment_method_types: Type.Array(Type.String()),
  processing: Type.Null(),
  receipt_email: Type.Null(),
  review: Type.Null(),
  setup_future_usage: Type.Null(),
  shipping: Type.Null(),
  source: Type.Null(),
  statement_descriptor: Type.Null(),
  statement_descriptor_suffix: Type.Null(),
  status: Type.String(),
  transfer_data: Type.Null(),
  transfer_group: Type.Null(),
});

export const RefundSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('refund'),
  amount: Type.Integer(),
  balance_transaction: Expandable,
  charge: Expandable,
  created: Type.Integer(),
  currency: Currency,
  customer: Type.Null(),
  customer_account: Type.Null(),
  destination_details: Type.Null(),
  failure_reason: Type.Optional(Type.String()),
  metadata: Metadata,
  payment_intent: Expandable,
  payment_method: Type.Null(),
  reason: NullableString,
  receipt_number: Type.Null(),
  source_transfer_reversal: Type.Null(),
  status: Type.String(),
  transfer_reversal: Type.Null(),
});

const listOf = <T extends TSchema>(item: T) =>
  Type.Object({
    object: Type.Literal('list'),
    data: Type.Array(item),
    has_more: Type.Boolean(),
    url: Type.String(),
  });

export const ChargeSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('charge'),
  amount: Type.Integer(),
  amount_captured: Type.Integer(),
  amount_refunded: Type.Integer(),
  application: Type.Null(),
  application_fee: Type.Null(),
  application_fee_amount: Type.Null(),
  balance_transaction: Expandable,
  billing_details: Type.Object({
    address: Type.Null(),
    email: Type.Null(),
    name: Type.Null(),
    phone: Type.Null(),
  }),
  calculated_statement_descriptor: Type.Null(),
  captured: Type.Boolean(),
  created: Type.Integer(),
  currency: Currency,
  customer: Type.Null(),
  description: Type.Null(),
  disputed: Type.Boolean(),
  failure_balance_transaction: Type.Null(),
  failure_code: NullableString,
  failure_message: NullableString,
  fraud_details: Open,
  livemode: Type.Boolean(),
  metadata: Metadata,
  on_behalf_of: Type.Null(),
  outcome: Nullable(Open),
  paid: Type.Boolean(),
  payment_intent: Expandable,
  payment_method: Expandable,
  payment_method_details: Open,
  receipt_email: Type.Null(),
  receipt_number: Type.Null(),
  receipt_url: Type.Null(),
  refunded: Type.Boolean(),
  refunds: listOf(RefundSchema),
  review: Type.Null(),
  shipping: Type.Null(),
  source: Type.Null(),
  source_transfer: Type.Null(),
  statement_descriptor: Type.Null(),
  statement_descriptor_suffix: Type.Null(),
  status: Type.String(),
  transfer_data: Type.Null(),
  transfer_group: Type.Null(),
});

export const BalanceTransactionSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('balance_transaction'),
  amount: Type.Integer(),
  available_on: Type.Integer(),
  balance_type: Type.String(),
  created: Type.Integer(),
  currency: Currency,
  description: NullableString,
  exchange_rate: Type.Null(),
  fee: Type.Integer(),
  fee_details: Type.Array(
    Type.Object({
      amount: Type.Integer(),
      application: Type.Null(),
      currency: Currency,
      description: NullableString,
      type: Type.String(),
    }),
  ),
  net: Type.Integer(),
  reporting_category: Type.String(),
  source: Expandable,
  status: Type.String(),
  type: Type.String(),
});

const BalancePart = Type.Object({
  amount: Type.Integer(),
  currency: Currency,
  source_types: Type.Record(Type.String(), Type.Integer()),
});

export const BalanceSchema = Type.Object({
  object: Type.Literal('balance'),
  available: Type.Array(BalancePart),
  connect_reserved: Type.Null(),
  livemode: Type.Boolean(),
  pending: Type.Array(BalancePart),
});

export const PaymentIntentListSchema = listOf(PaymentIntentSchema);
export const ChargeListSchema = listOf(ChargeSchema);
export const RefundListSchema = listOf(RefundSchema);
export const BalanceTransactionListSchema = listOf(BalanceTransactionSchema);

export const StaticQrSchema = Type.Object({
  object: Type.Literal('qr_code'),
  type: Type.String(),
  data: Type.String(),
  image_data_url: Type.String(),
  image_url_svg: Type.String(),
});

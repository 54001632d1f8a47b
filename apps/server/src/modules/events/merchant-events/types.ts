import { Type } from 'typebox';
import type { PaymentEventType } from '../../payments/index.js';

/**
 * The Stripe event types Yunpay emits, as literal unions: a typo in an emitter does not compile.
 * Each context owns the names of its own events: payments declares PaymentEventType; customers
 * and payment methods (cards) have theirs here.
 */
export type { PaymentEventType };
export type CustomerEventType = 'customer.created' | 'customer.updated' | 'customer.deleted';
export type PaymentMethodEventType = 'payment_method.attached' | 'payment_method.detached' | 'payment_method.updated';
export type MerchantEventType = PaymentEventType | CustomerEventType | PaymentMethodEventType;

/** Keyed by the union, so a type missing here (or one the union lacks) does not compile. */
const merchantEventTypeSet: Readonly<Record<MerchantEventType, true>> = {
  'charge.captured': true,
  'charge.failed': true,
  'charge.refunded': true,
  'charge.succeeded': true,
  'customer.created': true,
  'customer.deleted': true,
  'customer.updated': true,
  'payment_intent.amount_capturable_updated': true,
  'payment_intent.canceled': true,
  'payment_intent.created': true,
  'payment_intent.payment_failed': true,
  'payment_intent.requires_action': true,
  'payment_intent.succeeded': true,
  'payment_intent.updated': true,
  'payment_method.attached': true,
  'payment_method.detached': true,
  'payment_method.updated': true,
  'refund.created': true,
  'refund.failed': true,
};

/** Every type of MerchantEventType, sorted: what a webhook endpoint may subscribe to (besides `*`). */
export const merchantEventTypes: readonly MerchantEventType[] = (
  Object.keys(merchantEventTypeSet) as MerchantEventType[]
).sort();

export function isMerchantEventType(value: string): value is MerchantEventType {
  return Object.hasOwn(merchantEventTypeSet, value);
}

/** A Stripe event object, as /v1 returns it and webhooks will deliver it. */
export interface EventWire {
  id: string;
  object: 'event';
  api_version: string | null;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  /**
   * Text, not MerchantEventType: a stored event may be of a type that a newer node introduced
   * during a rolling deploy.
   */
  type: string;
}

export interface RecordEventInput {
  accountId: string;
  livemode: boolean;
  type: MerchantEventType;
  /** The object's snapshot after the change (its /v1 wire form). */
  object: Record<string, unknown>;
  /** For *.updated: the changed fields' values before the change. */
  previousAttributes?: Record<string, unknown>;
  /** The API request that caused the change, when there was one. */
  request?: { id: string | null; idempotencyKey: string | null };
}

/** The event's response schema (its data.object is the object's own /v1 form, kept whole). */
export const EventSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('event'),
  api_version: Type.Union([Type.String(), Type.Null()]),
  created: Type.Integer(),
  data: Type.Object({
    object: Type.Object({}, { additionalProperties: true }),
    previous_attributes: Type.Optional(Type.Object({}, { additionalProperties: true })),
  }),
  livemode: Type.Boolean(),
  pending_webhooks: Type.Integer(),
  request: Type.Object({
    id: Type.Union([Type.String(), Type.Null()]),
    idempotency_key: Type.Union([Type.String(), Type.Null()]),
  }),
  type: Type.String(),
});

export const EventListSchema = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(EventSchema),
  has_more: Type.Boolean(),
  url: Type.String(),
});

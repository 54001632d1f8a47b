/**
 * The event types an endpoint may subscribe to: those Yunpay emits (modules/customers,
 * modules/payments), plus `*` for all. Stripe refuses unknown names, so do we.
 */
export const knownEventTypes: readonly string[] = [
  'charge.captured',
  'charge.failed',
  'charge.refunded',
  'charge.succeeded',
  'customer.created',
  'customer.deleted',
  'customer.updated',
  'payment_intent.amount_capturable_updated',
  'payment_intent.canceled',
  'payment_intent.created',
  'payment_intent.payment_failed',
  'payment_intent.requires_action',
  'payment_intent.succeeded',
  'payment_intent.updated',
  'payment_method.attached',
  'payment_method.detached',
  'payment_method.updated',
  'refund.created',
  'refund.failed',
];

export function eventTypeMatches(enabledEvents: readonly string[], type: string): boolean {
  return enabledEvents.includes('*') || enabledEvents.includes(type);
}

import { isMerchantEventType, type MerchantEventType } from '../merchant-events/types.js';

/**
 * What an endpoint may subscribe to: the event types Yunpay emits (MerchantEventType, the same
 * union its emitters are typed with), plus `*` for all. Stripe refuses unknown names, so do we.
 */
export type EnabledEvent = MerchantEventType | '*';

export function isEnabledEvent(value: string): value is EnabledEvent {
  return value === '*' || isMerchantEventType(value);
}

export function eventTypeMatches(enabledEvents: readonly string[], type: string): boolean {
  return enabledEvents.includes('*') || enabledEvents.includes(type);
}

import { segment } from '../form.js';
import type { ListPromise } from '../pagination.js';
import type {
  PaymentIntent,
  PaymentIntentConfirmParams,
  PaymentIntentCreateParams,
  PaymentIntentListParams,
  PaymentIntentUpdateParams,
} from '../types/v1.js';
import type { CallOptions, V1Requester } from './requester.js';

export class PaymentIntents {
  constructor(private readonly v1: V1Requester) {}

  create(params: PaymentIntentCreateParams, options?: CallOptions): Promise<PaymentIntent> {
    return this.v1.post('/payment_intents', params, options);
  }

  /** With a publishable key, pass the client_secret. */
  retrieve(
    id: string,
    params: { client_secret?: string; expand?: string[] } = {},
    options?: CallOptions,
  ): Promise<PaymentIntent> {
    return this.v1.get(`/payment_intents/${segment(id)}`, params, options);
  }

  update(id: string, params: PaymentIntentUpdateParams, options?: CallOptions): Promise<PaymentIntent> {
    return this.v1.post(`/payment_intents/${segment(id)}`, params, options);
  }

  /** A declined card answers a YunpayApiError with type card_error and declineCode. */
  confirm(id: string, params: PaymentIntentConfirmParams = {}, options?: CallOptions): Promise<PaymentIntent> {
    return this.v1.post(`/payment_intents/${segment(id)}/confirm`, params, options);
  }

  capture(
    id: string,
    params: { amount_to_capture?: number; expand?: string[] } = {},
    options?: CallOptions,
  ): Promise<PaymentIntent> {
    return this.v1.post(`/payment_intents/${segment(id)}/capture`, params, options);
  }

  cancel(
    id: string,
    params: {
      cancellation_reason?: 'duplicate' | 'fraudulent' | 'requested_by_customer' | 'abandoned';
      expand?: string[];
    } = {},
    options?: CallOptions,
  ): Promise<PaymentIntent> {
    return this.v1.post(`/payment_intents/${segment(id)}/cancel`, params, options);
  }

  list(params: PaymentIntentListParams = {}, options?: CallOptions): ListPromise<PaymentIntent> {
    return this.v1.list('/payment_intents', params, options);
  }
}

import { segment } from '../form.js';
import type { ListPromise } from '../pagination.js';
import type {
  PaymentMethod,
  PaymentMethodCreateParams,
  PaymentMethodListParams,
  PaymentMethodUpdateParams,
} from '../types/v1.js';
import type { CallOptions, V1Requester } from './requester.js';

/** Card PaymentMethods (the server needs card payments configured). */
export class PaymentMethods {
  constructor(private readonly v1: V1Requester) {}

  /** Publishable keys may create too (as Stripe.js does). */
  create(params: PaymentMethodCreateParams, options?: CallOptions): Promise<PaymentMethod> {
    return this.v1.post('/payment_methods', params, options);
  }

  retrieve(id: string, params: { expand?: string[] } = {}, options?: CallOptions): Promise<PaymentMethod> {
    return this.v1.get(`/payment_methods/${segment(id)}`, params, options);
  }

  update(id: string, params: PaymentMethodUpdateParams, options?: CallOptions): Promise<PaymentMethod> {
    return this.v1.post(`/payment_methods/${segment(id)}`, params, options);
  }

  attach(id: string, params: { customer: string; expand?: string[] }, options?: CallOptions): Promise<PaymentMethod> {
    return this.v1.post(`/payment_methods/${segment(id)}/attach`, params, options);
  }

  detach(id: string, params: { expand?: string[] } = {}, options?: CallOptions): Promise<PaymentMethod> {
    return this.v1.post(`/payment_methods/${segment(id)}/detach`, params, options);
  }

  list(params: PaymentMethodListParams = {}, options?: CallOptions): ListPromise<PaymentMethod> {
    return this.v1.list('/payment_methods', params, options);
  }
}

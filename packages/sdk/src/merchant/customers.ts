import { segment } from '../form.js';
import type { ListPromise } from '../pagination.js';
import type {
  Customer,
  CustomerCreateParams,
  CustomerListParams,
  CustomerUpdateParams,
  DeletedObject,
  PaymentMethod,
  PaymentMethodListParams,
} from '../types/v1.js';
import type { CallOptions, V1Requester } from './requester.js';

export class Customers {
  constructor(private readonly v1: V1Requester) {}

  create(params: CustomerCreateParams = {}, options?: CallOptions): Promise<Customer> {
    return this.v1.post('/customers', params, options);
  }

  retrieve(id: string, params: { expand?: string[] } = {}, options?: CallOptions): Promise<Customer> {
    return this.v1.get(`/customers/${segment(id)}`, params, options);
  }

  update(id: string, params: CustomerUpdateParams, options?: CallOptions): Promise<Customer> {
    return this.v1.post(`/customers/${segment(id)}`, params, options);
  }

  del(id: string, options?: CallOptions): Promise<DeletedObject<'customer'>> {
    return this.v1.delete(`/customers/${segment(id)}`, options);
  }

  list(params: CustomerListParams = {}, options?: CallOptions): ListPromise<Customer> {
    return this.v1.list('/customers', params, options);
  }

  listPaymentMethods(
    id: string,
    params: Omit<PaymentMethodListParams, 'customer'> = {},
    options?: CallOptions,
  ): ListPromise<PaymentMethod> {
    return this.v1.list(`/customers/${segment(id)}/payment_methods`, params, options);
  }

  retrievePaymentMethod(
    id: string,
    paymentMethodId: string,
    params: { expand?: string[] } = {},
    options?: CallOptions,
  ): Promise<PaymentMethod> {
    return this.v1.get(`/customers/${segment(id)}/payment_methods/${segment(paymentMethodId)}`, params, options);
  }
}

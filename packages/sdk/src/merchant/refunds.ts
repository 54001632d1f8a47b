import { segment } from '../form.js';
import type { ListPromise } from '../pagination.js';
import type { Refund, RefundCreateParams, RefundListParams } from '../types/v1.js';
import type { CallOptions, V1Requester } from './requester.js';

export class Refunds {
  constructor(private readonly v1: V1Requester) {}

  create(params: RefundCreateParams, options?: CallOptions): Promise<Refund> {
    return this.v1.post('/refunds', params, options);
  }

  retrieve(id: string, params: { expand?: string[] } = {}, options?: CallOptions): Promise<Refund> {
    return this.v1.get(`/refunds/${segment(id)}`, params, options);
  }

  list(params: RefundListParams = {}, options?: CallOptions): ListPromise<Refund> {
    return this.v1.list('/refunds', params, options);
  }
}

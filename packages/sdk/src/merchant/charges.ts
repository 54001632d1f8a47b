import { segment } from '../form.js';
import type { ListPromise } from '../pagination.js';
import type { Charge, ChargeListParams } from '../types/v1.js';
import type { CallOptions, V1Requester } from './requester.js';

export class Charges {
  constructor(private readonly v1: V1Requester) {}

  retrieve(id: string, params: { expand?: string[] } = {}, options?: CallOptions): Promise<Charge> {
    return this.v1.get(`/charges/${segment(id)}`, params, options);
  }

  list(params: ChargeListParams = {}, options?: CallOptions): ListPromise<Charge> {
    return this.v1.list('/charges', params, options);
  }
}

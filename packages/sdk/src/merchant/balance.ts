import { segment } from '../form.js';
import type { ListPromise } from '../pagination.js';
import type { Balance, BalanceTransaction, BalanceTransactionListParams } from '../types/v1.js';
import type { CallOptions, V1Requester } from './requester.js';

export class BalanceResource {
  constructor(private readonly v1: V1Requester) {}

  retrieve(options?: CallOptions): Promise<Balance> {
    return this.v1.get('/balance', {}, options);
  }
}

export class BalanceTransactions {
  constructor(private readonly v1: V1Requester) {}

  retrieve(id: string, params: { expand?: string[] } = {}, options?: CallOptions): Promise<BalanceTransaction> {
    return this.v1.get(`/balance_transactions/${segment(id)}`, params, options);
  }

  list(params: BalanceTransactionListParams = {}, options?: CallOptions): ListPromise<BalanceTransaction> {
    return this.v1.list('/balance_transactions', params, options);
  }
}

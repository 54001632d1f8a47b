import { Type, type Static } from 'typebox';
import type { WalletTransaction } from './service.js';

export const UnixSeconds = Type.Integer({ minimum: 0 });

export const WalletTransactionSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('wallet_transaction'),
    type: Type.Union([
      Type.Literal('topup'),
      Type.Literal('p2p_sent'),
      Type.Literal('p2p_received'),
      Type.Literal('payment'),
      Type.Literal('refund'),
    ]),
    status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
    amount: Type.Integer(),
    currency: Type.String(),
    fee: Type.Integer(),
    counterparty: Type.Union([Type.Object({ user_id: Type.String(), name: Type.String() }), Type.Null()]),
    note: Type.Union([Type.String(), Type.Null()]),
    source: Type.Union([Type.String(), Type.Null()]),
    failure_code: Type.Union([Type.String(), Type.Null()]),
    reference: Type.String(),
    created: UnixSeconds,
  },
  { additionalProperties: false },
);
export type WalletTransactionBody = Static<typeof WalletTransactionSchema>;

/** The wire form of a history row (snake_case, integers, unix seconds). */
export function toWire(transaction: WalletTransaction): WalletTransactionBody {
  return {
    id: transaction.id,
    object: 'wallet_transaction',
    type: transaction.type,
    status: transaction.status,
    amount: Number(transaction.amountMinor),
    currency: transaction.currency,
    fee: Number(transaction.feeMinor),
    counterparty:
      transaction.counterpartyUserId === null
        ? null
        : { user_id: transaction.counterpartyUserId, name: transaction.counterpartyName ?? '' },
    note: transaction.note,
    source: transaction.source,
    failure_code: transaction.failureCode,
    reference: transaction.reference,
    created: Math.floor(transaction.createdAt.getTime() / 1000),
  };
}

import type { ExtraVerifyCheck } from '../ledger/index.js';

/** The wallets context's check for `yunpay ledger verify`: no history row left pending past the recovery bound. */
export function walletVerifyChecks(options: { recoveryBoundMs: number }): ExtraVerifyCheck[] {
  const seconds = Math.ceil(options.recoveryBoundMs / 1000);
  return [
    {
      name: 'wallet_history_settled',
      sql: `select id as key from wallets_transactions
             where status = 'pending' and created_at < now() - interval '${seconds} seconds'`,
    },
  ];
}

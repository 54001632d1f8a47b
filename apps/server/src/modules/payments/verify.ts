import type { ExtraVerifyCheck } from '../ledger/index.js';
import { paymentTransferCodes } from './model.js';

/**
 * The payments context's checks for `yunpay ledger verify`: payments and their ledger transfers
 * agree, and nothing is left half done past the recovery bound (docs/crash-safety.md). Transfers
 * and payments younger than the bound may be mid-flight and are not judged.
 */
export function paymentVerifyChecks(options: { recoveryBoundMs: number }): ExtraVerifyCheck[] {
  const seconds = Math.ceil(options.recoveryBoundMs / 1000);
  const settled = `now() - interval '${seconds} seconds'`;
  const { charge, fee, refund, feeRefund } = paymentTransferCodes;
  return [
    {
      // Every posted payment transfer belongs to a succeeded charge (captured, for what moved money)
      // or a succeeded refund. Voids (flag 8) release money and belong to any charge.
      name: 'payment_transfers_have_payments',
      sql: `
        select t.id::text as key from ledger_transfers t
          left join payments_charges c on c.id = t.metadata->>'charge'
         where t.code in (${charge}, ${fee}) and t.flags & 8 = 0 and t.created_at < ${settled}
           and (c.id is null or c.status <> 'succeeded' or (t.flags & 2 = 0 and not c.captured))
        union all
        select t.id::text from ledger_transfers t
          left join payments_refunds r on r.id = t.metadata->>'refund'
         where t.code in (${refund}, ${feeRefund}) and t.created_at < ${settled}
           and (r.id is null or r.status <> 'succeeded')`,
    },
    {
      // Every succeeded charge has its transfer (posted when captured, reserved when authorized);
      // every succeeded refund has its transfer.
      name: 'payments_have_transfers',
      sql: `
        select c.id as key from payments_charges c
          left join (select distinct metadata->>'charge' as charge_id from ledger_transfers
                      where code = ${charge} and flags & 10 = 0) posted on posted.charge_id = c.id
          left join (select distinct metadata->>'charge' as charge_id from ledger_transfers
                      where code = ${charge} and flags & 2 <> 0) reserved on reserved.charge_id = c.id
         where c.status = 'succeeded' and c.created_at < ${settled}
           and ((c.captured and posted.charge_id is null) or (not c.captured and reserved.charge_id is null))
        union all
        select r.id from payments_refunds r
          left join (select distinct metadata->>'refund' as refund_id from ledger_transfers where code = ${refund}) t
            on t.refund_id = r.id
         where r.status = 'succeeded' and r.created_at < ${settled} and t.refund_id is null`,
    },
    {
      // Nothing of payments stays in a middle state past the bound: pending charges and refunds,
      // captures and cancels under way.
      name: 'payments_settled',
      sql: `
        select id as key from payments_charges where status = 'pending' and created_at < ${settled}
        union all
        select id from payments_refunds where status = 'pending' and created_at < ${settled}
        union all
        select id from payments_intents where pending_action is not null and pending_since < ${settled}`,
    },
  ];
}

import type { SqlExecutor } from '../../platform/db.js';
import { assert } from '../../platform/errors.js';

/** One UTC day of a merchant's balance transactions in one currency (minor units). */
export interface DailyBalanceSummary {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  /** Upper case, as the ledger keeps it. */
  currency: string;
  /** Sum of charges (gross). */
  volume: bigint;
  /** Sum of refunds, positive. */
  refunded: bigint;
  /** Fees kept (charge fees minus the fees refunds gave back). */
  fees: bigint;
  /** Sum of net amounts (what the balance moved by). */
  net: bigint;
  chargeCount: number;
}

export const summaryLimits = { daysMax: 90 } as const;

/**
 * Volume and fees per UTC day and currency over the last `days` days (today included), from the
 * balance transactions: what the dashboard's chart draws. Days without transactions are absent.
 */
export async function dailyBalanceSummary(
  db: SqlExecutor,
  options: { accountId: string; livemode: boolean; days: number; nowMs: number },
): Promise<DailyBalanceSummary[]> {
  assert(
    Number.isSafeInteger(options.days) && options.days >= 1 && options.days <= summaryLimits.daysMax,
    'summary days must be validated by the caller',
  );
  const today = new Date(options.nowMs);
  const fromMs =
    Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - (options.days - 1) * 86_400_000;
  const rows = await db.query<{
    day: string;
    currency: string;
    volume: bigint | string;
    refunded: bigint | string;
    fees: bigint | string;
    net: bigint | string;
    charge_count: bigint | string | number;
  }>(
    `select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day, currency,
            coalesce(sum(amount) filter (where type = 'charge'), 0)::bigint as volume,
            coalesce(-sum(amount) filter (where type = 'refund'), 0)::bigint as refunded,
            coalesce(sum(fee), 0)::bigint as fees,
            coalesce(sum(net), 0)::bigint as net,
            count(*) filter (where type = 'charge') as charge_count
       from payments_balance_transactions
      where account_id = $1 and livemode = $2 and created_at >= $3
      group by 1, 2
      order by 1, 2
      limit $4`,
    [options.accountId, options.livemode, new Date(fromMs), options.days * 200],
  );
  return rows.map((row) => {
    const summary = {
      day: row.day,
      currency: row.currency,
      volume: BigInt(row.volume),
      refunded: BigInt(row.refunded),
      fees: BigInt(row.fees),
      net: BigInt(row.net),
      chargeCount: Number(row.charge_count),
    };
    assert(summary.net === summary.volume - summary.refunded - summary.fees, 'net = volume − refunds − fees');
    return summary;
  });
}

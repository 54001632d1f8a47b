import { assert, isAppError } from '../../../platform/errors.js';
import { type GatewayCore } from './core.js';
import { type SweepOptions, type SweepReport } from './types.js';
import { type TransactionRow, table } from './repository.js';
import { deliverCompletion } from './completions.js';
import { reverseOnce } from './reversals.js';
import { cardGatewayLimits as limits } from './types.js';

export async function sweep(g: GatewayCore, options: SweepOptions): Promise<SweepReport> {
  const batchSizeMax = options.batchSizeMax;
  assert(
    Number.isInteger(batchSizeMax) && batchSizeMax >= 1 && batchSizeMax <= limits.sweepBatchSizeMax,
    `batchSizeMax must be 1-${limits.sweepBatchSizeMax}`,
  );
  const sweptAt = g.at();
  // Claim in one short statement: due rows, locked rows skipped (another sweeper has them), each
  // leased so that no other sweeper takes it before this one is done. A row still 'sending' past
  // its lease was abandoned mid-call: an original becomes reversal_pending (its outcome: failed).
  const claimed = await g.db.transaction((tx) =>
    tx.query<TransactionRow & { abandoned: boolean }>(
      `with due as (
         select id, status = 'sending' and kind <> 'completion' as abandoned from ${table}
         where status in ('sending', 'reversal_pending') and next_attempt_at <= $1
         order by next_attempt_at, id
         limit $2
         for update skip locked
       )
       update ${table} t set
         status = case when due.abandoned then 'reversal_pending' else t.status end,
         outcome = case when due.abandoned then 'failed' else t.outcome end,
         failure_reason = case when due.abandoned then 'timeout' else t.failure_reason end,
         next_attempt_at = $3,
         updated_at = $1
       from due where t.id = due.id
       returning t.*, due.abandoned`,
      [sweptAt, batchSizeMax, g.at(g.leaseMs)],
    ),
  );
  const report: SweepReport = {
    claimedCount: claimed.length,
    abandonedCount: claimed.filter((row) => row.abandoned).length,
    reversedCount: 0,
    reversalPendingCount: 0,
    completionApprovedCount: 0,
    completionDeclinedCount: 0,
    completionPendingCount: 0,
    errorCount: 0,
  };
  // Network calls after the claim committed, at most batchSizeMax at once. A row whose attempt
  // throws (the database went away) keeps its lease and comes back in a later sweep.
  await Promise.all(
    claimed.map(async (row) => {
      try {
        await sweepOne(g, report, row);
      } catch (error) {
        report.errorCount += 1;
        g.logger?.error(
          { transactionId: row.id, rrn: row.rrn, error: isAppError(error) ? error.code : String(error) },
          'a sweep attempt failed',
        );
      }
    }),
  );
  return report;
}

/** One claimed row: a reversal repeated, or an advice delivered (counted in the report). */
async function sweepOne(
  g: GatewayCore,
  report: SweepReport,
  row: TransactionRow & { abandoned: boolean },
): Promise<void> {
  if (row.abandoned) {
    g.logger?.warn({ transactionId: row.id, rrn: row.rrn }, 'a card transaction was abandoned mid-call; reversing');
  }
  if (row.status === 'reversal_pending') {
    const result = await reverseOnce(g, row.id);
    if (result === 'reversed') report.reversedCount += 1;
    else if (result === 'pending') report.reversalPendingCount += 1;
  } else {
    assert(row.kind === 'completion' && row.status === 'sending', 'only completions are re-sent');
    const after = await deliverCompletion(g, row.id, 1);
    if (after.status === 'approved') report.completionApprovedCount += 1;
    else if (after.status === 'declined') report.completionDeclinedCount += 1;
    else report.completionPendingCount += 1;
  }
}

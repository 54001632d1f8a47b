import { AppError, assert } from '../../../platform/errors.js';
import { type GatewayCore } from './core.js';
import { type TransactionRow, rowById, table } from './repository.js';
import { type VoidOutcome } from './types.js';
import { checkReference } from './core.js';
import { reverse } from './reversals.js';

export async function voidAuthorization(
  g: GatewayCore,
  input: { authorizationReference: string },
): Promise<VoidOutcome> {
  checkReference(input.authorizationReference, 'authorization_reference');
  const authorization = await g.db.transaction(async (tx) => {
    const rows = await tx.query<TransactionRow>(
      `select * from ${table} where reference = $1 and kind = 'authorization' for update`,
      [input.authorizationReference],
    );
    const row = rows[0];
    if (row === undefined) {
      throw new AppError('not_found', {
        param: 'authorization_reference',
        message: 'No authorization has this reference.',
      });
    }
    if (row.status === 'reversed' || row.status === 'reversal_pending') return row;
    if (row.status !== 'approved') {
      throw new AppError('conflict', {
        param: 'authorization_reference',
        message: `The authorization is ${row.status}: there is nothing to void.`,
        details: { reason: 'authorization_not_voidable', status: row.status },
      });
    }
    const completions = await tx.query<{ id: string }>(
      `select id from ${table} where original_id = $1 and kind = 'completion' and status in ('sending', 'approved')`,
      [row.id],
    );
    if (completions.length > 0) {
      throw new AppError('conflict', {
        param: 'authorization_reference',
        message: 'The authorization was captured: refund it instead.',
        details: { reason: 'authorization_captured' },
      });
    }
    const moved = await tx.query<TransactionRow>(
      `update ${table} set status = 'reversal_pending', next_attempt_at = $2, updated_at = $3
       where id = $1 returning *`,
      [row.id, g.at(g.leaseMs), g.at()],
    );
    return moved[0]!;
  });
  if (authorization.status === 'reversal_pending') {
    // A void already in flight elsewhere keeps its lease: this just tries too, which is safe (the
    // network reverses at most once).
    await reverse(g, authorization.id, g.reversalAttemptsMax);
  }
  const final = await rowById(g, authorization.id);
  assert(final.status === 'reversed' || final.status === 'reversal_pending', 'a voided authorization stays voided');
  return { transactionId: final.id, status: final.status };
}

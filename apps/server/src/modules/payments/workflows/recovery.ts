import type { PaymentsCore } from '../core.js';
import * as repo from '../repository.js';
import { continueCancel } from './cancel.js';
import { continueCapture } from './capture.js';
import { continueCharge } from './confirm.js';
import { continueRefund } from './refund.js';

/**
 * The recovery sweep (the worker runs it): finishes every payment a crash left in a middle state,
 * with the card network's record and the ledger as the truth. Each continuation is the workflow's
 * own (the same code a retry runs), so a sweep racing a client's retry ends the same way: every
 * phase is a conditional transition or an idempotent call by id.
 * - pending charges (confirmations): a card's outcome is resolved (a reference never sent is
 *   closed, so it never will be), then the ledger posts the charge or refuses it, then it finishes;
 * - intents in processing with a capture or cancel under way: continued from the network step;
 * - pending refunds: likewise.
 * Only middle states older than `olderThanMs` are touched: younger ones most likely belong to a
 * request still running.
 */

export interface RecoveryReport {
  charges: number;
  captures: number;
  cancels: number;
  refunds: number;
  /** Items whose continuation threw (logged by the caller); they come back next run. */
  errors: number;
  /** Card sends still under way at the network: left for the next run. */
  waiting: number;
}

export async function recoverPayments(
  core: PaymentsCore,
  options: { olderThanMs: number; batchSizeMax: number; onError?: (error: unknown, id: string) => void },
): Promise<RecoveryReport> {
  const before = new Date(core.now().getTime() - options.olderThanMs);
  const report: RecoveryReport = { charges: 0, captures: 0, cancels: 0, refunds: 0, errors: 0, waiting: 0 };
  const attempt = async (id: string, work: () => Promise<boolean>, count: () => void) => {
    try {
      if (await work()) count();
      else report.waiting += 1;
    } catch (error) {
      report.errors += 1;
      options.onError?.(error, id);
    }
  };
  for (const charge of await repo.pendingChargesBefore(core.db, before, options.batchSizeMax)) {
    await attempt(
      charge.id,
      async () => {
        await continueCharge(core, charge, { mode: 'resolve' });
        const after = await repo.chargeById(core.db, charge.id);
        return after?.status !== 'pending';
      },
      () => (report.charges += 1),
    );
  }
  for (const intent of await repo.pendingActionsBefore(core.db, before, options.batchSizeMax)) {
    const isCapture = intent.pendingAction?.action === 'capture';
    await attempt(
      intent.id,
      async () => {
        await (isCapture ? continueCapture(core, intent) : continueCancel(core, intent));
        return true;
      },
      () => (isCapture ? (report.captures += 1) : (report.cancels += 1)),
    );
  }
  for (const refund of await repo.pendingRefundsBefore(core.db, before, options.batchSizeMax)) {
    await attempt(
      refund.id,
      async () => (await continueRefund(core, refund, 'resolve')).status !== 'pending',
      () => (report.refunds += 1),
    );
  }
  return report;
}

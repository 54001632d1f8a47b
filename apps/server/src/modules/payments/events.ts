import type { SqlExecutor } from '../../platform/db.js';
import { assert } from '../../platform/errors.js';
import type { PaymentEventSink, PaymentEventType } from './model.js';
import * as repo from './repository.js';
import { chargeDto, intentDto, refundDto } from './wire.js';

type RecordEvent = (
  tx: SqlExecutor,
  input: { accountId: string; livemode: boolean; type: PaymentEventType; object: Record<string, unknown> },
) => Promise<unknown>;

/**
 * Turns the payments context's state changes into Stripe events: the object's /v1 form, read in
 * the same transaction as the change (so the event shows exactly what committed).
 */
export function paymentEventSink(recordEvent: RecordEvent): PaymentEventSink {
  return {
    async record(tx, event) {
      const ctx = { accountId: event.accountId, livemode: event.livemode };
      let object: Record<string, unknown>;
      const { snapshot } = event;
      if (snapshot !== undefined) {
        const snapshotId = snapshot.kind === 'intent' ? snapshot.intent.id : snapshot.charge.id;
        assert(snapshotId === event.objectId, `the snapshot is of ${event.objectId}`);
        object =
          snapshot.kind === 'intent'
            ? intentDto(snapshot.intent, { includeClientSecret: false })
            : chargeDto(snapshot.charge, [...snapshot.refunds]);
      } else if (event.objectId.startsWith('pi_')) {
        object = intentDto(await repo.findIntent(tx, ctx, event.objectId), { includeClientSecret: false });
      } else if (event.objectId.startsWith('ch_')) {
        const charge = await repo.findCharge(tx, ctx, event.objectId);
        object = chargeDto(charge, await repo.refundsOfCharge(tx, ctx, charge.id));
      } else {
        assert(event.objectId.startsWith('re_'), `no event object for ${event.objectId}`);
        object = refundDto(await repo.findRefund(tx, ctx, event.objectId));
      }
      await recordEvent(tx, { accountId: event.accountId, livemode: event.livemode, type: event.type, object });
    },
  };
}

import type { SqlExecutor } from '../../platform/db.js';
import { assert } from '../../platform/errors.js';
import { chargeFromRow, intentFromRow, refundFromRow, type PaymentEventSink } from './service.js';
import { chargeDto, intentDto, refundDto } from './v1-routes.js';

type RecordEvent = (
  tx: SqlExecutor,
  input: { accountId: string; livemode: boolean; type: string; object: Record<string, unknown> },
) => Promise<unknown>;

/**
 * Turns the payments context's state changes into Stripe events: the object's /v1 form, read in
 * the same transaction as the change (so the event shows exactly what committed).
 */
export function paymentEventSink(recordEvent: RecordEvent): PaymentEventSink {
  return {
    async record(tx, event) {
      const scope = [event.objectId, event.accountId, event.livemode] as const;
      let object: Record<string, unknown>;
      if (event.objectId.startsWith('pi_')) {
        const rows = await tx.query(
          'select * from payments_intents where id = $1 and account_id = $2 and livemode = $3',
          [...scope],
        );
        assert(rows[0] !== undefined, 'an event names an existing payment intent');
        object = intentDto(intentFromRow(rows[0]), { includeClientSecret: false });
      } else if (event.objectId.startsWith('ch_')) {
        const rows = await tx.query(
          'select * from payments_charges where id = $1 and account_id = $2 and livemode = $3',
          [...scope],
        );
        assert(rows[0] !== undefined, 'an event names an existing charge');
        const refunds = await tx.query(
          'select * from payments_refunds where charge_id = $1 and account_id = $2 and livemode = $3 order by created_at desc, id desc',
          [...scope],
        );
        object = chargeDto(chargeFromRow(rows[0]), refunds.map(refundFromRow));
      } else {
        assert(event.objectId.startsWith('re_'), `no event object for ${event.objectId}`);
        const rows = await tx.query(
          'select * from payments_refunds where id = $1 and account_id = $2 and livemode = $3',
          [...scope],
        );
        assert(rows[0] !== undefined, 'an event names an existing refund');
        object = refundDto(refundFromRow(rows[0]));
      }
      await recordEvent(tx, { accountId: event.accountId, livemode: event.livemode, type: event.type, object });
    },
  };
}

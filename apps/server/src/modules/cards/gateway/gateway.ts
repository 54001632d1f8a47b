/**
 * The card gateway (acquirer side): sends authorizations, sales, completions, refunds and
 * reversals to the card network and records each card transaction in cards_network_transactions,
 * so that every caller's request has exactly one outcome and no card is charged twice, whatever
 * the network or this process does. docs/card-network.md ("Gateway") describes the design.
 *
 * The pattern for every network call: record the intent (a row, committed), call the network with
 * no transaction open, then finalise the row with a conditional update (`where status = …`), so a
 * sweep that took the row over meanwhile wins and the late answer changes nothing.
 */
import { assert } from '../../../platform/errors.js';
import { completeAuthorization } from './completions.js';
import { gatewayCoreOf, referencePattern } from './core.js';
import { resolveOriginal, sendOriginal } from './originals.js';
import { rowByReference, toTransaction } from './repository.js';
import { sweep } from './sweep.js';
import type { CardGateway, CardGatewayDeps } from './types.js';
import { voidAuthorization } from './voids.js';

export * from './types.js';
export { newNetworkTransactionId } from './repository.js';

/**
 * The gateway, in sections: types.ts (the contract and bounds), core.ts (settings, transport),
 * repository.ts (the table), originals.ts (authorizations, sales, refunds, and recovery's
 * resolveOriginal), reversals.ts, completions.ts (0220 captures), voids.ts, sweep.ts.
 */
export function createCardGateway(deps: CardGatewayDeps): CardGateway {
  const g = gatewayCoreOf(deps);
  return {
    authorize(input) {
      const kind = input.capture === 'manual' ? 'authorization' : 'sale';
      assert(input.capture === 'manual' || input.capture === 'automatic', 'capture is automatic or manual');
      return sendOriginal(g, kind, input);
    },
    capture: (input) => completeAuthorization(g, input),
    void: (input) => voidAuthorization(g, input),
    refund: (input) => sendOriginal(g, 'refund', input),
    sweep: (options) => sweep(g, options),
    resolveOriginal: (reference, kind) => resolveOriginal(g, reference, kind),
    async transaction(reference, kind) {
      if (typeof reference !== 'string' || !referencePattern.test(reference)) return null;
      const row = await rowByReference(g, reference, kind);
      return row === null ? null : toTransaction(row);
    },
  };
}

import type { Ledger, TransferInput, TransferResult } from '../../src/modules/ledger/index.js';

/**
 * A ledger that "crashes" on demand: the next matching submission throws, either before it
 * reaches the ledger (nothing moved) or after the ledger committed it (the money moved, but the
 * caller never learns). What a kill -9 between a workflow's phases leaves behind, without killing
 * the test process.
 */
export interface CrashingLedger extends Ledger {
  /** The next submission whose transfers match `which` (default: any) throws, before or after it commits. */
  crashNext(when: 'before' | 'after', which?: (inputs: readonly TransferInput[]) => boolean): void;
  /** How many armed crashes happened. */
  readonly crashes: number;
}

export class SimulatedCrash extends Error {
  constructor(when: 'before' | 'after') {
    super(`simulated crash ${when} the ledger submission`);
  }
}

export function crashingLedger(inner: Ledger): CrashingLedger {
  let armed: { when: 'before' | 'after'; which: (inputs: readonly TransferInput[]) => boolean } | null = null;
  let crashes = 0;
  return {
    createAccounts: (inputs) => inner.createAccounts(inputs),
    lookupAccounts: (ids) => inner.lookupAccounts(ids),
    lookupTransfers: (ids) => inner.lookupTransfers(ids),
    lookupFailures: (ids) => inner.lookupFailures(ids),
    listEntries: (accountId, options) => inner.listEntries(accountId, options),
    closeAccount: (id) => inner.closeAccount(id),
    expirePendingTransfers: (limit) => inner.expirePendingTransfers(limit),
    close: () => inner.close(),
    async submitTransfers(inputs): Promise<TransferResult[]> {
      const crash = armed !== null && armed.which(inputs) ? armed : null;
      if (crash !== null) {
        armed = null;
        crashes += 1;
        if (crash.when === 'before') throw new SimulatedCrash('before');
        await inner.submitTransfers(inputs);
        throw new SimulatedCrash('after');
      }
      return inner.submitTransfers(inputs);
    },
    crashNext(when, which = () => true) {
      armed = { when, which };
    },
    get crashes() {
      return crashes;
    },
  };
}

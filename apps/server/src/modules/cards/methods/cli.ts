import type { Db } from '../../../platform/db.js';
import { assert } from '../../../platform/errors.js';
import { createVault, type RewrapReport, type VaultKeys } from '../vault/index.js';

export interface CardsRewrapOptions {
  db: Db;
  keys: VaultKeys;
  /** Where the summary goes, one line at a time (never key material: only key ids and counts). */
  out: (line: string) => void;
  /** Data keys re-wrapped per transaction (the vault's default and maximum apply). */
  batchSize?: number;
}

export interface CardsRewrapReport extends RewrapReport {
  /** Key ids some stored card still needs after the run, sorted. */
  keysInUse: string[];
}

/**
 * `yunpay cards rewrap`: moves every stored card's data key under the current key-encryption key,
 * then reports which keys are still in use. A key may leave the configuration once it is no longer
 * listed (docs/card-vault.md, "Rotating the key-encryption key").
 */
export async function runCardsRewrap(options: CardsRewrapOptions): Promise<CardsRewrapReport> {
  const { db, keys, out } = options;
  const vault = createVault({ db, keys });
  const currentId = keys.encryption.currentId;
  const configuredIds = [...keys.encryption.keys.keys()].sort();
  out(`Current key: ${currentId}; configured keys: ${configuredIds.join(', ')}.`);
  const report = await vault.rewrapAll(options.batchSize === undefined ? {} : { batchSize: options.batchSize });
  const keysInUse = await vault.keysInUse();
  assert(report.rewrappedCount >= 0 && report.remainingCount >= 0, 'rewrap counts are not negative');
  out(
    `Re-wrapped ${report.rewrappedCount} card record(s) in ${report.batchCount} batch(es); ` +
      `${report.remainingCount} remain under another key.`,
  );
  out(`Keys in use: ${keysInUse.length === 0 ? '(none: no cards stored)' : keysInUse.join(', ')}.`);
  const retirable = configuredIds.filter((id) => id !== currentId && !keysInUse.includes(id));
  if (report.remainingCount > 0) {
    out('Some records are still under an older key: make sure every node uses the new current key, then run again.');
  } else if (retirable.length > 0) {
    out(`No stored card needs ${retirable.join(', ')} any more: it may be removed from the configuration.`);
  }
  return { ...report, keysInUse };
}

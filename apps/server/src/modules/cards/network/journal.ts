/**
 * The simulator's durable state: `<dataDir>/journal.jsonl`, one JSON line per state change, appended
 * (and fdatasync'd) before the response leaves, and `<dataDir>/card-key`, the random secret the
 * card keys are HMACs under. Neither ever holds a full card number.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { AppError, assert } from '../../../platform/errors.js';
import type { NetworkRecord } from './issuer.js';
import { cardNetworkLimits } from './limits.js';

const cardKeySecretBytes = 32;

/** Reads the per-dataDir card key secret, creating it (mode 0600) on first start. */
export function loadCardKeySecret(dataDir: string): Buffer {
  const secretPath = path.join(dataDir, 'card-key');
  try {
    writeFileSync(secretPath, randomBytes(cardKeySecretBytes).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const text = readFileSync(secretPath, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new AppError('internal_error', { message: `The card network card key file ${secretPath} is not valid.` });
  }
  return Buffer.from(text, 'hex');
}

/**
 * A card's key: HMAC-SHA256 of the PAN under the dataDir's secret, stable across restarts. In
 * base64url, whose few digits never add up to something that looks like a card number.
 */
export function cardKeyFunction(secret: Buffer): (pan: string) => string {
  assert(secret.length === cardKeySecretBytes, 'the card key secret is 32 bytes');
  return (pan) => createHmac('sha256', secret).update(pan, 'ascii').digest('base64url');
}

export interface NetworkJournal {
  readonly path: string;
  /** Appends records as lines in one write and syncs them to disk. */
  append(records: readonly NetworkRecord[]): void;
  close(): void;
}

function corrupt(journalPath: string, lineNumber: number, why: string): AppError {
  return new AppError('internal_error', {
    message: `The card network journal ${journalPath} is corrupt at line ${lineNumber}: ${why}.`,
  });
}

function parseRecord(line: string, journalPath: string, lineNumber: number): NetworkRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw corrupt(journalPath, lineNumber, 'not JSON');
  }
  if (typeof value !== 'object' || value === null) throw corrupt(journalPath, lineNumber, 'not an object');
  const record = value as { v?: unknown; type?: unknown };
  if (record.v !== 1) throw corrupt(journalPath, lineNumber, 'unknown version');
  if (record.type !== 'account_opened' && record.type !== 'answered') {
    throw corrupt(journalPath, lineNumber, 'unknown record type');
  }
  const { v: _version, ...rest } = record;
  return rest as NetworkRecord;
}

/**
 * Opens the journal, returning the records already in it. A last line cut short by a crash in the
 * middle of a write (no final newline) was never answered, so it is cut off; any other bad line is
 * corruption and stops the start.
 */
export function openNetworkJournal(dataDir: string): { journal: NetworkJournal; records: NetworkRecord[] } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const journalPath = path.join(dataDir, 'journal.jsonl');
  const fd = openSync(journalPath, 'a+', 0o600);
  let closed = false;
  try {
    const size = fstatSync(fd).size;
    if (size > cardNetworkLimits.simulatorJournalBytesMax) {
      throw new AppError('internal_error', {
        message: `The card network journal ${journalPath} is larger than ${cardNetworkLimits.simulatorJournalBytesMax} bytes.`,
      });
    }
    const text = readFileSync(journalPath, 'utf8');
    const completeLength = text.lastIndexOf('\n') + 1;
    if (completeLength < text.length) {
      ftruncateSync(fd, Buffer.byteLength(text.slice(0, completeLength), 'utf8'));
      fdatasyncSync(fd);
    }
    let sizeBytes = Buffer.byteLength(text.slice(0, completeLength), 'utf8');
    const records: NetworkRecord[] = [];
    const lines = text.slice(0, completeLength).split('\n');
    for (const [index, line] of lines.entries()) {
      if (line === '') continue;
      records.push(parseRecord(line, journalPath, index + 1));
    }
    const journal: NetworkJournal = {
      path: journalPath,
      append(newRecords) {
        assert(!closed, 'the journal is open');
        if (newRecords.length === 0) return;
        let chunk = '';
        for (const record of newRecords) {
          const line = JSON.stringify({ v: 1, ...record });
          assert(line.length <= cardNetworkLimits.simulatorJournalLineBytesMax, 'a journal line fits its limit');
          chunk += line + '\n';
        }
        try {
          appendFileSync(fd, chunk, 'utf8');
          fdatasyncSync(fd);
        } catch (error) {
          // Cut off whatever part of the chunk reached the file, so the next append starts a clean line.
          try {
            ftruncateSync(fd, sizeBytes);
          } catch {
            // The append error below is what the caller acts on.
          }
          throw error;
        }
        sizeBytes += Buffer.byteLength(chunk, 'utf8');
      },
      close() {
        if (closed) return;
        closed = true;
        closeSync(fd);
      },
    };
    return { journal, records };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

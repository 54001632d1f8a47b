/**
 * The daily clearing file: `<dataDir>/clearing/YYYY-MM-DD.csv`, one line per approved and not
 * reversed sale, refund and completion the network answered that UTC day. Written to a temporary
 * file and renamed, so a reader never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { AppError, assert } from '../../../platform/errors.js';
import type { NetworkTransaction } from './issuer.js';
import { transmissionInstant } from './messages.js';

export const clearingColumns = [
  'record_type',
  'rrn',
  'stan',
  'auth_code',
  'transmitted_at',
  'masked_pan',
  'amount_minor',
  'currency',
  'merchant_id',
  'terminal_id',
  'response_code',
] as const;

export type ClearingRecordType = 'sale' | 'refund' | 'completion';

export interface ClearingLine {
  recordType: ClearingRecordType;
  rrn: string;
  stan: string;
  authCode: string;
  transmittedAt: string;
  maskedPan: string;
  amountMinor: bigint;
  currency: string;
  merchantId: string;
  terminalId: string;
  responseCode: string;
}

const dayPattern = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

/** Checks a `YYYY-MM-DD` day names a real date; throws invalid_request otherwise. */
export function checkClearingDay(day: string): void {
  const match = dayPattern.exec(day);
  const valid =
    match !== null && new Date(`${day}T00:00:00.000Z`).toISOString().slice(0, 10) === day && match[1] !== '0000';
  if (!valid) throw new AppError('invalid_request', { message: 'The clearing day must be a date written YYYY-MM-DD.' });
}

/** The UTC day (YYYY-MM-DD) of an ISO 8601 instant. */
export function utcDayOf(isoInstant: string): string {
  return new Date(isoInstant).toISOString().slice(0, 10);
}

function transmittedAtIso(field7: string, receivedAt: string): string {
  const received = new Date(receivedAt);
  return (transmissionInstant(field7, received) ?? received).toISOString();
}

/** The lines of one UTC day, in the order the network answered them. */
export function clearingLinesOf(transactions: Iterable<NetworkTransaction>, day: string): ClearingLine[] {
  checkClearingDay(day);
  const dated: { receivedAt: string; line: ClearingLine }[] = [];
  for (const transaction of transactions) {
    if (transaction.responseCode !== '00' || transaction.reversal !== null) continue;
    assert(transaction.authCode !== null, 'an approved transaction has an authorization code');
    const common = {
      rrn: transaction.rrn,
      authCode: transaction.authCode,
      maskedPan: transaction.maskedPan,
      currency: transaction.currency,
      responseCode: '00',
    };
    if (transaction.kind === 'hold') {
      const completion = transaction.completion;
      if (completion === null || utcDayOf(completion.receivedAt) !== day) continue;
      dated.push({
        receivedAt: completion.receivedAt,
        line: {
          ...common,
          recordType: 'completion',
          stan: completion.stan,
          transmittedAt: transmittedAtIso(completion.transmissionDateTime, completion.receivedAt),
          amountMinor: completion.amountMinor,
          merchantId: completion.merchantId.trimEnd(),
          terminalId: completion.terminalId.trimEnd(),
        },
      });
      continue;
    }
    if (utcDayOf(transaction.receivedAt) !== day) continue;
    dated.push({
      receivedAt: transaction.receivedAt,
      line: {
        ...common,
        recordType: transaction.kind,
        stan: transaction.stan,
        transmittedAt: transmittedAtIso(transaction.transmissionDateTime, transaction.receivedAt),
        amountMinor: transaction.amountMinor,
        merchantId: transaction.merchantId.trimEnd(),
        terminalId: transaction.terminalId.trimEnd(),
      },
    });
  }
  dated.sort((left, right) => (left.receivedAt < right.receivedAt ? -1 : left.receivedAt > right.receivedAt ? 1 : 0));
  return dated.map((entry) => entry.line);
}

/** RFC 4180 quoting, when a value needs it (merchant and terminal ids are free text). */
function csvValue(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function clearingCsv(lines: readonly ClearingLine[]): string {
  let text = clearingColumns.join(',') + '\n';
  for (const line of lines) {
    const values = [
      line.recordType,
      line.rrn,
      line.stan,
      line.authCode,
      line.transmittedAt,
      line.maskedPan,
      line.amountMinor.toString(),
      line.currency,
      line.merchantId,
      line.terminalId,
      line.responseCode,
    ];
    text += values.map(csvValue).join(',') + '\n';
  }
  return text;
}

/** Writes `<dataDir>/clearing/<day>.csv` atomically (temporary file, fsync, rename); returns its path. */
export function writeClearingCsv(dataDir: string, day: string, text: string): string {
  checkClearingDay(day);
  const directory = path.join(dataDir, 'clearing');
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const finalPath = path.join(directory, `${day}.csv`);
  const temporaryPath = path.join(directory, `.${day}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temporaryPath, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporaryPath, finalPath);
  return finalPath;
}

/** Milliseconds from `now` to the next UTC midnight plus `delayMs`. */
export function msUntilNextClearing(now: Date, delayMs: number): number {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + delayMs;
  const next =
    today > now.getTime() ? today : Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) + delayMs;
  const wait = next - now.getTime();
  assert(wait > 0, 'the next clearing run is in the future');
  return wait;
}

/** The UTC day before the one `at` falls in. */
export function previousUtcDay(at: Date): string {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() - 1)).toISOString().slice(0, 10);
}

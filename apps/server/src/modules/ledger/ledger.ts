import { performance } from 'node:perf_hooks';
import type { Db, SqlExecutor } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import { limits } from '../../platform/limits.js';
import { amountMinorMax, isKnownCurrency } from '../../platform/money.js';
import { accountFlagBits, applyBatch, metadataEqual, type BatchState, type Submission } from './apply.js';
import { transferCodes } from './codes.js';
import { isUuid, transferIdFrom } from './ids.js';
import {
  closeAccountRow,
  entrySeqPerBatch,
  insertAccounts,
  lockAccounts,
  lockPendings,
  nextEntrySeqBase,
  selectAccounts,
  selectEntries,
  selectExpiredPendingIds,
  selectFailures,
  selectTransfers,
  selectTransfersAndFailures,
  writeBatch,
  type AccountInsertRow,
} from './repository.js';
import type {
  Account,
  AccountInput,
  AccountResult,
  AccountResultCode,
  Entry,
  Transfer,
  TransferInput,
  TransferResult,
  TransferResultCode,
} from './types.js';

export interface LedgerObserver {
  batchCommitted(info: { transferCount: number; commitMs: number }): void;
  transfersCompleted(results: readonly TransferResult[]): void;
}

export interface LedgerOptions {
  /** Transfers applied in one database transaction at most (also the most one submission may hold). */
  batchSizeMax?: number;
  /** Batches under way at once from this process. */
  batchesInFlightMax?: number;
  /** Transfers waiting for a batch at most; past it, submissions are refused with ledger_overloaded. */
  queuedTransfersMax?: number;
  /** Times a batch is retried after a unique-key conflict or deadlock with another node. */
  batchRetriesMax?: number;
  observer?: LedgerObserver;
}

export interface Ledger {
  /** Creates accounts; an id that exists with the same fields answers exists (idempotent). */
  createAccounts(inputs: readonly AccountInput[]): Promise<AccountResult[]>;
  lookupAccounts(ids: readonly string[]): Promise<Account[]>;
  /**
   * Submits transfers. Concurrent submissions are coalesced into batches; each is answered after
   * its batch commits, with one result per transfer in order.
   */
  submitTransfers(inputs: readonly TransferInput[]): Promise<TransferResult[]>;
  lookupTransfers(ids: readonly string[]): Promise<Transfer[]>;
  /** Why each of ids failed, for those that did (a resubmission only answers id_already_failed). */
  lookupFailures(ids: readonly string[]): Promise<Map<string, TransferResultCode>>;
  /** An account's entries, newest first; beforeSeq (exclusive) pages back through its history. */
  listEntries(accountId: string, options?: { beforeSeq?: bigint; limit?: number }): Promise<Entry[]>;
  /** Closes an account: later transfers touching it fail with account_closed. */
  closeAccount(id: string): Promise<boolean>;
  /** Voids pending transfers whose timeout has passed; returns how many it voided. */
  expirePendingTransfers(limit?: number): Promise<number>;
  /** Refuses new submissions and waits for the queued and in-flight ones to finish. */
  close(): Promise<void>;
}

/** The ledger's bounds, all defined in platform/limits.ts. */
export const ledgerLimits = {
  batchSizeMax: limits.ledgerBatchSizeMax,
  batchesInFlightMax: limits.ledgerBatchesInFlightMax,
  queuedTransfersMax: limits.ledgerQueuedTransfersMax,
  batchRetriesMax: limits.ledgerBatchRetriesMax,
  lookupIdsMax: limits.ledgerLookupIdsMax,
  entriesPageMax: limits.ledgerEntriesPageMax,
  metadataBytesMax: limits.ledgerMetadataBytesMax,
  timeoutSMax: limits.ledgerPendingTimeoutSMax,
  expirySweepMax: limits.ledgerExpiryBatchMax,
} as const;

const currencyPattern = /^[A-Z]{3}$/;
const phases = new Set(['single', 'pending', 'post_pending', 'void_pending']);
/** PostgreSQL errors that mean "another transaction got there first": the batch is retried whole. */
const retryableSqlStates = new Set(['23505', '40P01', '40001']);
/** Transfer code the expiry sweep uses for the void it posts. */
export const expiryTransferCode = transferCodes.expiry;

function invalid(message: string, param: string): AppError {
  return new AppError('invalid_request', { message, param });
}

function checkMetadata(metadata: unknown, param: string): void {
  if (metadata === undefined || metadata === null) return;
  if (typeof metadata !== 'object' || Array.isArray(metadata))
    throw invalid('metadata must be an object or null', param);
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > ledgerLimits.metadataBytesMax) {
    throw invalid(`metadata is ${bytes} bytes; at most ${ledgerLimits.metadataBytesMax}`, param);
  }
}

function checkCode(code: unknown, param: string): void {
  if (!Number.isInteger(code) || (code as number) < 1 || (code as number) > 65535) {
    throw invalid('code must be an integer from 1 to 65535', param);
  }
}

/**
 * Shape checks done before a transfer joins a batch: these are programming errors of the caller
 * (a route validates user input first), so they throw instead of becoming result codes.
 */
export function checkTransferShape(input: TransferInput, index: number): void {
  const at = (field: string) => `transfers[${index}].${field}`;
  if (!isUuid(input.id)) throw invalid('id must be a lower-case UUID', at('id'));
  checkCode(input.code, at('code'));
  const phase = input.phase ?? 'single';
  if (!phases.has(phase)) throw invalid('phase must be single, pending, post_pending or void_pending', at('phase'));
  if (input.linked !== undefined && typeof input.linked !== 'boolean')
    throw invalid('linked must be a boolean', at('linked'));
  if (
    input.timeoutS !== undefined &&
    (!Number.isInteger(input.timeoutS) || input.timeoutS < 0 || input.timeoutS > ledgerLimits.timeoutSMax)
  ) {
    throw invalid('timeoutS must be a whole number of seconds', at('timeoutS'));
  }
  if (
    input.amountMinor !== undefined &&
    (typeof input.amountMinor !== 'bigint' || input.amountMinor > amountMinorMax)
  ) {
    throw invalid('amountMinor must be a bigint no larger than 2^63-1', at('amountMinor'));
  }
  if (input.currency !== undefined && (typeof input.currency !== 'string' || !currencyPattern.test(input.currency))) {
    throw invalid('currency must be an ISO 4217 code', at('currency'));
  }
  for (const field of ['debitAccountId', 'creditAccountId'] as const) {
    const value = input[field];
    if (value !== undefined && !isUuid(value)) throw invalid(`${field} must be a lower-case UUID`, at(field));
  }
  checkMetadata(input.metadata, at('metadata'));
  if (
    input.creditBalanceMaxMinor !== undefined &&
    (typeof input.creditBalanceMaxMinor !== 'bigint' ||
      input.creditBalanceMaxMinor < 0n ||
      input.creditBalanceMaxMinor > amountMinorMax)
  ) {
    throw invalid('creditBalanceMaxMinor must be a bigint from 0 to 2^63-1', at('creditBalanceMaxMinor'));
  }
  if (phase !== 'single' && phase !== 'pending' && input.creditBalanceMaxMinor !== undefined) {
    throw invalid('creditBalanceMaxMinor is only for single and pending transfers', at('creditBalanceMaxMinor'));
  }
  if (phase === 'single' || phase === 'pending') {
    if (input.debitAccountId === undefined) throw invalid('debitAccountId is required', at('debitAccountId'));
    if (input.creditAccountId === undefined) throw invalid('creditAccountId is required', at('creditAccountId'));
    if (input.amountMinor === undefined) throw invalid('amountMinor is required', at('amountMinor'));
    if (input.currency === undefined) throw invalid('currency is required', at('currency'));
    if (input.pendingId !== undefined)
      throw invalid('pendingId is only for post_pending and void_pending', at('pendingId'));
  } else if (!isUuid(input.pendingId)) {
    throw invalid('pendingId must be the UUID of a pending transfer', at('pendingId'));
  }
}

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && retryableSqlStates.has(code);
}

interface QueuedSubmission extends Submission {
  resolve(results: TransferResult[]): void;
  reject(error: unknown): void;
}

/** Reads what a batch needs (locking accounts and pending rows), applies it, and writes it. */
async function runBatchTransaction(tx: SqlExecutor, submissions: readonly Submission[]) {
  const transferIds = new Set<string>();
  const pendingIds = new Set<string>();
  const accountIds = new Set<string>();
  for (const submission of submissions) {
    for (const input of submission.transfers) {
      transferIds.add(input.id);
      if (input.pendingId !== undefined) pendingIds.add(input.pendingId);
      if (input.debitAccountId !== undefined) accountIds.add(input.debitAccountId);
      if (input.creditAccountId !== undefined) accountIds.add(input.creditAccountId);
    }
  }
  // Pending rows first (their accounts must be locked too), then accounts in id order. Only
  // after the locks are held do we read which ids exist: a concurrent batch touching the same
  // accounts has committed by then, so its transfers are visible.
  const pendings = await lockPendings(tx, [...pendingIds].sort());
  for (const pending of pendings.values()) {
    accountIds.add(pending.transfer.debitAccountId);
    accountIds.add(pending.transfer.creditAccountId);
  }
  const [accounts, entrySeqBase, { transfers, failedIds }] = await Promise.all([
    lockAccounts(tx, [...accountIds].sort()),
    nextEntrySeqBase(tx), // after the locks: statements on one connection run in order
    selectTransfersAndFailures(
      tx,
      [...transferIds],
      [...pendingIds].filter((id) => !transferIds.has(id)),
    ),
  ]);
  const nowMs = Date.now();
  const state: BatchState = { nowMs, now: new Date(nowMs), entrySeqBase, accounts, transfers, failedIds, pendings };
  const outcome = applyBatch(state, submissions);
  await writeBatch(tx, outcome.writes, state.nowMs);
  return outcome;
}

class PostingEngine {
  private readonly queue: QueuedSubmission[] = [];
  private queuedTransferCount = 0;
  private batchesInFlight = 0;
  private closing = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly options: Required<Omit<LedgerOptions, 'observer'>> & { observer: LedgerObserver | undefined },
  ) {}

  submit(submission: Submission): Promise<TransferResult[]> {
    if (this.closing) return Promise.reject(new AppError('ledger_closed'));
    const count = submission.transfers.length;
    if (count === 0) return Promise.resolve([]);
    if (count > this.options.batchSizeMax) {
      return Promise.reject(invalid(`a submission holds at most ${this.options.batchSizeMax} transfers`, 'transfers'));
    }
    if (this.queuedTransferCount + count > this.options.queuedTransfersMax) {
      return Promise.reject(new AppError('ledger_overloaded'));
    }
    return new Promise<TransferResult[]>((resolve, reject) => {
      this.queue.push({ ...submission, resolve, reject });
      this.queuedTransferCount += count;
      this.pump();
    });
  }

  /** Starts batches while there is work and room: whatever queued while the last one ran joins the next. */
  private pump(): void {
    while (this.queue.length > 0 && this.batchesInFlight < this.options.batchesInFlightMax) {
      const batch: QueuedSubmission[] = [];
      let size = 0;
      while (this.queue.length > 0 && size + this.queue[0]!.transfers.length <= this.options.batchSizeMax) {
        const next = this.queue.shift()!;
        size += next.transfers.length;
        batch.push(next);
      }
      assert(batch.length > 0, 'a queued submission always fits an empty batch');
      this.queuedTransferCount -= size;
      this.batchesInFlight += 1;
      void this.runBatch(batch, size).finally(() => {
        this.batchesInFlight -= 1;
        this.pump();
        this.notifyIfIdle();
      });
    }
  }

  private async runBatch(batch: QueuedSubmission[], size: number): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      const startedMs = performance.now();
      try {
        const outcome = await this.db.transaction((tx) => runBatchTransaction(tx, batch));
        const commitMs = performance.now() - startedMs;
        this.options.observer?.batchCommitted({ transferCount: size, commitMs });
        batch.forEach((submission, index) => {
          const results = outcome.results[index]!;
          this.options.observer?.transfersCompleted(results);
          submission.resolve(results);
        });
        return;
      } catch (error) {
        if (isRetryable(error) && attempt < this.options.batchRetriesMax) continue;
        if (batch.length > 1) {
          // Isolate the submission at fault: every other one is retried on its own.
          for (const submission of batch) await this.runBatch([submission], submission.transfers.length);
          return;
        }
        for (const submission of batch) submission.reject(error);
        return;
      }
    }
  }

  private notifyIfIdle(): void {
    if (this.batchesInFlight === 0 && this.queue.length === 0) {
      for (const waiter of this.idleWaiters.splice(0)) waiter();
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.batchesInFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}

function checkIds(ids: readonly string[], param: string): void {
  if (ids.length > ledgerLimits.lookupIdsMax) throw invalid(`at most ${ledgerLimits.lookupIdsMax} ids`, param);
  ids.forEach((id, index) => {
    if (!isUuid(id)) throw invalid('ids must be lower-case UUIDs', `${param}[${index}]`);
  });
}

function accountFlagsToBits(flags: AccountInput['flags']): number {
  return (
    (flags?.debitsMustNotExceedCredits === true ? accountFlagBits.debitsMustNotExceedCredits : 0) |
    (flags?.creditsMustNotExceedDebits === true ? accountFlagBits.creditsMustNotExceedDebits : 0) |
    (flags?.closed === true ? accountFlagBits.closed : 0)
  );
}

function accountMatches(account: Account, row: AccountInsertRow): boolean {
  return (
    account.currency === row.currency &&
    account.code === row.code &&
    accountFlagsToBits(account.flags) === row.flags &&
    metadataEqual(
      account.metadata,
      row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
    )
  );
}

export function createLedger(db: Db, options: LedgerOptions = {}): Ledger {
  const settings = {
    batchSizeMax: options.batchSizeMax ?? ledgerLimits.batchSizeMax,
    batchesInFlightMax: options.batchesInFlightMax ?? 1,
    queuedTransfersMax: options.queuedTransfersMax ?? ledgerLimits.queuedTransfersMax,
    batchRetriesMax: options.batchRetriesMax ?? ledgerLimits.batchRetriesMax,
    observer: options.observer,
  };
  assert(settings.batchSizeMax >= 1 && settings.batchSizeMax <= ledgerLimits.batchSizeMax, 'batchSizeMax in range');
  assert(
    settings.batchesInFlightMax >= 1 && settings.batchesInFlightMax <= ledgerLimits.batchesInFlightMax,
    'batchesInFlightMax in range',
  );
  assert(
    BigInt(2 * settings.batchSizeMax) < entrySeqPerBatch,
    'a batch never uses more entry numbers than it reserves',
  );
  const engine = new PostingEngine(db, settings);

  return {
    async createAccounts(inputs) {
      if (inputs.length > settings.batchSizeMax) throw invalid(`at most ${settings.batchSizeMax} accounts`, 'accounts');
      const results: AccountResult[] = [];
      const rowsByIndex: (AccountInsertRow | null)[] = [];
      const uniqueRows = new Map<string, AccountInsertRow>();
      inputs.forEach((input, index) => {
        checkCode(input.code, `accounts[${index}].code`);
        checkMetadata(input.metadata, `accounts[${index}].metadata`);
        let result: AccountResultCode = 'ok';
        if (!isUuid(input.id)) result = 'id_must_be_uuid';
        else if (!isKnownCurrency(input.currency)) result = 'currency_unknown';
        else if (input.flags?.debitsMustNotExceedCredits === true && input.flags.creditsMustNotExceedDebits === true) {
          result = 'flags_are_mutually_exclusive';
        }
        results.push({ id: input.id, result });
        if (result !== 'ok') {
          rowsByIndex.push(null);
          return;
        }
        const row: AccountInsertRow = {
          id: input.id,
          currency: input.currency,
          code: input.code,
          flags: accountFlagsToBits(input.flags),
          metadata: input.metadata === undefined || input.metadata === null ? null : JSON.stringify(input.metadata),
        };
        rowsByIndex.push(row);
        if (!uniqueRows.has(row.id)) uniqueRows.set(row.id, row);
      });
      if (uniqueRows.size === 0) return results;
      const rows = [...uniqueRows.values()];
      const inserted = await db.transaction((tx) => insertAccounts(tx, rows));
      const stored = new Map(
        (
          await selectAccounts(
            db,
            rows.map((row) => row.id),
          )
        ).map((a) => [a.id, a]),
      );
      const claimed = new Set<string>();
      rowsByIndex.forEach((row, index) => {
        if (row === null) return;
        // The first input that inserted an id is ok; any other input naming it is a resubmission.
        const firstClaim = inserted.has(row.id) && !claimed.has(row.id);
        claimed.add(row.id);
        if (firstClaim) return;
        const account = stored.get(row.id);
        assert(account !== undefined, 'an account just inserted or found exists');
        results[index] = {
          id: row.id,
          result: accountMatches(account, row) ? 'exists' : 'exists_with_different_fields',
        };
      });
      return results;
    },

    async lookupAccounts(ids) {
      checkIds(ids, 'ids');
      return selectAccounts(db, ids);
    },

    async submitTransfers(inputs) {
      inputs.forEach((input, index) => checkTransferShape(input, index));
      return engine.submit({ transfers: inputs });
    },

    async lookupTransfers(ids) {
      checkIds(ids, 'ids');
      return [...(await selectTransfers(db, ids)).values()];
    },

    async lookupFailures(ids) {
      checkIds(ids, 'ids');
      return selectFailures(db, ids);
    },

    async listEntries(accountId, listOptions = {}) {
      checkIds([accountId], 'accountId');
      const limit = listOptions.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > ledgerLimits.entriesPageMax) {
        throw invalid(`limit must be 1 to ${ledgerLimits.entriesPageMax}`, 'limit');
      }
      return selectEntries(db, accountId, listOptions.beforeSeq ?? null, limit);
    },

    async closeAccount(id) {
      checkIds([id], 'id');
      return db.transaction((tx) => closeAccountRow(tx, id));
    },

    async expirePendingTransfers(limit = ledgerLimits.expirySweepMax) {
      assert(limit >= 1 && limit <= ledgerLimits.expirySweepMax, 'expiry sweep limit in range');
      const ids = await selectExpiredPendingIds(db, Date.now(), limit);
      if (ids.length === 0) return 0;
      const results = await engine.submit({
        expiry: true,
        transfers: ids.map((pendingId) => ({
          id: transferIdFrom('ledger.expiry', pendingId),
          phase: 'void_pending' as const,
          pendingId,
          code: expiryTransferCode,
          metadata: { reason: 'expired' },
        })),
      });
      return results.filter((result) => result.result === 'ok').length;
    },

    close() {
      return engine.close();
    },
  };
}

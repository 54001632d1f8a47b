import { assert } from '../../platform/errors.js';
import { amountMinorMax } from '../../platform/money.js';
import type { Transfer, TransferInput, TransferPhase, TransferResult, TransferResultCode } from './types.js';

/**
 * The pure heart of the posting engine: given the locked state a batch read, apply its
 * submissions in order and say what to write. No I/O here, so the rules are testable alone.
 */

export const accountFlagBits = { debitsMustNotExceedCredits: 1, creditsMustNotExceedDebits: 2, closed: 4 } as const;
export const transferFlagBits = { linked: 1, pending: 2, postPending: 4, voidPending: 8 } as const;

const phaseBits: Record<TransferPhase, number> = {
  single: 0,
  pending: transferFlagBits.pending,
  post_pending: transferFlagBits.postPending,
  void_pending: transferFlagBits.voidPending,
};

export function transferFlags(phase: TransferPhase, linked: boolean): number {
  return phaseBits[phase] | (linked ? transferFlagBits.linked : 0);
}

export function phaseFromFlags(flags: number): TransferPhase {
  if (flags & transferFlagBits.pending) return 'pending';
  if (flags & transferFlagBits.postPending) return 'post_pending';
  if (flags & transferFlagBits.voidPending) return 'void_pending';
  return 'single';
}

/** An account as locked for the batch; the engine mutates these balances in memory. */
export interface AccountState {
  id: string;
  currency: string;
  flags: number;
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
  /** The account's newest entry (null before its first). */
  lastEntrySeq: bigint | null;
}

export type PendingStatus = 'pending' | 'posted' | 'voided' | 'expired';

export interface PendingState {
  transfer: Transfer;
  status: PendingStatus;
  expiresAtMs: number | null;
  resolvedBy: string | null;
}

export interface BatchState {
  nowMs: number;
  /** createdAt of every transfer the batch writes (nowMs as a Date). */
  now: Date;
  /** This batch's entries are numbered entrySeqBase + 1, + 2, … (see entrySeqPerBatch). */
  entrySeqBase: bigint;
  accounts: Map<string, AccountState>;
  /** Stored transfers whose ids the batch names (its own ids and the pending ids it resolves). */
  transfers: Map<string, Transfer>;
  /** Ids that already failed. */
  failedIds: Set<string>;
  /** Locked pending-transfer rows the batch resolves. */
  pendings: Map<string, PendingState>;
}

export interface Submission {
  transfers: readonly TransferInput[];
  /** Set by the engine's expiry sweep: may void a pending transfer whose timeout has passed. */
  expiry?: boolean;
}

export interface EntryDraft {
  seq: bigint;
  /** The same account's previous entry. */
  prevSeq: bigint | null;
  transferId: string;
  accountId: string;
  isCredit: boolean;
  postedAmount: bigint;
  pendingAmount: bigint;
  balanceAfter: bigint;
}

export interface BatchWrites {
  transfers: Transfer[];
  entries: EntryDraft[];
  failures: { id: string; result: TransferResultCode }[];
  /** Pending transfers created by this batch, with their final status. */
  pendingInserts: { id: string; status: PendingStatus; expiresAtMs: number | null; resolvedBy: string | null }[];
  /** Pending transfers that existed before the batch and that it resolved. */
  pendingUpdates: { id: string; status: PendingStatus; resolvedBy: string }[];
  /** Every account whose balances changed, with the new balances. */
  accounts: AccountState[];
}

export interface BatchOutcome {
  results: TransferResult[][];
  writes: BatchWrites;
}

type Undo = () => void;

/** Failures that mark an id as failed for good (a failed id stays failed). */
function marksIdFailed(code: TransferResultCode): boolean {
  return (
    code !== 'ok' &&
    code !== 'exists' &&
    code !== 'exists_with_different_fields' &&
    code !== 'id_already_failed' &&
    code !== 'linked_event_failed' &&
    code !== 'linked_event_chain_open'
  );
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

export function metadataEqual(a: Record<string, unknown> | null, b: Record<string, unknown> | null): boolean {
  if (a === null || b === null) return a === b;
  return canonicalJson(a) === canonicalJson(b);
}

/** Does a resubmitted input describe the transfer already stored under its id? */
export function sameTransfer(stored: Transfer, input: TransferInput): boolean {
  const phase = input.phase ?? 'single';
  if (stored.phase !== phase) return false;
  if (stored.linked !== (input.linked ?? false)) return false;
  if (stored.code !== input.code) return false;
  if (stored.timeoutS !== (input.timeoutS ?? 0)) return false;
  if (stored.pendingId !== (input.pendingId ?? null)) return false;
  if (input.debitAccountId !== undefined && stored.debitAccountId !== input.debitAccountId) return false;
  if (input.creditAccountId !== undefined && stored.creditAccountId !== input.creditAccountId) return false;
  if (input.amountMinor !== undefined && stored.amountMinor !== input.amountMinor) return false;
  if (input.currency !== undefined && stored.currency !== input.currency) return false;
  return metadataEqual(stored.metadata, input.metadata ?? null);
}

class BatchApplier {
  private readonly writes: BatchWrites = {
    transfers: [],
    entries: [],
    failures: [],
    pendingInserts: [],
    pendingUpdates: [],
    accounts: [],
  };
  private readonly touchedAccounts = new Set<string>();
  private readonly createdPendingIds: string[] = [];
  private readonly resolvedExistingPendingIds = new Set<string>();
  /** Undo steps of the linked chain being applied; null outside a chain. */
  private chainUndo: Undo[] | null = null;

  constructor(private readonly state: BatchState) {}

  run(submissions: readonly Submission[]): BatchOutcome {
    const results = submissions.map((submission) => this.applySubmission(submission));
    for (const id of this.touchedAccounts) this.writes.accounts.push(this.state.accounts.get(id)!);
    for (const id of this.createdPendingIds) {
      const pending = this.state.pendings.get(id)!;
      this.writes.pendingInserts.push({
        id,
        status: pending.status,
        expiresAtMs: pending.expiresAtMs,
        resolvedBy: pending.resolvedBy,
      });
    }
    for (const id of this.resolvedExistingPendingIds) {
      const pending = this.state.pendings.get(id)!;
      this.writes.pendingUpdates.push({ id, status: pending.status, resolvedBy: pending.resolvedBy! });
    }
    return { results, writes: this.writes };
  }

  private applySubmission(submission: Submission): TransferResult[] {
    const inputs = submission.transfers;
    const results: TransferResult[] = new Array<TransferResult>(inputs.length);
    // A chain still open at the end of a submission fails as a whole, without being applied.
    let openChainStart = inputs.length;
    if (inputs.length > 0 && inputs[inputs.length - 1]!.linked === true) {
      openChainStart = inputs.length - 1;
      while (openChainStart > 0 && inputs[openChainStart - 1]!.linked === true) openChainStart -= 1;
      for (let index = openChainStart; index < inputs.length; index += 1) {
        const code = index === inputs.length - 1 ? 'linked_event_chain_open' : 'linked_event_failed';
        results[index] = { id: inputs[index]!.id, result: code, transfer: null };
      }
    }
    let index = 0;
    while (index < openChainStart) {
      const input = inputs[index]!;
      if (input.linked !== true) {
        results[index] = this.applyAndRecord(input, submission.expiry === true);
        index += 1;
        continue;
      }
      let chainEnd = index;
      while (inputs[chainEnd]!.linked === true) chainEnd += 1; // the chain's last member is not linked
      this.applyChain(inputs, index, chainEnd, results, submission.expiry === true);
      index = chainEnd + 1;
    }
    return results;
  }

  private applyChain(
    inputs: readonly TransferInput[],
    start: number,
    end: number,
    results: TransferResult[],
    expiry: boolean,
  ): void {
    const undo: Undo[] = [];
    this.chainUndo = undo;
    const marks = {
      transfers: this.writes.transfers.length,
      entries: this.writes.entries.length,
      createdPending: this.createdPendingIds.length,
    };
    let failedAt = -1;
    for (let index = start; index <= end; index += 1) {
      const result = this.applyAndRecord(inputs[index]!, expiry);
      results[index] = result;
      if (result.result !== 'ok' && result.result !== 'exists') {
        failedAt = index;
        break;
      }
    }
    this.chainUndo = null;
    if (failedAt === -1) return;
    for (let step = undo.length - 1; step >= 0; step -= 1) undo[step]!();
    this.writes.transfers.length = marks.transfers;
    this.writes.entries.length = marks.entries;
    this.createdPendingIds.length = marks.createdPending;
    for (let index = start; index <= end; index += 1) {
      if (index !== failedAt) results[index] = { id: inputs[index]!.id, result: 'linked_event_failed', transfer: null };
    }
  }

  private applyAndRecord(input: TransferInput, expiry: boolean): TransferResult {
    const outcome = this.applyOne(input, expiry);
    if (typeof outcome === 'string') {
      if (marksIdFailed(outcome)) {
        this.state.failedIds.add(input.id);
        this.writes.failures.push({ id: input.id, result: outcome });
      }
      return { id: input.id, result: outcome, transfer: null };
    }
    return { id: input.id, result: outcome.code, transfer: outcome.transfer };
  }

  private applyOne(
    input: TransferInput,
    expiry: boolean,
  ): TransferResultCode | { code: 'ok' | 'exists'; transfer: Transfer } {
    const stored = this.state.transfers.get(input.id);
    if (stored !== undefined) {
      // A stored pending id named by another input is not "this" transfer unless the ids match.
      return sameTransfer(stored, input) ? { code: 'exists', transfer: stored } : 'exists_with_different_fields';
    }
    if (this.state.failedIds.has(input.id)) return 'id_already_failed';
    const phase = input.phase ?? 'single';
    if (phase === 'single' || phase === 'pending') return this.applyNew(input, phase);
    return this.applyResolution(input, phase, expiry);
  }

  private applyNew(
    input: TransferInput,
    phase: 'single' | 'pending',
  ): TransferResultCode | { code: 'ok'; transfer: Transfer } {
    const debitId = input.debitAccountId!;
    const creditId = input.creditAccountId!;
    const amount = input.amountMinor!;
    if (debitId === creditId) return 'accounts_must_be_different';
    if (amount <= 0n) return 'amount_must_be_positive';
    if (phase === 'single' && (input.timeoutS ?? 0) !== 0) return 'timeout_reserved_for_pending_transfer';
    const debit = this.state.accounts.get(debitId);
    const credit = this.state.accounts.get(creditId);
    if (debit === undefined || credit === undefined) return 'account_not_found';
    if (debit.currency !== input.currency || credit.currency !== input.currency) return 'currency_mismatch';
    if (debit.flags & accountFlagBits.closed || credit.flags & accountFlagBits.closed) return 'account_closed';
    if (debit.debitsPosted + debit.debitsPending + amount > amountMinorMax) return 'overflows_debits';
    if (credit.creditsPosted + credit.creditsPending + amount > amountMinorMax) return 'overflows_credits';
    if (
      debit.flags & accountFlagBits.debitsMustNotExceedCredits &&
      debit.debitsPosted + debit.debitsPending + amount > debit.creditsPosted
    ) {
      return 'exceeds_credits';
    }
    if (
      credit.flags & accountFlagBits.creditsMustNotExceedDebits &&
      credit.creditsPosted + credit.creditsPending + amount > credit.debitsPosted
    ) {
      return 'exceeds_debits';
    }
    if (
      input.creditBalanceMaxMinor !== undefined &&
      credit.creditsPosted + credit.creditsPending + amount - credit.debitsPosted > input.creditBalanceMaxMinor
    ) {
      return 'exceeds_balance_max';
    }
    const transfer: Transfer = {
      id: input.id,
      debitAccountId: debitId,
      creditAccountId: creditId,
      amountMinor: amount,
      currency: debit.currency,
      code: input.code,
      linked: input.linked ?? false,
      phase,
      timeoutS: input.timeoutS ?? 0,
      pendingId: null,
      metadata: input.metadata ?? null,
      createdAt: this.state.now,
    };
    if (phase === 'single') {
      this.move(debit, credit, { postedAmount: amount, pendingDelta: 0n }, transfer.id);
    } else {
      this.move(debit, credit, { postedAmount: 0n, pendingDelta: amount }, transfer.id);
      const pending: PendingState = {
        transfer,
        status: 'pending',
        expiresAtMs: transfer.timeoutS === 0 ? null : this.state.nowMs + transfer.timeoutS * 1000,
        resolvedBy: null,
      };
      this.state.pendings.set(transfer.id, pending);
      this.createdPendingIds.push(transfer.id);
      this.chainUndo?.push(() => this.state.pendings.delete(transfer.id));
    }
    this.recordTransfer(transfer);
    return { code: 'ok', transfer };
  }

  private applyResolution(
    input: TransferInput,
    phase: 'post_pending' | 'void_pending',
    expiry: boolean,
  ): TransferResultCode | { code: 'ok'; transfer: Transfer } {
    if (input.amountMinor !== undefined && input.amountMinor <= 0n) return 'amount_must_be_positive';
    if ((input.timeoutS ?? 0) !== 0) return 'timeout_reserved_for_pending_transfer';
    assert(input.pendingId !== undefined, 'post/void inputs carry a pendingId (checked at submission)');
    const pending = this.state.pendings.get(input.pendingId);
    if (pending === undefined) {
      return this.state.transfers.has(input.pendingId) ? 'pending_transfer_not_pending' : 'pending_transfer_not_found';
    }
    const reserved = pending.transfer;
    if (
      (input.debitAccountId !== undefined && input.debitAccountId !== reserved.debitAccountId) ||
      (input.creditAccountId !== undefined && input.creditAccountId !== reserved.creditAccountId) ||
      (input.currency !== undefined && input.currency !== reserved.currency)
    ) {
      return 'pending_transfer_has_different_fields';
    }
    if (pending.status === 'posted') return 'pending_transfer_already_posted';
    if (pending.status === 'voided') return 'pending_transfer_already_voided';
    if (pending.status === 'expired') return 'pending_transfer_expired';
    if (!expiry && pending.expiresAtMs !== null && pending.expiresAtMs <= this.state.nowMs) {
      return 'pending_transfer_expired';
    }
    const debit = this.state.accounts.get(reserved.debitAccountId);
    const credit = this.state.accounts.get(reserved.creditAccountId);
    if (debit === undefined || credit === undefined) return 'account_not_found';
    let amount = reserved.amountMinor;
    if (phase === 'post_pending') {
      amount = input.amountMinor ?? reserved.amountMinor;
      if (amount > reserved.amountMinor) return 'exceeds_pending_transfer_amount';
    } else if (input.amountMinor !== undefined && input.amountMinor !== reserved.amountMinor) {
      return 'pending_transfer_has_different_fields';
    }
    const transfer: Transfer = {
      id: input.id,
      debitAccountId: reserved.debitAccountId,
      creditAccountId: reserved.creditAccountId,
      amountMinor: amount,
      currency: reserved.currency,
      code: input.code,
      linked: input.linked ?? false,
      phase,
      timeoutS: 0,
      pendingId: reserved.id,
      metadata: input.metadata ?? null,
      createdAt: this.state.now,
    };
    const postedAmount = phase === 'post_pending' ? amount : 0n;
    this.move(debit, credit, { postedAmount, pendingDelta: -reserved.amountMinor }, transfer.id);
    const previousStatus = pending.status;
    pending.status = phase === 'post_pending' ? 'posted' : expiry ? 'expired' : 'voided';
    pending.resolvedBy = transfer.id;
    const wasExisting = !this.createdPendingIds.includes(reserved.id);
    const alreadyMarked = this.resolvedExistingPendingIds.has(reserved.id);
    if (wasExisting) this.resolvedExistingPendingIds.add(reserved.id);
    this.chainUndo?.push(() => {
      pending.status = previousStatus;
      pending.resolvedBy = null;
      if (wasExisting && !alreadyMarked) this.resolvedExistingPendingIds.delete(reserved.id);
    });
    this.recordTransfer(transfer);
    return { code: 'ok', transfer };
  }

  private recordTransfer(transfer: Transfer): void {
    this.state.transfers.set(transfer.id, transfer);
    this.writes.transfers.push(transfer);
    this.chainUndo?.push(() => this.state.transfers.delete(transfer.id));
  }

  /** Moves money from debit to credit: posted and/or pending changes, and the two entries. */
  private move(
    debit: AccountState,
    credit: AccountState,
    change: { postedAmount: bigint; pendingDelta: bigint },
    transferId: string,
  ): void {
    if (this.chainUndo !== null) {
      for (const account of [debit, credit]) {
        const saved = { ...account };
        const wasTouched = this.touchedAccounts.has(account.id);
        this.chainUndo.push(() => {
          account.debitsPosted = saved.debitsPosted;
          account.creditsPosted = saved.creditsPosted;
          account.debitsPending = saved.debitsPending;
          account.creditsPending = saved.creditsPending;
          account.lastEntrySeq = saved.lastEntrySeq;
          if (!wasTouched) this.touchedAccounts.delete(account.id);
        });
      }
    }
    debit.debitsPosted += change.postedAmount;
    debit.debitsPending += change.pendingDelta;
    credit.creditsPosted += change.postedAmount;
    credit.creditsPending += change.pendingDelta;
    this.touchedAccounts.add(debit.id);
    this.touchedAccounts.add(credit.id);
    // Entries rolled back with a chain are truncated away, so numbering by position never collides.
    const debitSeq = this.state.entrySeqBase + BigInt(this.writes.entries.length + 1);
    const creditSeq = debitSeq + 1n;
    const debitPrevSeq = debit.lastEntrySeq;
    const creditPrevSeq = credit.lastEntrySeq;
    debit.lastEntrySeq = debitSeq;
    credit.lastEntrySeq = creditSeq;
    this.writes.entries.push(
      {
        seq: debitSeq,
        prevSeq: debitPrevSeq,
        transferId,
        accountId: debit.id,
        isCredit: false,
        postedAmount: change.postedAmount,
        pendingAmount: change.pendingDelta,
        balanceAfter: debit.creditsPosted - debit.debitsPosted,
      },
      {
        seq: creditSeq,
        prevSeq: creditPrevSeq,
        transferId,
        accountId: credit.id,
        isCredit: true,
        postedAmount: change.postedAmount,
        pendingAmount: change.pendingDelta,
        balanceAfter: credit.creditsPosted - credit.debitsPosted,
      },
    );
  }
}

export function applyBatch(state: BatchState, submissions: readonly Submission[]): BatchOutcome {
  return new BatchApplier(state).run(submissions);
}

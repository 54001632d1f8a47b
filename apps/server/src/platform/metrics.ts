import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LedgerObserver } from '../modules/ledger/index.js';
import { limits } from './limits.js';

/**
 * Prometheus metrics on a registry of our own (not prom-client's global one), so that several
 * apps can live in one process (tests) without colliding.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDurationSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly ledgerBatchTransfers: Histogram;
  readonly ledgerBatchCommitSeconds: Histogram;
  readonly ledgerTransfersTotal: Counter<'result'>;
  /** Feeds the ledger metrics; pass it to createLedger's observer option. */
  ledgerObserver(): LedgerObserver;
}

export interface CreateMetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, GC): on in servers, off where they only add noise. */
  processMetrics?: boolean;
}

const batchSizeBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 4_000, limits.ledgerBatchSizeMax];

export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'yunpay_' });

  const httpRequestDurationSeconds = new Histogram({
    name: 'yunpay_http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to sending its response.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const ledgerBatchTransfers = new Histogram({
    name: 'yunpay_ledger_batch_transfers',
    help: 'Transfers applied per ledger batch (one database transaction).',
    buckets: batchSizeBuckets,
    registers: [registry],
  });
  const ledgerBatchCommitSeconds = new Histogram({
    name: 'yunpay_ledger_batch_commit_seconds',
    help: 'Time to apply and commit one ledger batch.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const ledgerTransfersTotal = new Counter({
    name: 'yunpay_ledger_transfers_total',
    help: 'Transfers answered by the ledger, by result code.',
    labelNames: ['result'] as const,
    registers: [registry],
  });

  return {
    registry,
    httpRequestDurationSeconds,
    ledgerBatchTransfers,
    ledgerBatchCommitSeconds,
    ledgerTransfersTotal,
    ledgerObserver(): LedgerObserver {
      return {
        batchCommitted(info) {
          ledgerBatchTransfers.observe(info.transferCount);
          ledgerBatchCommitSeconds.observe(info.commitMs / 1_000);
        },
        transfersCompleted(results) {
          // Count per code first: one counter update per distinct code, not per transfer.
          const countByResult = new Map<string, number>();
          for (const { result } of results) countByResult.set(result, (countByResult.get(result) ?? 0) + 1);
          for (const [result, count] of countByResult) ledgerTransfersTotal.inc({ result }, count);
        },
      };
    },
  };
}

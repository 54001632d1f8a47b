import { assert } from './errors.js';

/**
 * Every fixed upper bound in the server, in one place (TigerBeetle style: limits on everything).
 * Operator-tunable values (config.ts) are bounded by the *Max / *Min entries here. checkLimits runs
 * at start-up so a bad edit to this file crashes before the server takes traffic.
 */
export const limits = {
  /** Largest request body the HTTP server reads; larger bodies get 413 body_too_large. */
  httpBodyBytesMax: 1_048_576,
  /** Time a client has to send a whole request (headers and body). */
  httpRequestTimeoutMs: 30_000,
  /** Idle time allowed on a socket before it is closed. */
  httpConnectionTimeoutMs: 60_000,
  /** Idle time a kept-alive connection stays open between requests (above typical LB idle timeouts). */
  httpKeepAliveTimeoutMs: 72_000,
  /** Length of a client-supplied X-Request-Id we accept; longer ones are replaced. */
  requestIdLengthMax: 64,
  /** Longest URL parameter the router accepts. */
  httpParamLengthMax: 200,
  /** Objects in one page of a list response. */
  pageSizeMax: 100,

  /** After SIGTERM, how long draining may take before the process exits anyway. */
  shutdownDrainTimeoutMs: 25_000,
  /** How long /readyz waits for the database before reporting it unreachable. */
  readinessCheckTimeoutMs: 2_000,

  /** Connections in one node's PostgreSQL pool. */
  databasePoolSizeDefault: 10,
  databasePoolSizeMax: 200,
  /** A statement running longer than this is cancelled by PostgreSQL. */
  databaseStatementTimeoutMs: 30_000,
  databaseConnectTimeoutS: 10,

  /** Transfers applied in one ledger transaction (8190 = TigerBeetle's batch size). */
  ledgerBatchSizeDefault: 8_190,
  ledgerBatchSizeMax: 8_190,
  /** Ledger batches being applied at once (each holds one database connection); the ledger allows 8. */
  ledgerBatchesInFlightDefault: 1,
  ledgerBatchesInFlightMax: 8,

  /** Transfers waiting for a ledger batch in one process; past it submissions get ledger_overloaded. */
  ledgerQueuedTransfersMax: 1_000_000,
  /** Times a ledger batch is retried after a unique-key conflict or deadlock with another node. */
  ledgerBatchRetriesMax: 5,
  /** Ids in one ledger lookup. */
  ledgerLookupIdsMax: 1_000,
  /** Entries in one page of an account's history. */
  ledgerEntriesPageMax: 1_000,
  /** Serialized size of a transfer's or account's metadata. */
  ledgerMetadataBytesMax: 4_096,
  /** Longest reservation a pending transfer may hold (PostgreSQL integer seconds). */
  ledgerPendingTimeoutSMax: 2_147_483_647,

  /** Worker: how often pending transfers past their timeout are voided. */
  ledgerExpiryIntervalMs: 1_000,
  /** Worker: pending transfers voided per call, so one tick never runs unbounded (the ledger allows 1000). */
  ledgerExpiryBatchMax: 1_000,
  /** Worker: calls per tick when each call fills its batch (a backlog), before yielding to the next tick. */
  ledgerExpiryCallsPerTickMax: 10,

  /** Random bytes in a generated admin token. */
  adminTokenBytes: 32,
  /** Shortest admin token accepted from YUNPAY_ADMIN_TOKEN. */
  adminTokenLengthMin: 32,
  adminTokenLengthMax: 512,
} as const;

export type Limits = { readonly [Name in keyof typeof limits]: number };

/** Crashes on an inconsistent limits table; called once at start-up and by the tests. */
export function checkLimits(table: Limits = limits): void {
  for (const [name, value] of Object.entries(table)) {
    assert(Number.isSafeInteger(value) && value > 0, `limit ${name} must be a positive integer, got ${value}`);
  }
  assert(table.httpBodyBytesMax <= 64 * 1_048_576, 'httpBodyBytesMax must stay at or below 64 MiB');
  assert(
    table.httpKeepAliveTimeoutMs < table.httpConnectionTimeoutMs + table.httpRequestTimeoutMs,
    'httpKeepAliveTimeoutMs must be shorter than the connection and request timeouts together',
  );
  assert(table.requestIdLengthMax >= 36, 'requestIdLengthMax must fit a UUID');
  assert(table.ledgerBatchSizeDefault <= table.ledgerBatchSizeMax, 'ledgerBatchSizeDefault exceeds its max');
  assert(
    table.ledgerBatchesInFlightDefault <= table.ledgerBatchesInFlightMax,
    'ledgerBatchesInFlightDefault exceeds its max',
  );
  assert(table.databasePoolSizeDefault <= table.databasePoolSizeMax, 'databasePoolSizeDefault exceeds its max');
  assert(
    table.readinessCheckTimeoutMs < table.httpRequestTimeoutMs,
    'readinessCheckTimeoutMs must be shorter than httpRequestTimeoutMs',
  );
  assert(
    table.ledgerExpiryIntervalMs < table.shutdownDrainTimeoutMs,
    'ledgerExpiryIntervalMs must be shorter than shutdownDrainTimeoutMs',
  );
  assert(table.adminTokenLengthMin <= table.adminTokenLengthMax, 'adminTokenLengthMin exceeds its max');
  // A generated token (base64url, 4 chars per 3 bytes) must itself pass the env check.
  assert(
    Math.ceil((table.adminTokenBytes * 4) / 3) >= table.adminTokenLengthMin,
    'adminTokenBytes is too small for adminTokenLengthMin',
  );
}

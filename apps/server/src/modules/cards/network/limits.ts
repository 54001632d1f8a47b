/**
 * Fixed upper bounds of the card network simulator and the acquirer connector, next to the code
 * they bound. What the operator tunes (the request timeout and the pool size) lives in
 * platform/limits.ts, which the connector reads directly. checkCardNetworkLimits runs at start-up
 * (checkAllLimits), so a bad edit crashes before a socket is opened.
 */
import { assert } from '../../../platform/errors.js';
import { checkDefaultInRange, checkLimitTable } from '../../../platform/limits.js';

export const cardNetworkLimits = {
  // --- simulator ---
  /** TCP connections the simulator accepts at once (the default; options may lower it). */
  simulatorConnectionsDefault: 64,
  simulatorConnectionsMax: 1_024,
  /** Responses a connection may have waiting (delayed by a fault) before it is closed. */
  simulatorResponsesPendingPerConnectionMax: 256,
  /** Bytes written to a connection and not yet taken by the peer before it is closed (a peer that does not read). */
  simulatorSocketWriteBufferBytesMax: 1_048_576,
  /** A connection silent for this long is closed. */
  simulatorConnectionIdleMs: 300_000,
  /** Card transactions (RRNs) the simulator keeps; past this it answers 96. */
  simulatorTransactionsMax: 1_000_000,
  /** Requests whose answers the simulator keeps for retransmissions; past this it answers 96. */
  simulatorAnsweredRequestsMax: 4_000_000,
  /**
   * Largest journal replayed at start: it is read as one string, well under V8's string limit (the
   * simulator is for tests and development, not years of traffic).
   */
  simulatorJournalBytesMax: 268_435_456,
  /** One journal line. */
  simulatorJournalLineBytesMax: 16_384,
  /** Faults: responses one dropResponses/delayResponses call may affect, and the longest delay. */
  simulatorFaultCountMax: 10_000,
  simulatorFaultDelayMsMax: 600_000,
  /** The clearing file is written this long after UTC midnight. */
  simulatorClearingDelayAfterMidnightMs: 60_000,

  // --- connector (pool size and request timeout: platform/limits.ts cardNetwork*) ---
  connectorConnectTimeoutMsDefault: 2_000,
  connectorConnectTimeoutMsMax: 60_000,
  connectorKeepAliveIntervalMsDefault: 30_000,
  connectorKeepAliveIntervalMsMin: 10,
  connectorKeepAliveIntervalMsMax: 3_600_000,
  connectorInFlightPerConnectionDefault: 32,
  connectorInFlightPerConnectionMax: 1_024,
  connectorQueueDefault: 256,
  connectorQueueMax: 65_536,
  /** Reconnect backoff: first wait, doubled per failure up to the max. */
  connectorReconnectBackoffMsMin: 50,
  connectorReconnectBackoffMsMax: 2_000,
} as const;

export type CardNetworkLimits = { readonly [Name in keyof typeof cardNetworkLimits]: number };

/** Crashes on an inconsistent table; run at start-up by checkAllLimits (and by the tests). */
export function checkCardNetworkLimits(table: CardNetworkLimits = cardNetworkLimits): void {
  checkLimitTable('cardNetworkLimits', table);
  checkDefaultInRange('simulatorConnections', {
    defaultValue: table.simulatorConnectionsDefault,
    max: table.simulatorConnectionsMax,
  });
  checkDefaultInRange('connectorConnectTimeoutMs', {
    defaultValue: table.connectorConnectTimeoutMsDefault,
    max: table.connectorConnectTimeoutMsMax,
  });
  checkDefaultInRange('connectorKeepAliveIntervalMs', {
    min: table.connectorKeepAliveIntervalMsMin,
    defaultValue: table.connectorKeepAliveIntervalMsDefault,
    max: table.connectorKeepAliveIntervalMsMax,
  });
  checkDefaultInRange('connectorInFlightPerConnection', {
    defaultValue: table.connectorInFlightPerConnectionDefault,
    max: table.connectorInFlightPerConnectionMax,
  });
  checkDefaultInRange('connectorQueue', { defaultValue: table.connectorQueueDefault, max: table.connectorQueueMax });
  assert(
    table.connectorReconnectBackoffMsMin <= table.connectorReconnectBackoffMsMax,
    'connectorReconnectBackoffMsMin exceeds its max',
  );
  // Every setTimeout delay must fit a signed 32-bit integer, or Node fires it at once.
  assert(table.simulatorFaultDelayMsMax < 2 ** 31, 'simulatorFaultDelayMsMax must fit setTimeout');
}

/**
 * The acquirer side of the card network: a bounded pool of TCP connections speaking ISO 8583
 * (docs/card-network.md). Each connection signs on (0800, 70=001) before it carries requests and
 * sends an echo (0800, 70=301) when it has been idle for keepAliveIntervalMs; a missing answer
 * closes it and it is opened again.
 *
 * The outcome of a failed request is explicit, because the gateway decides on it whether to
 * reverse: `card_network_unavailable` (details.outcome 'not_sent') when nothing was written, and
 * `card_network_timeout` (details.outcome 'unknown') when the request was written and no matching
 * answer came back. Messages are only ever logged redacted (no card number).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { AppError, assert } from '../../../platform/errors.js';
import type { Logger } from '../../../platform/logger.js';
import {
  Iso8583FrameReader,
  iso8583ErrorReason,
  isIso8583RequestMti,
  iso8583ResponseMtiFor,
  normalizeIso8583Message,
  packIso8583Frame,
  redactIso8583ForLog,
  unpackIso8583,
  type Iso8583Message,
} from '../iso8583/index.js';
import { limits as platformLimits } from '../../../platform/limits.js';
import { cardNetworkLimits } from './limits.js';
import { iso8583MatchKey, iso8583ResponseMatchKey, transmissionDateTime } from './messages.js';

export interface CardNetworkConnectorOptions {
  host: string;
  port: number;
  /** Connections kept open (default and max: platform limits cardNetworkPoolSizeDefault, …Max). */
  poolSize?: number;
  /** Default wait for a response, queueing included (default and max: limits cardNetworkRequestTimeoutMs*). */
  requestTimeoutMs?: number;
  /** Time to connect and sign on (default 2000). */
  connectTimeoutMs?: number;
  /** Idle time after which a connection sends an echo test (default 30000). */
  keepAliveIntervalMs?: number;
  /** Requests written to one connection and not yet answered (default 32). */
  inFlightPerConnectionMax?: number;
  /** Requests waiting for a connection (default 256); past this, card_network_unavailable. */
  queueMax?: number;
  logger?: Logger;
  now?: () => Date;
}

export interface CardNetworkConnector {
  /**
   * Sends one request; resolves with the response whose MTI answers it and whose STAN (11) and RRN
   * (37, when the request has one) match.
   */
  request(message: Iso8583Message, options?: { timeoutMs?: number }): Promise<Iso8583Message>;
  /** connectionsOpen counts connections signed on and usable. */
  stats(): { connectionsOpen: number; requestsInFlight: number; requestsQueued: number };
  close(): Promise<void>;
}

type ConnectionState = 'connecting' | 'signing_on' | 'ready' | 'closed';

interface Exchange {
  key: string;
  /** A caller's request (counted in requestsInFlight) or the connector's own 0800. */
  caller: CallerRequest | null;
  onResponse: (response: Iso8583Message) => void;
}

interface PoolConnection {
  slot: number;
  socket: net.Socket;
  reader: Iso8583FrameReader;
  state: ConnectionState;
  exchanges: Map<string, Exchange>;
  callerInFlight: number;
  lastActivityMs: number;
  keepAliveTimer: NodeJS.Timeout | null;
  /** Connect + sign-on deadline, or the pending echo's deadline. */
  deadlineTimer: NodeJS.Timeout | null;
  closed: Promise<void>;
}

interface CallerRequest {
  key: string;
  frame: Uint8Array;
  requestMti: string;
  state: 'queued' | 'sent' | 'settled';
  connection: PoolConnection | null;
  timer: NodeJS.Timeout;
  resolve: (response: Iso8583Message) => void;
  reject: (error: AppError) => void;
}

function notSent(reason: string, message: string): AppError {
  return new AppError('card_network_unavailable', { message, details: { outcome: 'not_sent', reason } });
}

function outcomeUnknown(reason: string, message: string): AppError {
  return new AppError('card_network_timeout', { message, details: { outcome: 'unknown', reason } });
}

function bounded(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const result = value ?? fallback;
  assert(Number.isSafeInteger(result) && result >= min && result <= max, `${name} must be ${min} to ${max}`);
  return result;
}

export function createCardNetworkConnector(options: CardNetworkConnectorOptions): CardNetworkConnector {
  const limits = cardNetworkLimits;
  assert(typeof options.host === 'string' && options.host !== '', 'host is required');
  assert(Number.isSafeInteger(options.port) && options.port >= 1 && options.port <= 65_535, 'port must be 1 to 65535');
  const poolSize = bounded(
    'poolSize',
    options.poolSize,
    platformLimits.cardNetworkPoolSizeDefault,
    1,
    platformLimits.cardNetworkPoolSizeMax,
  );
  const requestTimeoutMs = bounded(
    'requestTimeoutMs',
    options.requestTimeoutMs,
    platformLimits.cardNetworkRequestTimeoutMsDefault,
    1,
    platformLimits.cardNetworkRequestTimeoutMsMax,
  );
  const connectTimeoutMs = bounded(
    'connectTimeoutMs',
    options.connectTimeoutMs,
    limits.connectorConnectTimeoutMsDefault,
    1,
    limits.connectorConnectTimeoutMsMax,
  );
  const keepAliveIntervalMs = bounded(
    'keepAliveIntervalMs',
    options.keepAliveIntervalMs,
    limits.connectorKeepAliveIntervalMsDefault,
    limits.connectorKeepAliveIntervalMsMin,
    limits.connectorKeepAliveIntervalMsMax,
  );
  const inFlightPerConnectionMax = bounded(
    'inFlightPerConnectionMax',
    options.inFlightPerConnectionMax,
    limits.connectorInFlightPerConnectionDefault,
    1,
    limits.connectorInFlightPerConnectionMax,
  );
  const queueMax = bounded('queueMax', options.queueMax, limits.connectorQueueDefault, 0, limits.connectorQueueMax);
  const now = options.now ?? (() => new Date());
  const logger = options.logger?.child({ component: 'card_network_connector' });

  const slots: (PoolConnection | null)[] = new Array<PoolConnection | null>(poolSize).fill(null);
  const reconnectTimers: (NodeJS.Timeout | null)[] = new Array<NodeJS.Timeout | null>(poolSize).fill(null);
  const connectFailures: number[] = new Array<number>(poolSize).fill(0);
  const queue: CallerRequest[] = [];
  /** Keys of every caller request queued or in flight (a second one with the same key is refused). */
  const callerKeys = new Set<string>();
  /** Set by the first request: from then on, lost connections are opened again. */
  let wanted = false;
  let closed = false;
  let nextStan = 1 + Math.floor(Math.random() * 999_999);

  function readyConnections(): PoolConnection[] {
    return slots.filter((slot): slot is PoolConnection => slot !== null && slot.state === 'ready');
  }

  function touch(connection: PoolConnection): void {
    connection.lastActivityMs = performance.now();
  }

  function settle(caller: CallerRequest, outcome: { response: Iso8583Message } | { error: AppError }): void {
    if (caller.state === 'settled') return;
    if (caller.state === 'sent' && caller.connection !== null) {
      caller.connection.callerInFlight -= 1;
      assert(caller.connection.callerInFlight >= 0, 'in-flight count never goes negative');
    }
    caller.state = 'settled';
    clearTimeout(caller.timer);
    callerKeys.delete(caller.key);
    if ('response' in outcome) caller.resolve(outcome.response);
    else caller.reject(outcome.error);
  }

  /** Writes queued requests to ready connections with room, least loaded first. */
  function drain(): void {
    while (queue.length > 0) {
      const caller = queue[0]!;
      let best: PoolConnection | null = null;
      for (const connection of readyConnections()) {
        if (connection.callerInFlight >= inFlightPerConnectionMax || connection.exchanges.has(caller.key)) continue;
        if (best === null || connection.callerInFlight < best.callerInFlight) best = connection;
      }
      if (best === null) return;
      queue.shift();
      dispatch(best, caller);
    }
  }

  function dispatch(connection: PoolConnection, caller: CallerRequest): void {
    assert(
      connection.state === 'ready' && caller.state === 'queued',
      'dispatch a queued request to a ready connection',
    );
    caller.state = 'sent';
    caller.connection = connection;
    connection.callerInFlight += 1;
    connection.exchanges.set(caller.key, {
      key: caller.key,
      caller,
      onResponse: (response) => settle(caller, { response }),
    });
    touch(connection);
    connection.socket.write(caller.frame);
  }

  /** A connector-local STAN whose 0810 key is free on this connection. */
  function internalStan(connection: PoolConnection): string {
    for (let attempt = 0; attempt <= connection.exchanges.size; attempt += 1) {
      const stan = String(nextStan).padStart(6, '0');
      nextStan = nextStan >= 999_999 ? 1 : nextStan + 1;
      if (!connection.exchanges.has(iso8583MatchKey('0810', stan, undefined))) return stan;
    }
    throw new Error('assertion failed: no free STAN for a network management message');
  }

  /** Sends the connector's own 0800 (sign-on or echo); onResponse gets its 0810. */
  function sendNetworkManagement(
    connection: PoolConnection,
    code: '001' | '301',
    onResponse: (response: Iso8583Message) => void,
  ): void {
    const stan = internalStan(connection);
    const key = iso8583MatchKey('0810', stan, undefined);
    connection.exchanges.set(key, { key, caller: null, onResponse });
    touch(connection);
    connection.socket.write(
      packIso8583Frame({
        mti: '0800',
        fields: new Map([
          [7, transmissionDateTime(now())],
          [11, stan],
          [70, code],
        ]),
      }),
    );
  }

  function armKeepAlive(connection: PoolConnection, delayMs: number): void {
    if (connection.keepAliveTimer !== null) clearTimeout(connection.keepAliveTimer);
    connection.keepAliveTimer = setTimeout(() => keepAlive(connection), delayMs);
    connection.keepAliveTimer.unref();
  }

  function keepAlive(connection: PoolConnection): void {
    connection.keepAliveTimer = null;
    if (connection.state !== 'ready') return;
    const idleMs = performance.now() - connection.lastActivityMs;
    if (idleMs < keepAliveIntervalMs) {
      armKeepAlive(connection, Math.max(1, Math.ceil(keepAliveIntervalMs - idleMs)));
      return;
    }
    connection.deadlineTimer = setTimeout(() => {
      logger?.warn({ slot: connection.slot }, 'card network echo test unanswered; reconnecting');
      connection.socket.destroy();
    }, requestTimeoutMs);
    sendNetworkManagement(connection, '301', () => {
      if (connection.deadlineTimer !== null) clearTimeout(connection.deadlineTimer);
      connection.deadlineTimer = null;
      armKeepAlive(connection, keepAliveIntervalMs);
    });
  }

  function handleResponse(connection: PoolConnection, response: Iso8583Message): void {
    const exchange = connection.exchanges.get(iso8583ResponseMatchKey(response));
    if (exchange === undefined) {
      logger?.warn(
        { slot: connection.slot, response: redactIso8583ForLog(response) },
        'card network response matches no request (late or unknown); dropped',
      );
      return;
    }
    connection.exchanges.delete(exchange.key);
    exchange.onResponse(response);
    drain();
  }

  function onData(connection: PoolConnection, chunk: Buffer): void {
    touch(connection);
    let bodies: Uint8Array[];
    try {
      bodies = connection.reader.push(chunk);
    } catch (error) {
      logger?.warn({ slot: connection.slot, reason: iso8583ErrorReason(error) }, 'card network frame invalid; closing');
      connection.socket.destroy();
      return;
    }
    for (const body of bodies) {
      if (connection.state === 'closed') return;
      let response: Iso8583Message;
      try {
        response = unpackIso8583(body);
      } catch (error) {
        const reason = iso8583ErrorReason(error);
        if (reason === null) throw error;
        logger?.warn({ slot: connection.slot, reason }, 'card network message invalid; dropped');
        continue;
      }
      handleResponse(connection, response);
    }
  }

  function open(slot: number): void {
    assert(slots[slot] === null && !closed, 'open an empty slot of an open connector');
    reconnectTimers[slot] = null;
    const socket = net.connect({ host: options.host, port: options.port });
    let markClosed!: () => void;
    const connection: PoolConnection = {
      slot,
      socket,
      reader: new Iso8583FrameReader(),
      state: 'connecting',
      exchanges: new Map(),
      callerInFlight: 0,
      lastActivityMs: performance.now(),
      keepAliveTimer: null,
      deadlineTimer: null,
      closed: new Promise<void>((resolve) => {
        markClosed = resolve;
      }),
    };
    slots[slot] = connection;
    connection.deadlineTimer = setTimeout(() => {
      logger?.warn({ slot }, 'card network connect or sign-on timed out');
      socket.destroy();
    }, connectTimeoutMs);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    socket.on('connect', () => {
      connection.state = 'signing_on';
      sendNetworkManagement(connection, '001', (response) => {
        if (response.fields.get(39) !== '00') {
          logger?.warn({ slot, responseCode: response.fields.get(39) }, 'card network sign-on refused');
          socket.destroy();
          return;
        }
        if (connection.deadlineTimer !== null) clearTimeout(connection.deadlineTimer);
        connection.deadlineTimer = null;
        connection.state = 'ready';
        connectFailures[slot] = 0;
        logger?.info({ slot }, 'card network connection signed on');
        armKeepAlive(connection, keepAliveIntervalMs);
      });
    });
    socket.on('data', (chunk: Buffer) => onData(connection, chunk));
    socket.on('error', (error) => logger?.debug({ slot, err: error }, 'card network connection error'));
    socket.on('close', () => {
      lost(connection);
      markClosed();
    });
  }

  function lost(connection: PoolConnection): void {
    const wasReady = connection.state === 'ready';
    connection.state = 'closed';
    if (connection.keepAliveTimer !== null) clearTimeout(connection.keepAliveTimer);
    if (connection.deadlineTimer !== null) clearTimeout(connection.deadlineTimer);
    connection.keepAliveTimer = null;
    connection.deadlineTimer = null;
    if (slots[connection.slot] === connection) slots[connection.slot] = null;
    const exchanges = [...connection.exchanges.values()];
    connection.exchanges.clear();
    for (const exchange of exchanges) {
      if (exchange.caller === null) continue;
      settle(exchange.caller, {
        error: outcomeUnknown(
          closed ? 'connector_closed' : 'connection_lost',
          'The connection to the card network closed after the request was sent; its outcome is unknown.',
        ),
      });
    }
    assert(connection.callerInFlight === 0, 'a closed connection has nothing in flight');
    if (closed) return;
    if (wasReady) {
      logger?.warn({ slot: connection.slot }, 'card network connection lost');
    } else {
      connectFailures[connection.slot] = (connectFailures[connection.slot] ?? 0) + 1;
      // Nothing can carry the queued requests now: fail them fast rather than at their deadline.
      if (readyConnections().length === 0) {
        for (const caller of queue.splice(0)) {
          settle(caller, { error: notSent('connect_failed', 'The card network cannot be reached. Nothing was sent.') });
        }
      }
    }
    if (!wanted) return;
    const failures = connectFailures[connection.slot] ?? 0;
    const backoffMs = Math.min(
      limits.connectorReconnectBackoffMsMax,
      limits.connectorReconnectBackoffMsMin * 2 ** Math.min(failures, 16),
    );
    const timer = setTimeout(() => {
      reconnectTimers[connection.slot] = null;
      if (!closed && slots[connection.slot] === null) open(connection.slot);
    }, backoffMs);
    timer.unref();
    reconnectTimers[connection.slot] = timer;
  }

  /** Opens every empty slot not already waiting out a backoff. */
  function ensureConnections(): void {
    wanted = true;
    for (let slot = 0; slot < poolSize; slot += 1) {
      if (slots[slot] === null && reconnectTimers[slot] === null) open(slot);
    }
  }

  function onTimeout(caller: CallerRequest, timeoutMs: number): void {
    if (caller.state === 'queued') {
      const index = queue.indexOf(caller);
      if (index >= 0) queue.splice(index, 1);
      settle(caller, {
        error: notSent(
          'queue_timeout',
          `No card network connection was available within ${timeoutMs} ms. Nothing was sent.`,
        ),
      });
      return;
    }
    if (caller.state !== 'sent') return;
    caller.connection?.exchanges.delete(caller.key);
    settle(caller, {
      error: outcomeUnknown(
        'response_timeout',
        `The card network did not answer within ${timeoutMs} ms; the outcome is unknown.`,
      ),
    });
    drain();
  }

  return {
    request(message, requestOptions = {}) {
      if (closed)
        return Promise.reject(notSent('connector_closed', 'The card network connector is closed. Nothing was sent.'));
      assert(isIso8583RequestMti(message.mti), 'the connector sends requests (0100, 0200, 0220, 0400, 0800) only');
      const timeoutMs = bounded(
        'timeoutMs',
        requestOptions.timeoutMs,
        requestTimeoutMs,
        1,
        platformLimits.cardNetworkRequestTimeoutMsMax,
      );
      let normalized: Iso8583Message;
      let frame: Uint8Array;
      try {
        normalized = normalizeIso8583Message(message);
        frame = packIso8583Frame(normalized);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      const stan = normalized.fields.get(11);
      assert(stan !== undefined, 'a request carries a STAN (field 11)');
      const key = iso8583MatchKey(iso8583ResponseMtiFor(message.mti), stan, normalized.fields.get(37));
      if (callerKeys.has(key)) {
        return Promise.reject(
          notSent('duplicate_request', 'A request with this MTI, STAN and RRN is already in flight. Nothing was sent.'),
        );
      }
      if (queue.length >= queueMax) {
        // A request could still go straight out if a connection has room and nobody waits ahead of it.
        const room = readyConnections().some((connection) => connection.callerInFlight < inFlightPerConnectionMax);
        if (!(queue.length === 0 && room)) {
          return Promise.reject(notSent('queue_full', 'Too many card network requests are waiting. Nothing was sent.'));
        }
      }
      return new Promise<Iso8583Message>((resolve, reject) => {
        const caller: CallerRequest = {
          key,
          frame,
          requestMti: message.mti,
          state: 'queued',
          connection: null,
          timer: setTimeout(() => onTimeout(caller, timeoutMs), timeoutMs),
          resolve,
          reject,
        };
        callerKeys.add(key);
        queue.push(caller);
        ensureConnections();
        drain();
      });
    },
    stats() {
      let requestsInFlight = 0;
      for (const connection of slots) requestsInFlight += connection?.callerInFlight ?? 0;
      return { connectionsOpen: readyConnections().length, requestsInFlight, requestsQueued: queue.length };
    },
    async close() {
      closed = true;
      for (const [slot, timer] of reconnectTimers.entries()) {
        if (timer !== null) clearTimeout(timer);
        reconnectTimers[slot] = null;
      }
      for (const caller of queue.splice(0)) {
        settle(caller, { error: notSent('connector_closed', 'The card network connector closed. Nothing was sent.') });
      }
      const closing: Promise<void>[] = [];
      for (const connection of slots) {
        if (connection === null) continue;
        closing.push(connection.closed);
        connection.socket.destroy();
      }
      await Promise.all(closing);
    },
  };
}

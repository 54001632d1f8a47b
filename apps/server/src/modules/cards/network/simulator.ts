/**
 * The card network simulator: a TCP server speaking ISO 8583 (docs/card-network.md) that plays the
 * network and every issuer. State changes go to the journal before the answer goes to the socket,
 * so a restarted simulator answers retransmissions and reversals of what it approved before.
 *
 * Tests steer it in-process through `faults` (drop or delay responses, make the issuer unavailable)
 * and `stop()`, which behaves like a crash: listener and sockets closed at once.
 */
import { randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { acquireDirectoryLock, type DirectoryLock } from '../../../platform/dir-lock.js';
import { AppError, assert } from '../../../platform/errors.js';
import type { Logger } from '../../../platform/logger.js';
import { currencyInfo } from '../../../platform/money.js';
import {
  iso8583ErrorReason,
  iso8583FieldSpecsByNumber,
  Iso8583FrameReader,
  isIso8583Charset,
  isIso8583RequestMti,
  packIso8583Frame,
  redactIso8583ForLog,
  unpackIso8583,
  type Iso8583Message,
  type Iso8583RequestMti,
} from '../iso8583/index.js';
import { testCardByNumber } from '../test-cards.js';
import {
  checkClearingDay,
  clearingCsv,
  clearingLinesOf,
  msUntilNextClearing,
  previousUtcDay,
  writeClearingCsv,
} from './clearing.js';
import {
  applyNetworkRecord,
  availableBalanceMinor,
  createNetworkState,
  decideIso8583Request,
  defaultOpeningBalanceMinor,
  iso8583Respond,
  type IssuerCard,
  type NetworkState,
  type NetworkTransactionKind,
} from './issuer.js';
import { cardKeyFunction, loadCardKeySecret, openNetworkJournal, type NetworkJournal } from './journal.js';
import { cardNetworkLimits } from './limits.js';

export interface NetworkSimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks any free port (read it back from `port`). */
  port: number;
  /** Journal, card key secret and clearing files live here; created if missing. */
  dataDir: string;
  logger?: Logger;
  now?: () => Date;
  /** Connections accepted at once (default cardNetworkLimits.simulatorConnectionsDefault). */
  connectionsMax?: number;
  /** Issuer-side starting balance of a card in a currency (default: the test card's, or the default). */
  issuerBalanceMinor?: (card: IssuerCard) => bigint;
  /** Write the previous UTC day's clearing file a minute after each UTC midnight. */
  clearingSchedule?: boolean;
}

/** Which responses a fault applies to: those answering this request MTI, or any when omitted. */
export interface NetworkFaultTarget {
  mti?: Iso8583RequestMti;
  /** How many responses (1 … cardNetworkLimits.simulatorFaultCountMax). */
  count: number;
}

export interface NetworkSimulatorFaults {
  /** Process and journal the next `count` matching requests, but never send their responses. */
  dropResponses(target: NetworkFaultTarget): void;
  /** Process and journal the next `count` matching requests now, send their responses `delayMs` later. */
  delayResponses(target: NetworkFaultTarget & { delayMs: number }): void;
  /** While true, every 0100 and 0200 is answered 91 (and nothing is recorded). */
  issuerUnavailable(unavailable: boolean): void;
  /** Removes every fault. */
  clear(): void;
}

/** A card transaction as tests see it: no card number, only the masked one. */
export interface NetworkTransactionView {
  rrn: string;
  kind: NetworkTransactionKind;
  stan: string;
  maskedPan: string;
  amountMinor: bigint;
  currency: string;
  responseCode: string;
  authCode: string | null;
  terminalId: string;
  merchantId: string;
  receivedAt: string;
  completion: { stan: string; amountMinor: bigint; receivedAt: string } | null;
  reversed: boolean;
}

export interface NetworkSimulator {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly faults: NetworkSimulatorFaults;
  /** Available balance (balance − holds) of a card in a currency (alpha code), in minor units. */
  balanceOf(pan: string, currency: string): bigint;
  /** Every card transaction, in the order first answered. */
  transactions(): NetworkTransactionView[];
  /** Writes `<dataDir>/clearing/<day>.csv` (day `YYYY-MM-DD`, UTC) and returns its path. */
  writeClearingFile(day: string): Promise<string>;
  stats(): { connectionsOpen: number; connectionsAccepted: number };
  /** Crash-like: closes the listener and destroys every socket at once. Resolves when closed. */
  stop(): Promise<void>;
}

interface Connection {
  socket: net.Socket;
  reader: Iso8583FrameReader;
  /** Responses held back by delayResponses. */
  delayed: Set<NodeJS.Timeout>;
}

interface FaultRule {
  mti: Iso8583RequestMti | undefined;
  remaining: number;
  delayMs: number | null;
}

const faultRulesMax = 64;
const authCodeAlphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

function randomAuthCode(): string {
  let code = '';
  for (let index = 0; index < 6; index += 1) code += authCodeAlphabet[randomInt(authCodeAlphabet.length)]!;
  return code;
}

/** Fields a format-error answer may echo (from a message that did not fully parse). */
const echoableFields: ReadonlySet<number> = new Set([3, 4, 7, 11, 37, 41, 42, 49, 70]);

/**
 * The MTI and the leading fields of a body that failed to unpack, read up to the first fault. Enough
 * to answer 30 when the MTI is a request and the STAN was readable; null otherwise.
 */
function readUntilFault(body: Uint8Array): Iso8583Message | null {
  const text = Buffer.from(body.buffer, body.byteOffset, body.length).toString('latin1');
  const mti = text.slice(0, 4);
  if (!isIso8583RequestMti(mti)) return null;
  const hexOk = (start: number): boolean => /^[0-9A-Fa-f]{16}$/.test(text.slice(start, start + 16));
  if (!hexOk(4)) return null;
  const bits: boolean[] = new Array<boolean>(129).fill(false);
  const readBits = (start: number, firstBit: number): void => {
    for (let nibble = 0; nibble < 16; nibble += 1) {
      const digit = Number.parseInt(text[start + nibble]!, 16);
      for (let bit = 0; bit < 4; bit += 1) bits[firstBit + nibble * 4 + bit] = (digit & (8 >> bit)) !== 0;
    }
  };
  readBits(4, 1);
  let offset = 20;
  if (bits[1] === true) {
    if (!hexOk(20)) return null;
    readBits(20, 65);
    offset = 36;
  }
  const fields = new Map<number, string>();
  for (let fieldNumber = 2; fieldNumber <= 128; fieldNumber += 1) {
    if (bits[fieldNumber] !== true) continue;
    const spec = iso8583FieldSpecsByNumber.get(fieldNumber);
    if (spec === undefined) break;
    let length = spec.lengthMax;
    if (spec.lengthKind !== 'fixed') {
      const prefixDigits = spec.lengthKind === 'llvar' ? 2 : 3;
      const digits = text.slice(offset, offset + prefixDigits);
      if (!/^[0-9]+$/.test(digits) || digits.length !== prefixDigits) break;
      length = Number.parseInt(digits, 10);
      if (length > spec.lengthMax) break;
      offset += prefixDigits;
    }
    const value = text.slice(offset, offset + length);
    if (value.length !== length || !isIso8583Charset(spec.format, value)) break;
    if (echoableFields.has(fieldNumber)) fields.set(fieldNumber, value);
    offset += length;
  }
  if (!fields.has(11)) return null;
  return { mti, fields };
}

function checkOptions(options: NetworkSimulatorOptions): { host: string; connectionsMax: number } {
  assert(Number.isSafeInteger(options.port) && options.port >= 0 && options.port <= 65_535, 'port must be 0 to 65535');
  assert(typeof options.dataDir === 'string' && options.dataDir !== '', 'dataDir is required');
  const connectionsMax = options.connectionsMax ?? cardNetworkLimits.simulatorConnectionsDefault;
  assert(
    Number.isSafeInteger(connectionsMax) &&
      connectionsMax >= 1 &&
      connectionsMax <= cardNetworkLimits.simulatorConnectionsMax,
    'connectionsMax must be 1 to cardNetworkLimits.simulatorConnectionsMax',
  );
  return { host: options.host ?? '127.0.0.1', connectionsMax };
}

function checkFaultTarget(target: NetworkFaultTarget): void {
  assert(
    Number.isSafeInteger(target.count) && target.count >= 1 && target.count <= cardNetworkLimits.simulatorFaultCountMax,
    'a fault count must be 1 to cardNetworkLimits.simulatorFaultCountMax',
  );
  assert(target.mti === undefined || isIso8583RequestMti(target.mti), 'a fault MTI must be a request MTI');
}

/** Starts the simulator; resolves once it listens. */
export async function startNetworkSimulator(options: NetworkSimulatorOptions): Promise<NetworkSimulator> {
  const { host, connectionsMax } = checkOptions(options);
  const now = options.now ?? (() => new Date());
  const logger = options.logger?.child({ component: 'card_network_simulator' });
  const openingBalanceOf = options.issuerBalanceMinor ?? defaultOpeningBalanceMinor;
  const dataDir = options.dataDir;

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock: DirectoryLock = acquireDirectoryLock(dataDir);
  let journal: NetworkJournal;
  let cardKeyOf: (pan: string) => string;
  const state: NetworkState = createNetworkState();
  try {
    cardKeyOf = cardKeyFunction(loadCardKeySecret(dataDir));
    const opened = openNetworkJournal(dataDir);
    journal = opened.journal;
    for (const record of opened.records) applyNetworkRecord(state, record);
    logger?.info(
      { records: opened.records.length, transactions: state.transactions.size },
      'card network journal replayed',
    );
  } catch (error) {
    lock.release();
    throw error;
  }

  const connections = new Set<Connection>();
  let connectionsAccepted = 0;
  let stopped = false;
  let issuerUnavailable = false;
  let faultRules: FaultRule[] = [];
  let clearingTimer: NodeJS.Timeout | null = null;

  /** The fault that applies to the response to this request (consuming one of its count), if any. */
  function takeFault(requestMti: string): FaultRule | null {
    const rule = faultRules.find((candidate) => candidate.mti === undefined || candidate.mti === requestMti);
    if (rule === undefined) return null;
    rule.remaining -= 1;
    if (rule.remaining === 0) faultRules = faultRules.filter((candidate) => candidate !== rule);
    return rule;
  }

  function write(connection: Connection, response: Iso8583Message): void {
    const socket = connection.socket;
    if (socket.destroyed) return;
    if (socket.writableLength > cardNetworkLimits.simulatorSocketWriteBufferBytesMax) {
      logger?.warn('card network peer is not reading its responses; closing the connection');
      socket.destroy();
      return;
    }
    socket.write(packIso8583Frame(response));
  }

  function send(connection: Connection, requestMti: string, response: Iso8583Message): void {
    const fault = takeFault(requestMti);
    if (fault === null) {
      write(connection, response);
      return;
    }
    if (fault.delayMs === null) {
      logger?.info({ response: redactIso8583ForLog(response) }, 'card network fault: response dropped');
      return;
    }
    if (connection.delayed.size >= cardNetworkLimits.simulatorResponsesPendingPerConnectionMax) {
      logger?.warn('card network connection has too many delayed responses; closing it');
      connection.socket.destroy();
      return;
    }
    const timer = setTimeout(() => {
      connection.delayed.delete(timer);
      write(connection, response);
    }, fault.delayMs);
    connection.delayed.add(timer);
  }

  function handleBody(connection: Connection, body: Uint8Array): void {
    let request: Iso8583Message;
    try {
      request = unpackIso8583(body);
    } catch (error) {
      const reason = iso8583ErrorReason(error);
      if (reason === null) throw error;
      const partial = readUntilFault(body);
      if (partial === null) {
        logger?.warn({ reason }, 'card network message unreadable; closing the connection');
        connection.socket.destroy();
        return;
      }
      logger?.warn({ reason, mti: partial.mti }, 'card network message malformed; answered 30');
      write(connection, iso8583Respond(partial, '30'));
      return;
    }
    if (!isIso8583RequestMti(request.mti)) {
      logger?.warn({ message: redactIso8583ForLog(request) }, 'card network received a response; dropped');
      return;
    }
    const decision = decideIso8583Request(state, request, {
      now: now(),
      cardKeyOf,
      authCode: randomAuthCode,
      issuerUnavailable,
      openingBalanceOf,
    });
    try {
      journal.append(decision.records);
    } catch (error) {
      // Not on disk, so not answered: the acquirer sees no answer and reverses.
      logger?.error({ err: error }, 'card network journal append failed; closing the connection');
      connection.socket.destroy();
      return;
    }
    for (const record of decision.records) applyNetworkRecord(state, record);
    logger?.debug(
      { request: redactIso8583ForLog(request), response: redactIso8583ForLog(decision.response) },
      'card network answered',
    );
    send(connection, request.mti, decision.response);
  }

  const server = net.createServer((socket) => {
    if (stopped) {
      socket.destroy();
      return;
    }
    connectionsAccepted += 1;
    const connection: Connection = { socket, reader: new Iso8583FrameReader(), delayed: new Set() };
    connections.add(connection);
    socket.setNoDelay(true);
    socket.setTimeout(cardNetworkLimits.simulatorConnectionIdleMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      let bodies: Uint8Array[];
      try {
        bodies = connection.reader.push(chunk);
      } catch (error) {
        logger?.warn({ reason: iso8583ErrorReason(error) }, 'card network frame invalid; closing the connection');
        socket.destroy();
        return;
      }
      for (const body of bodies) {
        if (socket.destroyed) return;
        handleBody(connection, body);
      }
    });
    socket.on('error', (error) => logger?.debug({ err: error }, 'card network connection error'));
    socket.on('close', () => {
      for (const timer of connection.delayed) clearTimeout(timer);
      connection.delayed.clear();
      connections.delete(connection);
    });
  });
  server.maxConnections = connectionsMax;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    journal.close();
    lock.release();
    throw error;
  }
  server.on('error', (error) => logger?.error({ err: error }, 'card network listener error'));
  const address = server.address();
  assert(address !== null && typeof address === 'object', 'a TCP listener has an address');

  function writeClearingFileNow(day: string): string {
    checkClearingDay(day);
    const text = clearingCsv(clearingLinesOf(state.transactions.values(), day));
    const filePath = writeClearingCsv(dataDir, day, text);
    logger?.info({ day, path: filePath }, 'card network clearing file written');
    return filePath;
  }

  function scheduleClearing(): void {
    if (stopped) return;
    clearingTimer = setTimeout(
      () => {
        clearingTimer = null;
        try {
          writeClearingFileNow(previousUtcDay(now()));
        } catch (error) {
          logger?.error({ err: error }, 'card network clearing file failed');
        }
        scheduleClearing();
      },
      msUntilNextClearing(now(), cardNetworkLimits.simulatorClearingDelayAfterMidnightMs),
    );
    clearingTimer.unref();
  }
  if (options.clearingSchedule === true) scheduleClearing();

  logger?.info({ host, port: address.port }, 'card network simulator listening');

  const faults: NetworkSimulatorFaults = {
    dropResponses(target) {
      checkFaultTarget(target);
      assert(faultRules.length < faultRulesMax, 'too many fault rules at once');
      faultRules.push({ mti: target.mti, remaining: target.count, delayMs: null });
    },
    delayResponses(target) {
      checkFaultTarget(target);
      assert(
        Number.isSafeInteger(target.delayMs) &&
          target.delayMs >= 0 &&
          target.delayMs <= cardNetworkLimits.simulatorFaultDelayMsMax,
        'delayMs must be 0 to cardNetworkLimits.simulatorFaultDelayMsMax',
      );
      assert(faultRules.length < faultRulesMax, 'too many fault rules at once');
      faultRules.push({ mti: target.mti, remaining: target.count, delayMs: target.delayMs });
    },
    issuerUnavailable(unavailable) {
      issuerUnavailable = unavailable;
    },
    clear() {
      faultRules = [];
      issuerUnavailable = false;
    },
  };

  let stopping: Promise<void> | null = null;

  return {
    host,
    port: address.port,
    dataDir,
    faults,
    balanceOf(pan, currency) {
      if (currencyInfo(currency) === undefined) {
        throw new AppError('invalid_request', { message: 'Unknown currency.' });
      }
      return availableBalanceMinor(state, cardKeyOf(pan), currency, () =>
        openingBalanceOf({ pan, currency, testCard: testCardByNumber(pan) }),
      );
    },
    transactions() {
      return [...state.transactions.values()].map((transaction) => ({
        rrn: transaction.rrn,
        kind: transaction.kind,
        stan: transaction.stan,
        maskedPan: transaction.maskedPan,
        amountMinor: transaction.amountMinor,
        currency: transaction.currency,
        responseCode: transaction.responseCode,
        authCode: transaction.authCode,
        terminalId: transaction.terminalId,
        merchantId: transaction.merchantId,
        receivedAt: transaction.receivedAt,
        completion:
          transaction.completion === null
            ? null
            : {
                stan: transaction.completion.stan,
                amountMinor: transaction.completion.amountMinor,
                receivedAt: transaction.completion.receivedAt,
              },
        reversed: transaction.reversal !== null,
      }));
    },
    async writeClearingFile(day) {
      return writeClearingFileNow(day);
    },
    stats() {
      return { connectionsOpen: connections.size, connectionsAccepted };
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        stopped = true;
        if (clearingTimer !== null) clearTimeout(clearingTimer);
        clearingTimer = null;
        server.close(() => {
          journal.close();
          lock.release();
          logger?.info('card network simulator stopped');
          resolve();
        });
        for (const connection of connections) {
          for (const timer of connection.delayed) clearTimeout(timer);
          connection.delayed.clear();
          connection.socket.destroy();
        }
      });
      return stopping;
    },
  };
}

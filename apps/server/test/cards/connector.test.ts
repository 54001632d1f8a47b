import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createIso8583Message, type Iso8583Message } from '../../src/modules/cards/iso8583/index.js';
import {
  createCardNetworkConnector,
  startNetworkSimulator,
  transmissionDateTime,
  type CardNetworkConnector,
  type NetworkSimulator,
} from '../../src/modules/cards/network/index.js';
import { AppError } from '../../src/platform/errors.js';
import { createLogger } from '../../src/platform/logger.js';

const tmpDirs: string[] = [];
function tmpDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'yunpay-connector-'));
  tmpDirs.push(dir);
  return dir;
}

/** Log lines of both ends, to check what was sent and that no card number was logged. */
const logLines: string[] = [];
const logger = createLogger({ level: 'debug', destination: { write: (line: string) => logLines.push(line) } });

const visa = '4242424242424242';
let counter = 0;
function sale(amountMinor = 1_000n, pan = visa): Iso8583Message {
  counter += 1;
  return createIso8583Message('0200', {
    2: pan,
    3: '000000',
    4: amountMinor.toString().padStart(12, '0'),
    7: transmissionDateTime(new Date()),
    11: String(500_000 + counter).padStart(6, '0'),
    12: '101010',
    13: '0101',
    14: '4912',
    22: '010',
    32: '999001',
    37: `C${String(counter).padStart(11, '0')}`,
    41: 'YUNPAY01',
    42: 'acct_test_0001 ',
    49: '840',
  });
}

function reversalOf(original: Iso8583Message): Iso8583Message {
  counter += 1;
  const fields = new Map(original.fields);
  fields.delete(22);
  fields.set(11, String(500_000 + counter).padStart(6, '0'));
  fields.set(90, original.mti + original.fields.get(11)! + original.fields.get(7)! + '00000999001' + '00000000000');
  return { mti: '0400', fields };
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const answered = (mti: string, code70?: string): number =>
  logLines.filter((line) => {
    const entry = JSON.parse(line) as { msg?: string; request?: { mti: string; fields: Record<string, string> } };
    return (
      entry.msg === 'card network answered' &&
      entry.request?.mti === mti &&
      (code70 === undefined || entry.request.fields['70'] === code70)
    );
  }).length;

afterAll(() => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
  // Neither end ever logs a card number.
  expect(logLines.join('\n')).not.toContain(visa);
});

describe('card network connector against the simulator', () => {
  let sim: NetworkSimulator;
  let connector: CardNetworkConnector;
  beforeAll(async () => {
    sim = await startNetworkSimulator({ port: 0, dataDir: tmpDir(), logger });
    connector = createCardNetworkConnector({ host: '127.0.0.1', port: sim.port, poolSize: 2, logger });
  });
  afterAll(async () => {
    await connector.close();
    await sim.stop();
  });
  afterEach(() => sim.faults.clear());

  it('signs on each connection, then sends a sale and resolves with its matched answer', async () => {
    const signOnsBefore = answered('0800', '001');
    const request = sale(2_000n);
    const response = await connector.request(request);
    expect(response.mti).toBe('0210');
    expect(response.fields.get(39)).toBe('00');
    expect(response.fields.get(11)).toBe(request.fields.get(11));
    expect(response.fields.get(37)).toBe(request.fields.get(37));
    await eventually(() => connector.stats().connectionsOpen === 2);
    expect(answered('0800', '001') - signOnsBefore).toBe(2);
    expect(sim.stats().connectionsOpen).toBe(2);
    expect(connector.stats()).toEqual({ connectionsOpen: 2, requestsInFlight: 0, requestsQueued: 0 });
  });

  it('carries concurrent requests over the pool, each answered by its own response', async () => {
    sim.faults.delayResponses({ mti: '0200', count: 10, delayMs: 50 });
    const requests = Array.from({ length: 40 }, (_, index) => sale(BigInt(index + 1)));
    const pending = requests.map((request) => connector.request(request));
    const stats = connector.stats();
    expect(stats.requestsInFlight + stats.requestsQueued).toBe(40);
    const responses = await Promise.all(pending);
    for (const [index, response] of responses.entries()) {
      expect(response.fields.get(11)).toBe(requests[index]!.fields.get(11));
      expect(response.fields.get(37)).toBe(requests[index]!.fields.get(37));
      expect(response.fields.get(4)).toBe(requests[index]!.fields.get(4));
      expect(response.fields.get(39)).toBe('00');
    }
    expect(sim.stats().connectionsAccepted).toBe(2);
  });

  it('times out with outcome unknown when the answer is lost; the reversal then undoes the sale', async () => {
    const before = sim.balanceOf(visa, 'USD');
    sim.faults.dropResponses({ mti: '0200', count: 1 });
    const request = sale(3_000n);
    const error = await rejection(connector.request(request, { timeoutMs: 200 }));
    expect(error.code).toBe('card_network_timeout');
    expect(error.details).toMatchObject({ outcome: 'unknown', reason: 'response_timeout' });
    // It did reach the network.
    expect(sim.balanceOf(visa, 'USD')).toBe(before - 3_000n);
    const reversal = await connector.request(reversalOf(request));
    expect(reversal.mti).toBe('0410');
    expect(reversal.fields.get(39)).toBe('00');
    expect(sim.balanceOf(visa, 'USD')).toBe(before);
    expect(connector.stats().requestsInFlight).toBe(0);
  });

  it('drops a late answer that no request waits for, and goes on working', async () => {
    sim.faults.delayResponses({ mti: '0200', count: 1, delayMs: 300 });
    const late = sale();
    const error = await rejection(connector.request(late, { timeoutMs: 100 }));
    expect(error.details).toMatchObject({ outcome: 'unknown' });
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(logLines.some((line) => line.includes('matches no request'))).toBe(true);
    expect((await connector.request(sale())).fields.get(39)).toBe('00');
  });

  it('refuses a second request with the MTI, STAN and RRN of one in flight, without sending it', async () => {
    sim.faults.delayResponses({ mti: '0200', count: 1, delayMs: 100 });
    const request = sale();
    const first = connector.request(request);
    const error = await rejection(connector.request(request));
    expect(error.code).toBe('card_network_unavailable');
    expect(error.details).toMatchObject({ outcome: 'not_sent', reason: 'duplicate_request' });
    expect((await first).fields.get(39)).toBe('00');
  });
});

describe('card network connector: failures and bounds', () => {
  it('fails fast with not_sent when the network cannot be reached', async () => {
    const port = await freePort();
    const connector = createCardNetworkConnector({ host: '127.0.0.1', port, logger });
    try {
      const startedMs = Date.now();
      const error = await rejection(connector.request(sale(), { timeoutMs: 3_000 }));
      expect(error.code).toBe('card_network_unavailable');
      expect(error.status).toBe(503);
      expect(error.details).toMatchObject({ outcome: 'not_sent', reason: 'connect_failed' });
      expect(Date.now() - startedMs).toBeLessThan(1_000);
    } finally {
      await connector.close();
    }
  });

  it('reconnects after the network restarts; requests in flight when it went down are unknown', async () => {
    const dataDir = tmpDir();
    let sim = await startNetworkSimulator({ port: 0, dataDir, logger });
    const port = sim.port;
    const connector = createCardNetworkConnector({ host: '127.0.0.1', port, poolSize: 2, logger });
    try {
      expect((await connector.request(sale())).fields.get(39)).toBe('00');
      sim.faults.dropResponses({ mti: '0200', count: 1 });
      const inFlight = connector.request(sale(), { timeoutMs: 3_000 });
      await eventually(() => connector.stats().requestsInFlight === 1);
      await sim.stop();
      const error = await rejection(inFlight);
      expect(error.code).toBe('card_network_timeout');
      expect(error.details).toMatchObject({ outcome: 'unknown', reason: 'connection_lost' });
      const down = await rejection(connector.request(sale(), { timeoutMs: 3_000 }));
      expect(down.details).toMatchObject({ outcome: 'not_sent' });

      sim = await startNetworkSimulator({ port, dataDir, logger });
      await eventually(() => connector.stats().connectionsOpen === 2);
      expect((await connector.request(sale())).fields.get(39)).toBe('00');
    } finally {
      await connector.close();
      await sim.stop();
    }
  });

  it('sends an echo test when idle, keeping the connection; an unanswered echo reconnects', async () => {
    const sim = await startNetworkSimulator({ port: 0, dataDir: tmpDir(), logger });
    const connector = createCardNetworkConnector({
      host: '127.0.0.1',
      port: sim.port,
      poolSize: 1,
      keepAliveIntervalMs: 40,
      requestTimeoutMs: 150,
      logger,
    });
    try {
      expect((await connector.request(sale())).fields.get(39)).toBe('00');
      const echoesBefore = answered('0800', '301');
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(answered('0800', '301') - echoesBefore).toBeGreaterThanOrEqual(2);
      expect(sim.stats().connectionsAccepted).toBe(1);
      expect(connector.stats().connectionsOpen).toBe(1);

      sim.faults.dropResponses({ mti: '0800', count: 1 });
      await eventually(() => sim.stats().connectionsAccepted === 2);
      await eventually(() => connector.stats().connectionsOpen === 1);
      expect((await connector.request(sale())).fields.get(39)).toBe('00');
    } finally {
      await connector.close();
      await sim.stop();
    }
  });

  it('bounds the queue: past queueMax a request is refused with not_sent', async () => {
    const sim = await startNetworkSimulator({ port: 0, dataDir: tmpDir(), logger });
    const connector = createCardNetworkConnector({
      host: '127.0.0.1',
      port: sim.port,
      poolSize: 1,
      inFlightPerConnectionMax: 1,
      queueMax: 2,
      logger,
    });
    try {
      expect((await connector.request(sale())).fields.get(39)).toBe('00');
      sim.faults.delayResponses({ mti: '0200', count: 3, delayMs: 100 });
      const accepted = [connector.request(sale()), connector.request(sale()), connector.request(sale())];
      expect(connector.stats()).toEqual({ connectionsOpen: 1, requestsInFlight: 1, requestsQueued: 2 });
      const refused = await rejection(connector.request(sale()));
      expect(refused.code).toBe('card_network_unavailable');
      expect(refused.details).toMatchObject({ outcome: 'not_sent', reason: 'queue_full' });
      for (const response of await Promise.all(accepted)) expect(response.fields.get(39)).toBe('00');
    } finally {
      await connector.close();
      await sim.stop();
    }
  });

  it('a request that waits in the queue past its timeout was not sent', async () => {
    const sim = await startNetworkSimulator({ port: 0, dataDir: tmpDir(), logger });
    const connector = createCardNetworkConnector({
      host: '127.0.0.1',
      port: sim.port,
      poolSize: 1,
      inFlightPerConnectionMax: 1,
      logger,
    });
    try {
      expect((await connector.request(sale())).fields.get(39)).toBe('00');
      sim.faults.delayResponses({ mti: '0200', count: 1, delayMs: 300 });
      const slow = connector.request(sale());
      const waiting = await rejection(connector.request(sale(), { timeoutMs: 100 }));
      expect(waiting.details).toMatchObject({ outcome: 'not_sent', reason: 'queue_timeout' });
      expect((await slow).fields.get(39)).toBe('00');
    } finally {
      await connector.close();
      await sim.stop();
    }
  });

  it('close() rejects what is pending (unknown if written, not_sent if queued) and refuses new requests', async () => {
    const sim = await startNetworkSimulator({ port: 0, dataDir: tmpDir(), logger });
    const connector = createCardNetworkConnector({
      host: '127.0.0.1',
      port: sim.port,
      poolSize: 1,
      inFlightPerConnectionMax: 1,
      logger,
    });
    try {
      expect((await connector.request(sale())).fields.get(39)).toBe('00');
      sim.faults.dropResponses({ mti: '0200', count: 1 });
      const written = rejection(connector.request(sale()));
      const queued = rejection(connector.request(sale()));
      await eventually(() => connector.stats().requestsInFlight === 1);
      expect(connector.stats().requestsQueued).toBe(1);
      await connector.close();
      expect((await written).details).toMatchObject({ outcome: 'unknown', reason: 'connector_closed' });
      expect((await queued).details).toMatchObject({ outcome: 'not_sent', reason: 'connector_closed' });
      expect((await rejection(connector.request(sale()))).details).toMatchObject({ outcome: 'not_sent' });
      expect(connector.stats()).toEqual({ connectionsOpen: 0, requestsInFlight: 0, requestsQueued: 0 });
    } finally {
      await sim.stop();
    }
  });

  it('rejects a message the codec cannot pack before anything is sent', async () => {
    const sim = await startNetworkSimulator({ port: 0, dataDir: tmpDir(), logger });
    const connector = createCardNetworkConnector({ host: '127.0.0.1', port: sim.port, logger });
    try {
      const bad = sale();
      bad.fields.set(4, 'not digits');
      expect((await rejection(connector.request(bad))).code).toBe('iso8583_invalid');
      expect(connector.stats().connectionsOpen).toBe(0);
    } finally {
      await connector.close();
      await sim.stop();
    }
  });
});

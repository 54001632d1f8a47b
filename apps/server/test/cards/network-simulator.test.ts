import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createIso8583Message,
  frameIso8583,
  Iso8583FrameReader,
  packIso8583,
  packIso8583Frame,
  unpackIso8583,
  type Iso8583Message,
} from '../../src/modules/cards/iso8583/index.js';
import {
  clearingColumns,
  startNetworkSimulator,
  type NetworkSimulator,
} from '../../src/modules/cards/network/index.js';
import { transmissionDateTime } from '../../src/modules/cards/network/messages.js';
import { testIssuerBalanceDefaultMinor } from '../../src/modules/cards/test-cards.js';
import { luhnValid } from '../../src/modules/cards/vault/index.js';

const tmpDirs: string[] = [];
function tmpDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'yunpay-netsim-'));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

/** A raw TCP client: sends bytes, reads answers in order, notices when the server closes. */
class RawClient {
  private readonly reader = new Iso8583FrameReader();
  private readonly received: Iso8583Message[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const body of this.reader.push(chunk)) this.received.push(unpackIso8583(body));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  writeBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  async send(message: Iso8583Message, timeoutMs = 2_000): Promise<Iso8583Message> {
    this.socket.write(packIso8583Frame(message));
    return this.next(timeoutMs);
  }

  async next(timeoutMs = 2_000): Promise<Iso8583Message> {
    await this.until(() => this.received.length > 0 || this.closed, timeoutMs, 'a response');
    const message = this.received.shift();
    if (message === undefined) throw new Error('connection closed before a response');
    return message;
  }

  async waitClosed(timeoutMs = 2_000): Promise<void> {
    await this.until(() => this.closed, timeoutMs, 'the connection to close');
  }

  pending(): number {
    return this.received.length;
  }

  close(): void {
    this.socket.destroy();
  }
}

let counter = 0;
function nextIds(): { stan: string; rrn: string } {
  counter += 1;
  return { stan: String(counter).padStart(6, '0'), rrn: `T${String(counter).padStart(11, '0')}` };
}

interface RequestInput {
  pan?: string;
  amountMinor?: bigint;
  currency?: string;
  expiry?: string;
  entryMode?: string;
  stan?: string;
  rrn?: string;
  processingCode?: string;
}

const visa = '4242424242424242';
const mastercard = '5555555555554444';

function financial(mti: '0100' | '0200' | '0220' | '0400', input: RequestInput = {}): Iso8583Message {
  const ids = nextIds();
  const now = new Date();
  return createIso8583Message(mti, {
    2: input.pan ?? visa,
    3: input.processingCode ?? '000000',
    4: (input.amountMinor ?? 1_000n).toString().padStart(12, '0'),
    7: transmissionDateTime(now),
    11: input.stan ?? ids.stan,
    12: '101010',
    13: '0101',
    14: input.expiry ?? '4912',
    22: input.entryMode ?? '010',
    32: '999001',
    37: input.rrn ?? ids.rrn,
    41: 'YUNPAY01',
    42: 'acct_test_0001 ',
    49: input.currency ?? '840',
  });
}

/** An 0400 or 0220 for an original request (same RRN and amount, new STAN, field 90). */
function followUp(mti: '0220' | '0400', original: Iso8583Message, input: RequestInput = {}): Iso8583Message {
  const message = financial(mti, {
    pan: original.fields.get(2),
    amountMinor: input.amountMinor ?? BigInt(original.fields.get(4)!),
    currency: original.fields.get(49),
    rrn: original.fields.get(37),
    processingCode: original.fields.get(3),
    stan: input.stan,
  });
  message.fields.delete(22);
  message.fields.set(
    90,
    original.mti + original.fields.get(11)! + original.fields.get(7)! + '00000999001' + '00000000000',
  );
  return message;
}

function echo(code = '301'): Iso8583Message {
  return createIso8583Message('0800', { 7: transmissionDateTime(new Date()), 11: nextIds().stan, 70: code });
}

const code = (response: Iso8583Message): string | undefined => response.fields.get(39);

/** Every maximal run of 13–19 digits that passes the Luhn check (what a leaked PAN looks like). */
function luhnValidDigitRuns(text: string): string[] {
  return [...text.matchAll(/[0-9]+/g)]
    .map((match) => match[0])
    .filter((run) => run.length >= 13 && run.length <= 19 && luhnValid(run));
}

describe('card network simulator: the contract', () => {
  let sim: NetworkSimulator;
  let client: RawClient;
  beforeAll(async () => {
    sim = await startNetworkSimulator({ port: 0, dataDir: tmpDir() });
    client = await RawClient.connect(sim.port);
  });
  afterAll(async () => {
    client.close();
    await sim.stop();
  });
  afterEach(() => sim.faults.clear());

  it('approves a sale with an auth code, echoes the request fields and debits the card', async () => {
    const before = sim.balanceOf(mastercard, 'USD');
    expect(before).toBe(testIssuerBalanceDefaultMinor);
    const request = financial('0200', { pan: mastercard, amountMinor: 12_345n });
    const response = await client.send(request);
    expect(response.mti).toBe('0210');
    expect(code(response)).toBe('00');
    expect(response.fields.get(38)).toMatch(/^[A-Z0-9]{6}$/);
    for (const field of [3, 4, 7, 11, 37, 41, 42, 49])
      expect(response.fields.get(field)).toBe(request.fields.get(field));
    expect(response.fields.has(2)).toBe(false);
    expect(sim.balanceOf(mastercard, 'USD')).toBe(before - 12_345n);
    expect(sim.balanceOf(mastercard, 'EUR')).toBe(testIssuerBalanceDefaultMinor);
  });

  it.each([
    { name: 'do not honor', pan: '4000000000000002', expected: '05' },
    { name: 'insufficient funds', pan: '4000000000009995', expected: '51' },
    { name: 'expired (issuer)', pan: '4000000000000069', expected: '54' },
    { name: 'lost', pan: '4000000000009987', expected: '41' },
    { name: 'stolen', pan: '4000000000009979', expected: '43' },
    { name: 'CVV2', pan: '4000000000000127', expected: 'N7' },
    { name: 'processing error', pan: '4000000000000119', expected: '96' },
    { name: 'velocity', pan: '4000000000006975', expected: '61' },
    { name: 'authentication required', pan: '4000002500003155', expected: '65' },
    { name: 'authenticated', pan: '4000002500003155', entryMode: '812', expected: '00' },
    { name: 'invalid card number (Luhn)', pan: '4242424242424241', expected: '14' },
    { name: 'invalid card number (length)', pan: '42424242', expected: '14' },
    { name: 'expired (field 14)', pan: visa, expiry: '2001', expected: '54' },
    { name: 'zero amount', pan: visa, amountMinor: 0n, expected: '13' },
    { name: 'unknown valid card', pan: '4111111111111111', expected: '00' },
  ])('sale: $name → $expected', async ({ pan, expected, entryMode, expiry, amountMinor }) => {
    const before = sim.balanceOf(pan, 'USD');
    const response = await client.send(financial('0200', { pan, entryMode, expiry, amountMinor: amountMinor ?? 500n }));
    expect(response.mti).toBe('0210');
    expect(code(response)).toBe(expected);
    expect(response.fields.has(38)).toBe(expected === '00');
    expect(sim.balanceOf(pan, 'USD')).toBe(expected === '00' ? before - 500n : before);
  });

  it('answers 30 to an unknown currency and 12 to an unknown processing code, recording nothing', async () => {
    const count = sim.transactions().length;
    expect(code(await client.send(financial('0200', { currency: '999' })))).toBe('30');
    expect(code(await client.send(financial('0200', { processingCode: '010000' })))).toBe('12');
    expect(sim.transactions().length).toBe(count);
  });

  it('holds, completes part and releases the rest; a second completion is 12', async () => {
    const pan = '5200828282828210';
    const start = sim.balanceOf(pan, 'EUR');
    const hold = financial('0100', { pan, amountMinor: 10_000n, currency: '978' });
    const held = await client.send(hold);
    expect(held.mti).toBe('0110');
    expect(code(held)).toBe('00');
    expect(held.fields.get(38)).toMatch(/^[A-Z0-9]{6}$/);
    expect(sim.balanceOf(pan, 'EUR')).toBe(start - 10_000n);

    const completion = followUp('0220', hold, { amountMinor: 6_000n });
    completion.fields.set(38, held.fields.get(38)!);
    const completed = await client.send(completion);
    expect(completed.mti).toBe('0230');
    expect(code(completed)).toBe('00');
    expect(sim.balanceOf(pan, 'EUR')).toBe(start - 6_000n);

    expect(code(await client.send(followUp('0220', hold, { amountMinor: 1_000n })))).toBe('12');
    expect(sim.balanceOf(pan, 'EUR')).toBe(start - 6_000n);

    // Reversing the RRN now credits back what was completed.
    expect(code(await client.send(followUp('0400', hold)))).toBe('00');
    expect(sim.balanceOf(pan, 'EUR')).toBe(start);
    const view = sim.transactions().find((transaction) => transaction.rrn === hold.fields.get(37));
    expect(view).toMatchObject({ kind: 'hold', reversed: true, completion: { amountMinor: 6_000n } });
  });

  it('refuses a completion above the hold (13), of an unknown RRN (25) and of a reversed hold (12)', async () => {
    const pan = '5105105105105100';
    const hold = financial('0100', { pan, amountMinor: 5_000n });
    expect(code(await client.send(hold))).toBe('00');
    expect(code(await client.send(followUp('0220', hold, { amountMinor: 5_001n })))).toBe('13');
    expect(code(await client.send(followUp('0220', hold, { amountMinor: 0n })))).toBe('13');
    expect(code(await client.send(followUp('0220', financial('0100', { pan }))))).toBe('25');
    const start = sim.balanceOf(pan, 'USD');
    expect(code(await client.send(followUp('0400', hold)))).toBe('00');
    expect(sim.balanceOf(pan, 'USD')).toBe(start + 5_000n);
    expect(code(await client.send(followUp('0220', hold, { amountMinor: 100n })))).toBe('12');
  });

  it('a hold reduces what a sale may spend (51 beyond the available balance)', async () => {
    const small = await startNetworkSimulator({ port: 0, dataDir: tmpDir(), issuerBalanceMinor: () => 1_000n });
    const smallClient = await RawClient.connect(small.port);
    try {
      expect(code(await smallClient.send(financial('0100', { amountMinor: 700n })))).toBe('00');
      expect(code(await smallClient.send(financial('0200', { amountMinor: 400n })))).toBe('51');
      expect(code(await smallClient.send(financial('0200', { amountMinor: 300n })))).toBe('00');
      expect(small.balanceOf(visa, 'USD')).toBe(0n);
    } finally {
      smallClient.close();
      await small.stop();
    }
  });

  it('reverses a sale once: the balance comes back, a second 0400 answers 00 and changes nothing', async () => {
    const pan = '6011111111111117';
    const start = sim.balanceOf(pan, 'USD');
    const sale = financial('0200', { pan, amountMinor: 2_500n });
    expect(code(await client.send(sale))).toBe('00');
    expect(sim.balanceOf(pan, 'USD')).toBe(start - 2_500n);
    const reversal = await client.send(followUp('0400', sale));
    expect(reversal.mti).toBe('0410');
    expect(code(reversal)).toBe('00');
    expect(sim.balanceOf(pan, 'USD')).toBe(start);
    expect(code(await client.send(followUp('0400', sale)))).toBe('00');
    expect(sim.balanceOf(pan, 'USD')).toBe(start);
  });

  it('a reversal before its original answers 25 and the late original is declined 12', async () => {
    const sale = financial('0200', { amountMinor: 900n });
    const start = sim.balanceOf(visa, 'USD');
    expect(code(await client.send(followUp('0400', sale)))).toBe('25');
    expect(code(await client.send(followUp('0400', sale)))).toBe('25');
    const late = await client.send(sale);
    expect(code(late)).toBe('12');
    expect(late.fields.has(38)).toBe(false);
    expect(sim.balanceOf(visa, 'USD')).toBe(start);
    // A reversal of a declined original has nothing to reverse either.
    expect(code(await client.send(followUp('0400', sale)))).toBe('25');
  });

  it('answers a retransmission with the same answer and debits once; a reused RRN is 94', async () => {
    const pan = '3566002020360505';
    const start = sim.balanceOf(pan, 'USD');
    const sale = financial('0200', { pan, amountMinor: 777n });
    const first = await client.send(sale);
    const again = await client.send(sale);
    expect(code(first)).toBe('00');
    expect(again.fields.get(38)).toBe(first.fields.get(38));
    expect(code(again)).toBe('00');
    expect(sim.balanceOf(pan, 'USD')).toBe(start - 777n);
    const reused = await client.send(financial('0200', { pan, amountMinor: 777n, rrn: sale.fields.get(37) }));
    expect(code(reused)).toBe('94');
    expect(sim.balanceOf(pan, 'USD')).toBe(start - 777n);
    // The same RRN and STAN with other contents is another request (an acquirer whose counters
    // started over), not a retransmission: 94, and the earlier answer is not replayed.
    const impostor = financial('0200', {
      pan,
      amountMinor: 999n,
      rrn: sale.fields.get(37),
      stan: sale.fields.get(11),
    });
    expect(code(await client.send(impostor))).toBe('94');
    expect(sim.balanceOf(pan, 'USD')).toBe(start - 777n);
    // A declined request repeated gets its decline again.
    const declined = financial('0200', { pan: '4000000000000002' });
    expect(code(await client.send(declined))).toBe('05');
    expect(code(await client.send(declined))).toBe('05');
  });

  it('credits a refund, even to a card whose payments are declined, and a reversal takes it back', async () => {
    const pan = '4000000000000002';
    const start = sim.balanceOf(pan, 'USD');
    const refund = financial('0200', { pan, amountMinor: 1_500n, processingCode: '200000' });
    const response = await client.send(refund);
    expect(code(response)).toBe('00');
    expect(response.fields.get(3)).toBe('200000');
    expect(sim.balanceOf(pan, 'USD')).toBe(start + 1_500n);
    expect(code(await client.send(followUp('0400', refund)))).toBe('00');
    expect(sim.balanceOf(pan, 'USD')).toBe(start);
  });

  it('answers network management 0800 with 0810 echoing 7, 11 and 70', async () => {
    for (const management of ['001', '301', '002']) {
      const request = echo(management);
      const response = await client.send(request);
      expect(response.mti).toBe('0810');
      expect(code(response)).toBe('00');
      for (const field of [7, 11, 70]) expect(response.fields.get(field)).toBe(request.fields.get(field));
    }
    expect(code(await client.send(echo('999')))).toBe('30');
  });

  it('answers 91 while the issuer is unavailable and records nothing, then approves the repeat', async () => {
    sim.faults.issuerUnavailable(true);
    const sale = financial('0200', { amountMinor: 321n });
    expect(code(await client.send(sale))).toBe('91');
    expect(sim.transactions().some((transaction) => transaction.rrn === sale.fields.get(37))).toBe(false);
    sim.faults.issuerUnavailable(false);
    expect(code(await client.send(sale))).toBe('00');
  });

  it('drops and delays responses on demand, after recording the request', async () => {
    const start = sim.balanceOf(visa, 'USD');
    sim.faults.dropResponses({ mti: '0200', count: 1 });
    const dropped = financial('0200', { amountMinor: 111n });
    client.writeBytes(packIso8583Frame(dropped));
    // The echo behind it is answered; the sale's answer never comes.
    const afterDrop = await client.send(echo());
    expect(afterDrop.mti).toBe('0810');
    expect(client.pending()).toBe(0);
    expect(sim.balanceOf(visa, 'USD')).toBe(start - 111n);
    // The retransmission gets the recorded answer.
    expect(code(await client.send(dropped))).toBe('00');

    sim.faults.delayResponses({ mti: '0200', count: 1, delayMs: 200 });
    const delayed = financial('0200', { amountMinor: 222n });
    const startedMs = Date.now();
    client.writeBytes(packIso8583Frame(delayed));
    const echoed = await client.send(echo());
    expect(echoed.mti).toBe('0810');
    expect(sim.balanceOf(visa, 'USD')).toBe(start - 333n);
    const late = await client.next();
    expect(late.fields.get(37)).toBe(delayed.fields.get(37));
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(150);
  });
});

describe('card network simulator: malformed input', () => {
  let sim: NetworkSimulator;
  beforeAll(async () => {
    sim = await startNetworkSimulator({ port: 0, dataDir: tmpDir(), connectionsMax: 8 });
  });
  afterAll(async () => {
    await sim.stop();
  });

  const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
  const validBody = (): string => Buffer.from(packIso8583(financial('0200'))).toString('latin1');

  it.each([
    { name: 'zero length', bytes: () => new Uint8Array([0, 0]) },
    { name: 'oversize length', bytes: () => new Uint8Array([0xff, 0xff, 0x30, 0x32]) },
    { name: 'garbage bytes', bytes: () => frameIso8583(ascii('hello, world')) },
    { name: 'binary garbage', bytes: () => frameIso8583(new Uint8Array([0x00, 0x01, 0xfe, 0x80, 0x7f, 0x10])) },
    { name: 'bad bitmap', bytes: () => frameIso8583(ascii('0200ZZZZ000000000000' + validBody().slice(20))) },
    { name: 'unsupported MTI', bytes: () => frameIso8583(ascii('0300' + validBody().slice(4))) },
    {
      // Field 2 is cut short, so the STAN cannot be read: nothing to answer to.
      name: 'field truncated before the STAN',
      bytes: () => frameIso8583(ascii(validBody().slice(0, 20) + '16424242')),
    },
  ])('$name: closes that connection; the simulator goes on serving', async ({ bytes }) => {
    const bad = await RawClient.connect(sim.port);
    const good = await RawClient.connect(sim.port);
    bad.writeBytes(bytes());
    await bad.waitClosed();
    expect(bad.pending()).toBe(0);
    expect(code(await good.send(echo()))).toBe('00');
    const fresh = await RawClient.connect(sim.port);
    expect(code(await fresh.send(financial('0200')))).toBe('00');
    good.close();
    fresh.close();
  });

  it('answers 30 to a message whose STAN was readable before the fault, and keeps the connection', async () => {
    const client = await RawClient.connect(sim.port);
    const request = financial('0200');
    const body = validBody();
    // Everything up to and including field 37's first characters of a valid body, with our STAN.
    const packed = Buffer.from(packIso8583(request)).toString('latin1');
    const truncated = packed.slice(0, packed.indexOf(request.fields.get(37)!) + 4);
    client.writeBytes(frameIso8583(ascii(truncated)));
    const response = await client.next();
    expect(response.mti).toBe('0210');
    expect(code(response)).toBe('30');
    expect(response.fields.get(11)).toBe(request.fields.get(11));
    expect(body.length).toBeGreaterThan(truncated.length);
    expect(code(await client.send(financial('0200')))).toBe('00');
    client.close();
  });

  it('drops a response sent to it and answers the next request', async () => {
    const client = await RawClient.connect(sim.port);
    client.writeBytes(
      packIso8583Frame(createIso8583Message('0810', { 7: '0101000000', 11: '000001', 39: '00', 70: '301' })),
    );
    expect(code(await client.send(echo()))).toBe('00');
    client.close();
  });

  it('handles frames split across chunks and many frames in one chunk', async () => {
    const client = await RawClient.connect(sim.port);
    const frames = [echo(), echo(), echo()].map((message) => packIso8583Frame(message));
    const all = Buffer.concat(frames);
    client.writeBytes(all.subarray(0, 1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.writeBytes(all.subarray(1));
    for (let index = 0; index < 3; index += 1) expect((await client.next()).mti).toBe('0810');
    client.close();
  });
});

describe('card network simulator: journal, restart and clearing', () => {
  it('survives a restart: balances, retransmissions and reversals of earlier approvals', async () => {
    const dataDir = tmpDir();
    const first = await startNetworkSimulator({ port: 0, dataDir });
    const client = await RawClient.connect(first.port);
    const sale = financial('0200', { pan: visa, amountMinor: 4_000n });
    const other = financial('0200', { pan: visa, amountMinor: 1_000n });
    const hold = financial('0100', { pan: mastercard, amountMinor: 3_000n, currency: '826' });
    const approved = await client.send(sale);
    expect(code(approved)).toBe('00');
    expect(code(await client.send(other))).toBe('00');
    expect(code(await client.send(hold))).toBe('00');
    const tombstoned = financial('0200');
    expect(code(await client.send(followUp('0400', tombstoned)))).toBe('25');
    const visaBalance = first.balanceOf(visa, 'USD');
    const mastercardBalance = first.balanceOf(mastercard, 'GBP');
    expect(visaBalance).toBe(testIssuerBalanceDefaultMinor - 5_000n);
    await first.stop();
    await client.waitClosed();
    expect(statSync(path.join(dataDir, 'card-key')).mode & 0o777).toBe(0o600);
    // A crash in the middle of an append leaves a line without its newline: it was never answered.
    const journalPath = path.join(dataDir, 'journal.jsonl');
    const journalBytes = statSync(journalPath).size;
    appendFileSync(journalPath, '{"v":1,"type":"answered","requestMti":"02');

    const second = await startNetworkSimulator({ port: 0, dataDir });
    const again = await RawClient.connect(second.port);
    try {
      expect(statSync(journalPath).size).toBe(journalBytes);
      expect(second.balanceOf(visa, 'USD')).toBe(visaBalance);
      expect(second.balanceOf(mastercard, 'GBP')).toBe(mastercardBalance);
      const retransmitted = await again.send(sale);
      expect(code(retransmitted)).toBe('00');
      expect(retransmitted.fields.get(38)).toBe(approved.fields.get(38));
      expect(second.balanceOf(visa, 'USD')).toBe(visaBalance);
      expect(code(await again.send(followUp('0400', sale)))).toBe('00');
      expect(second.balanceOf(visa, 'USD')).toBe(visaBalance + 4_000n);
      expect(code(await again.send(followUp('0400', hold)))).toBe('00');
      expect(second.balanceOf(mastercard, 'GBP')).toBe(testIssuerBalanceDefaultMinor);
      expect(code(await again.send(tombstoned))).toBe('12');
      expect(second.transactions().map((transaction) => transaction.rrn)).toEqual([
        sale.fields.get(37),
        other.fields.get(37),
        hold.fields.get(37),
        tombstoned.fields.get(37),
      ]);
    } finally {
      again.close();
      await second.stop();
    }
  });

  it('refuses to start on a journal with a corrupt line in the middle', async () => {
    const dataDir = tmpDir();
    writeFileSync(path.join(dataDir, 'journal.jsonl'), 'not json\n{"v":1,"type":"account_opened"}\n');
    await expect(startNetworkSimulator({ port: 0, dataDir })).rejects.toMatchObject({ code: 'internal_error' });
    // The failed start released the directory.
    writeFileSync(path.join(dataDir, 'journal.jsonl'), '');
    const sim = await startNetworkSimulator({ port: 0, dataDir });
    await sim.stop();
  });

  it('refuses to open a data directory another simulator of this process holds', async () => {
    const dataDir = tmpDir();
    const sim = await startNetworkSimulator({ port: 0, dataDir });
    try {
      await expect(startNetworkSimulator({ port: 0, dataDir })).rejects.toMatchObject({ code: 'data_dir_locked' });
    } finally {
      await sim.stop();
    }
  });

  it('writes the clearing file of a UTC day: approved, unreversed sales, refunds and completions, PANs masked', async () => {
    const dataDir = tmpDir();
    let clock = new Date('2031-05-14T10:00:00.000Z');
    const sim = await startNetworkSimulator({ port: 0, dataDir, now: () => clock });
    const client = await RawClient.connect(sim.port);
    const pans = [visa, mastercard, '378282246310005', '4000000000000002'];
    try {
      const sale = financial('0200', { pan: visa, amountMinor: 1_100n });
      const reversedSale = financial('0200', { pan: visa, amountMinor: 2_200n });
      const declined = financial('0200', { pan: '4000000000000002', amountMinor: 3_300n });
      const refund = financial('0200', { pan: '378282246310005', amountMinor: 4_400n, processingCode: '200000' });
      const hold = financial('0100', { pan: mastercard, amountMinor: 5_500n, currency: '978' });
      const saleResponse = await client.send(sale);
      expect(code(saleResponse)).toBe('00');
      expect(code(await client.send(reversedSale))).toBe('00');
      expect(code(await client.send(followUp('0400', reversedSale)))).toBe('00');
      expect(code(await client.send(declined))).toBe('05');
      expect(code(await client.send(refund))).toBe('00');
      const holdResponse = await client.send(hold);
      expect(code(holdResponse)).toBe('00');
      const completion = followUp('0220', hold, { amountMinor: 5_000n });
      expect(code(await client.send(completion))).toBe('00');
      clock = new Date('2031-05-15T00:00:30.000Z');
      expect(code(await client.send(financial('0200', { pan: visa, amountMinor: 6_600n })))).toBe('00');

      const filePath = await sim.writeClearingFile('2031-05-14');
      expect(filePath).toBe(path.join(dataDir, 'clearing', '2031-05-14.csv'));
      const lines = readFileSync(filePath, 'utf8').trimEnd().split('\n');
      expect(lines[0]).toBe(clearingColumns.join(','));
      const rows = lines
        .slice(1)
        .map((line) => Object.fromEntries(line.split(',').map((v, i) => [clearingColumns[i], v])));
      expect(rows).toHaveLength(3);
      expect(rows[0]).toEqual({
        record_type: 'sale',
        rrn: sale.fields.get(37),
        stan: sale.fields.get(11),
        auth_code: saleResponse.fields.get(38),
        transmitted_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/),
        masked_pan: '424242******4242',
        amount_minor: '1100',
        currency: 'USD',
        merchant_id: 'acct_test_0001',
        terminal_id: 'YUNPAY01',
        response_code: '00',
      });
      expect(rows[1]).toMatchObject({ record_type: 'refund', masked_pan: '378282*****0005', amount_minor: '4400' });
      expect(rows[2]).toMatchObject({
        record_type: 'completion',
        rrn: hold.fields.get(37),
        stan: completion.fields.get(11),
        auth_code: holdResponse.fields.get(38),
        amount_minor: '5000',
        currency: 'EUR',
      });
      const nextDay = readFileSync(await sim.writeClearingFile('2031-05-15'), 'utf8')
        .trimEnd()
        .split('\n');
      expect(nextDay).toHaveLength(2);
      await expect(sim.writeClearingFile('2031-02-30')).rejects.toMatchObject({ code: 'invalid_request' });

      // No file the simulator writes holds a card number.
      const journal = readFileSync(path.join(dataDir, 'journal.jsonl'), 'utf8');
      const clearing = readFileSync(filePath, 'utf8');
      for (const text of [journal, clearing]) {
        expect(luhnValidDigitRuns(text)).toEqual([]);
        for (const pan of pans) expect(text).not.toContain(pan);
      }
    } finally {
      client.close();
      await sim.stop();
    }
  });

  it('keeps balance = start − approved, unreversed sales over any sequence of sales, reversals and repeats', async () => {
    const startMinor = 50_000n;
    const sim = await startNetworkSimulator({ port: 0, dataDir: tmpDir(), issuerBalanceMinor: () => startMinor });
    const client = await RawClient.connect(sim.port);
    let cardNumber = 400_000_000;
    /** A fresh Luhn-valid 16-digit visa number per run, so every run starts from startMinor. */
    const freshPan = (): string => {
      cardNumber += 1;
      const body = `411111${String(cardNumber).padStart(9, '0')}`;
      for (let check = 0; check <= 9; check += 1) if (luhnValid(body + check)) return body + check;
      throw new Error('no check digit');
    };
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('sale' as const), amountMinor: fc.bigInt({ min: 1n, max: 20_000n }) }),
      fc.record({ kind: fc.constant('reverse' as const), index: fc.nat({ max: 20 }) }),
      fc.record({ kind: fc.constant('repeat' as const), index: fc.nat({ max: 20 }) }),
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 14 }), async (operations) => {
          const pan = freshPan();
          const sales: { request: Iso8583Message; approved: boolean; reversed: boolean }[] = [];
          let expectedMinor = startMinor;
          for (const op of operations) {
            if (op.kind === 'sale') {
              const request = financial('0200', { pan, amountMinor: op.amountMinor });
              const response = await client.send(request);
              const approved = op.amountMinor <= expectedMinor;
              expect(code(response)).toBe(approved ? '00' : '51');
              if (approved) expectedMinor -= op.amountMinor;
              sales.push({ request, approved, reversed: false });
            } else if (sales.length > 0) {
              const sale = sales[op.index % sales.length]!;
              if (op.kind === 'repeat') {
                expect(code(await client.send(sale.request))).toBe(sale.approved ? '00' : '51');
              } else {
                const response = await client.send(followUp('0400', sale.request));
                expect(code(response)).toBe(sale.approved ? '00' : '25');
                if (sale.approved && !sale.reversed) expectedMinor += BigInt(sale.request.fields.get(4)!);
                sale.reversed = sale.approved;
              }
            }
            expect(sim.balanceOf(pan, 'USD')).toBe(expectedMinor);
          }
          const unreversed = sales
            .filter((sale) => sale.approved && !sale.reversed)
            .reduce((sum, sale) => sum + BigInt(sale.request.fields.get(4)!), 0n);
          expect(sim.balanceOf(pan, 'USD')).toBe(startMinor - unreversed);
        }),
        { numRuns: 25 },
      );
    } finally {
      client.close();
      await sim.stop();
    }
  });
});

describe('card network simulator: clearing schedule', () => {
  it('writes the previous UTC day a minute after midnight, and again the next day', async () => {
    const dataDir = tmpDir();
    let clock = new Date('2031-05-14T23:59:00.000Z');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const sim = await startNetworkSimulator({ port: 0, dataDir, now: () => clock, clearingSchedule: true });
      try {
        const firstWaitMs = 60_000 + 60_000;
        clock = new Date(clock.getTime() + firstWaitMs);
        await vi.advanceTimersByTimeAsync(firstWaitMs);
        expect(readFileSync(path.join(dataDir, 'clearing', '2031-05-14.csv'), 'utf8')).toBe(
          clearingColumns.join(',') + '\n',
        );
        const dayMs = 24 * 60 * 60 * 1_000;
        clock = new Date(clock.getTime() + dayMs);
        await vi.advanceTimersByTimeAsync(dayMs);
        expect(statSync(path.join(dataDir, 'clearing', '2031-05-15.csv')).isFile()).toBe(true);
      } finally {
        await sim.stop();
      }
    } finally {
      vi.useRealTimers();
    }
  });
});

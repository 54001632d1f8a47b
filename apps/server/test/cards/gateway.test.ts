import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cardGatewayMigrations,
  createCardGateway,
  echoedFields,
  parseOriginalDataElements,
  type CardGateway,
  type CardGatewayDeps,
  type CardNetworkTransport,
} from '../../src/modules/cards/gateway/index.js';
import type { Iso8583Message } from '../../src/modules/cards/iso8583/index.js';
import { packIso8583, unpackIso8583 } from '../../src/modules/cards/iso8583/index.js';
import { testCardByNumber } from '../../src/modules/cards/test-cards.js';
import {
  cardVaultMigrations,
  createVault,
  parseVaultKeys,
  vaultKeys,
  type CardVault,
} from '../../src/modules/cards/vault/index.js';
import { AppError } from '../../src/platform/errors.js';
import { openTestDb, type TestDb } from '../support/db.js';

/**
 * What the fake network does with the next request of one MTI:
 * answer; timeout_after (processes it, the answer is lost); timeout_before (lost on the way: never
 * processed); unavailable (refused before writing); garble_amount (answers with another amount);
 * hang (processes it and never answers: the calling process "dies").
 */
type Behaviour = 'answer' | 'timeout_after' | 'timeout_before' | 'unavailable' | 'garble_amount' | 'hang';

interface IssuedTransaction {
  mti: string;
  amountMinor: bigint;
  completedMinor: bigint | null;
}

/** An in-memory network that plays every issuer, following docs/card-network.md. */
class FakeNetwork implements CardNetworkTransport {
  /** Every request the gateway tried to send, in order (whatever happened to it). */
  readonly sent: Iso8583Message[] = [];
  /** Approved originals by RRN. */
  readonly approved = new Map<string, IssuedTransaction>();
  readonly reversed = new Set<string>();
  private readonly answers = new Map<string, Iso8583Message>();
  private readonly plans = new Map<string, Behaviour[]>();
  private authCodeCount = 0;

  plan(mti: string, ...behaviours: Behaviour[]): void {
    this.plans.set(mti, [...(this.plans.get(mti) ?? []), ...behaviours]);
  }

  sentOf(mti: string, rrn?: string): Iso8583Message[] {
    return this.sent.filter((message) => message.mti === mti && (rrn === undefined || message.fields.get(37) === rrn));
  }

  async request(message: Iso8583Message, options?: { timeoutMs?: number }): Promise<Iso8583Message> {
    expect(options?.timeoutMs).toBeGreaterThan(0);
    // What goes on the wire must pack; the copy is what the network reads.
    const received = unpackIso8583(packIso8583(message));
    this.sent.push(received);
    const behaviour = this.plans.get(message.mti)?.shift() ?? 'answer';
    if (behaviour === 'unavailable') {
      throw new AppError('card_network_unavailable', { details: { outcome: 'not_sent' } });
    }
    if (behaviour === 'timeout_before') throw new AppError('card_network_timeout', { details: { outcome: 'unknown' } });
    const response = this.process(received);
    if (behaviour === 'hang') return new Promise<Iso8583Message>(() => {});
    if (behaviour === 'timeout_after') throw new AppError('card_network_timeout', { details: { outcome: 'unknown' } });
    const copy = { mti: response.mti, fields: new Map(response.fields) };
    if (behaviour === 'garble_amount') copy.fields.set(4, '000000000001');
    return copy;
  }

  private process(request: Iso8583Message): Iso8583Message {
    const rrn = request.fields.get(37)!;
    const key = `${request.mti}|${rrn}|${request.fields.get(11)}`;
    const repeated = this.answers.get(key);
    if (repeated !== undefined) return repeated; // a retransmission: same answer, nothing changes
    const response = this.decide(request, rrn);
    this.answers.set(key, response);
    return response;
  }

  private decide(request: Iso8583Message, rrn: string): Iso8583Message {
    const amountMinor = BigInt(request.fields.get(4)!);
    switch (request.mti) {
      case '0100':
      case '0200': {
        if (this.reversed.has(rrn)) return this.respond(request, '12');
        const refund = request.fields.get(3) === '200000';
        const card = testCardByNumber(request.fields.get(2)!);
        if (!refund && card !== undefined) {
          if (card.issuer.kind === 'decline') return this.respond(request, card.issuer.responseCode);
          if (card.issuer.kind === 'authenticate' && request.fields.get(22) !== '812')
            return this.respond(request, '65');
          if (card.issuerBalanceMinor < amountMinor) return this.respond(request, '51');
        }
        this.approved.set(rrn, { mti: request.mti, amountMinor, completedMinor: null });
        this.authCodeCount += 1;
        return this.respond(request, '00', `A${String(this.authCodeCount).padStart(5, '0')}`);
      }
      case '0220': {
        const original = this.approved.get(rrn);
        if (original === undefined || original.mti !== '0100') return this.respond(request, '25');
        if (this.reversed.has(rrn) || original.completedMinor !== null) return this.respond(request, '12');
        if (amountMinor === 0n || amountMinor > original.amountMinor) return this.respond(request, '13');
        original.completedMinor = amountMinor;
        return this.respond(request, '00');
      }
      case '0400': {
        const known = this.approved.has(rrn);
        this.reversed.add(rrn);
        return this.respond(request, known ? '00' : '25');
      }
      default:
        throw new Error(`unexpected MTI ${request.mti}`);
    }
  }

  private respond(request: Iso8583Message, responseCode: string, authCode?: string): Iso8583Message {
    const fields = new Map<number, string>();
    for (const fieldNumber of echoedFields) {
      const value = request.fields.get(fieldNumber);
      if (value !== undefined) fields.set(fieldNumber, value);
    }
    if (authCode !== undefined) fields.set(38, authCode);
    fields.set(39, responseCode);
    return { mti: String(Number(request.mti) + 10).padStart(4, '0'), fields };
  }
}

const vaultNowMs = Date.UTC(2026, 0, 15);
let clockMs = Date.UTC(2026, 0, 15, 12);
const requestTimeoutMs = 1_000;

let testDb: TestDb;
let vault: CardVault;
const cardIds = new Map<string, string>();
let referenceCount = 0;

function reference(prefix: string): string {
  referenceCount += 1;
  return `${prefix}_${Date.now().toString(36)}${referenceCount}`;
}

function gatewayWith(network: CardNetworkTransport, options: Partial<CardGatewayDeps> = {}): CardGateway {
  return createCardGateway({
    db: testDb.db,
    vault,
    transport: network,
    requestTimeoutMs,
    reversalAttemptsMax: 3,
    completionAttemptsMax: 2,
    retryBackoffMs: 1,
    now: () => clockMs,
    ...options,
  });
}

async function cardId(pan: string): Promise<string> {
  let id = cardIds.get(pan);
  if (id === undefined) {
    id = (await vault.store({ pan, expMonth: 12, expYear: 2030 })).id;
    cardIds.set(pan, id);
  }
  return id;
}

async function sale(gateway: CardGateway, pan: string, amountMinor = 1_000n, authenticated = false) {
  return gateway.authorize({
    reference: reference('ch'),
    cardId: await cardId(pan),
    amountMinor,
    currency: 'USD',
    merchantAccountId: 'acct_test',
    capture: 'automatic',
    authenticated,
  });
}

async function rowOf(transactionId: string): Promise<Record<string, unknown>> {
  const rows = await testDb.db.query('select * from cards_network_transactions where id = $1', [transactionId]);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

beforeAll(async () => {
  testDb = await openTestDb({ migrations: [...cardVaultMigrations, ...cardGatewayMigrations] });
  const keys = vaultKeys(
    parseVaultKeys(`k1:${randomBytes(32).toString('base64')}`, 'k1'),
    parseVaultKeys(`f1:${randomBytes(32).toString('base64')}`, 'f1'),
  );
  vault = createVault({ db: testDb.db, keys, now: () => vaultNowMs });
});

afterAll(async () => {
  await testDb?.dispose();
});

describe('authorize', () => {
  it('approves a sale and records it without the card number', async () => {
    const network = new FakeNetwork();
    const gateway = gatewayWith(network);
    const outcome = await sale(gateway, '4242424242424242', 2_500n);
    expect(outcome).toMatchObject({ status: 'approved', authCode: expect.stringMatching(/^A[0-9]{5}$/) });
    if (outcome.status !== 'approved') throw new Error('unreachable');
    expect(outcome.rrn).toMatch(/^[0-9]{12}$/);
    expect(outcome.transactionId).toMatch(/^ntx_[0-9A-Za-z]{22}$/);
    const [request] = network.sentOf('0200');
    expect(network.sent).toHaveLength(1);
    expect(request!.fields.get(3)).toBe('000000');
    expect(request!.fields.get(4)).toBe('000000002500');
    expect(request!.fields.get(22)).toBe('010');
    expect(request!.fields.get(37)).toBe(outcome.rrn);
    const row = await rowOf(outcome.transactionId);
    expect(row).toMatchObject({ kind: 'sale', status: 'approved', outcome: 'approved', amount: 2_500n, attempts: 1 });
    expect(
      JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)),
    ).not.toContain('4242424242424242');
    const looked = await gateway.transaction(row.reference as string, 'sale');
    expect(looked).toMatchObject({
      status: 'approved',
      rrn: outcome.rrn,
      authCode: outcome.authCode,
      responseCode: '00',
    });
    expect(
      JSON.stringify(looked, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)),
    ).not.toContain('4242424242424242');
  });

  it('gives every transaction its own RRN and every message its own STAN', async () => {
    const network = new FakeNetwork();
    const gateway = gatewayWith(network);
    await Promise.all(Array.from({ length: 8 }, () => sale(gateway, '5555555555554444')));
    const rrns = new Set(network.sent.map((message) => message.fields.get(37)));
    const stans = new Set(network.sent.map((message) => message.fields.get(11)));
    expect(rrns.size).toBe(8);
    expect(stans.size).toBe(8);
  });

  it.each([
    ['4000000000000002', '05', 'card_declined', 'generic_decline'],
    ['4000000000009995', '51', 'card_declined', 'insufficient_funds'],
    ['4000000000009987', '41', 'card_declined', 'lost_card'],
    ['4000000000000069', '54', 'expired_card', 'expired_card'],
    ['4000000000000127', 'N7', 'incorrect_cvc', 'incorrect_cvc'],
    ['4000000000000119', '96', 'processing_error', 'processing_error'],
    ['4000000000006975', '61', 'card_declined', 'card_velocity_exceeded'],
    ['4000002500003155', '65', 'authentication_required', 'authentication_required'],
  ])('declines %s with %s → %s / %s', async (pan, responseCode, code, declineCode) => {
    const network = new FakeNetwork();
    const gateway = gatewayWith(network);
    const outcome = await sale(gateway, pan);
    expect(outcome).toMatchObject({ status: 'declined', responseCode, decline: { code, declineCode } });
    const row = await rowOf(outcome.transactionId);
    expect(row).toMatchObject({ status: 'declined', response_code: responseCode, decline_code: declineCode });
    expect(network.sentOf('0400')).toHaveLength(0);
  });

  it('sends 812 when the cardholder was authenticated, and the issuer approves', async () => {
    const network = new FakeNetwork();
    const outcome = await sale(gatewayWith(network), '4000002500003155', 1_000n, true);
    expect(outcome.status).toBe('approved');
    expect(network.sent[0]!.fields.get(22)).toBe('812');
  });

  it('reverses after a timeout and answers failed; the card is not charged', async () => {
    const network = new FakeNetwork();
    network.plan('0200', 'timeout_after');
    const outcome = await sale(gatewayWith(network), '4242424242424242');
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: 'timeout',
      decline: { code: 'processing_error', declineCode: 'issuer_not_available' },
    });
    const [original] = network.sentOf('0200');
    const rrn = original!.fields.get(37)!;
    const reversals = network.sentOf('0400', rrn);
    expect(reversals).toHaveLength(1);
    const reversal = reversals[0]!;
    expect(reversal.fields.get(11)).not.toBe(original!.fields.get(11));
    expect(reversal.fields.get(4)).toBe(original!.fields.get(4));
    expect(reversal.fields.get(3)).toBe('000000');
    expect(parseOriginalDataElements(reversal.fields.get(90)!)).toEqual({
      mti: '0200',
      stan: original!.fields.get(11),
      transmissionDateTime: original!.fields.get(7),
      acquirerId: '999001',
    });
    expect(network.reversed.has(rrn)).toBe(true);
    expect(await rowOf(outcome.transactionId)).toMatchObject({
      status: 'reversed',
      outcome: 'failed',
      failure_reason: 'timeout',
      reversal_response_code: '00',
      reversal_attempts: 1,
      next_attempt_at: null,
    });
  });

  it('takes 25 to a reversal as reversed (the original never reached the network)', async () => {
    const network = new FakeNetwork();
    network.plan('0200', 'timeout_before');
    const outcome = await sale(gatewayWith(network), '4242424242424242');
    expect(outcome).toMatchObject({ status: 'failed', reason: 'timeout' });
    expect(await rowOf(outcome.transactionId)).toMatchObject({ status: 'reversed', reversal_response_code: '25' });
  });

  it('leaves an unconfirmed reversal to the sweep, which completes it; the outcome stays failed', async () => {
    const network = new FakeNetwork();
    network.plan('0200', 'timeout_after');
    network.plan('0400', 'unavailable', 'timeout_before', 'garble_amount');
    const gateway = gatewayWith(network);
    const outcome = await sale(gateway, '4242424242424242');
    expect(outcome).toMatchObject({ status: 'failed', reason: 'timeout' });
    const row = await rowOf(outcome.transactionId);
    expect(row).toMatchObject({ status: 'reversal_pending', reversal_attempts: 3 });
    expect((row.next_attempt_at as Date).getTime()).toBeGreaterThan(clockMs);
    const stans = network.sentOf('0400').map((message) => message.fields.get(11));
    expect(new Set(stans).size).toBe(3);

    // Not due yet: the sweep leaves it.
    expect(await gateway.sweep({ batchSizeMax: 10 })).toMatchObject({ claimedCount: 0 });
    clockMs += 600_000;
    expect(await gateway.sweep({ batchSizeMax: 10 })).toMatchObject({ claimedCount: 1, reversedCount: 1 });
    expect(await rowOf(outcome.transactionId)).toMatchObject({ status: 'reversed', outcome: 'failed' });
    expect(network.reversed.has(row.rrn as string)).toBe(true);
    // The caller asking again gets the same outcome, and nothing is sent.
    const sentCount = network.sent.length;
    const again = await gateway.authorize({
      reference: row.reference as string,
      cardId: row.card_id as string,
      amountMinor: row.amount as bigint,
      currency: 'USD',
      merchantAccountId: 'acct_test',
      capture: 'automatic',
    });
    expect(again).toEqual(outcome);
    expect(network.sent.length).toBe(sentCount);
  });

  it('fails without a reversal when nothing was sent', async () => {
    const network = new FakeNetwork();
    network.plan('0200', 'unavailable');
    const outcome = await sale(gatewayWith(network), '4242424242424242');
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: 'network_unavailable',
      decline: { code: 'processing_error', declineCode: 'issuer_not_available' },
    });
    expect(network.sentOf('0400')).toHaveLength(0);
    expect(await rowOf(outcome.transactionId)).toMatchObject({ status: 'failed', next_attempt_at: null });
  });

  it('reverses an answer whose amount does not match the request', async () => {
    const network = new FakeNetwork();
    network.plan('0200', 'garble_amount');
    const outcome = await sale(gatewayWith(network), '4242424242424242');
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: 'response_invalid',
      decline: { code: 'processing_error', declineCode: 'processing_error' },
    });
    const rrn = network.sentOf('0200')[0]!.fields.get(37)!;
    expect(network.sentOf('0400', rrn)).toHaveLength(1);
    expect(network.reversed.has(rrn)).toBe(true);
    expect(await rowOf(outcome.transactionId)).toMatchObject({ status: 'reversed' });
  });

  it('sends once per reference, even for concurrent requests, and refuses a reused reference', async () => {
    const network = new FakeNetwork();
    const gateway = gatewayWith(network);
    const input = {
      reference: reference('ch'),
      cardId: await cardId('4242424242424242'),
      amountMinor: 4_200n,
      currency: 'USD',
      merchantAccountId: 'acct_test',
      capture: 'automatic' as const,
    };
    const outcomes = await Promise.all([gateway.authorize(input), gateway.authorize(input), gateway.authorize(input)]);
    expect(outcomes[0].status).toBe('approved');
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[2]).toEqual(outcomes[0]);
    expect(await gateway.authorize(input)).toEqual(outcomes[0]);
    expect(network.sentOf('0200')).toHaveLength(1);
    expect(await errorCode(gateway.authorize({ ...input, amountMinor: 4_201n }))).toBe('conflict');
    expect(network.sentOf('0200')).toHaveLength(1);
  });

  it('validates its input before anything is recorded', async () => {
    const gateway = gatewayWith(new FakeNetwork());
    const input = {
      reference: reference('ch'),
      cardId: await cardId('4242424242424242'),
      amountMinor: 100n,
      currency: 'USD',
      merchantAccountId: 'acct_test',
      capture: 'automatic' as const,
    };
    expect(await errorCode(gateway.authorize({ ...input, amountMinor: 0n }))).toBe('invalid_request');
    expect(await errorCode(gateway.authorize({ ...input, amountMinor: 10n ** 12n }))).toBe('invalid_request');
    expect(await errorCode(gateway.authorize({ ...input, currency: 'XXX' }))).toBe('currency_unsupported');
    expect(await errorCode(gateway.authorize({ ...input, reference: 'has space' }))).toBe('invalid_request');
    expect(await errorCode(gateway.authorize({ ...input, cardId: 'card_missing' }))).toBe('invalid_request');
    expect(await errorCode(gateway.authorize({ ...input, cardId: `card_${'A'.repeat(22)}` }))).toBe('not_found');
    expect(await gateway.transaction(input.reference, 'sale')).toBeNull();
  });
});

describe('manual capture and void', () => {
  async function authorization(gateway: CardGateway, amountMinor: bigint) {
    const authorizationReference = reference('ch');
    const outcome = await gateway.authorize({
      reference: authorizationReference,
      cardId: await cardId('4242424242424242'),
      amountMinor,
      currency: 'EUR',
      merchantAccountId: 'acct_manual',
      capture: 'manual',
    });
    if (outcome.status !== 'approved') throw new Error(`authorization ${outcome.status}`);
    return { authorizationReference, outcome };
  }

  it('captures part of an authorization with one 0220 on its RRN', async () => {
    const network = new FakeNetwork();
    const gateway = gatewayWith(network);
    const { authorizationReference, outcome } = await authorization(gateway, 10_000n);
    const [authorizationRequest] = network.sentOf('0100');
    const captureReference = reference('cap');
    const captured = await gateway.capture({
      reference: captureReference,
      authorizationReference,
      amountMinor: 6_000n,
    });
    expect(captured).toMatchObject({
      status: 'approved',
      pending: false,
      rrn: outcome.rrn,
      authCode: outcome.authCode,
    });
    const [completion] = network.sentOf('0220');
    expect(completion!.fields.get(37)).toBe(outcome.rrn);
    expect(completion!.fields.get(38)).toBe(outcome.authCode);
    expect(completion!.fields.get(4)).toBe('000000006000');
    expect(completion!.fields.get(49)).toBe('978');
    expect(parseOriginalDataElements(completion!.fields.get(90)!)).toMatchObject({
      mti: '0100',
      stan: authorizationRequest!.fields.get(11),
      transmissionDateTime: authorizationRequest!.fields.get(7),
    });
    expect(network.approved.get(outcome.rrn)?.completedMinor).toBe(6_000n);

    // Idempotent; a second capture of the same authorization is refused; so is a void.
    expect(await gateway.capture({ reference: captureReference, authorizationReference, amountMinor: 6_000n })).toEqual(
      captured,
    );
    expect(network.sentOf('0220')).toHaveLength(1);
    expect(
      await errorCode(gateway.capture({ reference: reference('cap'), authorizationReference, amountMinor: 1_000n })),
    ).toBe('conflict');
    expect(await errorCode(gateway.void({ authorizationReference }))).toBe('conflict');
    expect(await gateway.transaction(captureReference, 'completion')).toMatchObject({
      status: 'approved',
      amountMinor: 6_000n,
      rrn: outcome.rrn,
    });
  });

  it('refuses to capture more than was authorized, or an authorization it does not know', async () => {
    const gateway = gatewayWith(new FakeNetwork());
    const { authorizationReference } = await authorization(gateway, 1_000n);
    expect(
      await errorCode(gateway.capture({ reference: reference('cap'), authorizationReference, amountMinor: 1_001n })),
    ).toBe('amount_too_large');
    expect(
      await errorCode(
        gateway.capture({ reference: reference('cap'), authorizationReference: 'ch_none', amountMinor: 1n }),
      ),
    ).toBe('not_found');
  });

  it('repeats an unacknowledged advice with the same STAN, RRN and time, then the sweep delivers it', async () => {
    const network = new FakeNetwork();
    const gateway = gatewayWith(network);
    const { authorizationReference, outcome } = await authorization(gateway, 5_000n);
    network.plan('0220', 'timeout_after', 'unavailable', 'timeout_before');
    const captureReference = reference('cap');
    const captured = await gateway.capture({
      reference: captureReference,
      authorizationReference,
      amountMinor: 5_000n,
    });
    expect(captured).toMatchObject({ status: 'approved', pending: true, rrn: outcome.rrn });
    expect(network.sentOf('0220')).toHaveLength(2);
    expect(await gateway.transaction(captureReference, 'completion')).toMatchObject({ status: 'sending', attempts: 2 });

    clockMs += 600_000;
    // The first sweep's send is lost too; the next one gets through.
    expect(await gateway.sweep({ batchSizeMax: 10 })).toMatchObject({ claimedCount: 1, completionPendingCount: 1 });
    clockMs += 600_000;
    expect(await gateway.sweep({ batchSizeMax: 10 })).toMatchObject({ claimedCount: 1, completionApprovedCount: 1 });
    const sent = network.sentOf('0220');
    expect(sent).toHaveLength(4);
    for (const message of sent) {
      for (const fieldNumber of [7, 11, 37]) {
        expect(message.fields.get(fieldNumber)).toBe(sent[0]!.fields.get(fieldNumber));
      }
    }
    expect(network.approved.get(outcome.rrn)?.completedMinor).toBe(5_000n);
    expect(await gateway.transaction(captureReference, 'completion')).toMatchObject({ status: 'approved' });
    expect(await gateway.capture({ reference: captureReference, authorizationReference, amountMinor: 5_000n })).toEqual(
      {
        ...captured,
        pending: false,
      },
    );
  });

  it('answers declined when the network refuses the completion', async () => {
    const network = new FakeNetwork();
    const gateway = gatewayWith(network);
    const { authorizationReference, outcome } = await authorization(gateway, 5_000n);
    network.reversed.add(outcome.rrn); // the issuer released the hold on its own
    const captured = await gateway.capture({
      reference: reference('cap'),
      authorizationReference,
      amountMinor: 5_000n,
    });
    expect(captured).toMatchObject({
      status: 'declined',
      responseCode: '12',
      decline: { code: 'card_declined', declineCode: 'transaction_not_allowed' },
    });
  });

  it('voids an authorization with an 0400 on its RRN, once', async () => {
    const network = new FakeNetwork();
    const gateway = gatewayWith(network);
    const { authorizationReference, outcome } = await authorization(gateway, 3_000n);
    expect(await gateway.void({ authorizationReference })).toEqual({
      transactionId: outcome.transactionId,
      status: 'reversed',
    });
    const reversals = network.sentOf('0400', outcome.rrn);
    expect(reversals).toHaveLength(1);
    expect(reversals[0]!.fields.get(4)).toBe('000000003000');
    expect(parseOriginalDataElements(reversals[0]!.fields.get(90)!)?.mti).toBe('0100');
    expect(network.reversed.has(outcome.rrn)).toBe(true);
    expect(await gateway.void({ authorizationReference })).toMatchObject({ status: 'reversed' });
    expect(network.sentOf('0400', outcome.rrn)).toHaveLength(1);
    expect(
      await errorCode(gateway.capture({ reference: reference('cap'), authorizationReference, amountMinor: 1n })),
    ).toBe('conflict');
  });
});

describe('refund', () => {
  it('sends an 0200 with processing code 200000 and its own RRN', async () => {
    const network = new FakeNetwork();
    const gateway = gatewayWith(network);
    const charged = await sale(gateway, '4242424242424242', 7_000n);
    if (charged.status !== 'approved') throw new Error('unreachable');
    const refundReference = reference('re');
    const refunded = await gateway.refund({
      reference: refundReference,
      cardId: await cardId('4242424242424242'),
      amountMinor: 2_000n,
      currency: 'USD',
      merchantAccountId: 'acct_test',
    });
    expect(refunded.status).toBe('approved');
    if (refunded.status !== 'approved') throw new Error('unreachable');
    expect(refunded.rrn).not.toBe(charged.rrn);
    const request = network.sentOf('0200', refunded.rrn)[0]!;
    expect(request.fields.get(3)).toBe('200000');
    expect(request.fields.get(4)).toBe('000000002000');
    expect(await gateway.transaction(refundReference, 'refund')).toMatchObject({ status: 'approved', kind: 'refund' });
  });

  it('reverses a refund that timed out, with processing code 200000', async () => {
    const network = new FakeNetwork();
    network.plan('0200', 'timeout_after');
    const gateway = gatewayWith(network);
    const outcome = await gateway.refund({
      reference: reference('re'),
      cardId: await cardId('4242424242424242'),
      amountMinor: 500n,
      currency: 'USD',
      merchantAccountId: 'acct_test',
    });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'timeout' });
    const [reversal] = network.sentOf('0400');
    expect(reversal!.fields.get(3)).toBe('200000');
    expect(await rowOf(outcome.transactionId)).toMatchObject({ status: 'reversed', kind: 'refund' });
  });
});

describe('sweep', () => {
  it('reverses a transaction left in sending by a process that died mid-call', async () => {
    const network = new FakeNetwork();
    network.plan('0200', 'hang');
    const dying = gatewayWith(network);
    const chargeReference = reference('ch');
    const input = {
      reference: chargeReference,
      cardId: await cardId('4242424242424242'),
      amountMinor: 9_900n,
      currency: 'USD',
      merchantAccountId: 'acct_test',
      capture: 'automatic' as const,
    };
    void dying.authorize(input); // never settles: this "process" is gone
    for (let poll = 0; poll < 200 && network.sentOf('0200').length === 0; poll += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const rrn = network.sentOf('0200')[0]!.fields.get(37)!;
    expect(network.approved.has(rrn)).toBe(true); // the network charged it
    const survivor = gatewayWith(network);

    // Within its lease the row is left alone.
    expect(await survivor.sweep({ batchSizeMax: 10 })).toMatchObject({ claimedCount: 0 });
    expect(await survivor.transaction(chargeReference, 'sale')).toMatchObject({ status: 'sending' });
    clockMs += 2 * requestTimeoutMs + 1;
    expect(await survivor.sweep({ batchSizeMax: 10 })).toMatchObject({
      claimedCount: 1,
      abandonedCount: 1,
      reversedCount: 1,
    });
    expect(network.reversed.has(rrn)).toBe(true);
    expect(await survivor.transaction(chargeReference, 'sale')).toMatchObject({
      status: 'reversed',
      outcome: 'failed',
      failureReason: 'timeout',
    });
    const sentCount = network.sent.length;
    expect(await survivor.authorize(input)).toMatchObject({ status: 'failed', reason: 'timeout' });
    expect(network.sent.length).toBe(sentCount);
  });

  it('lets a second request for an abandoned reference take it over', async () => {
    const network = new FakeNetwork();
    network.plan('0100', 'hang');
    const input = {
      reference: reference('ch'),
      cardId: await cardId('4242424242424242'),
      amountMinor: 100n,
      currency: 'USD',
      merchantAccountId: 'acct_test',
      capture: 'manual' as const,
    };
    void gatewayWith(network).authorize(input);
    for (let poll = 0; poll < 200 && network.sentOf('0100').length === 0; poll += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    clockMs += 2 * requestTimeoutMs + 1;
    const outcome = await gatewayWith(network).authorize(input);
    expect(outcome).toMatchObject({ status: 'failed', reason: 'timeout' });
    expect(network.sentOf('0100')).toHaveLength(1);
    expect(network.sentOf('0400')).toHaveLength(1);
    expect(await rowOf(outcome.transactionId)).toMatchObject({ status: 'reversed' });
  });

  it('takes at most batchSizeMax rows and refuses a batch over the limit', async () => {
    const network = new FakeNetwork();
    network.plan('0200', 'timeout_after', 'timeout_after', 'timeout_after');
    network.plan('0400', ...Array<'unavailable'>(9).fill('unavailable'));
    const gateway = gatewayWith(network);
    for (let index = 0; index < 3; index += 1) await sale(gateway, '4242424242424242');
    clockMs += 600_000;
    expect(await gateway.sweep({ batchSizeMax: 2 })).toMatchObject({ claimedCount: 2, reversedCount: 2 });
    expect(await gateway.sweep({ batchSizeMax: 2 })).toMatchObject({ claimedCount: 1, reversedCount: 1 });
    await expect(gateway.sweep({ batchSizeMax: 101 })).rejects.toThrow(/batchSizeMax/);
  });
});

describe('resolveOriginal (recovery of a payment whose process died)', () => {
  it('closes a reference never sent: a late sender with it sends nothing and fails', async () => {
    const network = new FakeNetwork();
    const gateway = gatewayWith(network);
    const chargeReference = reference('ch');
    expect(await gateway.resolveOriginal(chargeReference, 'sale')).toMatchObject({
      status: 'failed',
      reason: 'abandoned',
      decline: { code: 'processing_error' },
    });
    // The request that was about to send it (a retry, a slow process) finds it closed.
    const late = await gateway.authorize({
      reference: chargeReference,
      cardId: await cardId('4242424242424242'),
      amountMinor: 1_000n,
      currency: 'USD',
      merchantAccountId: 'acct_test',
      capture: 'automatic',
    });
    expect(late).toMatchObject({ status: 'failed', reason: 'abandoned' });
    expect(network.sent).toEqual([]);
    // Closing again answers the same.
    expect(await gateway.resolveOriginal(chargeReference, 'sale')).toMatchObject({ reason: 'abandoned' });
  });

  it('answers the recorded outcome of a reference that was sent, and never closes it', async () => {
    const network = new FakeNetwork();
    const gateway = gatewayWith(network);
    const chargeReference = reference('ch');
    const input = {
      reference: chargeReference,
      cardId: await cardId('4242424242424242'),
      amountMinor: 1_500n,
      currency: 'USD',
      merchantAccountId: 'acct_test',
      capture: 'automatic' as const,
    };
    const approved = await gateway.authorize(input);
    expect(approved).toMatchObject({ status: 'approved' });
    expect(await gateway.resolveOriginal(chargeReference, 'sale')).toMatchObject({
      status: 'approved',
      transactionId: approved.transactionId,
    });
    expect(await gateway.authorize(input)).toMatchObject({ status: 'approved', transactionId: approved.transactionId });
    expect(network.sentOf('0200')).toHaveLength(1);
  });

  it('races: of a sender and a recovery on one reference, exactly one holds it', async () => {
    const network = new FakeNetwork();
    const gateway = gatewayWith(network);
    const card = await cardId('4242424242424242');
    for (let round = 0; round < 10; round += 1) {
      const chargeReference = reference('race');
      const [sent, resolved] = await Promise.all([
        gateway.authorize({
          reference: chargeReference,
          cardId: card,
          amountMinor: 700n,
          currency: 'USD',
          merchantAccountId: 'acct_test',
          capture: 'automatic',
        }),
        gateway.resolveOriginal(chargeReference, 'sale'),
      ]);
      // Either the recovery closed it (nothing sent, both failed) or the sender holds it (the
      // recovery sees the send: in flight, or its outcome).
      if (sent.status === 'failed' && sent.reason === 'abandoned') {
        expect(resolved).toMatchObject({ status: 'failed', reason: 'abandoned' });
      } else {
        expect(sent.status).toBe('approved');
        expect(resolved === null || resolved.status === 'approved').toBe(true);
      }
    }
    const sentReferences = network.sentOf('0200').length;
    const rows = await testDb.db.query<{ n: bigint }>(
      "select count(*)::bigint as n from cards_network_transactions where reference like 'race_%' and kind = 'sale'",
    );
    expect(BigInt(sentReferences)).toBe(rows[0]!.n);
  });
});

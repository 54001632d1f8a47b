/**
 * The simulated network and its issuers as a state machine, without sockets or files.
 *
 * `decideIso8583Request` looks at a request and the state and returns the response plus the journal
 * records that the answer implies; it never changes the state. The simulator appends those records
 * to the journal, then `applyNetworkRecord` folds them into the state, then the response is sent.
 * Replaying the journal at start runs the same `applyNetworkRecord`, so the state after a restart
 * is exactly the state before it.
 *
 * No full card number is kept here: a card is known by its card key (an HMAC of the PAN) and its
 * masked number.
 */
import { createHash } from 'node:crypto';
import { assert } from '../../../platform/errors.js';
import { currencies } from '../../../platform/money.js';
import { isIso8583RequestMti, iso8583ResponseMtiFor, maskPan, type Iso8583Message } from '../iso8583/index.js';
import type { ResponseCode } from '../response-codes.js';
import { testCardByNumber, testIssuerBalanceDefaultMinor, type TestCard } from '../test-cards.js';
import { panValid } from '../vault/index.js';
import { cardNetworkLimits } from './limits.js';

export type NetworkTransactionKind = 'sale' | 'refund' | 'hold';

/** What the issuer is told about a card when it opens its balance. */
export interface IssuerCard {
  pan: string;
  /** Alpha currency code (field 49 translated). */
  currency: string;
  testCard: TestCard | undefined;
}

export interface NetworkCompletion {
  stan: string;
  amountMinor: bigint;
  receivedAt: string;
  transmissionDateTime: string;
  terminalId: string;
  merchantId: string;
}

/** One card transaction, keyed by its RRN: an authorization (hold), a sale or a refund. */
export interface NetworkTransaction {
  rrn: string;
  kind: NetworkTransactionKind;
  /** STAN of the original request. */
  stan: string;
  cardKey: string;
  maskedPan: string;
  currency: string;
  amountMinor: bigint;
  responseCode: string;
  authCode: string | null;
  terminalId: string;
  merchantId: string;
  /** Field 7 of the original request, as sent. */
  transmissionDateTime: string;
  /** When the network answered it (ISO 8601, UTC). */
  receivedAt: string;
  completion: NetworkCompletion | null;
  reversal: { stan: string; receivedAt: string } | null;
}

interface IssuerAccount {
  openingBalanceMinor: bigint;
  balanceMinor: bigint;
  heldMinor: bigint;
}

export interface StoredResponse {
  mti: string;
  fields: Record<string, string>;
  /**
   * What the answered request said (a digest of fields 2, 3, 4, 14, 41, 42 and 49): a
   * retransmission must say the same, or it is another request reusing the RRN and STAN (answered
   * 94, changing nothing). Absent in journals written before it existed.
   */
  requestDigest?: string;
}

/** The digest a retransmission must match (never the PAN itself: it is hashed with the rest). */
export function requestDigestOf(request: Iso8583Message): string {
  const parts = [2, 3, 4, 14, 41, 42, 49].map((field) => request.fields.get(field) ?? '');
  return createHash('sha256').update(parts.join('|')).digest('base64url');
}

/** Journal records: one per state change. Amounts are decimal strings (JSON has no bigint). */
export type NetworkRecord =
  | { type: 'account_opened'; cardKey: string; currency: string; balanceMinor: string }
  | {
      type: 'answered';
      requestMti: string;
      rrn: string;
      stan: string;
      receivedAt: string;
      response: StoredResponse;
      effect: NetworkEffect;
    };

export type NetworkEffect =
  | { kind: 'none' }
  | {
      kind: 'original';
      transaction: Omit<NetworkTransaction, 'amountMinor' | 'completion' | 'reversal'> & { amountMinor: string };
    }
  | {
      kind: 'completed';
      rrn: string;
      completion: Omit<NetworkCompletion, 'amountMinor'> & { amountMinor: string };
    }
  | { kind: 'reversed'; rrn: string; stan: string }
  | { kind: 'tombstoned'; rrn: string };

export interface NetworkState {
  transactions: Map<string, NetworkTransaction>;
  /** requestKey(mti, rrn, stan) → the answer given. */
  answered: Map<string, StoredResponse>;
  /** RRNs reversed before any original was seen: a late original is declined 12. */
  tombstones: Set<string>;
  /** accountKey(cardKey, currency) → balance. */
  accounts: Map<string, IssuerAccount>;
}

export function createNetworkState(): NetworkState {
  return { transactions: new Map(), answered: new Map(), tombstones: new Set(), accounts: new Map() };
}

export function requestKey(requestMti: string, rrn: string, stan: string): string {
  return `${requestMti}|${rrn}|${stan}`;
}

export function accountKey(cardKey: string, currency: string): string {
  return `${cardKey}|${currency}`;
}

const alphaByNumeric: ReadonlyMap<string, string> = new Map(
  [...currencies.values()].map((info) => [info.numeric, info.code]),
);

/** Alpha code of an ISO 4217 numeric code we know, or undefined. */
export function currencyAlphaOf(numeric: string): string | undefined {
  return alphaByNumeric.get(numeric);
}

/** Everything decide needs from outside: the clock, the card key, random auth codes, faults. */
export interface DecideContext {
  now: Date;
  cardKeyOf: (pan: string) => string;
  authCode: () => string;
  issuerUnavailable: boolean;
  openingBalanceOf: (card: IssuerCard) => bigint;
}

export interface Decision {
  response: Iso8583Message;
  /** Journal records to append before the response is sent (empty: nothing changes). */
  records: NetworkRecord[];
}

/** Fields every response echoes from its request (those the request had). */
const echoedFields = [3, 4, 7, 11, 37, 41, 42, 49] as const;

/** The response to a request with this code: echoed fields, 70 for an 0800, 39, and any extra fields. */
export function iso8583Respond(
  request: Iso8583Message,
  code: ResponseCode,
  extra: Record<number, string> = {},
): Iso8583Message {
  assert(isIso8583RequestMti(request.mti), 'only requests are answered');
  const fields = new Map<number, string>();
  for (const fieldNumber of echoedFields) {
    const value = request.fields.get(fieldNumber);
    if (value !== undefined) fields.set(fieldNumber, value);
  }
  if (request.mti === '0800') {
    const code70 = request.fields.get(70);
    if (code70 !== undefined) fields.set(70, code70);
  }
  for (const [fieldNumber, value] of Object.entries(extra)) fields.set(Number(fieldNumber), value);
  fields.set(39, code);
  return { mti: iso8583ResponseMtiFor(request.mti), fields };
}

function storedResponseOf(response: Iso8583Message): StoredResponse {
  const fields: Record<string, string> = {};
  for (const [fieldNumber, value] of response.fields) {
    assert(fieldNumber !== 2, 'a response never carries the card number');
    fields[String(fieldNumber)] = value;
  }
  return { mti: response.mti, fields };
}

/** A stored answer sent again for a retransmission: same answer, field 7 of the repeat echoed. */
export function responseFromStored(stored: StoredResponse, request: Iso8583Message): Iso8583Message {
  const fields = new Map<number, string>(Object.entries(stored.fields).map(([key, value]) => [Number(key), value]));
  const field7 = request.fields.get(7);
  if (field7 !== undefined) fields.set(7, field7);
  return { mti: stored.mti, fields };
}

const nationalMonth = (date: Date): number => date.getUTCFullYear() * 12 + date.getUTCMonth();

/** Field 14 (YYMM) names a month before the current UTC month, or no month at all. */
function expired(field14: string, now: Date): boolean {
  if (!/^[0-9]{4}$/.test(field14)) return true;
  const year = 2000 + Number.parseInt(field14.slice(0, 2), 10);
  const month = Number.parseInt(field14.slice(2, 4), 10);
  if (month < 1 || month > 12) return true;
  return year * 12 + (month - 1) < nationalMonth(now);
}

interface CommonFields {
  pan: string;
  processingCode: string;
  amountMinor: bigint;
  stan: string;
  rrn: string;
  currency: string;
  terminalId: string;
  merchantId: string;
  transmissionDateTime: string;
}

/** The fields a financial request must carry, or null when one is missing or unusable (→ 30). */
function commonFields(request: Iso8583Message): CommonFields | null {
  const get = (fieldNumber: number): string | undefined => request.fields.get(fieldNumber);
  const pan = get(2);
  const processingCode = get(3);
  const amount = get(4);
  const field7 = get(7);
  const stan = get(11);
  const rrn = get(37);
  const numeric = get(49);
  if (
    pan === undefined ||
    processingCode === undefined ||
    amount === undefined ||
    field7 === undefined ||
    stan === undefined ||
    rrn === undefined ||
    numeric === undefined
  ) {
    return null;
  }
  if (rrn.trim() === '') return null;
  const currency = currencyAlphaOf(numeric);
  if (currency === undefined) return null;
  return {
    pan,
    processingCode,
    amountMinor: BigInt(amount),
    stan,
    rrn,
    currency,
    terminalId: get(41) ?? '',
    merchantId: get(42) ?? '',
    transmissionDateTime: field7,
  };
}

function accountOf(state: NetworkState, cardKey: string, currency: string): IssuerAccount | undefined {
  return state.accounts.get(accountKey(cardKey, currency));
}

function capacityLeft(state: NetworkState): boolean {
  return (
    state.transactions.size < cardNetworkLimits.simulatorTransactionsMax &&
    state.answered.size < cardNetworkLimits.simulatorAnsweredRequestsMax
  );
}

/**
 * The answer to one request, and the records it implies. Pure with respect to `state`. Requests
 * other than 0100, 0200, 0220, 0400 and 0800 never reach here (the simulator drops responses).
 */
export function decideIso8583Request(state: NetworkState, request: Iso8583Message, context: DecideContext): Decision {
  assert(isIso8583RequestMti(request.mti), 'decide takes requests only');
  if (request.mti === '0800') return decideNetworkManagement(request);

  const stan = request.fields.get(11);
  const rrn = request.fields.get(37);
  if (stan !== undefined && rrn !== undefined) {
    const previous = state.answered.get(requestKey(request.mti, rrn, stan));
    if (previous !== undefined) {
      // A retransmission gets the same answer; a different request reusing the RRN and STAN (an
      // acquirer whose counters started over) is refused as a duplicate, and changes nothing.
      if (previous.requestDigest !== undefined && previous.requestDigest !== requestDigestOf(request)) {
        return { response: iso8583Respond(request, '94'), records: [] };
      }
      return { response: responseFromStored(previous, request), records: [] };
    }
  }
  const fields = commonFields(request);
  if (fields === null) return { response: iso8583Respond(request, '30'), records: [] };
  if (!capacityLeft(state)) return { response: iso8583Respond(request, '96'), records: [] };

  switch (request.mti) {
    case '0100':
    case '0200':
      return decideOriginal(state, request, fields, context);
    case '0220':
      return decideCompletion(state, request, fields, context);
    case '0400':
      return decideReversal(state, request, fields, context);
  }
  // isIso8583RequestMti and the cases above cover every request MTI: this does not compile otherwise.
  const unhandled: never = request.mti;
  throw new Error(`assertion failed: unhandled request MTI ${String(unhandled)}`);
}

const networkManagementCodes: ReadonlySet<string> = new Set(['001', '002', '301']);

function decideNetworkManagement(request: Iso8583Message): Decision {
  const code = request.fields.get(70);
  const valid =
    code !== undefined &&
    networkManagementCodes.has(code) &&
    request.fields.has(7) &&
    request.fields.has(11) &&
    !request.fields.has(2);
  return { response: iso8583Respond(request, valid ? '00' : '30'), records: [] };
}

function answered(
  request: Iso8583Message,
  fields: CommonFields,
  context: DecideContext,
  response: Iso8583Message,
  effect: NetworkEffect,
  before: NetworkRecord[] = [],
): Decision {
  const record: NetworkRecord = {
    type: 'answered',
    requestMti: request.mti,
    rrn: fields.rrn,
    stan: fields.stan,
    receivedAt: context.now.toISOString(),
    response: { ...storedResponseOf(response), requestDigest: requestDigestOf(request) },
    effect,
  };
  return { response, records: [...before, record] };
}

function decideOriginal(
  state: NetworkState,
  request: Iso8583Message,
  fields: CommonFields,
  context: DecideContext,
): Decision {
  const kind: NetworkTransactionKind | null =
    request.mti === '0100'
      ? fields.processingCode === '000000'
        ? 'hold'
        : null
      : fields.processingCode === '000000'
        ? 'sale'
        : fields.processingCode === '200000'
          ? 'refund'
          : null;
  if (kind === null) return { response: iso8583Respond(request, '12'), records: [] };
  if (context.issuerUnavailable) return { response: iso8583Respond(request, '91'), records: [] };
  if (state.transactions.has(fields.rrn)) return { response: iso8583Respond(request, '94'), records: [] };

  const cardKey = context.cardKeyOf(fields.pan);
  const testCard = testCardByNumber(fields.pan);
  const record = (code: ResponseCode, before: NetworkRecord[] = []): Decision => {
    const authCode = code === '00' ? context.authCode() : null;
    const response = iso8583Respond(request, code, authCode === null ? {} : { 38: authCode });
    return answered(
      request,
      fields,
      context,
      response,
      {
        kind: 'original',
        transaction: {
          rrn: fields.rrn,
          kind,
          stan: fields.stan,
          cardKey,
          maskedPan: maskPan(fields.pan),
          currency: fields.currency,
          amountMinor: fields.amountMinor.toString(),
          responseCode: code,
          authCode,
          terminalId: fields.terminalId,
          merchantId: fields.merchantId,
          transmissionDateTime: fields.transmissionDateTime,
          receivedAt: context.now.toISOString(),
        },
      },
      before,
    );
  };

  if (state.tombstones.has(fields.rrn)) return record('12');
  if (!panValid(fields.pan)) return record('14');
  if (fields.amountMinor === 0n) return record('13');

  // The balance is opened (and journaled) the first time an approved transaction touches it.
  const existing = accountOf(state, cardKey, fields.currency);
  const opening: NetworkRecord[] = [];
  let availableMinor: bigint;
  if (existing === undefined) {
    const balanceMinor = context.openingBalanceOf({ pan: fields.pan, currency: fields.currency, testCard });
    assert(balanceMinor >= 0n, 'an opening balance is never negative');
    opening.push({ type: 'account_opened', cardKey, currency: fields.currency, balanceMinor: balanceMinor.toString() });
    availableMinor = balanceMinor;
  } else {
    availableMinor = existing.balanceMinor - existing.heldMinor;
  }

  // A refund credits the card whatever the issuer would say to a payment.
  if (kind === 'refund') return record('00', opening);

  const field14 = request.fields.get(14);
  if (field14 === undefined || expired(field14, context.now)) return record('54');
  const behaviour = testCard?.issuer ?? { kind: 'approve' as const };
  if (behaviour.kind === 'decline') return record(behaviour.responseCode);
  if (behaviour.kind === 'authenticate' && request.fields.get(22) !== '812') return record('65');
  if (fields.amountMinor > availableMinor) return record('51');
  return record('00', opening);
}

function decideCompletion(
  state: NetworkState,
  request: Iso8583Message,
  fields: CommonFields,
  context: DecideContext,
): Decision {
  const none: NetworkEffect = { kind: 'none' };
  const hold = state.transactions.get(fields.rrn);
  if (hold === undefined || hold.kind !== 'hold' || hold.responseCode !== '00') {
    return answered(request, fields, context, iso8583Respond(request, '25'), none);
  }
  if (hold.reversal !== null || hold.completion !== null) {
    return answered(request, fields, context, iso8583Respond(request, '12'), none);
  }
  if (hold.currency !== fields.currency || hold.cardKey !== context.cardKeyOf(fields.pan)) {
    return answered(request, fields, context, iso8583Respond(request, '12'), none);
  }
  if (fields.processingCode !== '000000')
    return answered(request, fields, context, iso8583Respond(request, '12'), none);
  if (fields.amountMinor === 0n || fields.amountMinor > hold.amountMinor) {
    return answered(request, fields, context, iso8583Respond(request, '13'), none);
  }
  return answered(request, fields, context, iso8583Respond(request, '00'), {
    kind: 'completed',
    rrn: fields.rrn,
    completion: {
      stan: fields.stan,
      amountMinor: fields.amountMinor.toString(),
      receivedAt: context.now.toISOString(),
      transmissionDateTime: fields.transmissionDateTime,
      terminalId: fields.terminalId,
      merchantId: fields.merchantId,
    },
  });
}

function decideReversal(
  state: NetworkState,
  request: Iso8583Message,
  fields: CommonFields,
  context: DecideContext,
): Decision {
  const original = state.transactions.get(fields.rrn);
  if (original === undefined) {
    // Nothing to reverse: remember the RRN so an original arriving late is declined.
    const effect: NetworkEffect = state.tombstones.has(fields.rrn)
      ? { kind: 'none' }
      : { kind: 'tombstoned', rrn: fields.rrn };
    return answered(request, fields, context, iso8583Respond(request, '25'), effect);
  }
  if (original.responseCode !== '00')
    return answered(request, fields, context, iso8583Respond(request, '25'), { kind: 'none' });
  if (original.reversal !== null)
    return answered(request, fields, context, iso8583Respond(request, '00'), { kind: 'none' });
  return answered(request, fields, context, iso8583Respond(request, '00'), {
    kind: 'reversed',
    rrn: fields.rrn,
    stan: fields.stan,
  });
}

function mustAccount(state: NetworkState, cardKey: string, currency: string): IssuerAccount {
  const account = accountOf(state, cardKey, currency);
  assert(account !== undefined, 'an approved transaction has an open account');
  return account;
}

function checkAccount(account: IssuerAccount): void {
  assert(account.heldMinor >= 0n, 'held funds are never negative');
}

/** Folds one journal record into the state (live, after the append, and at replay). */
export function applyNetworkRecord(state: NetworkState, record: NetworkRecord): void {
  if (record.type === 'account_opened') {
    const key = accountKey(record.cardKey, record.currency);
    assert(!state.accounts.has(key), 'an account is opened once');
    const balanceMinor = BigInt(record.balanceMinor);
    state.accounts.set(key, { openingBalanceMinor: balanceMinor, balanceMinor, heldMinor: 0n });
    return;
  }
  const key = requestKey(record.requestMti, record.rrn, record.stan);
  assert(!state.answered.has(key), 'a request is answered once');
  state.answered.set(key, record.response);
  const effect = record.effect;
  switch (effect.kind) {
    case 'none':
      return;
    case 'tombstoned':
      state.tombstones.add(effect.rrn);
      return;
    case 'original': {
      assert(!state.transactions.has(effect.transaction.rrn), 'an RRN names one transaction');
      const transaction: NetworkTransaction = {
        ...effect.transaction,
        amountMinor: BigInt(effect.transaction.amountMinor),
        completion: null,
        reversal: null,
      };
      state.transactions.set(transaction.rrn, transaction);
      if (transaction.responseCode !== '00') return;
      const account = mustAccount(state, transaction.cardKey, transaction.currency);
      if (transaction.kind === 'sale') account.balanceMinor -= transaction.amountMinor;
      else if (transaction.kind === 'hold') account.heldMinor += transaction.amountMinor;
      else account.balanceMinor += transaction.amountMinor;
      checkAccount(account);
      return;
    }
    case 'completed': {
      const hold = state.transactions.get(effect.rrn);
      assert(hold !== undefined && hold.kind === 'hold' && hold.responseCode === '00', 'a completion completes a hold');
      assert(hold.completion === null && hold.reversal === null, 'a hold is completed once, before any reversal');
      const amountMinor = BigInt(effect.completion.amountMinor);
      assert(amountMinor > 0n && amountMinor <= hold.amountMinor, 'a completion is within the hold');
      hold.completion = { ...effect.completion, amountMinor };
      const account = mustAccount(state, hold.cardKey, hold.currency);
      account.heldMinor -= hold.amountMinor;
      account.balanceMinor -= amountMinor;
      checkAccount(account);
      return;
    }
    case 'reversed': {
      const original = state.transactions.get(effect.rrn);
      assert(original !== undefined && original.responseCode === '00', 'a reversal reverses an approved transaction');
      assert(original.reversal === null, 'a transaction is reversed once');
      original.reversal = { stan: effect.stan, receivedAt: record.receivedAt };
      const account = mustAccount(state, original.cardKey, original.currency);
      if (original.kind === 'sale') account.balanceMinor += original.amountMinor;
      else if (original.kind === 'refund') account.balanceMinor -= original.amountMinor;
      else if (original.completion !== null) account.balanceMinor += original.completion.amountMinor;
      else account.heldMinor -= original.amountMinor;
      checkAccount(account);
      return;
    }
  }
}

/** Available balance (balance − holds) of a card in a currency; the opening balance if never used. */
export function availableBalanceMinor(
  state: NetworkState,
  cardKey: string,
  currency: string,
  openingBalanceMinor: () => bigint,
): bigint {
  const account = accountOf(state, cardKey, currency);
  return account === undefined ? openingBalanceMinor() : account.balanceMinor - account.heldMinor;
}

/** The issuer's starting balance of a card when none is configured: the test card's, or the default. */
export function defaultOpeningBalanceMinor(card: IssuerCard): bigint {
  return card.testCard?.issuerBalanceMinor ?? testIssuerBalanceDefaultMinor;
}

import { createHash } from 'node:crypto';
import type { Db, SqlExecutor } from '../../../platform/db.js';
import { AppError, assert } from '../../../platform/errors.js';
import { base62Alphabet, randomBase62 } from '../../../platform/ids.js';
import { customerExists } from '../../customers/index.js';
import { recordEvent, type PaymentMethodEventType } from '../../events/index.js';
import { applyMetadataUpdate, fetchPage, type Metadata, type PageRequest, type V1Scope } from '../../../v1/index.js';
import { testCardByNumber, testCardByPaymentMethodToken, testCardByToken, type TestCard } from '../test-cards.js';
import { checkCvc, checkExpiry, checkPan, panValid, type CardBrand, type CardVault } from '../vault/index.js';
import type {
  AddressWire,
  BillingDetailsWire,
  CardFunding,
  CvcCheck,
  DisplayBrand,
  PaymentMethodWire,
} from './wire.js';

/**
 * Card PaymentMethods (pm_…) over the card vault, with Stripe's semantics
 * (https://docs.stripe.com/api/payment_methods); see docs/payment-methods.md. Every query is scoped
 * to one merchant account and mode. The PAN goes to the vault and nowhere else; the CVC is checked
 * for format and dropped (PCI DSS 3.3.1).
 */

export type AddressInput = Partial<Record<keyof AddressWire, string>>;

export interface BillingDetailsInput {
  address?: AddressInput;
  email?: string;
  name?: string;
  phone?: string;
}

/** Update: undefined leaves a field alone, null unsets it; address fields merge one by one. */
export interface BillingDetailsUpdate {
  address?: Partial<Record<keyof AddressWire, string | null>> | null;
  email?: string | null;
  name?: string | null;
  phone?: string | null;
}

/** Either a card (number, expiry, optional CVC) or a test token (`tok_visa`), as in Stripe's card[…]. */
export interface CardInput {
  number?: string;
  expMonth?: number;
  /** Four digits, or two (taken as 20xx), as Stripe accepts. */
  expYear?: number;
  cvc?: string;
  token?: string;
}

export interface PaymentMethodCreateInput {
  /** Only 'card' is supported. */
  type: string;
  card?: CardInput;
  billingDetails?: BillingDetailsInput;
  metadata?: Metadata;
}

export interface PaymentMethodUpdateInput {
  billingDetails?: BillingDetailsUpdate;
  metadata?: Metadata | '' | null;
  card?: { expMonth?: number; expYear?: number };
}

/** The API request behind a change, recorded on its event. */
export interface RequestInfo {
  id: string | null;
  idempotencyKey: string | null;
}

/** What the payments context charges: the PaymentMethod and the vault record behind it. */
export interface ResolvedPaymentMethod {
  paymentMethod: PaymentMethodWire;
  /** The vault card id (card_…) the gateway reveals for the authorization. */
  cardId: string;
}

/** The card facts for charge.payment_method_details.card and for the authorization. */
export interface PaymentMethodCard {
  paymentMethodId: string;
  cardId: string;
  brand: CardBrand;
  last4: string;
  /** The expiry to authorize with: an update changes it here, not in the vault record. */
  expMonth: number;
  expYear: number;
  /** The account-scoped fingerprint shown on the PaymentMethod (16 base62). */
  fingerprint: string;
  funding: CardFunding;
  country: string | null;
  cvcCheck: CvcCheck | null;
}

export interface PaymentMethods {
  /** Stripe records no event for a creation, so neither do we. */
  create(scope: V1Scope, input: PaymentMethodCreateInput): Promise<PaymentMethodWire>;
  /** Throws not_found ("No such PaymentMethod") for unknown ids and other accounts' or mode's. */
  retrieve(scope: V1Scope, id: string): Promise<PaymentMethodWire>;
  /** The same lookup returning null: the expand[] loader for `payment_method`. */
  find(scope: V1Scope, id: string): Promise<PaymentMethodWire | null>;
  /**
   * What a payment's `payment_method` names: a pm_… id of this account and mode, or in test mode a
   * pm_card_… token, which creates a new PaymentMethod each time (as Stripe does). A detached
   * PaymentMethod is refused (payment_method_unexpected_state).
   */
  resolve(scope: V1Scope, idOrToken: string): Promise<ResolvedPaymentMethod>;
  /** billing_details, metadata, card[exp_month|exp_year]; the PaymentMethod must be attached. */
  update(
    scope: V1Scope,
    id: string,
    input: PaymentMethodUpdateInput,
    request?: RequestInfo,
  ): Promise<PaymentMethodWire>;
  /** `id` may be a pm_card_… token in test mode (a new PaymentMethod is created and attached). */
  attach(scope: V1Scope, id: string, customerId: string, request?: RequestInfo): Promise<PaymentMethodWire>;
  detach(scope: V1Scope, id: string, request?: RequestInfo): Promise<PaymentMethodWire>;
  /** Newest first; with `customer`, that customer's (which must exist); a type other than card lists none. */
  list(
    scope: V1Scope,
    options: { page: PageRequest; customer?: string; type?: string },
  ): Promise<{ data: PaymentMethodWire[]; hasMore: boolean }>;
  /** The card behind a pm_… id (detached ones too: a past charge still shows its card). */
  cardOf(scope: V1Scope, id: string): Promise<PaymentMethodCard>;
  /**
   * What stands for a card number in a request's idempotency hash: the vault's keyed fingerprint
   * ('invalid' for a number the vault refuses). An unkeyed hash of a body holding a PAN could be
   * brute-forced back to the PAN (PCI DSS 3.5.1.1 asks for keyed hashes).
   */
  cardNumberDigest(number: string): string;
}

export interface PaymentMethodsDeps {
  db: Db;
  vault: CardVault;
  /** The clock expiry dates and test-token expiries use. */
  now?: () => number;
}

interface PaymentMethodRow {
  id: string;
  account_id: string;
  livemode: boolean;
  card_id: string;
  brand: CardBrand;
  last4: string;
  exp_month: number;
  exp_year: number;
  fingerprint: string;
  funding: CardFunding;
  country: string | null;
  cvc_check: CvcCheck | null;
  customer_id: string | null;
  detached_at: Date | null;
  billing_details: BillingDetailsWire;
  metadata: Metadata;
  created_at: Date;
}

const columns =
  'id, account_id, livemode, card_id, brand, last4, exp_month, exp_year, fingerprint, funding, country, cvc_check, customer_id, detached_at, billing_details, metadata, created_at';

const table = 'cards_payment_methods';

const idLength = 24;
const fingerprintLength = 16;
const idPattern = /^pm_[0-9A-Za-z]{24}$/;
const testTokenPrefix = 'pm_card_';
/** Test-token PaymentMethods expire in December, this many years ahead. */
const testTokenExpiryYearsAhead = 3;
/** Stripe's test cards are issued in the US. */
const testCardCountry = 'US';

/** 'pm_' and 24 base62 characters (142 random bits), as long as Stripe's. */
export function newPaymentMethodId(): string {
  return `pm_${randomBase62(idLength)}`;
}

/**
 * The fingerprint a merchant sees: the vault's keyed fingerprint hashed with the account id, so the
 * same card has one fingerprint within an account (both modes) and unrelated ones across accounts,
 * as Stripe's do; without the vault's fingerprint key it cannot be recomputed from a card number.
 */
export function accountFingerprint(accountId: string, vaultFingerprint: string): string {
  const digest = createHash('sha256').update(`yunpay payment method fingerprint v1|${accountId}|${vaultFingerprint}`);
  let value = BigInt(`0x${digest.digest('hex').slice(0, 24)}`);
  let text = '';
  for (let index = 0; index < fingerprintLength; index += 1) {
    text = base62Alphabet[Number(value % 62n)] + text;
    value /= 62n;
  }
  return text;
}

const displayBrands: Readonly<Record<CardBrand, DisplayBrand>> = {
  visa: 'visa',
  mastercard: 'mastercard',
  amex: 'american_express',
  discover: 'discover',
  jcb: 'jcb',
  unionpay: 'union_pay',
  diners: 'diners_club',
  unknown: 'other',
};

function addressWire(input: Partial<Record<keyof AddressWire, string | null>> | undefined): AddressWire {
  return {
    city: input?.city ?? null,
    country: input?.country ?? null,
    line1: input?.line1 ?? null,
    line2: input?.line2 ?? null,
    postal_code: input?.postal_code ?? null,
    state: input?.state ?? null,
  };
}

function billingDetailsWire(input: BillingDetailsInput | undefined): BillingDetailsWire {
  return {
    address: addressWire(input?.address),
    email: input?.email ?? null,
    name: input?.name ?? null,
    phone: input?.phone ?? null,
    tax_id: null,
  };
}

function applyBillingDetailsUpdate(current: BillingDetailsWire, update: BillingDetailsUpdate): BillingDetailsWire {
  const address = { ...current.address };
  if (update.address === null) Object.assign(address, addressWire(undefined));
  else if (update.address !== undefined) {
    for (const [key, value] of Object.entries(update.address) as [keyof AddressWire, string | null | undefined][]) {
      if (value !== undefined) address[key] = value;
    }
  }
  return {
    address,
    email: update.email === undefined ? current.email : update.email,
    name: update.name === undefined ? current.name : update.name,
    phone: update.phone === undefined ? current.phone : update.phone,
    tax_id: current.tax_id,
  };
}

function toWire(row: PaymentMethodRow): PaymentMethodWire {
  return {
    id: row.id,
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: {
      ...billingDetailsWire(undefined),
      ...row.billing_details,
      address: addressWire(row.billing_details.address),
    },
    card: {
      brand: row.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: row.cvc_check },
      country: row.country,
      display_brand: displayBrands[row.brand],
      exp_month: Number(row.exp_month),
      exp_year: Number(row.exp_year),
      fingerprint: row.fingerprint,
      funding: row.funding,
      generated_from: null,
      last4: row.last4,
      networks: { available: row.brand === 'unknown' ? [] : [row.brand], preferred: null },
      regulated_status: null,
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: Math.floor(row.created_at.getTime() / 1000),
    customer: row.customer_id,
    customer_account: null,
    livemode: row.livemode,
    metadata: row.metadata,
    type: 'card',
  };
}

function missing(id: string): AppError {
  return new AppError('not_found', { message: `No such PaymentMethod: '${id}'`, param: 'payment_method' });
}

function missingCustomer(id: string): AppError {
  return new AppError('not_found', { message: `No such customer: '${id}'`, param: 'customer' });
}

const reuseRefused =
  'This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.';

/** Re-throws a vault check's error with Stripe's parameter name (`number` → `card[number]`). */
function asCardParameter<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof AppError && error.param !== undefined && !error.param.startsWith('card.')) {
      throw new AppError(error.code, { message: error.message, param: `card.${error.param}` });
    }
    throw error;
  }
}

function parameterMissing(param: string): AppError {
  return new AppError('parameter_missing', { message: `Missing required param: ${param}.`, param });
}

/** Stripe takes two-digit years as 20xx. */
function fullYear(year: number): number {
  return year >= 0 && year < 100 ? 2000 + year : year;
}

interface CardToCreate {
  pan: string;
  expMonth: number;
  expYear: number;
  cvcCheck: CvcCheck | null;
  /** The test card a token named, or the one this number is. */
  testCard: TestCard | undefined;
}

export function createPaymentMethods(deps: PaymentMethodsDeps): PaymentMethods {
  const { db, vault } = deps;
  const now = deps.now ?? Date.now;

  async function findRow(
    executor: SqlExecutor,
    scope: V1Scope,
    id: string,
    lock: boolean,
  ): Promise<PaymentMethodRow | null> {
    if (!idPattern.test(id)) return null;
    const rows = await executor.query<PaymentMethodRow>(
      `select ${columns} from ${table}
        where account_id = $1 and livemode = $2 and id = $3${lock ? ' for update' : ''}`,
      [scope.accountId, scope.livemode, id],
    );
    const row = rows[0];
    if (row !== undefined) {
      // The same property on both sides of the boundary: never another account's or mode's row.
      assert(row.account_id === scope.accountId && row.livemode === scope.livemode, 'payment method row out of scope');
    }
    return row ?? null;
  }

  function testCardForToken(scope: V1Scope, token: string, lookUp: (token: string) => TestCard | undefined) {
    const testCard = lookUp(token);
    if (testCard === undefined) return undefined;
    if (scope.livemode) {
      throw new AppError('payment_method_unactivated', {
        message: `${token} is a test-mode token: it cannot be used with a live mode key.`,
        param: token.startsWith('tok_') ? 'card.token' : 'payment_method',
      });
    }
    return testCard;
  }

  function testTokenExpiry(): { expMonth: number; expYear: number } {
    return { expMonth: 12, expYear: new Date(now()).getUTCFullYear() + testTokenExpiryYearsAhead };
  }

  /** Checks card input in Stripe's order (number, expiry, CVC) and returns what to store. */
  function cardToCreate(scope: V1Scope, card: CardInput): CardToCreate {
    if (card.token !== undefined) {
      if (card.number !== undefined || card.cvc !== undefined) {
        throw new AppError('parameter_invalid', {
          message: 'Pass either card[token] or the card details (card[number], …), not both.',
          param: 'card.token',
        });
      }
      const testCard = testCardForToken(scope, card.token, testCardByToken);
      if (testCard === undefined) {
        throw new AppError('not_found', { message: `No such token: '${card.token}'`, param: 'card.token' });
      }
      return { pan: testCard.number, ...testTokenExpiry(), cvcCheck: null, testCard };
    }
    if (card.number === undefined) throw parameterMissing('card[number]');
    if (card.expMonth === undefined) throw parameterMissing('card[exp_month]');
    if (card.expYear === undefined) throw parameterMissing('card[exp_year]');
    const pan = card.number;
    const { brand } = asCardParameter(() => checkPan(pan));
    const expMonth = card.expMonth;
    const expYear = fullYear(card.expYear);
    asCardParameter(() => checkExpiry({ expMonth, expYear, nowMs: now() }));
    const cvc = card.cvc;
    if (cvc !== undefined) asCardParameter(() => checkCvc(cvc, brand));
    const testCard = testCardByNumber(pan);
    if (scope.livemode && testCard !== undefined) {
      // Stripe's answer to a known test number in live mode.
      throw new AppError('card_declined', {
        message: 'Your card was declined. Your request was in live mode, but used a known test card.',
        param: 'card.number',
        details: { decline_code: 'test_mode_live_card' },
      });
    }
    // The CVC's value goes no further than this function; only that one was given is kept.
    return { pan, expMonth, expYear, cvcCheck: cvc === undefined ? null : 'unchecked', testCard };
  }

  async function insert(
    scope: V1Scope,
    card: CardToCreate,
    extra: { billingDetails?: BillingDetailsInput; metadata?: Metadata },
  ): Promise<PaymentMethodRow> {
    // The vault writes on its own connection: a failure after this leaves an unreferenced vault
    // record, never a PaymentMethod without its card.
    const stored = await vault.store({ pan: card.pan, expMonth: card.expMonth, expYear: card.expYear });
    const testCard = card.testCard;
    const rows = await db.query<PaymentMethodRow>(
      `insert into ${table}
         (id, account_id, livemode, type, card_id, brand, last4, exp_month, exp_year, fingerprint, funding, country,
          cvc_check, billing_details, metadata)
       values ($1, $2, $3, 'card', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::text::jsonb, $14::text::jsonb)
       returning ${columns}`,
      [
        newPaymentMethodId(),
        scope.accountId,
        scope.livemode,
        stored.id,
        stored.brand,
        stored.last4,
        stored.expMonth,
        stored.expYear,
        accountFingerprint(scope.accountId, stored.fingerprint),
        testCard?.funding ?? 'unknown',
        testCard === undefined ? null : testCardCountry,
        card.cvcCheck,
        JSON.stringify(billingDetailsWire(extra.billingDetails)),
        JSON.stringify(applyMetadataUpdate({}, extra.metadata)),
      ],
    );
    const row = rows[0];
    assert(row !== undefined, 'inserted payment method row must be returned');
    assert(row.card_id === stored.id && row.last4 === stored.last4, 'the row references the stored card');
    return row;
  }

  async function createFromTestToken(scope: V1Scope, token: string): Promise<PaymentMethodRow | null> {
    if (!token.startsWith(testTokenPrefix)) return null;
    const testCard = testCardForToken(scope, token, testCardByPaymentMethodToken);
    if (testCard === undefined) return null;
    return insert(scope, { pan: testCard.number, ...testTokenExpiry(), cvcCheck: null, testCard }, {});
  }

  async function event(
    tx: SqlExecutor,
    scope: V1Scope,
    type: PaymentMethodEventType,
    object: PaymentMethodWire,
    previousAttributes: Record<string, unknown> | undefined,
    request: RequestInfo | undefined,
  ): Promise<void> {
    await recordEvent(tx, {
      accountId: scope.accountId,
      livemode: scope.livemode,
      type,
      object: object as unknown as Record<string, unknown>,
      ...(previousAttributes === undefined ? {} : { previousAttributes }),
      ...(request === undefined ? {} : { request }),
    });
  }

  async function attachRow(
    scope: V1Scope,
    id: string,
    customerId: string,
    request: RequestInfo | undefined,
  ): Promise<PaymentMethodWire> {
    return db.transaction(async (tx) => {
      const row = await findRow(tx, scope, id, true);
      if (row === null) throw missing(id);
      if (row.detached_at !== null) throw new AppError('payment_method_unexpected_state', { message: reuseRefused });
      // Shared lock: the customer cannot be deleted until this attachment commits.
      if (!(await customerExists(tx, scope, customerId, { lock: true }))) throw missingCustomer(customerId);
      if (row.customer_id === customerId) return toWire(row);
      if (row.customer_id !== null) {
        throw new AppError('payment_method_unexpected_state', {
          message: 'The payment method you provided has already been attached to a customer.',
          param: 'payment_method',
        });
      }
      const rows = await tx.query<PaymentMethodRow>(
        `update ${table} set customer_id = $4, updated_at = clock_timestamp()
          where account_id = $1 and livemode = $2 and id = $3 returning ${columns}`,
        [scope.accountId, scope.livemode, id, customerId],
      );
      const updated = rows[0];
      assert(updated?.customer_id === customerId, 'the attached row names its customer');
      const after = toWire(updated);
      await event(tx, scope, 'payment_method.attached', after, { customer: null }, request);
      return after;
    });
  }

  return {
    async create(scope, input) {
      if (input.type !== 'card') {
        throw new AppError('parameter_invalid', {
          message: `Invalid type: this server supports card PaymentMethods only.`,
          param: 'type',
        });
      }
      if (input.card === undefined) throw parameterMissing('card');
      const card = cardToCreate(scope, input.card);
      const row = await insert(scope, card, {
        ...(input.billingDetails === undefined ? {} : { billingDetails: input.billingDetails }),
        ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
      });
      return toWire(row);
    },

    async retrieve(scope, id) {
      const row = await findRow(db, scope, id, false);
      if (row === null) throw missing(id);
      return toWire(row);
    },

    async find(scope, id) {
      const row = await findRow(db, scope, id, false);
      return row === null ? null : toWire(row);
    },

    async resolve(scope, idOrToken) {
      const created = await createFromTestToken(scope, idOrToken);
      const row = created ?? (await findRow(db, scope, idOrToken, false));
      if (row === null) throw missing(idOrToken);
      if (row.detached_at !== null) {
        throw new AppError('payment_method_unexpected_state', { message: reuseRefused, param: 'payment_method' });
      }
      return { paymentMethod: toWire(row), cardId: row.card_id };
    },

    async update(scope, id, input, request) {
      return db.transaction(async (tx) => {
        const row = await findRow(tx, scope, id, true);
        if (row === null) throw missing(id);
        if (row.customer_id === null) {
          throw new AppError('payment_method_unexpected_state', {
            message: 'You must save this PaymentMethod to a customer before you can update it.',
          });
        }
        const expMonth = input.card?.expMonth ?? Number(row.exp_month);
        const expYear = input.card?.expYear === undefined ? Number(row.exp_year) : fullYear(input.card.expYear);
        if (input.card?.expMonth !== undefined || input.card?.expYear !== undefined) {
          asCardParameter(() => checkExpiry({ expMonth, expYear, nowMs: now() }));
        }
        const billingDetails =
          input.billingDetails === undefined
            ? row.billing_details
            : applyBillingDetailsUpdate(toWire(row).billing_details, input.billingDetails);
        const metadata = applyMetadataUpdate(row.metadata, input.metadata);
        const before = toWire(row);
        const rows = await tx.query<PaymentMethodRow>(
          `update ${table}
              set exp_month = $4, exp_year = $5, billing_details = $6::text::jsonb, metadata = $7::text::jsonb,
                  updated_at = clock_timestamp()
            where account_id = $1 and livemode = $2 and id = $3
            returning ${columns}`,
          [
            scope.accountId,
            scope.livemode,
            id,
            expMonth,
            expYear,
            JSON.stringify(billingDetails),
            JSON.stringify(metadata),
          ],
        );
        const updated = rows[0];
        assert(updated !== undefined, 'updated payment method row must be returned');
        const after = toWire(updated);
        const previous: Record<string, unknown> = {};
        for (const key of Object.keys(after) as (keyof PaymentMethodWire)[]) {
          if (JSON.stringify(after[key]) !== JSON.stringify(before[key])) previous[key] = before[key];
        }
        if (Object.keys(previous).length > 0) {
          await event(tx, scope, 'payment_method.updated', after, previous, request);
        }
        return after;
      });
    },

    async attach(scope, id, customerId, request) {
      if (id.startsWith(testTokenPrefix)) {
        // Stripe attaches a new PaymentMethod made from the test card; the customer is checked first
        // so that a wrong customer does not leave a stray PaymentMethod behind.
        if (testCardByPaymentMethodToken(id) !== undefined && !scope.livemode) {
          if (!(await customerExists(db, scope, customerId, { lock: false }))) throw missingCustomer(customerId);
        }
        const created = await createFromTestToken(scope, id);
        if (created === null) throw missing(id);
        return attachRow(scope, created.id, customerId, request);
      }
      return attachRow(scope, id, customerId, request);
    },

    async detach(scope, id, request) {
      return db.transaction(async (tx) => {
        const row = await findRow(tx, scope, id, true);
        if (row === null) throw missing(id);
        if (row.customer_id === null) {
          throw new AppError('payment_method_unexpected_state', {
            message: 'The payment method you provided is not attached to a customer so detachment is impossible.',
            param: 'payment_method',
          });
        }
        const rows = await tx.query<PaymentMethodRow>(
          `update ${table} set customer_id = null, detached_at = clock_timestamp(), updated_at = clock_timestamp()
            where account_id = $1 and livemode = $2 and id = $3 returning ${columns}`,
          [scope.accountId, scope.livemode, id],
        );
        const updated = rows[0];
        assert(updated !== undefined && updated.customer_id === null, 'the detached row has no customer');
        const after = toWire(updated);
        await event(tx, scope, 'payment_method.detached', after, { customer: row.customer_id }, request);
        return after;
      });
    },

    async list(scope, options) {
      if (options.customer !== undefined && !(await customerExists(db, scope, options.customer, { lock: false }))) {
        throw missingCustomer(options.customer);
      }
      if (options.type !== undefined && options.type !== 'card') return { data: [], hasMore: false };
      const page = await fetchPage<PaymentMethodRow>(db, {
        table,
        columns,
        accountId: scope.accountId,
        livemode: scope.livemode,
        page: options.page,
        where: options.customer === undefined ? [] : [{ sql: 'customer_id = ?', params: [options.customer] }],
        objectName: 'PaymentMethod',
      });
      return { data: page.rows.map(toWire), hasMore: page.hasMore };
    },

    async cardOf(scope, id) {
      const row = await findRow(db, scope, id, false);
      if (row === null) throw missing(id);
      return {
        paymentMethodId: row.id,
        cardId: row.card_id,
        brand: row.brand,
        last4: row.last4,
        expMonth: Number(row.exp_month),
        expYear: Number(row.exp_year),
        fingerprint: row.fingerprint,
        funding: row.funding,
        country: row.country,
        cvcCheck: row.cvc_check,
      };
    },

    cardNumberDigest(number) {
      return panValid(number) ? vault.fingerprintOf(number) : 'invalid';
    },
  };
}

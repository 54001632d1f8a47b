import { createHmac, randomBytes } from 'node:crypto';
import { base62Alphabet, randomBase62 } from '../../../platform/ids.js';
import type { Db, SqlExecutor } from '../../../platform/db.js';
import { AppError, assert } from '../../../platform/errors.js';
import { limits } from '../../../platform/limits.js';
import { open, seal, SecretKey } from '../../../platform/secret-box.js';
import type { VaultKeys } from './keys.js';
import { checkExpiry, checkPan, maskPan, type CardBrand } from './pan.js';

/**
 * The card vault: envelope encryption of card numbers (docs/card-vault.md).
 *
 * Each record gets a fresh random 32-byte data key; the record (PAN, expiry, cardholder name) is
 * sealed with it (AES-256-GCM), and the data key is sealed with the current key-encryption key
 * (AES-256-GCM too), whose id is stored beside it. The record id is associated data for both, so a
 * ciphertext or wrapped key moved to another row does not open. Rotating the KEK re-wraps data keys
 * only: the record ciphertext never changes.
 */

/** 22 base62 characters carry 130.9 bits. */
const base62Length = 22;

function base62Of(bytes: Buffer, length: number): string {
  let value = BigInt(`0x${bytes.toString('hex')}`);
  let text = '';
  for (let index = 0; index < length; index += 1) {
    text = base62Alphabet[Number(value % 62n)] + text;
    value /= 62n;
  }
  assert(value === 0n, 'the value fits the base62 length');
  return text;
}

const cardIdPattern = /^card_[0-9A-Za-z]{22}$/;
const fingerprintPattern = /^[0-9A-Za-z]{22}$/;

/** A new record id: 'card_' and 22 base62 characters (130 random bits). */
export function newCardId(): string {
  return `card_${randomBase62(base62Length)}`;
}

export interface CardToStore {
  /** Digits only. The CVC is not part of this type: the vault never receives one (PCI DSS 3.3.1). */
  pan: string;
  expMonth: number;
  /** Four digits. */
  expYear: number;
  cardholderName?: string;
}

/** What may be shown or returned about a stored card: never more than the BIN and the last 4. */
export interface VaultCard {
  id: string;
  bin: string;
  last4: string;
  brand: CardBrand;
  expMonth: number;
  expYear: number;
  /** Same card number, same fingerprint (under one fingerprint key): for duplicate detection. */
  fingerprint: string;
  createdAt: Date;
}

/**
 * A decrypted card, for an authorization only. The PAN is reachable through `.pan` alone:
 * JSON.stringify, String() and util.inspect show the masked form, so a stray log line does not
 * leak it. Never log `.pan`, never return it, never keep it beyond the authorization.
 */
export class RevealedCard {
  readonly #pan: string;
  readonly id: string;
  readonly brand: CardBrand;
  readonly expMonth: number;
  readonly expYear: number;
  readonly cardholderName: string | null;

  constructor(fields: {
    id: string;
    pan: string;
    brand: CardBrand;
    expMonth: number;
    expYear: number;
    cardholderName: string | null;
  }) {
    this.#pan = fields.pan;
    this.id = fields.id;
    this.brand = fields.brand;
    this.expMonth = fields.expMonth;
    this.expYear = fields.expYear;
    this.cardholderName = fields.cardholderName;
  }

  /** The full card number: for the authorization message only. */
  get pan(): string {
    return this.#pan;
  }

  /** What any log or response may carry instead of the PAN. */
  get display(): string {
    return maskPan(this.#pan).display;
  }

  toJSON(): Record<string, unknown> {
    return { id: this.id, brand: this.brand, pan: this.display, expMonth: this.expMonth, expYear: this.expYear };
  }

  toString(): string {
    return `RevealedCard ${this.display}`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

export interface RewrapOptions {
  /** Data keys re-wrapped per transaction (default and max in limits). */
  batchSize?: number;
}

export interface RewrapReport {
  /** Data keys moved to the current KEK. */
  rewrappedCount: number;
  /** Transactions used. */
  batchCount: number;
  /**
   * Records still under another KEK when it finished: 0 unless a node with an older configuration
   * wrote meanwhile or another rewrap held rows locked; run it again then.
   */
  remainingCount: number;
}

export interface CardVault {
  /** Checks and stores a card; the same PAN stored twice gives two records with one fingerprint. */
  store(card: CardToStore): Promise<VaultCard>;
  /** The displayable facts of a record, without decrypting it; null when there is none. */
  retrieve(id: string): Promise<VaultCard | null>;
  /**
   * Decrypts a record for an authorization. Throws not_found, card_vault_key_unknown (its
   * KEK is not configured) or card_vault_record_unreadable (altered, or moved between rows).
   */
  reveal(id: string): Promise<RevealedCard>;
  /** The fingerprint a PAN has (or would have) in this vault. */
  fingerprintOf(pan: string): string;
  /** Records with this fingerprint, oldest first (at most cardVaultFingerprintMatchesMax). */
  findByFingerprint(fingerprint: string): Promise<VaultCard[]>;
  /** Re-wraps every data key not under the current KEK with it, in short id-ordered batches. */
  rewrapAll(options?: RewrapOptions): Promise<RewrapReport>;
  /** KEK ids some record still needs, sorted: a key may leave the configuration once absent here. */
  keysInUse(): Promise<string[]>;
}

export interface CardVaultDeps {
  db: Db;
  keys: VaultKeys;
  /** The clock expiry dates are checked against. */
  now?: () => number;
}

interface VaultRow {
  id: string;
  kek_id: string;
  wrapped_data_key: string;
  ciphertext: string;
  bin: string;
  last4: string;
  brand: CardBrand;
  exp_month: number;
  exp_year: number;
  fingerprint: string;
  created_at: Date;
}

/** The sealed plaintext: snake_case JSON, versioned by the seal format. */
interface SealedRecord {
  pan: string;
  exp_month: number;
  exp_year: number;
  cardholder_name: string | null;
}

const cardFields = new Set(['pan', 'expMonth', 'expYear', 'cardholderName']);
const publicColumns = 'id, bin, last4, brand, exp_month, exp_year, fingerprint, created_at';

function dataKeyAssociatedData(id: string, kekId: string): string {
  // The KEK id is bound too: editing kek_id to another configured key does not open the data key.
  return `yunpay card vault data key v1|${id}|${kekId}`;
}

function recordAssociatedData(id: string): string {
  return `yunpay card vault record v1|${id}`;
}

function toCard(row: Omit<VaultRow, 'kek_id' | 'wrapped_data_key' | 'ciphertext'>): VaultCard {
  return {
    id: row.id,
    bin: row.bin,
    last4: row.last4,
    brand: row.brand,
    expMonth: Number(row.exp_month),
    expYear: Number(row.exp_year),
    fingerprint: row.fingerprint,
    createdAt: row.created_at,
  };
}

function unreadable(id: string, cause?: unknown): AppError {
  return new AppError('card_vault_record_unreadable', { details: { id }, cause });
}

export function createVault(deps: CardVaultDeps): CardVault {
  const { db, keys } = deps;
  const now = deps.now ?? Date.now;
  assert(keys.encryption.keys.get(keys.encryption.currentId) === keys.encryption.current, 'current KEK is in its ring');
  assert(
    keys.fingerprint.keys.get(keys.fingerprint.currentId) === keys.fingerprint.current,
    'current fingerprint key is in its ring',
  );

  function fingerprintOf(pan: string): string {
    checkPan(pan);
    const digest = createHmac('sha256', keys.fingerprint.current.reveal()).update(pan, 'utf8').digest();
    return base62Of(digest.subarray(0, 16), base62Length);
  }

  function kekFor(id: string, kekId: string): SecretKey {
    const kek = keys.encryption.keys.get(kekId);
    if (kek === undefined) {
      throw new AppError('card_vault_key_unknown', {
        message: `A stored card is encrypted under key ${kekId}, which is not configured.`,
        details: { id, kekId },
      });
    }
    return kek;
  }

  function unwrapDataKey(row: Pick<VaultRow, 'id' | 'kek_id' | 'wrapped_data_key'>): SecretKey {
    const kek = kekFor(row.id, row.kek_id);
    let bytes: Buffer;
    try {
      bytes = open(kek, row.wrapped_data_key, dataKeyAssociatedData(row.id, row.kek_id));
    } catch (error) {
      throw unreadable(row.id, error);
    }
    if (bytes.length !== 32) throw unreadable(row.id);
    return new SecretKey(bytes);
  }

  async function retrieve(id: string): Promise<VaultCard | null> {
    if (!cardIdPattern.test(id)) return null;
    const rows = await db.query<VaultRow>(`select ${publicColumns} from cards_vault where id = $1`, [id]);
    const row = rows[0];
    return row === undefined ? null : toCard(row);
  }

  async function store(card: CardToStore): Promise<VaultCard> {
    for (const field of Object.keys(card)) {
      // A CVC (or anything else) handed to the vault is a programmer error: it must never be stored.
      assert(cardFields.has(field), `the vault stores only ${[...cardFields].join(', ')}, not ${field}`);
    }
    const { brand } = checkPan(card.pan);
    checkExpiry({ expMonth: card.expMonth, expYear: card.expYear, nowMs: now() });
    const cardholderName = card.cardholderName ?? null;
    if (
      cardholderName !== null &&
      (typeof cardholderName !== 'string' ||
        cardholderName.length > limits.cardVaultCardholderNameLengthMax ||
        /\p{Cc}/u.test(cardholderName))
    ) {
      throw new AppError('invalid_request', {
        param: 'cardholder_name',
        message: `The cardholder name must be at most ${limits.cardVaultCardholderNameLengthMax} printable characters.`,
      });
    }
    const masked = maskPan(card.pan);
    const id = newCardId();
    const dataKey = new SecretKey(randomBytes(32));
    const record: SealedRecord = {
      pan: card.pan,
      exp_month: card.expMonth,
      exp_year: card.expYear,
      cardholder_name: cardholderName,
    };
    const ciphertext = seal(dataKey, Buffer.from(JSON.stringify(record), 'utf8'), recordAssociatedData(id));
    const kekId = keys.encryption.currentId;
    const wrappedDataKey = seal(keys.encryption.current, dataKey.reveal(), dataKeyAssociatedData(id, kekId));
    const fingerprint = fingerprintOf(card.pan);
    const rows = await db.query<VaultRow>(
      `insert into cards_vault (id, kek_id, wrapped_data_key, ciphertext, bin, last4, brand, exp_month, exp_year, fingerprint)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       returning ${publicColumns}`,
      [
        id,
        kekId,
        wrappedDataKey,
        ciphertext,
        masked.bin,
        masked.last4,
        brand,
        card.expMonth,
        card.expYear,
        fingerprint,
      ],
    );
    const row = rows[0];
    assert(row !== undefined, 'the insert returns its row');
    const stored = toCard(row);
    assert(stored.last4 === masked.last4 && stored.fingerprint === fingerprint, 'the stored row is the one sent');
    return stored;
  }

  async function reveal(id: string): Promise<RevealedCard> {
    if (!cardIdPattern.test(id)) throw new AppError('not_found', { param: 'id' });
    const rows = await db.query<VaultRow>('select * from cards_vault where id = $1', [id]);
    const row = rows[0];
    if (row === undefined) throw new AppError('not_found', { param: 'id' });
    const dataKey = unwrapDataKey(row);
    let record: SealedRecord;
    try {
      record = JSON.parse(open(dataKey, row.ciphertext, recordAssociatedData(row.id)).toString('utf8')) as SealedRecord;
    } catch (error) {
      throw unreadable(row.id, error);
    }
    // The sealed record and the clear columns must agree (a clear column edited by hand fails here).
    let brand: CardBrand;
    try {
      brand = checkPan(record.pan).brand;
    } catch (error) {
      throw unreadable(row.id, error);
    }
    const masked = maskPan(record.pan);
    if (
      masked.bin !== row.bin ||
      masked.last4 !== row.last4 ||
      brand !== row.brand ||
      record.exp_month !== Number(row.exp_month) ||
      record.exp_year !== Number(row.exp_year)
    ) {
      throw unreadable(row.id);
    }
    return new RevealedCard({
      id: row.id,
      pan: record.pan,
      brand,
      expMonth: record.exp_month,
      expYear: record.exp_year,
      cardholderName: record.cardholder_name,
    });
  }

  async function findByFingerprint(fingerprint: string): Promise<VaultCard[]> {
    if (!fingerprintPattern.test(fingerprint)) return [];
    const rows = await db.query<VaultRow>(
      `select ${publicColumns} from cards_vault where fingerprint = $1 order by created_at, id limit $2`,
      [fingerprint, limits.cardVaultFingerprintMatchesMax],
    );
    return rows.map(toCard);
  }

  async function rewrapBatch(tx: SqlExecutor, batchSize: number): Promise<number> {
    const currentId = keys.encryption.currentId;
    const rows = await tx.query<Pick<VaultRow, 'id' | 'kek_id' | 'wrapped_data_key'>>(
      `select id, kek_id, wrapped_data_key from cards_vault
       where kek_id <> $1 order by id limit $2 for update skip locked`,
      [currentId, batchSize],
    );
    for (const row of rows) {
      const dataKey = unwrapDataKey(row);
      const associatedData = dataKeyAssociatedData(row.id, currentId);
      const wrapped = seal(keys.encryption.current, dataKey.reveal(), associatedData);
      // Checked before it replaces the only copy of the data key.
      assert(open(keys.encryption.current, wrapped, associatedData).equals(dataKey.reveal()), 'the re-wrap opens');
      const updated = await tx.query<{ id: string }>(
        'update cards_vault set kek_id = $2, wrapped_data_key = $3 where id = $1 and kek_id = $4 returning id',
        [row.id, currentId, wrapped, row.kek_id],
      );
      assert(updated.length === 1, 'a locked row is updated');
    }
    return rows.length;
  }

  async function countNotCurrent(): Promise<number> {
    const rows = await db.query<{ count: bigint }>('select count(*) as count from cards_vault where kek_id <> $1', [
      keys.encryption.currentId,
    ]);
    return Number(rows[0]?.count ?? 0n);
  }

  async function rewrapAll(options: RewrapOptions = {}): Promise<RewrapReport> {
    const batchSize = options.batchSize ?? limits.cardVaultRewrapBatchSizeDefault;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > limits.cardVaultRewrapBatchSizeMax) {
      throw new AppError('invalid_request', {
        param: 'batch_size',
        message: `The batch size must be 1 to ${limits.cardVaultRewrapBatchSizeMax}.`,
      });
    }
    // Bounded by what was there at the start (plus one batch that finds nothing), so a node still
    // writing under an old key cannot keep this running forever.
    const batchCountMax = Math.ceil((await countNotCurrent()) / batchSize) + 1;
    let rewrappedCount = 0;
    let batchCount = 0;
    while (batchCount < batchCountMax) {
      const count = await db.transaction((tx) => rewrapBatch(tx, batchSize));
      batchCount += 1;
      rewrappedCount += count;
      if (count < batchSize) break;
    }
    return { rewrappedCount, batchCount, remainingCount: await countNotCurrent() };
  }

  async function keysInUse(): Promise<string[]> {
    const rows = await db.query<{ kek_id: string }>('select distinct kek_id from cards_vault order by kek_id');
    return rows.map((row) => row.kek_id);
  }

  return { store, retrieve, reveal, fingerprintOf, findByFingerprint, rewrapAll, keysInUse };
}

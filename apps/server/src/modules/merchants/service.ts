import type { Db, SqlExecutor } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import { limits } from '../../platform/limits.js';
import { isKnownCurrency } from '../../platform/money.js';
import { isCountryCode } from './countries.js';
import { generateApiKey, hashApiKey, newObjectId, parseApiKey, type ApiKeyKind } from './keys.js';

/** Read or write access of a restricted key to one /v1 resource (`customers`, `payment_intents` …). */
export type ResourcePermission = 'read' | 'write';
export type KeyPermissions = Readonly<Record<string, ResourcePermission>>;

export interface MerchantPricing {
  /** 1 basis point = 0.01 % of the amount. */
  basisPoints: number;
  /** Fixed fee per payment by upper-case currency, minor units. */
  fixedMinor: Readonly<Record<string, bigint>>;
}

export interface Merchant {
  id: string;
  name: string;
  country: string;
  defaultCurrency: string;
  mcc: string;
  city: string | null;
  pricing: MerchantPricing;
  activatedAt: Date | null;
  createdAt: Date;
}

export interface ApiKeyInfo {
  id: string;
  accountId: string;
  livemode: boolean;
  kind: ApiKeyKind;
  /** `sk_test_`, shown with last4 as `sk_test_…last4`. */
  displayPrefix: string;
  last4: string;
  /** The whole key, for publishable keys only (public by design); null otherwise or when issued before it was kept. */
  publishableValue: string | null;
  permissions: KeyPermissions | null;
  expiresAt: Date | null;
  createdAt: Date;
}

/** What a valid API key grants: the caller of a /v1 request. */
export interface AuthenticatedKey {
  accountId: string;
  livemode: boolean;
  keyKind: ApiKeyKind;
  keyId: string;
  /** Restricted keys only; null for secret and publishable keys. */
  permissions: KeyPermissions | null;
}

export interface CreateMerchantInput {
  name: string;
  country: string;
  defaultCurrency: string;
  mcc: string;
  city?: string | null;
  pricing?: { basisPoints?: number; fixedMinor?: Readonly<Record<string, number>> };
}

export interface IssuedKeys {
  merchant: Merchant;
  secretKey: string;
  publishableKey: string;
}

export interface MerchantsConfig {
  merchantFeeBasisPoints: number;
  merchantFeeFixedMinor: Readonly<Record<string, number>>;
}

export interface MerchantsDependencies {
  db: Db;
  config: MerchantsConfig;
  /** Milliseconds since the epoch; tests move it to expire rolled keys. */
  now?: () => number;
}

export interface Merchants {
  create(input: CreateMerchantInput): Promise<IssuedKeys>;
  /** Admin lookups (not cached). */
  retrieve(accountId: string): Promise<Merchant>;
  list(options: { limit: number; startingAfter?: string }): Promise<{ data: Merchant[]; hasMore: boolean }>;
  /** Cached per node for limits.merchantKeyCacheTtlMs. Throws merchant_not_found. */
  getMerchant(accountId: string): Promise<Merchant>;
  /** Turns live mode on: issues the live secret and publishable keys (shown once). */
  activate(accountId: string): Promise<IssuedKeys>;
  /**
   * Issues a new secret key; the current ones of that mode keep working for `expiresInS` seconds
   * (0: they stop now).
   */
  rollSecretKey(
    accountId: string,
    options: { livemode: boolean; expiresInS: number },
  ): Promise<{ key: ApiKeyInfo; secretKey: string; rolled: ApiKeyInfo[] }>;
  createRestrictedKey(
    accountId: string,
    options: { livemode: boolean; permissions: KeyPermissions },
  ): Promise<{ key: ApiKeyInfo; secretKey: string }>;
  listKeys(accountId: string): Promise<ApiKeyInfo[]>;
  /**
   * When the key with this id stops working (expiresAt null: not rolled), or null when there is no
   * such key. Not cached: merchant sessions ask on every request whether their key still works.
   */
  keyExpiry(keyId: string): Promise<{ expiresAt: Date | null } | null>;
  /** Throws api_key_invalid or api_key_expired. Cached per node, bounded, short TTL. */
  authenticateKey(rawKey: string): Promise<AuthenticatedKey>;
}

interface MerchantRow {
  id: string;
  name: string;
  country: string;
  default_currency: string;
  mcc: string;
  city: string | null;
  fee_basis_points: number;
  fee_fixed: Record<string, number | string>;
  activated_at: Date | null;
  created_at: Date;
}

interface KeyRow {
  id: string;
  account_id: string;
  livemode: boolean;
  kind: ApiKeyKind;
  display_prefix: string;
  last4: string;
  publishable_value: string | null;
  permissions: Record<string, ResourcePermission> | null;
  expires_at: Date | null;
  created_at: Date;
}

const merchantColumns =
  'id, name, country, default_currency, mcc, city, fee_basis_points, fee_fixed, activated_at, created_at';
const keyColumns =
  'id, account_id, livemode, kind, display_prefix, last4, publishable_value, permissions, expires_at, created_at';

function toMerchant(row: MerchantRow): Merchant {
  return {
    id: row.id,
    name: row.name,
    country: row.country,
    defaultCurrency: row.default_currency,
    mcc: row.mcc,
    city: row.city,
    pricing: {
      basisPoints: row.fee_basis_points,
      fixedMinor: Object.fromEntries(Object.entries(row.fee_fixed).map(([code, value]) => [code, BigInt(value)])),
    },
    activatedAt: row.activated_at,
    createdAt: row.created_at,
  };
}

function toKeyInfo(row: KeyRow): ApiKeyInfo {
  return {
    id: row.id,
    accountId: row.account_id,
    livemode: row.livemode,
    kind: row.kind,
    displayPrefix: row.display_prefix,
    last4: row.last4,
    publishableValue: row.publishable_value,
    permissions: row.permissions,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  };
}

const permissionNamePattern = /^[a-z][a-z_.]{0,63}$/;

function checkPermissions(permissions: KeyPermissions): void {
  const entries = Object.entries(permissions);
  if (entries.length === 0 || entries.length > 100) {
    throw new AppError('invalid_request', {
      message: 'A restricted key needs 1 to 100 resource permissions.',
      param: 'permissions',
    });
  }
  for (const [resource, access] of entries) {
    if (!permissionNamePattern.test(resource) || (access !== 'read' && access !== 'write')) {
      throw new AppError('invalid_request', {
        message: `Permission ${resource} must name a resource (lower case) with access "read" or "write".`,
        param: `permissions.${resource}`,
      });
    }
  }
}

/** A small bounded cache with a time to live; the oldest entry goes first when it is full. */
class TtlCache<Value> {
  private readonly entries = new Map<string, { value: Value; storedAtMs: number }>();

  constructor(
    private readonly sizeMax: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get(key: string): Value | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const age = this.now() - entry.storedAtMs;
    if (age >= this.ttlMs || age < 0) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: Value): void {
    this.entries.delete(key);
    if (this.entries.size >= this.sizeMax) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, storedAtMs: this.now() });
  }

  deleteWhere(predicate: (value: Value) => boolean): void {
    for (const [key, entry] of this.entries) if (predicate(entry.value)) this.entries.delete(key);
  }
}

async function selectKeyExpiry(db: SqlExecutor, keyId: string): Promise<{ expiresAt: Date | null } | null> {
  const rows = await db.query<{ id: string; expires_at: Date | null }>(
    'select id, expires_at from merchants_api_keys where id = $1',
    [keyId],
  );
  const row = rows[0];
  if (row === undefined) return null;
  assert(row.id === keyId, 'the key row read is the one asked for');
  return { expiresAt: row.expires_at };
}

type CachedKey = { found: false } | { found: true; key: AuthenticatedKey; expiresAtMs: number | null };

export function createMerchants(dependencies: MerchantsDependencies): Merchants {
  const { db, config } = dependencies;
  const now = dependencies.now ?? Date.now;
  const keyCache = new TtlCache<CachedKey>(limits.merchantKeyCacheEntriesMax, limits.merchantKeyCacheTtlMs, now);
  const merchantCache = new TtlCache<Merchant>(limits.merchantCacheEntriesMax, limits.merchantKeyCacheTtlMs, now);

  async function insertKey(
    tx: SqlExecutor,
    options: { accountId: string; kind: ApiKeyKind; livemode: boolean; permissions?: KeyPermissions },
  ): Promise<{ key: ApiKeyInfo; raw: string }> {
    const generated = generateApiKey(options.kind, options.livemode);
    const rows = await tx.query<KeyRow>(
      `insert into merchants_api_keys
         (id, account_id, livemode, kind, key_hash, display_prefix, last4, permissions, publishable_value)
       values ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9) returning ${keyColumns}`,
      [
        newObjectId('key'),
        options.accountId,
        options.livemode,
        options.kind,
        generated.hash,
        generated.displayPrefix,
        generated.last4,
        options.permissions === undefined ? null : JSON.stringify(options.permissions),
        options.kind === 'publishable' ? generated.raw : null,
      ],
    );
    const row = rows[0];
    assert(row !== undefined, 'inserted key row must be returned');
    assert(
      row.publishable_value === (options.kind === 'publishable' ? generated.raw : null),
      'only publishable keys are kept',
    );
    return { key: toKeyInfo(row), raw: generated.raw };
  }

  async function lockMerchant(tx: SqlExecutor, accountId: string): Promise<MerchantRow> {
    const rows = await tx.query<MerchantRow>(
      `select ${merchantColumns} from merchants_accounts where id = $1 for update`,
      [accountId],
    );
    const row = rows[0];
    if (row === undefined) throw new AppError('merchant_not_found');
    const counted = await tx.query<{ count: bigint }>(
      'select count(*) as count from merchants_api_keys where account_id = $1',
      [accountId],
    );
    if (Number(counted[0]?.count ?? 0n) >= limits.merchantApiKeysPerMerchantMax) {
      throw new AppError('conflict', {
        message: `This merchant already holds ${limits.merchantApiKeysPerMerchantMax} API keys.`,
      });
    }
    return row;
  }

  async function retrieve(accountId: string): Promise<Merchant> {
    const rows = await db.query<MerchantRow>(`select ${merchantColumns} from merchants_accounts where id = $1`, [
      accountId,
    ]);
    const row = rows[0];
    if (row === undefined) throw new AppError('merchant_not_found');
    return toMerchant(row);
  }

  return {
    async create(input) {
      const country = input.country.toUpperCase();
      const currency = input.defaultCurrency.toUpperCase();
      if (!isCountryCode(country)) {
        throw new AppError('invalid_request', {
          message: 'country must be an ISO 3166-1 alpha-2 code.',
          param: 'country',
        });
      }
      if (!isKnownCurrency(currency)) throw new AppError('currency_unsupported', { param: 'default_currency' });
      if (!/^[0-9]{4}$/.test(input.mcc)) {
        throw new AppError('invalid_request', { message: 'mcc must be 4 digits (ISO 18245).', param: 'mcc' });
      }
      const basisPoints = input.pricing?.basisPoints ?? config.merchantFeeBasisPoints;
      assert(
        Number.isSafeInteger(basisPoints) && basisPoints >= 0 && basisPoints <= limits.merchantFeeBasisPointsMax,
        'basis points must be validated by the caller',
      );
      const fixed: Record<string, number> = {};
      for (const [code, amount] of Object.entries(input.pricing?.fixedMinor ?? config.merchantFeeFixedMinor)) {
        const upper = code.toUpperCase();
        if (!isKnownCurrency(upper)) {
          throw new AppError('currency_unsupported', { param: `pricing.fixed.${code}` });
        }
        assert(Number.isSafeInteger(amount) && amount >= 0, 'fixed fees must be validated by the caller');
        fixed[upper] = amount;
      }
      const id = newObjectId('acct');
      return db.transaction(async (tx) => {
        const rows = await tx.query<MerchantRow>(
          `insert into merchants_accounts (id, name, country, default_currency, mcc, city, fee_basis_points, fee_fixed)
           values ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb) returning ${merchantColumns}`,
          [id, input.name, country, currency, input.mcc, input.city ?? null, basisPoints, JSON.stringify(fixed)],
        );
        const row = rows[0];
        assert(row !== undefined, 'inserted merchant row must be returned');
        const secret = await insertKey(tx, { accountId: id, kind: 'secret', livemode: false });
        const publishable = await insertKey(tx, { accountId: id, kind: 'publishable', livemode: false });
        return { merchant: toMerchant(row), secretKey: secret.raw, publishableKey: publishable.raw };
      });
    },

    retrieve,

    async list({ limit, startingAfter }) {
      assert(limit >= 1 && limit <= limits.pageSizeMax, 'merchant page size out of range');
      const rows = await db.query<MerchantRow>(
        `select ${merchantColumns} from merchants_accounts m
          where $1::text is null
             or (m.created_at, m.id) < (select created_at, id from merchants_accounts where id = $1)
          order by created_at desc, id desc limit $2`,
        [startingAfter ?? null, limit + 1],
      );
      return { data: rows.slice(0, limit).map(toMerchant), hasMore: rows.length > limit };
    },

    async getMerchant(accountId) {
      const cached = merchantCache.get(accountId);
      if (cached !== undefined) return cached;
      const merchant = await retrieve(accountId);
      merchantCache.set(accountId, merchant);
      return merchant;
    },

    async activate(accountId) {
      return db.transaction(async (tx) => {
        const row = await lockMerchant(tx, accountId);
        if (row.activated_at !== null) throw new AppError('merchant_already_activated');
        const updated = await tx.query<MerchantRow>(
          `update merchants_accounts set activated_at = $2 where id = $1 returning ${merchantColumns}`,
          [accountId, new Date(now())],
        );
        const merchantRow = updated[0];
        assert(merchantRow !== undefined, 'activated merchant row must be returned');
        const secret = await insertKey(tx, { accountId, kind: 'secret', livemode: true });
        const publishable = await insertKey(tx, { accountId, kind: 'publishable', livemode: true });
        merchantCache.deleteWhere((merchant) => merchant.id === accountId);
        return { merchant: toMerchant(merchantRow), secretKey: secret.raw, publishableKey: publishable.raw };
      });
    },

    async rollSecretKey(accountId, { livemode, expiresInS }) {
      assert(
        Number.isSafeInteger(expiresInS) && expiresInS >= 0 && expiresInS <= limits.merchantKeyRollGraceSMax,
        'grace period must be validated by the caller',
      );
      const result = await db.transaction(async (tx) => {
        const row = await lockMerchant(tx, accountId);
        if (livemode && row.activated_at === null) throw new AppError('merchant_not_activated');
        const nowDate = new Date(now());
        const expiresAt = new Date(nowDate.getTime() + expiresInS * 1000);
        const rolled = await tx.query<KeyRow>(
          `update merchants_api_keys
              set expires_at = case when expires_at is null or expires_at > $4 then $4 else expires_at end
            where account_id = $1 and livemode = $2 and kind = 'secret' and (expires_at is null or expires_at > $3)
            returning ${keyColumns}`,
          [accountId, livemode, nowDate, expiresAt],
        );
        const issued = await insertKey(tx, { accountId, kind: 'secret', livemode });
        return { key: issued.key, secretKey: issued.raw, rolled: rolled.map(toKeyInfo) };
      });
      keyCache.deleteWhere((entry) => entry.found && entry.key.accountId === accountId);
      return result;
    },

    async createRestrictedKey(accountId, { livemode, permissions }) {
      checkPermissions(permissions);
      return db.transaction(async (tx) => {
        const row = await lockMerchant(tx, accountId);
        if (livemode && row.activated_at === null) throw new AppError('merchant_not_activated');
        const issued = await insertKey(tx, { accountId, kind: 'restricted', livemode, permissions });
        return { key: issued.key, secretKey: issued.raw };
      });
    },

    async listKeys(accountId) {
      await retrieve(accountId);
      const rows = await db.query<KeyRow>(
        `select ${keyColumns} from merchants_api_keys where account_id = $1 order by created_at, id limit $2`,
        [accountId, limits.merchantApiKeysPerMerchantMax],
      );
      return rows.map(toKeyInfo);
    },

    keyExpiry(keyId) {
      return selectKeyExpiry(db, keyId);
    },

    async authenticateKey(rawKey) {
      const parsed = parseApiKey(rawKey);
      if (parsed === null) throw new AppError('api_key_invalid');
      const hash = hashApiKey(rawKey);
      let cached = keyCache.get(hash);
      if (cached === undefined) {
        const rows = await db.query<KeyRow>(`select ${keyColumns} from merchants_api_keys where key_hash = $1`, [hash]);
        const row = rows[0];
        cached =
          row === undefined
            ? { found: false }
            : {
                found: true,
                key: {
                  accountId: row.account_id,
                  livemode: row.livemode,
                  keyKind: row.kind,
                  keyId: row.id,
                  permissions: row.permissions,
                },
                expiresAtMs: row.expires_at === null ? null : row.expires_at.getTime(),
              };
        keyCache.set(hash, cached);
      }
      if (!cached.found) throw new AppError('api_key_invalid');
      // The key's text claims a kind and mode: they must be the stored ones.
      assert(
        cached.key.keyKind === parsed.kind && cached.key.livemode === parsed.livemode,
        'stored API key must match the kind and mode its text claims',
      );
      if (cached.expiresAtMs !== null && cached.expiresAtMs <= now()) throw new AppError('api_key_expired');
      return cached.key;
    },
  };
}

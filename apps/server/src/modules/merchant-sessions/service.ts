import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import { checkLimitTable } from '../../platform/limits.js';
import { requestHash, type IdempotencyStore } from '../../platform/idempotency.js';
import { RateLimiter, rateLimitedError } from '../../platform/rate-limit.js';
import {
  newObjectId,
  type ApiKeyInfo,
  type CreateMerchantInput,
  type Merchant,
  type Merchants,
} from '../merchants/index.js';

/** Every bound of this context, checked at start-up (checkMerchantSessionLimits, run by checkAllLimits). */
export const merchantSessionLimits = {
  /** A session ends after this long without a request … */
  idleMs: 12 * 60 * 60 * 1_000,
  /** … and this long after sign-in whatever happens. */
  lifetimeMs: 7 * 24 * 60 * 60 * 1_000,
  /** last_seen_at is written at most this often per session (not on every request). */
  touchIntervalMs: 60 * 1_000,
  /** Random bytes of a session token (the cookie value). */
  tokenBytes: 32,
  /** Failed sign-ins per client (IP) in one window; past it: 429 until the window ends. */
  signInFailuresMax: 10,
  signInFailureWindowMs: 15 * 60 * 1_000,
  /** Clients whose failures are remembered at once (memory stays bounded). */
  signInFailureKeysMax: 10_000,
  /** Expired sessions deleted per sign-in (the purge is amortised over sign-ins). */
  purgeBatchMax: 100,
  /** Self sign-ups (new test-mode merchants) per client (IP) in one window. */
  signUpsPerClientMax: 5,
  signUpWindowMs: 60 * 60 * 1_000,
} as const;

export type MerchantSessionLimits = { readonly [Name in keyof typeof merchantSessionLimits]: number };

/** Crashes on an inconsistent table; run at start-up by checkAllLimits (and by the tests). */
export function checkMerchantSessionLimits(limits: MerchantSessionLimits = merchantSessionLimits): void {
  checkLimitTable('merchantSessionLimits', limits);
  assert(limits.idleMs <= limits.lifetimeMs, 'session idle time must be within its lifetime');
  assert(limits.touchIntervalMs < limits.idleMs, 'session touch interval must be shorter than the idle time');
  assert(limits.tokenBytes >= 16, 'session tokens need at least 128 random bits');
}

export interface MerchantSession {
  /** msess_…: safe to log (the token is not). */
  id: string;
  accountId: string;
  livemode: boolean;
  /** The secret key the merchant signed in with (its id, never the key). */
  keyId: string;
  createdAt: Date;
  idleExpiresAt: Date;
  expiresAt: Date;
}

export interface SignedIn {
  /** The cookie value: shown to the browser only, stored as its SHA-256. */
  token: string;
  csrfToken: string;
  session: MerchantSession;
  merchant: Merchant;
}

/** What a merchant gives to sign up by itself (pricing stays the operator's default). */
export type SignUpInput = Omit<CreateMerchantInput, 'pricing'>;

export interface SignedUp {
  signedIn: SignedIn;
  /** The test-mode keys, shown once: the secret key is how the merchant signs in again. */
  secretKey: string;
  publishableKey: string;
}

export interface MerchantSessions {
  /** Verifies a secret key (never stored) and opens a session. Throws invalid_credentials or rate_limited. */
  signIn(input: { secretKey: string; clientKey: string }): Promise<SignedIn>;
  /**
   * Self sign-up: creates a merchant in test mode (live keys come only when the operator activates
   * it), and opens a test-mode session. Idempotent per client and key: a retry gets the same
   * account and keys (a new session). Throws rate_limited past limits.signUpsPerClientMax.
   */
  signUp(input: { account: SignUpInput; clientKey: string; idempotencyKey: string }): Promise<SignedUp>;
  /** The live session of a token, or null (unknown, expired, signed out). Extends the idle expiry. */
  authenticate(token: string): Promise<MerchantSession | null>;
  /** The CSRF token bound to a session token (derived, so a page reload can get it again). */
  csrfTokenFor(token: string): string;
  /** Constant-time comparison of a presented CSRF token with the session's. */
  csrfTokenMatches(token: string, presented: string): boolean;
  signOut(token: string): Promise<void>;
  merchantOf(session: MerchantSession): Promise<Merchant>;
  /** The keys of the session's account and mode, redacted. */
  listKeys(session: MerchantSession): Promise<ApiKeyInfo[]>;
  /**
   * Rolls the secret key of the session's mode (the new one is returned once). Other sessions
   * opened with a rolled key end when that key expires; this session moves to the new key.
   */
  rollSecretKey(
    session: MerchantSession,
    options: { expiresInS: number },
  ): Promise<{ key: ApiKeyInfo; secretKey: string; rolled: ApiKeyInfo[] }>;
}

export interface MerchantSessionsDependencies {
  db: Db;
  merchants: Pick<Merchants, 'authenticateKey' | 'create' | 'getMerchant' | 'keyExpiry' | 'listKeys' | 'rollSecretKey'>;
  /** Self sign-ups are idempotent by key (the keys they issue are stored sealed, to be replayed). */
  idempotency: IdempotencyStore;
  /** Milliseconds since the epoch; tests move it to expire sessions. */
  now?: () => number;
  /** Tests tighten or relax the failed sign-in limit. */
  signInFailures?: { failuresMax: number; windowMs: number };
}

interface SessionRow {
  id: string;
  account_id: string;
  livemode: boolean;
  key_id: string;
  created_at: Date;
  last_seen_at: Date;
  idle_expires_at: Date;
  expires_at: Date;
}

const sessionColumns = 'id, account_id, livemode, key_id, created_at, last_seen_at, idle_expires_at, expires_at';
const tokenPattern = /^[A-Za-z0-9_-]{43}$/;
const csrfLabel = 'yunpay merchant session csrf v1';

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function toSession(row: SessionRow): MerchantSession {
  return {
    id: row.id,
    accountId: row.account_id,
    livemode: row.livemode,
    keyId: row.key_id,
    createdAt: row.created_at,
    idleExpiresAt: row.idle_expires_at,
    expiresAt: row.expires_at,
  };
}

/** Failed sign-ins per client in fixed windows; bounded memory (the oldest window is forgotten first). */
class FailureCounter {
  readonly #windows = new Map<string, { startMs: number; count: number }>();

  constructor(
    private readonly failuresMax: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** Seconds until the client may try again, or null when it may try now. */
  blockedForS(key: string): number | null {
    const window = this.#windows.get(key);
    if (window === undefined) return null;
    const ageMs = this.now() - window.startMs;
    if (ageMs >= this.windowMs || ageMs < 0) {
      this.#windows.delete(key);
      return null;
    }
    return window.count >= this.failuresMax ? Math.max(1, Math.ceil((this.windowMs - ageMs) / 1_000)) : null;
  }

  record(key: string): void {
    const nowMs = this.now();
    let window = this.#windows.get(key);
    if (window === undefined || nowMs - window.startMs >= this.windowMs) {
      this.#windows.delete(key);
      if (this.#windows.size >= merchantSessionLimits.signInFailureKeysMax) {
        const oldest = this.#windows.keys().next();
        if (oldest.done !== true) this.#windows.delete(oldest.value);
      }
      window = { startMs: nowMs, count: 0 };
      this.#windows.set(key, window);
    }
    window.count += 1;
  }
}

export function createMerchantSessions(dependencies: MerchantSessionsDependencies): MerchantSessions {
  const { db, merchants } = dependencies;
  const now = dependencies.now ?? Date.now;
  const failures = new FailureCounter(
    dependencies.signInFailures?.failuresMax ?? merchantSessionLimits.signInFailuresMax,
    dependencies.signInFailures?.windowMs ?? merchantSessionLimits.signInFailureWindowMs,
    now,
  );
  const signUps = new RateLimiter({
    requestsMax: merchantSessionLimits.signUpsPerClientMax,
    windowMs: merchantSessionLimits.signUpWindowMs,
    keysMax: merchantSessionLimits.signInFailureKeysMax,
    now,
  });

  function csrfTokenFor(token: string): string {
    assert(tokenPattern.test(token), 'a CSRF token is derived from a well-formed session token');
    return createHmac('sha256', token).update(csrfLabel).digest('base64url');
  }

  async function purgeExpired(nowDate: Date): Promise<void> {
    await db.query(
      `delete from merchant_sessions where token_hash in (
         select token_hash from merchant_sessions where expires_at <= $1 or idle_expires_at <= $1 limit $2)`,
      [nowDate, merchantSessionLimits.purgeBatchMax],
    );
  }

  const sessions: MerchantSessions = {
    async signIn({ secretKey, clientKey }) {
      const blockedS = failures.blockedForS(clientKey);
      if (blockedS !== null) throw rateLimitedError(blockedS);
      let key;
      try {
        key = await merchants.authenticateKey(secretKey);
      } catch (error) {
        if (error instanceof AppError && (error.code === 'api_key_invalid' || error.code === 'api_key_expired')) {
          failures.record(clientKey);
          throw new AppError('invalid_credentials', { message: 'This is not a valid secret API key.' });
        }
        throw error;
      }
      // Publishable and restricted keys cannot open the dashboard: it acts with the secret key's rights.
      if (key.keyKind !== 'secret') {
        failures.record(clientKey);
        throw new AppError('invalid_credentials', { message: 'Sign in with a secret API key (sk_…).' });
      }
      const merchant = await merchants.getMerchant(key.accountId);
      const nowDate = new Date(now());
      await purgeExpired(nowDate);
      const token = randomBytes(merchantSessionLimits.tokenBytes).toString('base64url');
      assert(tokenPattern.test(token), 'a session token is 43 base64url characters');
      const expiresAt = new Date(nowDate.getTime() + merchantSessionLimits.lifetimeMs);
      const idleExpiresAt = new Date(nowDate.getTime() + merchantSessionLimits.idleMs);
      const rows = await db.query<SessionRow>(
        `insert into merchant_sessions
           (token_hash, id, account_id, livemode, key_id, created_at, last_seen_at, idle_expires_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $6, $7, $8) returning ${sessionColumns}`,
        [
          hashToken(token),
          newObjectId('msess'),
          key.accountId,
          key.livemode,
          key.keyId,
          nowDate,
          idleExpiresAt,
          expiresAt,
        ],
      );
      const row = rows[0];
      assert(row !== undefined, 'inserted session row must be returned');
      const session = toSession(row);
      assert(session.accountId === key.accountId && session.livemode === key.livemode, 'session is the key’s');
      return { token, csrfToken: csrfTokenFor(token), session, merchant };
    },

    async signUp({ account, clientKey, idempotencyKey }) {
      const outcome = await dependencies.idempotency.run(
        // Scoped by client: a key can never replay another person's sign-up (and its secret key).
        { scope: `merchant_signup:${clientKey}`, key: idempotencyKey, requestHash: requestHash(account) },
        async () => {
          // Counted only when an account is about to be made (a replay makes none).
          const decision = signUps.take(clientKey);
          if (!decision.allowed) throw rateLimitedError(decision.retryAfterS);
          const issued = await merchants.create({ ...account });
          assert(issued.secretKey.startsWith('sk_test_'), 'a self sign-up gets test-mode keys only');
          return { status: 201, body: { secret_key: issued.secretKey, publishable_key: issued.publishableKey } };
        },
      );
      const keys = outcome.body as { secret_key: string; publishable_key: string };
      const signedIn = await sessions.signIn({ secretKey: keys.secret_key, clientKey });
      return { signedIn, secretKey: keys.secret_key, publishableKey: keys.publishable_key };
    },

    async authenticate(token) {
      if (!tokenPattern.test(token)) return null;
      const nowDate = new Date(now());
      const rows = await db.query<SessionRow>(
        `select ${sessionColumns} from merchant_sessions
          where token_hash = $1 and expires_at > $2 and idle_expires_at > $2`,
        [hashToken(token), nowDate],
      );
      const row = rows[0];
      if (row === undefined) return null;
      // The key the session was opened with must still be valid: a key rolled anywhere (the
      // dashboard or /admin/v1) ends the sessions it opened when it expires.
      const key = await merchants.keyExpiry(row.key_id);
      if (key === null || (key.expiresAt !== null && key.expiresAt.getTime() <= nowDate.getTime())) return null;
      if (nowDate.getTime() - row.last_seen_at.getTime() >= merchantSessionLimits.touchIntervalMs) {
        const idle = new Date(Math.min(nowDate.getTime() + merchantSessionLimits.idleMs, row.expires_at.getTime()));
        await db.query('update merchant_sessions set last_seen_at = $2, idle_expires_at = $3 where token_hash = $1', [
          hashToken(token),
          nowDate,
          idle,
        ]);
        row.idle_expires_at = idle;
      }
      return toSession(row);
    },

    csrfTokenFor,

    csrfTokenMatches(token, presented) {
      if (!tokenPattern.test(token)) return false;
      const expected = Buffer.from(csrfTokenFor(token), 'utf8');
      const given = Buffer.from(presented, 'utf8');
      // timingSafeEqual needs equal lengths; the length of a valid token is public anyway.
      return given.length === expected.length && timingSafeEqual(given, expected);
    },

    async signOut(token) {
      if (!tokenPattern.test(token)) return;
      await db.query('delete from merchant_sessions where token_hash = $1', [hashToken(token)]);
    },

    merchantOf(session) {
      return merchants.getMerchant(session.accountId);
    },

    async listKeys(session) {
      const keys = await merchants.listKeys(session.accountId);
      return keys.filter((key) => key.livemode === session.livemode);
    },

    async rollSecretKey(session, { expiresInS }) {
      const result = await merchants.rollSecretKey(session.accountId, { livemode: session.livemode, expiresInS });
      const nowDate = new Date(now());
      for (const rolled of result.rolled) {
        // A session lives no longer than the key it was opened with (a leaked key's sessions die with it).
        const end = rolled.expiresAt ?? nowDate;
        await db.query(
          `update merchant_sessions
              set expires_at = least(expires_at, greatest($3::timestamptz, created_at + interval '1 millisecond')),
                  idle_expires_at = least(idle_expires_at, greatest($3::timestamptz, created_at + interval '1 millisecond'))
            where account_id = $1 and key_id = $2 and id <> $4`,
          [session.accountId, rolled.id, end, session.id],
        );
      }
      await db.query('update merchant_sessions set key_id = $2 where id = $1', [session.id, result.key.id]);
      return result;
    },
  };
  return sessions;
}

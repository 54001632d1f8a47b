import { createHash, createHmac } from 'node:crypto';
import type { Db } from './db.js';
import { AppError, errorCatalog, isAppError, type ErrorCode } from './errors.js';
import type { Migration } from './migrations.js';
import { loadInstallKeys, type SecretKey } from './secret-box.js';

/**
 * Idempotency keys for every mutation that a client may retry: the first response is stored and
 * replayed for the same key; the same key with other parameters is refused
 * (idempotency_key_reused); a duplicate arriving while the first still runs gets
 * idempotency_key_in_use (409). A request that failed on our side (5xx) leaves no record, so it
 * can be retried. Callers should also derive the ids of what they create from the key (ledger
 * transfer ids do), so a retry after a crash mid-request cannot apply twice.
 */

export const idempotencyMigrations: readonly Migration[] = [
  {
    id: '0050_idempotency',
    sql: `
      create table idempotency_keys (
        scope text not null,
        key text not null,
        request_hash text not null,
        state text not null check (state in ('in_progress', 'completed')),
        response_status integer,
        response_body jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        primary key (scope, key)
      );
      create index idempotency_keys_created on idempotency_keys (created_at);
    `,
  },
  {
    id: '0051_idempotency_keyed_hashes',
    sql: `
      -- Request hashes are stored keyed (HMAC under this install secret): a body may hold a card
      -- number, and a plain hash of it could be brute-forced back (PCI DSS 3.5.1.1).
      create table idempotency_secrets (id integer primary key check (id = 1), secret text not null);
      delete from idempotency_keys;
    `,
  },
];

export const idempotencyLimits = {
  keyLengthMax: 255,
  /** An in-progress record older than this belongs to a request that died: a retry may take it over. */
  staleAfterMs: 60_000,
  /** Completed records are kept at least this long (Stripe keeps 24 hours). */
  retentionMs: 48 * 60 * 60 * 1000,
  purgeBatchMax: 1000,
} as const;

const keyPattern = /^[\x21-\x7e]+$/;

export interface StoredResponse {
  status: number;
  body: unknown;
}

export interface IdempotentOutcome extends StoredResponse {
  replayed: boolean;
}

/** A stable hash of the request's parameters (objects compared regardless of key order). */
export function requestHash(parameters: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
      );
    }
    return typeof value === 'bigint' ? value.toString() : value;
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(parameters)))
    .digest('hex');
}

export function checkIdempotencyKey(key: string | undefined): string {
  if (key === undefined || key === '') throw new AppError('idempotency_key_required', { param: 'Idempotency-Key' });
  if (key.length > idempotencyLimits.keyLengthMax || !keyPattern.test(key)) {
    throw new AppError('invalid_request', {
      message: `The Idempotency-Key must be 1 to ${idempotencyLimits.keyLengthMax} printable ASCII characters.`,
      param: 'Idempotency-Key',
    });
  }
  return key;
}

const recorded = Symbol('idempotency.recordedFailure');

/**
 * Marks a 4xx error as the request's final outcome (something was recorded, e.g. a declined
 * top-up in the history): it is stored and replayed for the same key. Errors not marked mean the
 * request was refused before it did anything (bad PIN, over a limit): the key is released, and a
 * retry with the same key is processed afresh.
 */
export function recordedFailure(error: AppError): AppError {
  (error as AppError & { [recorded]?: true })[recorded] = true;
  return error;
}

function isRecordedFailure(error: unknown): error is AppError {
  return isAppError(error) && error.status < 500 && (error as AppError & { [recorded]?: true })[recorded] === true;
}

export interface IdempotencyStore {
  /**
   * Runs fn once per (scope, key). A failure marked with recordedFailure() is stored and replayed
   * (as the error it was); anything else thrown releases the key and propagates.
   */
  run(
    options: { scope: string; key: string; requestHash: string },
    fn: () => Promise<StoredResponse>,
  ): Promise<IdempotentOutcome>;
  /**
   * The HTTP-layer form of run() (the /v1 API stores whole responses, errors included): claims the
   * key, or answers with the stored response to replay. Throws idempotency_key_reused for other
   * parameters and idempotency_key_in_use while the first request runs. A claim must be followed by
   * complete() or release().
   */
  claim(options: { scope: string; key: string; requestHash: string }): Promise<IdempotencyClaim>;
  /** Stores the final response of a claimed key, to be replayed. */
  complete(options: { scope: string; key: string; response: StoredResponse }): Promise<void>;
  /** Forgets a claimed key that did not complete (a 5xx, a 429): a retry runs afresh. */
  release(options: { scope: string; key: string }): Promise<void>;
  /** Deletes records older than the retention period; returns how many. */
  purgeExpired(): Promise<number>;
}

export type IdempotencyClaim = { state: 'claimed' } | { state: 'replay'; response: StoredResponse };

interface Row {
  request_hash: string;
  state: 'in_progress' | 'completed';
  response_status: number | null;
  response_body: unknown;
  stale: boolean;
}

/** How a stored 4xx error is kept, so it can be thrown again on replay. */
interface StoredError {
  __error: { code: string; message: string; param?: string; details?: Record<string, unknown> };
}

function isStoredError(body: unknown): body is StoredError {
  return typeof body === 'object' && body !== null && '__error' in body;
}

export function createIdempotencyStore(db: Db): IdempotencyStore {
  // One install-wide key, shared by every node through the database; loaded once per process.
  let hashKey: Promise<SecretKey> | null = null;
  async function keyed(hash: string): Promise<string> {
    hashKey ??= loadInstallKeys(db, 'idempotency_secrets', ['request_hash']).then((keys) => keys.request_hash);
    const key = await hashKey.catch((error: unknown) => {
      hashKey = null;
      throw error;
    });
    return createHmac('sha256', key.reveal()).update(hash).digest('hex');
  }

  async function claim(scope: string, key: string, hash: string): Promise<'claimed' | Row> {
    const inserted = await db.query<{ key: string }>(
      `insert into idempotency_keys (scope, key, request_hash, state) values ($1, $2, $3, 'in_progress')
       on conflict (scope, key) do nothing returning key`,
      [scope, key, hash],
    );
    if (inserted.length === 1) return 'claimed';
    const rows = await db.query<Row>(
      `select request_hash, state, response_status, response_body,
              state = 'in_progress' and updated_at < now() - make_interval(secs => $3) as stale
         from idempotency_keys where scope = $1 and key = $2`,
      [scope, key, idempotencyLimits.staleAfterMs / 1000],
    );
    const row = rows[0];
    if (row === undefined) return claim(scope, key, hash); // purged between the two statements
    return row;
  }

  async function takeOver(scope: string, key: string, hash: string): Promise<boolean> {
    const rows = await db.query<{ key: string }>(
      `update idempotency_keys set updated_at = now()
        where scope = $1 and key = $2 and request_hash = $3 and state = 'in_progress'
          and updated_at < now() - make_interval(secs => $4)
        returning key`,
      [scope, key, hash, idempotencyLimits.staleAfterMs / 1000],
    );
    return rows.length === 1;
  }

  async function execute(scope: string, key: string, fn: () => Promise<StoredResponse>): Promise<IdempotentOutcome> {
    let stored: StoredResponse;
    try {
      stored = await fn();
    } catch (error) {
      if (isRecordedFailure(error)) {
        const body: StoredError = {
          __error: {
            code: error.code,
            message: error.message,
            ...(error.param === undefined ? {} : { param: error.param }),
            ...(error.details === undefined ? {} : { details: error.details }),
          },
        };
        await db.query(
          `update idempotency_keys set state = 'completed', response_status = $3, response_body = $4::text::jsonb, updated_at = now()
            where scope = $1 and key = $2`,
          [scope, key, error.status, JSON.stringify(body)],
        );
        throw error;
      }
      await db.query(`delete from idempotency_keys where scope = $1 and key = $2 and state = 'in_progress'`, [
        scope,
        key,
      ]);
      throw error;
    }
    await db.query(
      `update idempotency_keys set state = 'completed', response_status = $3, response_body = $4::text::jsonb, updated_at = now()
        where scope = $1 and key = $2`,
      [scope, key, stored.status, JSON.stringify(stored.body)],
    );
    return { ...stored, replayed: false };
  }

  async function store(scope: string, key: string, response: StoredResponse): Promise<void> {
    await db.query(
      `update idempotency_keys set state = 'completed', response_status = $3, response_body = $4::text::jsonb, updated_at = now()
        where scope = $1 and key = $2`,
      [scope, key, response.status, JSON.stringify(response.body)],
    );
  }

  return {
    async claim({ scope, key, requestHash }) {
      const hash = await keyed(requestHash);
      const claimed = await claim(scope, key, hash);
      if (claimed === 'claimed') return { state: 'claimed' };
      if (claimed.request_hash !== hash) throw new AppError('idempotency_key_reused', { param: 'Idempotency-Key' });
      if (claimed.state === 'in_progress') {
        if (claimed.stale && (await takeOver(scope, key, hash))) return { state: 'claimed' };
        throw new AppError('idempotency_key_in_use', { param: 'Idempotency-Key' });
      }
      return { state: 'replay', response: { status: claimed.response_status ?? 200, body: claimed.response_body } };
    },

    async complete({ scope, key, response }) {
      await store(scope, key, response);
    },

    async release({ scope, key }) {
      await db.query(`delete from idempotency_keys where scope = $1 and key = $2 and state = 'in_progress'`, [
        scope,
        key,
      ]);
    },

    async run({ scope, key, requestHash }, fn) {
      const hash = await keyed(requestHash);
      const claimed = await claim(scope, key, hash);
      if (claimed === 'claimed') return execute(scope, key, fn);
      if (claimed.request_hash !== hash) throw new AppError('idempotency_key_reused', { param: 'Idempotency-Key' });
      if (claimed.state === 'in_progress') {
        if (claimed.stale && (await takeOver(scope, key, hash))) return execute(scope, key, fn);
        throw new AppError('idempotency_key_in_use', { param: 'Idempotency-Key' });
      }
      const body = claimed.response_body;
      if (isStoredError(body)) {
        const { code, message, param, details } = body.__error;
        const known = (Object.keys(errorCatalog) as ErrorCode[]).find((candidate) => candidate === code);
        throw new AppError(known ?? 'invalid_request', {
          message,
          ...(param === undefined ? {} : { param }),
          details: { ...(details ?? {}), idempotent_replayed: true },
        });
      }
      return { status: claimed.response_status ?? 200, body, replayed: true };
    },

    async purgeExpired() {
      const rows = await db.query<{ key: string }>(
        `delete from idempotency_keys where ctid in (
           select ctid from idempotency_keys where created_at < now() - make_interval(secs => $1) limit $2)
         returning key`,
        [idempotencyLimits.retentionMs / 1000, idempotencyLimits.purgeBatchMax],
      );
      return rows.length;
    },
  };
}

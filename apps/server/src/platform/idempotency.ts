import { createHash, createHmac } from 'node:crypto';
import type { Db, SqlExecutor } from './db.js';
import { AppError, assert, errorCatalog, isAppError, type ErrorCode } from './errors.js';
import { derivedObjectId } from './ids.js';
import { instanceAliveSql, instanceLimits, type Instance } from './instances.js';
import { checkLimitTable } from './limits.js';
import type { Migration } from './migrations.js';
import { loadInstallKeys, open, seal, type SecretKey } from './secret-box.js';

/**
 * Idempotency keys for every mutation that a client may retry, in Stripe's design ("idempotency
 * keys with recovery points"):
 * - The first request with a key claims it; its final response is stored (sealed: AES-GCM under an
 *   install key, because a response may reveal a secret once) and replayed for the same key. The
 *   same key with other parameters is refused (idempotency_key_reused).
 * - While the first request runs, a duplicate gets idempotency_key_in_use (409). The claim names
 *   the process (instance) holding it: once that process is dead (platform/instances.ts), or the
 *   claim is older than staleAfterMs, a retry takes the key over.
 * - A request that moves money runs as atomic phases. Each phase's transaction also records, on
 *   the key's row, the recovery point it reached and the ids of what it created
 *   (recordPoint). A retry that takes over a dead request gets them (attempt.resumed) and continues
 *   from there; the ids that matter for money are derived from the key (derivedId), so the retry
 *   finds the first attempt's objects instead of creating new ones. It never runs twice.
 * - A request that failed on our side (5xx) before any phase committed leaves no record, so it can
 *   be retried afresh; one that failed after a phase keeps its record, released at once for a retry
 *   to resume.
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
  {
    id: '0052_idempotency_recovery_points',
    sql: `
      -- The process holding an in-progress key, how far the request got, and what it created.
      alter table idempotency_keys add column locked_by text;
      alter table idempotency_keys add column recovery_point text not null default 'started';
      alter table idempotency_keys add column resources jsonb not null default '{}';
      -- Stored responses are sealed (AES-256-GCM); response_body is only read for rows stored before
      -- this migration, until housekeeping reseals them.
      alter table idempotency_keys add column response_sealed text;
    `,
  },
];

export const idempotencyLimits = {
  keyLengthMax: 255,
  /**
   * An in-progress record older than this may be taken over even if its process still looks alive
   * (a request stuck that long is as good as dead). A dead process's records are taken over sooner.
   */
  staleAfterMs: 60_000,
  /** Completed records are kept at least this long (Stripe keeps 24 hours). */
  retentionMs: 48 * 60 * 60 * 1000,
  purgeBatchMax: 1000,
  /** Records stored in clear before sealing existed, resealed per housekeeping run. */
  resealBatchMax: 500,
  /** Resources one record may name. */
  resourcesMax: 16,
} as const;

export type IdempotencyLimits = { readonly [Name in keyof typeof idempotencyLimits]: number };

/** Crashes on an inconsistent table; run at start-up by checkAllLimits (and by the tests). */
export function checkIdempotencyLimits(table: IdempotencyLimits = idempotencyLimits): void {
  checkLimitTable('idempotencyLimits', table);
  assert(
    instanceLimits.deadAfterMs < table.staleAfterMs,
    "a dead process's records must be taken over sooner than a live one's stale records",
  );
  assert(table.staleAfterMs < table.retentionMs, 'records must be kept longer than they take to go stale');
}

const keyPattern = /^[\x21-\x7e]+$/;
const recoveryPointPattern = /^[a-z][a-z_]{0,39}$/;
const resourceNamePattern = /^[a-z][a-z_]{0,39}$/;

export interface StoredResponse {
  status: number;
  body: unknown;
}

export interface IdempotentOutcome extends StoredResponse {
  replayed: boolean;
}

/** One idempotent request: the key, in its scope (`v1:<account>:<mode>`, `wallet:<user>:transfers`…). */
export interface IdempotentCall {
  scope: string;
  key: string;
}

/** What a request that took over a dead one learns about it. */
export interface ResumedAttempt {
  /** The last recovery point a phase of the dead request committed ('started': none). */
  recoveryPoint: string;
  /** The ids of what it created, by name (payment_intent, charge, refund…). */
  resources: Record<string, string>;
}

/** The request now holding a key. */
export interface IdempotentAttempt {
  call: IdempotentCall;
  /** Set when this request took the key over from one that died. */
  resumed: ResumedAttempt | null;
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
   * (as the error it was); anything else thrown releases the key and propagates. fn is given the
   * attempt: a retry that took over a dead request resumes from attempt.resumed.
   */
  run(
    options: { scope: string; key: string; requestHash: string },
    fn: (attempt: IdempotentAttempt) => Promise<StoredResponse>,
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
  /**
   * Gives up a claimed key that did not complete (a 5xx, a 429): with no recovery point recorded
   * it is forgotten (a retry runs afresh); otherwise it is left for a retry to take over at once.
   */
  release(options: { scope: string; key: string }): Promise<void>;
  /**
   * Records, in the caller's transaction, that the request reached `point` and created
   * `resources`: a retry after a crash resumes from there. Does nothing for a null call.
   */
  recordPoint(
    tx: SqlExecutor,
    call: IdempotentCall | null,
    point: string,
    resources?: Readonly<Record<string, string>>,
  ): Promise<void>;
  /**
   * The id of the object `name` an idempotent request creates: the same for every attempt with
   * this key, unpredictable without the install secret.
   */
  derivedId(call: IdempotentCall, prefix: string, name?: string): Promise<string>;
  /** Deletes records older than the retention period; returns how many. */
  purgeExpired(): Promise<number>;
  /** Seals responses stored in clear by an older version; returns how many. */
  resealLegacy(): Promise<number>;
}

export type IdempotencyClaim =
  { state: 'claimed'; attempt: IdempotentAttempt } | { state: 'replay'; response: StoredResponse };

interface Row {
  request_hash: string;
  state: 'in_progress' | 'completed';
  response_status: number | null;
  response_body: unknown;
  response_sealed: string | null;
}

/** How a stored 4xx error is kept, so it can be thrown again on replay. */
interface StoredError {
  __error: { code: string; message: string; param?: string; details?: Record<string, unknown> };
}

function isStoredError(body: unknown): body is StoredError {
  return typeof body === 'object' && body !== null && '__error' in body;
}

function assertResources(resources: Readonly<Record<string, string>>): void {
  const names = Object.keys(resources);
  assert(names.length <= idempotencyLimits.resourcesMax, 'too many resources on one idempotency record');
  for (const name of names) {
    assert(resourceNamePattern.test(name), `resource name ${name} is snake_case`);
    assert(typeof resources[name] === 'string' && resources[name].length <= 255, `resource ${name} is an id`);
  }
}

type InstallKeys = Record<'request_hash' | 'response' | 'ids', SecretKey>;

/** What the store's operations share: the database, this process, and the install keys. */
interface StoreDeps {
  db: Db;
  instance: Pick<Instance, 'ready'>;
  /** The process that claims keys (locked_by). */
  instanceId: string;
  keys: () => Promise<InstallKeys>;
}

/** One install-wide secret, shared by every node through the database; loaded once per process. */
function installKeysLoader(db: Db): () => Promise<InstallKeys> {
  let installKeys: Promise<InstallKeys> | null = null;
  return async function keys() {
    installKeys ??= loadInstallKeys(db, 'idempotency_secrets', ['request_hash', 'response', 'ids'] as const);
    return installKeys.catch((error: unknown) => {
      installKeys = null;
      throw error;
    });
  };
}

async function keyed(deps: StoreDeps, hash: string): Promise<string> {
  return createHmac('sha256', (await deps.keys()).request_hash.reveal())
    .update(hash)
    .digest('hex');
}

const associatedData = (scope: string, key: string) => `idempotency\u0000${scope}\u0000${key}`;

async function sealBody(deps: StoreDeps, scope: string, key: string, body: unknown): Promise<string> {
  return seal((await deps.keys()).response, Buffer.from(JSON.stringify(body), 'utf8'), associatedData(scope, key));
}

async function storedBody(deps: StoreDeps, scope: string, key: string, row: Row): Promise<unknown> {
  if (row.response_sealed === null) return row.response_body;
  const opened = open((await deps.keys()).response, row.response_sealed, associatedData(scope, key));
  return JSON.parse(opened.toString('utf8')) as unknown;
}

/** Inserts the claim, or reads the row that is there. */
async function claimRow(deps: StoreDeps, scope: string, key: string, hash: string): Promise<'claimed' | Row> {
  const { db } = deps;
  // A claim naming an instance that is not registered yet would look dead to other requests.
  await deps.instance.ready();
  const inserted = await db.query<{ key: string }>(
    `insert into idempotency_keys (scope, key, request_hash, state, locked_by)
     values ($1, $2, $3, 'in_progress', $4)
     on conflict (scope, key) do nothing returning key`,
    [scope, key, hash, deps.instanceId],
  );
  if (inserted.length === 1) return 'claimed';
  const rows = await db.query<Row>(
    `select request_hash, state, response_status, response_body, response_sealed
       from idempotency_keys where scope = $1 and key = $2`,
    [scope, key],
  );
  const row = rows[0];
  if (row === undefined) return claimRow(deps, scope, key, hash); // purged between the two statements
  return row;
}

/** Takes over an in-progress record whose process died (or that is stale); null if it may not. */
async function takeOver(deps: StoreDeps, scope: string, key: string, hash: string): Promise<ResumedAttempt | null> {
  const rows = await deps.db.query<{ recovery_point: string; resources: Record<string, string> }>(
    `update idempotency_keys set updated_at = now(), locked_by = $4
      where scope = $1 and key = $2 and request_hash = $3 and state = 'in_progress'
        and (locked_by is null or updated_at < now() - make_interval(secs => $5) or not ${instanceAliveSql('locked_by')})
      returning recovery_point, resources`,
    [scope, key, hash, deps.instanceId, idempotencyLimits.staleAfterMs / 1000],
  );
  const row = rows[0];
  return row === undefined ? null : { recoveryPoint: row.recovery_point, resources: row.resources };
}

async function storeResponse(deps: StoreDeps, scope: string, key: string, response: StoredResponse): Promise<void> {
  await deps.db.query(
    `update idempotency_keys set state = 'completed', response_status = $3, response_sealed = $4,
       response_body = null, locked_by = null, updated_at = now()
      where scope = $1 and key = $2`,
    [scope, key, response.status, await sealBody(deps, scope, key, response.body)],
  );
}

async function releaseKey(deps: StoreDeps, scope: string, key: string): Promise<void> {
  // Nothing committed yet: forget the key. A phase committed: leave it for a retry to resume now.
  await deps.db.query(
    `with forgotten as (
       delete from idempotency_keys
        where scope = $1 and key = $2 and state = 'in_progress' and recovery_point = 'started' returning key)
     update idempotency_keys set locked_by = null
      where scope = $1 and key = $2 and state = 'in_progress' and recovery_point <> 'started'`,
    [scope, key],
  );
}

async function acquire(
  deps: StoreDeps,
  scope: string,
  key: string,
  requestHashValue: string,
): Promise<IdempotencyClaim> {
  const hash = await keyed(deps, requestHashValue);
  const claimed = await claimRow(deps, scope, key, hash);
  const call = { scope, key };
  if (claimed === 'claimed') return { state: 'claimed', attempt: { call, resumed: null } };
  if (claimed.request_hash !== hash) throw new AppError('idempotency_key_reused', { param: 'Idempotency-Key' });
  if (claimed.state === 'in_progress') {
    const resumed = await takeOver(deps, scope, key, hash);
    if (resumed !== null) return { state: 'claimed', attempt: { call, resumed } };
    throw new AppError('idempotency_key_in_use', { param: 'Idempotency-Key' });
  }
  return {
    state: 'replay',
    response: { status: claimed.response_status ?? 200, body: await storedBody(deps, scope, key, claimed) },
  };
}

async function execute(
  deps: StoreDeps,
  attempt: IdempotentAttempt,
  fn: (attempt: IdempotentAttempt) => Promise<StoredResponse>,
): Promise<IdempotentOutcome> {
  const { scope, key } = attempt.call;
  let stored: StoredResponse;
  try {
    stored = await fn(attempt);
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
      await storeResponse(deps, scope, key, { status: error.status, body });
      throw error;
    }
    await releaseKey(deps, scope, key);
    throw error;
  }
  await storeResponse(deps, scope, key, stored);
  return { ...stored, replayed: false };
}

/** Claims the key and runs fn, or replays the stored outcome (a stored 4xx is thrown again). */
async function run(
  deps: StoreDeps,
  { scope, key, requestHash: hash }: { scope: string; key: string; requestHash: string },
  fn: (attempt: IdempotentAttempt) => Promise<StoredResponse>,
): Promise<IdempotentOutcome> {
  const claim = await acquire(deps, scope, key, hash);
  if (claim.state === 'claimed') return execute(deps, claim.attempt, fn);
  const body = claim.response.body;
  if (isStoredError(body)) {
    const { code, message, param, details } = body.__error;
    const known = (Object.keys(errorCatalog) as ErrorCode[]).find((candidate) => candidate === code);
    throw new AppError(known ?? 'invalid_request', {
      message,
      ...(param === undefined ? {} : { param }),
      details: { ...(details ?? {}), idempotent_replayed: true },
    });
  }
  return { status: claim.response.status, body, replayed: true };
}

async function recordPoint(
  tx: SqlExecutor,
  call: IdempotentCall | null,
  point: string,
  resources: Readonly<Record<string, string>> = {},
): Promise<void> {
  if (call === null) return;
  assert(recoveryPointPattern.test(point), `recovery point ${point} is snake_case`);
  assertResources(resources);
  await tx.query(
    `update idempotency_keys set recovery_point = $3, resources = resources || $4::text::jsonb, updated_at = now()
      where scope = $1 and key = $2 and state = 'in_progress'`,
    [call.scope, call.key, point, JSON.stringify(resources)],
  );
}

async function derivedId(deps: StoreDeps, call: IdempotentCall, prefix: string, name = prefix): Promise<string> {
  return derivedObjectId(prefix, (await deps.keys()).ids.reveal(), `${call.scope}\u0000${call.key}\u0000${name}`);
}

async function purgeExpired(db: Db): Promise<number> {
  const rows = await db.query<{ key: string }>(
    `delete from idempotency_keys where ctid in (
       select ctid from idempotency_keys where created_at < now() - make_interval(secs => $1) limit $2)
     returning key`,
    [idempotencyLimits.retentionMs / 1000, idempotencyLimits.purgeBatchMax],
  );
  return rows.length;
}

async function resealLegacy(deps: StoreDeps): Promise<number> {
  const rows = await deps.db.query<{ scope: string; key: string; response_body: unknown }>(
    `select scope, key, response_body from idempotency_keys
      where state = 'completed' and response_sealed is null and response_body is not null limit $1`,
    [idempotencyLimits.resealBatchMax],
  );
  for (const row of rows) {
    await deps.db.query(
      `update idempotency_keys set response_sealed = $3, response_body = null
        where scope = $1 and key = $2 and response_sealed is null`,
      [row.scope, row.key, await sealBody(deps, row.scope, row.key, row.response_body)],
    );
  }
  return rows.length;
}

export function createIdempotencyStore(
  db: Db,
  options: { instance: Pick<Instance, 'id' | 'ready'> },
): IdempotencyStore {
  const deps: StoreDeps = {
    db,
    instance: options.instance,
    instanceId: options.instance.id,
    keys: installKeysLoader(db),
  };
  return {
    claim: ({ scope, key, requestHash: hash }) => acquire(deps, scope, key, hash),
    async complete({ scope, key, response }) {
      await storeResponse(deps, scope, key, response);
    },
    async release({ scope, key }) {
      await releaseKey(deps, scope, key);
    },
    recordPoint: (tx, call, point, resources = {}) => recordPoint(tx, call, point, resources),
    derivedId: (call, prefix, name = prefix) => derivedId(deps, call, prefix, name),
    run: (runOptions, fn) => run(deps, runOptions, fn),
    purgeExpired: () => purgeExpired(db),
    resealLegacy: () => resealLegacy(deps),
  };
}

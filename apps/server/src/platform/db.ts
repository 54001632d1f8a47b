import { mkdirSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { acquireDirectoryLock, type DirectoryLock } from './dir-lock.js';
import { assert } from './errors.js';
import { limits } from './limits.js';

/** A value we send as a query parameter. bigint is sent as its decimal text. */
export type SqlParam = string | number | boolean | bigint | null | Date;

/** Something that runs one SQL statement with positional parameters ($1, $2 …). */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(text: string, params?: readonly SqlParam[]): Promise<Row[]>;
  /** Runs a script of several statements with no parameters (migrations). */
  execScript(text: string): Promise<void>;
}

export type DbKind = 'postgres' | 'embedded';

/**
 * The storage handle every bounded context receives. Both implementations speak the same
 * PostgreSQL dialect and return int8 as bigint, timestamptz as Date, jsonb as parsed JSON.
 */
export interface Db extends SqlExecutor {
  readonly kind: DbKind;
  /** Runs fn inside one transaction (READ COMMITTED); commits when fn resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * LISTENs on a channel (lower-case identifier) and calls onPayload with each NOTIFY payload, in
   * commit order; resolves once the LISTEN is active, with a function that stops listening.
   * postgres: one dedicated connection per Db shared by every channel, re-established after a
   * connection loss (notifications sent while it was down are lost). Embedded: the one connection.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const channelPattern = /^[a-z_][a-z0-9_]{0,62}$/;

function assertChannel(channel: string): void {
  // Both drivers quote the name differently (postgres.js quotes, PGlite folds case): keep it plain.
  assert(channelPattern.test(channel), `channel ${channel} must be a lower-case identifier`);
}

function toDriverParams(params: readonly SqlParam[] | undefined): unknown[] {
  if (params === undefined) return [];
  return params.map((value) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Date) return value.toISOString();
    return value;
  });
}

/**
 * Which statements run as named prepared statements (parsed and planned once per connection rather
 * than on every call: measured in docs/benchmarks.md). Every statement the code sends is one of a
 * fixed set of texts, but a bug that built SQL text per call must not grow each connection's
 * statement cache without end: past `statementTextsMax` distinct texts, new ones run unprepared.
 */
export function preparedStatements(statementTextsMax: number = limits.databasePreparedStatementsMax) {
  const texts = new Set<string>();
  return {
    shouldPrepare(text: string): boolean {
      if (texts.has(text)) return true;
      if (texts.size >= statementTextsMax) return false;
      texts.add(text);
      return true;
    },
    get size() {
      return texts.size;
    },
  };
}

export interface PostgresDbOptions {
  url: string;
  connectionCountMax: number;
  connectTimeoutS: number;
  statementTimeoutMs: number;
  /** Seconds an unused pooled connection stays open. */
  idleTimeoutS?: number;
}

/**
 * libpq's way to name a Unix-domain socket, which postgres.js lacks: `?host=/var/run/postgresql`
 * (a directory) in the URL. A local server is cheaper to reach over its socket than over TCP
 * loopback (docs/benchmarks.md); the URL's own host then only names the server in messages.
 */
export function postgresSocketOf(url: string): { url: string; socketPath: string | null } {
  const parsed = new URL(url);
  const directory = parsed.searchParams.get('host');
  if (directory === null || !directory.startsWith('/')) return { url, socketPath: null };
  parsed.searchParams.delete('host');
  const port = parsed.port === '' ? '5432' : parsed.port;
  return { url: parsed.toString(), socketPath: `${directory.replace(/\/+$/, '')}/.s.PGSQL.${port}` };
}

export function openPostgresDb(options: PostgresDbOptions): Db {
  const socket = postgresSocketOf(options.url);
  const sql = postgres(socket.url, {
    ...(socket.socketPath === null ? {} : { path: socket.socketPath }),
    max: options.connectionCountMax,
    connect_timeout: options.connectTimeoutS,
    idle_timeout: options.idleTimeoutS ?? 60,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    connection: { statement_timeout: options.statementTimeoutMs, application_name: 'yunpay' },
  });
  type Unsafe = (text: string, params: unknown[], prepare: boolean) => Promise<unknown[]>;
  const prepared = preparedStatements();
  const wrap = (unsafe: Unsafe): SqlExecutor => ({
    async query<Row>(text: string, params?: readonly SqlParam[]) {
      const rows = await unsafe(text, toDriverParams(params), prepared.shouldPrepare(text));
      return rows as Row[];
    },
    async execScript(text: string) {
      // Without parameters and unprepared, postgres.js uses the simple protocol, which allows several statements.
      await unsafe(text, [], false);
    },
  });
  const root = wrap((text, params, prepare) => sql.unsafe(text, params as never[], { prepare }));
  return {
    kind: 'postgres',
    ...root,
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const result = await sql.begin((tx) =>
        fn(wrap((text, params, prepare) => tx.unsafe(text, params as never[], { prepare }))),
      );
      return result as T;
    },
    async listen(channel: string, onPayload: (payload: string) => void) {
      assertChannel(channel);
      const listening = await sql.listen(channel, onPayload);
      return async () => {
        await listening.unlisten();
      };
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

export interface EmbeddedDbOptions {
  /** Directory that holds the database files; null keeps everything in memory (tests only). */
  dataDir: string | null;
}

/**
 * PGlite: PostgreSQL compiled to WASM, in this process. One connection, so every caller goes
 * through transaction() (PGlite queues them) and never shares a BEGIN with another caller.
 * PGlite does not fsync: it survives a process crash, not a power loss.
 */
export async function openEmbeddedDb(options: EmbeddedDbOptions): Promise<Db> {
  let lock: DirectoryLock | null = null;
  let dataDir: string | undefined;
  if (options.dataDir !== null) {
    const root = path.resolve(options.dataDir);
    mkdirSync(root, { recursive: true });
    lock = acquireDirectoryLock(root);
    dataDir = path.join(root, 'pglite');
    mkdirSync(dataDir, { recursive: true });
  }
  let pg: PGlite;
  try {
    pg = await PGlite.create({
      ...(dataDir === undefined ? {} : { dataDir }),
      parsers: { [pgliteTypes.INT8]: (value: string) => BigInt(value) },
    });
  } catch (error) {
    lock?.release();
    throw error;
  }
  interface PgliteLike {
    query(text: string, params: unknown[]): Promise<{ rows: unknown[] }>;
    exec(text: string): Promise<unknown>;
  }
  const wrap = (target: PgliteLike): SqlExecutor => ({
    async query<Row>(text: string, params?: readonly SqlParam[]) {
      const result = await target.query(text, toDriverParams(params));
      return result.rows as Row[];
    },
    async execScript(text: string) {
      await target.exec(text);
    },
  });
  const root = wrap(pg);
  return {
    kind: 'embedded',
    ...root,
    transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      return pg.transaction((tx) => fn(wrap(tx)));
    },
    async listen(channel: string, onPayload: (payload: string) => void) {
      assertChannel(channel);
      const unlisten = await pg.listen(channel, onPayload);
      return async () => {
        // After close() there is nothing left to unlisten from.
        if (!pg.closed) await unlisten();
      };
    },
    async close() {
      try {
        await pg.close();
      } finally {
        lock?.release();
      }
    },
  };
}

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openPostgresDb, postgresSocketOf, preparedStatements, type Db } from '../src/platform/db.js';
import { createScratchPostgresDatabase } from './support/db.js';

describe('prepared statements', () => {
  test('each distinct text is prepared until the bound; past it, new texts run unprepared', () => {
    const prepared = preparedStatements(3);
    expect(['a', 'b', 'a', 'c'].map((text) => prepared.shouldPrepare(text))).toEqual([true, true, true, true]);
    expect(prepared.shouldPrepare('d')).toBe(false);
    expect(prepared.shouldPrepare('b')).toBe(true);
    expect(prepared.size).toBe(3);
  });

  describe('on PostgreSQL', () => {
    let scratch: Awaited<ReturnType<typeof createScratchPostgresDatabase>>;
    let db: Db;

    beforeAll(async () => {
      scratch = await createScratchPostgresDatabase();
      db = openPostgresDb({ url: scratch.url, connectionCountMax: 1, connectTimeoutS: 10, statementTimeoutMs: 10_000 });
    });

    afterAll(async () => {
      await db.close();
      await scratch.drop();
    });

    test('a parameterized query runs as a named prepared statement, in and out of transactions', async () => {
      for (let round = 0; round < 3; round += 1) {
        expect(await db.query<{ n: number }>('select $1::int + 1 as n', [round])).toEqual([{ n: round + 1 }]);
        expect(await db.transaction((tx) => tx.query<{ n: number }>('select $1::int * 2 as n', [round]))).toEqual([
          { n: round * 2 },
        ]);
      }
      const statements = await db.query<{ statement: string }>(
        `select statement from pg_prepared_statements where statement like 'select $1::int%' order by statement`,
      );
      expect(statements.map((row) => row.statement)).toEqual(['select $1::int * 2 as n', 'select $1::int + 1 as n']);
    });

    test('scripts of several statements still run (unprepared, simple protocol)', async () => {
      await db.execScript('create table prepared_t (n int); insert into prepared_t values (1), (2);');
      expect(await db.query('select count(*)::int as count from prepared_t')).toEqual([{ count: 2 }]);
    });
  });
});

describe('a Unix socket named as libpq does (?host=/directory)', () => {
  test('the socket path is the directory and the port; the URL loses the parameter', () => {
    expect(postgresSocketOf('postgres://app@db.example/pay?host=/var/run/postgresql')).toEqual({
      url: 'postgres://app@db.example/pay',
      socketPath: '/var/run/postgresql/.s.PGSQL.5432',
    });
    expect(postgresSocketOf('postgres://app@localhost:6432/pay?host=/tmp/&sslmode=disable').socketPath).toBe(
      '/tmp/.s.PGSQL.6432',
    );
    // A host parameter that is not a directory is left for the driver, as is a URL without one.
    expect(postgresSocketOf('postgres://app@localhost/pay?host=other')).toEqual({
      url: 'postgres://app@localhost/pay?host=other',
      socketPath: null,
    });
    expect(postgresSocketOf('postgres://app@localhost/pay').socketPath).toBeNull();
  });

  test('the pool connects over the socket the server listens on', async () => {
    const scratch = await createScratchPostgresDatabase();
    const overTcp = openPostgresDb({
      url: scratch.url,
      connectionCountMax: 1,
      connectTimeoutS: 10,
      statementTimeoutMs: 10_000,
    });
    try {
      const [settings] = await overTcp.query<{ directories: string }>(
        `select setting as directories from pg_settings where name = 'unix_socket_directories'`,
      );
      const directory = settings!.directories.split(',')[0]!.trim();
      expect(directory.startsWith('/')).toBe(true);
      const url = new URL(scratch.url);
      url.searchParams.set('host', directory);
      const overSocket = openPostgresDb({
        url: url.toString(),
        connectionCountMax: 1,
        connectTimeoutS: 10,
        statementTimeoutMs: 10_000,
      });
      try {
        // A Unix-socket connection has no server address; TCP has one.
        expect(await overSocket.query('select inet_server_addr() is null as unix')).toEqual([{ unix: true }]);
        expect(await overTcp.query('select inet_server_addr() is null as unix')).toEqual([{ unix: false }]);
      } finally {
        await overSocket.close();
      }
    } finally {
      await overTcp.close();
      await scratch.drop();
    }
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { openEmbeddedDb, openPostgresDb, type Db } from '../../src/platform/db.js';
import { runMigrations, type Migration } from '../../src/platform/migrations.js';
import { allMigrations } from '../../src/migrations.js';

/**
 * Which store the suite runs against: YUNPAY_TEST_STORE=postgres uses the server at
 * YUNPAY_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); anything else uses
 * embedded PGlite. Every test database is new, uniquely named, and dropped afterwards.
 */
export type TestStore = 'postgres' | 'embedded';

export function testStore(): TestStore {
  return process.env.YUNPAY_TEST_STORE === 'postgres' ? 'postgres' : 'embedded';
}

export function testServerUrl(): string {
  return process.env.YUNPAY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export interface TestDb {
  db: Db;
  store: TestStore;
  /** postgres:// URL of the fresh database (postgres store), or the PGlite directory (embedded). */
  location: string;
  dispose(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates a uniquely named empty database on the test server and returns its URL and a dropper. */
export async function createScratchPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `yunpay_t_${Date.now().toString(36)}_${randomBytes(5).toString('hex')}`;
  const admin = postgres(testServerUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  return {
    url: withDatabase(testServerUrl(), name),
    async drop() {
      const dropper = postgres(testServerUrl(), { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}

export interface OpenTestDbOptions {
  migrations?: readonly Migration[];
  /** Connections in the postgres pool (default 10). */
  connectionCountMax?: number;
}

export async function openTestDb(options: OpenTestDbOptions = {}): Promise<TestDb> {
  const migrations = options.migrations ?? allMigrations;
  if (testStore() === 'postgres') {
    const scratch = await createScratchPostgresDatabase();
    const db = openPostgresDb({
      url: scratch.url,
      connectionCountMax: options.connectionCountMax ?? 10,
      connectTimeoutS: 10,
      statementTimeoutMs: 60_000,
    });
    await runMigrations(db, migrations);
    return {
      db,
      store: 'postgres',
      location: scratch.url,
      async dispose() {
        await db.close();
        await scratch.drop();
      },
    };
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'yunpay-test-'));
  const db = await openEmbeddedDb({ dataDir });
  await runMigrations(db, migrations);
  return {
    db,
    store: 'embedded',
    location: dataDir,
    async dispose() {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

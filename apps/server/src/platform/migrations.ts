import type { Db } from './db.js';
import { AppError, assert } from './errors.js';

/** A forward-only schema change. Ids sort in the order they must apply: "0001_ledger", … */
export interface Migration {
  readonly id: string;
  readonly sql: string;
}

const migrationIdPattern = /^\d{4}_[a-z0-9_]+$/;
// Any constant works; it only has to be the same on every node.
const migrationAdvisoryLockKey = 7_304_211_908;

export function orderMigrations(migrations: readonly Migration[]): Migration[] {
  const seen = new Set<string>();
  for (const migration of migrations) {
    assert(migrationIdPattern.test(migration.id), `migration id ${migration.id} must look like 0001_name`);
    assert(!seen.has(migration.id), `migration id ${migration.id} is declared twice`);
    seen.add(migration.id);
  }
  return [...migrations].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies every migration not yet recorded, in one transaction holding an advisory lock, so that
 * several nodes starting at once apply each migration exactly once and a failure leaves nothing
 * half-done.
 */
export async function runMigrations(db: Db, migrations: readonly Migration[]): Promise<MigrationReport> {
  const ordered = orderMigrations(migrations);
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [migrationAdvisoryLockKey]);
    await tx.query(
      `create table if not exists schema_migrations (
         id text primary key,
         applied_at timestamptz not null default now()
       )`,
    );
    const rows = await tx.query<{ id: string }>('select id from schema_migrations');
    const applied = new Set(rows.map((row) => row.id));
    const known = new Set(ordered.map((migration) => migration.id));
    const unknown = [...applied].filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new AppError('migration_failed', {
        message: `The database has migrations this build does not know (${unknown.join(', ')}): it was migrated by a newer version.`,
      });
    }
    const report: MigrationReport = { applied: [], alreadyApplied: applied.size };
    for (const migration of ordered) {
      if (applied.has(migration.id)) continue;
      try {
        await tx.execScript(migration.sql);
      } catch (error) {
        throw new AppError('migration_failed', { message: `Migration ${migration.id} failed.`, cause: error });
      }
      await tx.query('insert into schema_migrations (id) values ($1)', [migration.id]);
      report.applied.push(migration.id);
    }
    return report;
  });
}

/** True when every known migration is recorded: what /readyz checks. */
export async function migrationsAreApplied(db: Db, migrations: readonly Migration[]): Promise<boolean> {
  const exists = await db.query<{ present: boolean }>(`select to_regclass('schema_migrations') is not null as present`);
  if (exists[0]?.present !== true) return false;
  const rows = await db.query<{ id: string }>('select id from schema_migrations');
  const applied = new Set(rows.map((row) => row.id));
  return migrations.every((migration) => applied.has(migration.id));
}

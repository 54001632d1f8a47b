import { describe, expect, it } from 'vitest';
import { allMigrations } from '../src/migrations.js';
import { runMigrations } from '../src/platform/migrations.js';
import { openTestDb } from './support/db.js';
import { buildTestApp } from './support/app.js';

interface ReadyzBody {
  status?: string;
  checks?: Record<string, string>;
  error?: { code: string; details?: { checks?: Record<string, string> } };
}

describe('GET /readyz', () => {
  it('is 503 not_ready until the migrations are applied, then 200', async () => {
    const testDb = await openTestDb({ migrations: [] });
    const { app } = buildTestApp({ db: testDb.db });
    try {
      const before = await app.inject({ method: 'GET', url: '/readyz' });
      expect(before.statusCode).toBe(503);
      const beforeBody = before.json<ReadyzBody>();
      expect(beforeBody.error?.code).toBe('not_ready');
      expect(beforeBody.error?.details?.checks).toEqual({ database: 'ok', migrations: 'pending' });

      await runMigrations(testDb.db, allMigrations);
      const after = await app.inject({ method: 'GET', url: '/readyz' });
      expect(after.statusCode).toBe(200);
      expect(after.json<ReadyzBody>()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } });
    } finally {
      await app.close();
      await testDb.dispose();
    }
  });

  it('is 503 shutting_down once shutdown begins, while /healthz stays 200', async () => {
    const testDb = await openTestDb();
    const { app, lifecycle } = buildTestApp({ db: testDb.db });
    try {
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      expect(lifecycle.beginShutdown()).toBe(true);
      expect(lifecycle.beginShutdown()).toBe(false);
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.json<ReadyzBody>().error?.code).toBe('shutting_down');
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await testDb.dispose();
    }
  });

  it('is 503 with database unreachable when the database is gone', async () => {
    const testDb = await openTestDb();
    const { app, logs } = buildTestApp({ db: testDb.db });
    try {
      await testDb.db.close();
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      const body = response.json<ReadyzBody>();
      expect(body.error?.code).toBe('not_ready');
      expect(body.error?.details?.checks).toEqual({ database: 'unreachable', migrations: 'unknown' });
      expect(logs.lines.some((line) => line.msg === 'readiness check failed')).toBe(true);
    } finally {
      await app.close();
      await testDb.dispose().catch(() => undefined);
    }
  });
});

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEmbeddedDb } from '../src/platform/db.js';
import { AppError } from '../src/platform/errors.js';

describe('embedded data directory lock', () => {
  it('refuses a second open of the same directory with data_dir_locked, and frees it on close', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'yunpay-lock-'));
    try {
      const first = await openEmbeddedDb({ dataDir });
      const second = await openEmbeddedDb({ dataDir }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(second).toBeInstanceOf(AppError);
      expect((second as AppError).code).toBe('data_dir_locked');
      expect((second as AppError).message).toContain(dataDir);
      // The refused open must not have disturbed the first one.
      expect(await first.query<{ one: number }>('select 1 as one')).toEqual([{ one: 1 }]);
      await first.close();
      expect(existsSync(path.join(dataDir, 'yunpay.lock'))).toBe(false);

      const reopened = await openEmbeddedDb({ dataDir });
      await reopened.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'yunpay-lock-'));
    try {
      // pid 2^22 + 1 is above Linux's pid_max ceiling, so it cannot be alive.
      writeFileSync(path.join(dataDir, 'yunpay.lock'), String(4_194_305));
      const db = await openEmbeddedDb({ dataDir });
      await db.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { AppError } from './errors.js';

export interface DirectoryLock {
  readonly lockPath: string;
  release(): void;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock on a data directory with a lock file holding our pid (O_EXCL create).
 * A lock left behind by a process that no longer runs is taken over; a live owner is an error,
 * because two processes writing one PGlite directory corrupt it.
 */
export function acquireDirectoryLock(directory: string): DirectoryLock {
  const lockPath = path.join(directory, 'yunpay.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        lockPath,
        release() {
          if (released) return;
          released = true;
          try {
            if (readFileSync(lockPath, 'utf8').trim() === String(process.pid)) unlinkSync(lockPath);
          } catch {
            // already gone: nothing to release
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const ownerPid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
      if (Number.isInteger(ownerPid) && ownerPid > 0 && ownerPid !== process.pid && processIsAlive(ownerPid)) {
        throw new AppError('data_dir_locked', {
          message: `The data directory ${directory} is in use by process ${ownerPid}. Stop it first, or set YUNPAY_DATA_DIR to another directory.`,
        });
      }
      if (ownerPid === process.pid) {
        throw new AppError('data_dir_locked', {
          message: `The data directory ${directory} is already open in this process.`,
        });
      }
      unlinkSync(lockPath); // stale lock from a process that is gone
    }
  }
  throw new AppError('data_dir_locked', { message: `Could not lock the data directory ${directory}.` });
}

import type { Migration } from './platform/migrations.js';
import { ledgerMigrations } from './modules/ledger/index.js';

/** Every bounded context's migrations; the runner orders them by id. */
export const allMigrations: readonly Migration[] = [...ledgerMigrations];

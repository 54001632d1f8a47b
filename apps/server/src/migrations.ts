import type { Migration } from './platform/migrations.js';
import { idempotencyMigrations } from './platform/idempotency.js';
import { instanceMigrations } from './platform/instances.js';
import { cardMigrations } from './modules/cards/index.js';
import { codesMigrations } from './modules/codes/index.js';
import { customerMigrations } from './modules/customers/index.js';
import { eventsMigrations } from './modules/events/index.js';
import { identityMigrations } from './modules/identity/index.js';
import { ledgerMigrations } from './modules/ledger/index.js';
import { merchantMigrations } from './modules/merchants/index.js';
// Merchant POS/dashboard sessions.
import { merchantSessionMigrations } from './modules/merchant-sessions/index.js';
import { paymentMigrations } from './modules/payments/index.js';
import { walletMigrations } from './modules/wallets/index.js';

/** Every bounded context's migrations; the runner orders them by id. */
export const allMigrations: readonly Migration[] = [
  ...ledgerMigrations,
  ...instanceMigrations,
  ...idempotencyMigrations,
  ...identityMigrations,
  ...walletMigrations,
  ...eventsMigrations,
  ...codesMigrations,
  ...paymentMigrations,
  ...merchantMigrations,
  ...merchantSessionMigrations,
  ...customerMigrations,
  ...cardMigrations,
];

import type { Db } from './platform/db.js';
import { createIdempotencyStore, type IdempotencyStore } from './platform/idempotency.js';
import type { Logger } from './platform/logger.js';
import { createNotifications, type Notifications } from './modules/events/index.js';
import { createIdentity, type Identity, type IdentityDependencies } from './modules/identity/index.js';
import type { Ledger } from './modules/ledger/index.js';
import {
  createWalletService,
  defaultWalletLimits,
  parseWalletLimits,
  type WalletLimitsTable,
  type WalletService,
} from './modules/wallets/index.js';

/** The bounded contexts' services, built once per process and shared by the HTTP app and workers. */
export interface Services {
  ledger: Ledger;
  identity: Identity;
  notifications: Notifications;
  idempotency: IdempotencyStore;
  wallets: WalletService;
}

export interface ServiceOptions {
  db: Db;
  ledger: Ledger;
  logger?: Logger;
  walletLimitsJson?: string | null;
  walletTestTopups?: boolean;
  /** Tests relax or tighten identity's rate limits. */
  identityRateLimits?: IdentityDependencies['rateLimits'];
}

export function createServices(options: ServiceOptions): Services {
  const { db, ledger } = options;
  const notifications = createNotifications({
    db,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const identity = createIdentity({
    db,
    notifications: notifications.writer,
    ...(options.identityRateLimits === undefined ? {} : { rateLimits: options.identityRateLimits }),
  });
  const idempotency = createIdempotencyStore(db);
  const limits: WalletLimitsTable =
    options.walletLimitsJson === undefined || options.walletLimitsJson === null
      ? defaultWalletLimits
      : parseWalletLimits(options.walletLimitsJson);
  const wallets = createWalletService({
    db,
    ledger,
    identity,
    notifications: notifications.writer,
    idempotency,
    limits,
    testTopupsEnabled: options.walletTestTopups ?? true,
  });
  return { ledger, identity, notifications, idempotency, wallets };
}

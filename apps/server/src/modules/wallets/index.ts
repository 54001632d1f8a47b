/**
 * Wallets for people: one ledger account per currency, top-ups, P2P transfers with verification
 * tier limits, history and receipts, and the admin controls (tier, freeze).
 */
export { walletMigrations } from './schema.js';
export {
  createWalletService,
  walletLimits,
  type WalletCardFunding,
  type WalletIdentity,
  type WalletRecoveryReport,
  type WalletService,
  type WalletServiceDeps,
  type WalletTransaction,
  type WalletUser,
} from './service.js';
export { adminWalletRoutes, walletRoutes, type AdminWalletRoutesOptions, type WalletRoutesOptions } from './routes.js';
export {
  defaultWalletLimits,
  parseWalletLimits,
  type KycTier,
  type TierLimits,
  type WalletLimitsTable,
} from './tiers.js';
export { checkWalletLimits } from './core.js';
export { WalletTransactionSchema } from './wire.js';
export { walletVerifyChecks } from './verify.js';
export { createWalletsContext, type WalletsContext, type WalletsContextDeps } from './context.js';

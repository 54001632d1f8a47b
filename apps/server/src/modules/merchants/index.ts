/**
 * Merchants: accounts (acct_…), pricing, test and live mode, and the API keys that authenticate the
 * /v1 API (sk_, pk_, rk_; stored as SHA-256, looked up by hash, cached per node for a few seconds).
 */
export { merchantMigrations } from './schema.js';
export {
  createMerchants,
  type ApiKeyInfo,
  type AuthenticatedKey,
  type CreateMerchantInput,
  type IssuedKeys,
  type KeyPermissions,
  type Merchant,
  type MerchantPricing,
  type Merchants,
  type MerchantsConfig,
  type MerchantsDependencies,
  type ResourcePermission,
} from './service.js';
export { adminMerchantRoutes, type AdminMerchantRoutesOptions } from './routes.js';
export { newObjectId, randomBase62, redactApiKey, type ApiKeyKind } from './keys.js';
export { isCountryCode } from './countries.js';
export { createMerchantsContext, type MerchantsContext } from './context.js';

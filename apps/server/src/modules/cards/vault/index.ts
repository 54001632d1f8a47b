/**
 * Cards vault: card number checks and envelope-encrypted card storage. Other contexts import only
 * from here. Nothing exported returns a PAN except RevealedCard.pan, for an authorization.
 */
export { cardVaultMigrations } from './schema.js';
export {
  cardBrandLengths,
  cardBrandOf,
  cardBrands,
  checkCvc,
  checkExpiry,
  checkPan,
  luhnValid,
  maskPan,
  panValid,
  type CardBrand,
  type CheckedPan,
  type ExpiryInput,
  type MaskedPan,
} from './pan.js';
export { parseVaultKeys, SecretKey, vaultKeys, type VaultKeyRing, type VaultKeys } from './keys.js';
export {
  createVault,
  newCardId,
  RevealedCard,
  type CardToStore,
  type CardVault,
  type CardVaultDeps,
  type RewrapOptions,
  type RewrapReport,
  type VaultCard,
} from './vault.js';
export {
  describeVaultKeys,
  loadVaultKeysFromEnv,
  readVaultKeyFile,
  vaultKeysFileName,
  vaultKeysPath,
  type LoadedVaultKeys,
  type LoadVaultKeysOptions,
  type VaultKeyFile,
  type VaultKeySource,
} from './config.js';

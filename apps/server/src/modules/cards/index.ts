/**
 * Cards: the vault (encrypted card numbers), PaymentMethods, saved wallet cards, the gateway and
 * its ISO 8583 connection to the card network, and the network simulator. Other contexts import
 * only from here (docs/card-vault.md, docs/payment-methods.md, docs/card-network.md).
 */
import type { Migration } from '../../platform/migrations.js';
import { cardGatewayMigrations } from './gateway/index.js';
import { paymentMethodMigrations } from './methods/index.js';
import { cardVaultMigrations } from './vault/index.js';
import { walletCardMigrations } from './wallet-cards.js';

export const cardMigrations: readonly Migration[] = [
  ...cardVaultMigrations,
  ...cardGatewayMigrations,
  ...paymentMethodMigrations,
  ...walletCardMigrations,
];

export {
  createCardsContext,
  walletTopupMerchantId,
  type CardNetworkAddress,
  type CardOutcome,
  type CardsContext,
  type CardsOptions,
} from './context.js';
export { checkCardsLimits } from './limits.js';
export { cardGatewayLimits } from './gateway/index.js';
export { paymentMethodRoutes, runCardsRewrap, type CardsRewrapReport } from './methods/index.js';
export { walletCardRoutes } from './wallet-card-routes.js';
export { walletCardLimits, type WalletCard, type WalletCards } from './wallet-cards.js';
export { startNetworkSimulator, type NetworkSimulator, type NetworkSimulatorOptions } from './network/index.js';
export { describeVaultKeys, loadVaultKeysFromEnv, type VaultKeys } from './vault/index.js';
export { testCards, testCardByNumber, testCardByPaymentMethodToken } from './test-cards.js';
export { responseCodes, isResponseCode, type ResponseCode } from './response-codes.js';

import { checkLimitTable } from '../../platform/limits.js';
import { checkCardGatewayLimits } from './gateway/index.js';
import { checkIso8583Limits } from './iso8583/index.js';
import { checkCardNetworkLimits } from './network/index.js';
import { walletCardLimits } from './wallet-cards.js';

/**
 * Every table of bounds of the cards context (the vault's and the network connection's operator
 * settings are in platform/limits.ts). Run at start-up by checkAllLimits.
 */
export function checkCardsLimits(): void {
  checkIso8583Limits();
  checkCardNetworkLimits();
  checkCardGatewayLimits();
  checkLimitTable('walletCardLimits', walletCardLimits);
}

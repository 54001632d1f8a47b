/**
 * The card network (docs/card-network.md): the simulator that plays the network and every issuer
 * (`YUNPAY_ROLE=network-sim`), and the acquirer-side TCP connector the card gateway sends through.
 */
export {
  startNetworkSimulator,
  type NetworkFaultTarget,
  type NetworkSimulator,
  type NetworkSimulatorFaults,
  type NetworkSimulatorOptions,
  type NetworkTransactionView,
} from './simulator.js';
export {
  createCardNetworkConnector,
  type CardNetworkConnector,
  type CardNetworkConnectorOptions,
} from './connector.js';
export { clearingColumns, type ClearingRecordType } from './clearing.js';
export { type IssuerCard, type NetworkTransactionKind } from './issuer.js';
export { cardNetworkLimits, checkCardNetworkLimits } from './limits.js';
export { iso8583MatchKey, iso8583ResponseMatchKey, transmissionDateTime } from './messages.js';

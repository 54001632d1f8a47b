/**
 * The ledger: accounts, append-only double-entry transfers and their entries, and the batched
 * posting engine. Every balance in Yunpay changes only through submitTransfers.
 */
export type {
  Account,
  AccountFlags,
  AccountInput,
  AccountResult,
  AccountResultCode,
  Entry,
  Transfer,
  TransferInput,
  TransferPhase,
  TransferResult,
  TransferResultCode,
} from './types.js';
export { accountResultCodes, transferResultCodes } from './types.js';
export { ledgerMigrations } from './schema.js';
export { createLedger, ledgerLimits, type Ledger, type LedgerOptions, type LedgerObserver } from './ledger.js';
export {
  verifyLedger,
  verifyExitCode,
  type ExtraVerifyCheck,
  type LedgerVerifyReport,
  type LedgerVerifyCheck,
} from './verify.js';
export { transferIdFrom } from './ids.js';
export { accountCodes, transferCodes } from './codes.js';

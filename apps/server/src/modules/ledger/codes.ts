import { assert } from '../../platform/errors.js';

/**
 * Every ledger account code and transfer code in use, in one place: what kind of account or money
 * movement a number means. Codes are stable: once used, never renumbered or reused. Each context
 * imports its own from here (through the ledger's index), and the asserts below keep them unique.
 */

export const accountCodes = {
  /** A person's wallet in one currency (wallets; no overdraft). */
  wallet: 1,
  /** Where test-source top-ups come from (wallets). */
  topupClearing: 100,
  /** A merchant's balance in one mode and currency (payments; may go negative, as Stripe's do). */
  merchantBalance: 200,
  /** The platform's fee revenue per mode and currency (payments). */
  feeRevenue: 201,
  /** Test mode's stand-in payer: test payments never move a wallet's money (payments). */
  testPayerClearing: 203,
  /** Card money in and out through the card network (payments, wallet card top-ups). */
  cardNetworkClearing: 204,
} as const;

export const transferCodes = {
  /** A top-up into a wallet (wallets). */
  topup: 1001,
  /** A P2P transfer between wallets (wallets). */
  p2p: 1002,
  /** A payment: payer → merchant (payments; also its capture, void and reservation). */
  charge: 2001,
  /** A payment's fee: merchant → fee revenue (payments). */
  fee: 2002,
  /** A refund: merchant → payer (payments). */
  refund: 2003,
  /** A refund's share of the fee: fee revenue → merchant (payments). */
  feeRefund: 2004,
  /** The void the expiry sweep posts for a reservation past its timeout (ledger). */
  expiry: 65535,
} as const;

function assertUnique(codes: Readonly<Record<string, number>>, what: string): void {
  const seen = new Map<number, string>();
  for (const [name, code] of Object.entries(codes)) {
    assert(Number.isInteger(code) && code >= 1 && code <= 65535, `${what} code ${name} is 1-65535`);
    const other = seen.get(code);
    assert(other === undefined, `${what} codes ${other} and ${name} share ${code}`);
    seen.set(code, name);
  }
}

assertUnique(accountCodes, 'account');
assertUnique(transferCodes, 'transfer');

import { randomUUID } from 'node:crypto';
import type { AccountInput, Ledger, TransferInput } from '../../src/modules/ledger/index.js';

export const accountCode = { wallet: 1, clearing: 2, revenue: 3 } as const;
export const transferCode = { payment: 10, topup: 11 } as const;

export function uuid(): string {
  return randomUUID();
}

export function walletAccount(currency = 'CNY', extra: Partial<AccountInput> = {}): AccountInput {
  return { id: uuid(), currency, code: accountCode.wallet, flags: { debitsMustNotExceedCredits: true }, ...extra };
}

export function clearingAccount(currency = 'CNY'): AccountInput {
  return { id: uuid(), currency, code: accountCode.clearing };
}

export async function createAccountsOk(ledger: Ledger, inputs: AccountInput[]): Promise<string[]> {
  const results = await ledger.createAccounts(inputs);
  for (const result of results) {
    if (result.result !== 'ok') throw new Error(`account ${result.id}: ${result.result}`);
  }
  return inputs.map((input) => input.id);
}

export function transfer(
  debitAccountId: string,
  creditAccountId: string,
  amountMinor: bigint,
  extra: Partial<TransferInput> = {},
): TransferInput {
  return {
    id: uuid(),
    debitAccountId,
    creditAccountId,
    amountMinor,
    currency: 'CNY',
    code: transferCode.payment,
    ...extra,
  };
}

export async function balanceOf(ledger: Ledger, id: string): Promise<{ posted: bigint; pending: bigint }> {
  const [account] = await ledger.lookupAccounts([id]);
  if (account === undefined) throw new Error(`no account ${id}`);
  return {
    posted: account.creditsPostedMinor - account.debitsPostedMinor,
    pending: account.creditsPendingMinor - account.debitsPendingMinor,
  };
}

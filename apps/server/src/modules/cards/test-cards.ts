/**
 * Test cards, as Stripe documents them (https://docs.stripe.com/testing): the numbers, the
 * `pm_card_…` / `tok_…` tokens that stand for them in test mode, and what the simulated issuer
 * answers for each (an ISO 8583 response code, field 39). The network simulator and the payment
 * methods both read this table, so a token and its number always behave alike.
 *
 * Any other number that passes the vault's checks is approved by the simulated issuer while its
 * balance lasts (response 00, or 51 once spent).
 */

import type { ResponseCode } from './response-codes.js';

/** What the simulated issuer does with a card. */
export type TestIssuerBehaviour =
  /** Approve while the balance lasts. */
  | { kind: 'approve' }
  /** Always answer this response code (a decline). */
  | { kind: 'decline'; responseCode: ResponseCode }
  /** The issuer asks for cardholder authentication first (3-D Secure); approved once authenticated. */
  | { kind: 'authenticate' };

export interface TestCard {
  /** The card number (Luhn-valid; these are public test numbers, never real cards). */
  number: string;
  brand: 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'unionpay' | 'diners';
  funding: 'credit' | 'debit' | 'prepaid';
  /** Tokens (pm_card_…) that name this card in test mode. The first one is Stripe's canonical name. */
  paymentMethodTokens: readonly string[];
  /** tok_… tokens (legacy Tokens API names; wallet top-ups accept them too). */
  tokens: readonly string[];
  issuer: TestIssuerBehaviour;
  /** Issuer-side starting balance in minor units of any currency (the simulator's open-to-buy). */
  issuerBalanceMinor: bigint;
}

/** Open-to-buy of an ordinary test card: 1,000,000,000.00 in a 2-decimal currency. */
export const testIssuerBalanceDefaultMinor = 100_000_000_000n;

function card(
  number: string,
  brand: TestCard['brand'],
  funding: TestCard['funding'],
  paymentMethodTokens: readonly string[],
  tokens: readonly string[],
  issuer: TestIssuerBehaviour = { kind: 'approve' },
  issuerBalanceMinor: bigint = testIssuerBalanceDefaultMinor,
): TestCard {
  return { number, brand, funding, paymentMethodTokens, tokens, issuer, issuerBalanceMinor };
}

const decline = (responseCode: ResponseCode): TestIssuerBehaviour => ({ kind: 'decline', responseCode });

export const testCards: readonly TestCard[] = [
  // Successful payments, by brand
  card('4242424242424242', 'visa', 'credit', ['pm_card_visa'], ['tok_visa']),
  card('4000056655665556', 'visa', 'debit', ['pm_card_visa_debit'], ['tok_visa_debit']),
  card('5555555555554444', 'mastercard', 'credit', ['pm_card_mastercard'], ['tok_mastercard']),
  card('2223003122003222', 'mastercard', 'credit', [], []),
  card('5200828282828210', 'mastercard', 'debit', ['pm_card_mastercard_debit'], ['tok_mastercard_debit']),
  card('5105105105105100', 'mastercard', 'prepaid', ['pm_card_mastercard_prepaid'], ['tok_mastercard_prepaid']),
  card('378282246310005', 'amex', 'credit', ['pm_card_amex'], ['tok_amex']),
  card('371449635398431', 'amex', 'credit', [], []),
  card('6011111111111117', 'discover', 'credit', ['pm_card_discover'], ['tok_discover']),
  card('3056930009020004', 'diners', 'credit', ['pm_card_diners'], ['tok_diners']),
  card('3566002020360505', 'jcb', 'credit', ['pm_card_jcb'], ['tok_jcb']),
  card('6200000000000005', 'unionpay', 'credit', ['pm_card_unionpay'], ['tok_unionpay']),
  // Declines (the charge fails; creating and attaching the payment method succeeds)
  card(
    '4000000000000002',
    'visa',
    'credit',
    ['pm_card_chargeDeclined', 'pm_card_visa_chargeDeclined'],
    ['tok_chargeDeclined'],
    decline('05'),
  ),
  card(
    '4000000000009995',
    'visa',
    'credit',
    ['pm_card_chargeDeclinedInsufficientFunds', 'pm_card_insufficientFunds'],
    ['tok_chargeDeclinedInsufficientFunds', 'tok_insufficientFunds'],
    { kind: 'approve' },
    0n,
  ),
  card(
    '4000000000009987',
    'visa',
    'credit',
    ['pm_card_chargeDeclinedLostCard'],
    ['tok_chargeDeclinedLostCard'],
    decline('41'),
  ),
  card(
    '4000000000009979',
    'visa',
    'credit',
    ['pm_card_chargeDeclinedStolenCard'],
    ['tok_chargeDeclinedStolenCard'],
    decline('43'),
  ),
  card(
    '4000000000000069',
    'visa',
    'credit',
    ['pm_card_chargeDeclinedExpiredCard'],
    ['tok_chargeDeclinedExpiredCard'],
    decline('54'),
  ),
  card(
    '4000000000000127',
    'visa',
    'credit',
    ['pm_card_chargeDeclinedIncorrectCvc'],
    ['tok_chargeDeclinedIncorrectCvc'],
    decline('N7'),
  ),
  card(
    '4000000000000119',
    'visa',
    'credit',
    ['pm_card_chargeDeclinedProcessingError'],
    ['tok_chargeDeclinedProcessingError'],
    decline('96'),
  ),
  card('4000000000006975', 'visa', 'credit', ['pm_card_chargeDeclinedVelocityLimitExceeded'], [], decline('61')),
  // 3-D Secure: the issuer requires authentication on every payment
  card('4000002500003155', 'visa', 'credit', ['pm_card_authenticationRequired', 'pm_card_threeDSecureRequired'], [], {
    kind: 'authenticate',
  }),
];

const byNumber: ReadonlyMap<string, TestCard> = new Map(testCards.map((entry) => [entry.number, entry]));
const byPaymentMethodToken: ReadonlyMap<string, TestCard> = new Map(
  testCards.flatMap((entry) => entry.paymentMethodTokens.map((token) => [token, entry] as const)),
);
const byToken: ReadonlyMap<string, TestCard> = new Map(
  testCards.flatMap((entry) => entry.tokens.map((token) => [token, entry] as const)),
);

/** The test card with this number, if it is one. */
export function testCardByNumber(number: string): TestCard | undefined {
  return byNumber.get(number);
}

/** The test card a `pm_card_…` token names, if any. */
export function testCardByPaymentMethodToken(token: string): TestCard | undefined {
  return byPaymentMethodToken.get(token);
}

/** The test card a `tok_…` token names, if any. */
export function testCardByToken(token: string): TestCard | undefined {
  return byToken.get(token);
}

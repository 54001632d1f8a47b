/**
 * The ISO 8583 response-code table (field 39): one place for what each code means, shared by the
 * gateway's transformers (code → Stripe error) and the network simulator (behaviour → code).
 */

/**
 * ISO 8583 response codes (field 39) the network uses, and what each means to a merchant: Stripe's
 * error `code` and `decline_code`. The gateway maps with this table; the simulator answers with it.
 */
export const responseCodes = {
  '00': { meaning: 'Approved', code: null, declineCode: null },
  '05': { meaning: 'Do not honor', code: 'card_declined', declineCode: 'generic_decline' },
  '12': { meaning: 'Invalid transaction', code: 'card_declined', declineCode: 'transaction_not_allowed' },
  '13': { meaning: 'Invalid amount', code: 'card_declined', declineCode: 'invalid_amount' },
  '14': { meaning: 'Invalid card number', code: 'incorrect_number', declineCode: 'incorrect_number' },
  '25': { meaning: 'Unable to locate original transaction', code: 'processing_error', declineCode: 'processing_error' },
  '30': { meaning: 'Format error', code: 'processing_error', declineCode: 'processing_error' },
  '41': { meaning: 'Lost card, pick up', code: 'card_declined', declineCode: 'lost_card' },
  '43': { meaning: 'Stolen card, pick up', code: 'card_declined', declineCode: 'stolen_card' },
  '51': { meaning: 'Insufficient funds', code: 'card_declined', declineCode: 'insufficient_funds' },
  '54': { meaning: 'Expired card', code: 'expired_card', declineCode: 'expired_card' },
  '61': { meaning: 'Exceeds withdrawal amount limit', code: 'card_declined', declineCode: 'card_velocity_exceeded' },
  '65': {
    meaning: 'Authentication required (soft decline)',
    code: 'authentication_required',
    declineCode: 'authentication_required',
  },
  '91': { meaning: 'Issuer or switch inoperative', code: 'card_declined', declineCode: 'issuer_not_available' },
  '94': { meaning: 'Duplicate transmission', code: 'processing_error', declineCode: 'processing_error' },
  '96': { meaning: 'System malfunction', code: 'processing_error', declineCode: 'processing_error' },
  N7: { meaning: 'Decline for CVV2 failure', code: 'incorrect_cvc', declineCode: 'incorrect_cvc' },
} as const;

export type ResponseCode = keyof typeof responseCodes;

export function isResponseCode(value: string): value is ResponseCode {
  return Object.hasOwn(responseCodes, value);
}

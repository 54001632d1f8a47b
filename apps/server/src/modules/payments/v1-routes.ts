import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { registerV1ErrorCodes } from '../../v1/index.js';
import { registerIntentRoutes } from './routes/intents.js';
import { registerMoneyRoutes } from './routes/money.js';
import type { PaymentRoutesOptions } from './routes/shared.js';

/**
 * /v1 payment_intents, charges, refunds, balance and balance_transactions, shaped as Stripe's
 * objects (wire.ts). The routes live in routes/: intents.ts and money.ts, with what they share in
 * shared.ts.
 */

export type { CardMethodsPort, PaymentRoutesOptions } from './routes/shared.js';
export { balanceTransactionDto, chargeDto, intentDto, refundDto } from './wire.js';

registerV1ErrorCodes({
  payment_intent_unexpected_state: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state' },
  charge_not_refundable: { type: 'invalid_request_error', code: 'charge_not_refundable' },
  charge_already_refunded: { type: 'invalid_request_error', code: 'charge_already_refunded' },
  amount_too_large: { type: 'invalid_request_error', code: 'amount_too_large' },
  wallet_frozen: { type: 'card_error', code: 'card_declined' },
  limit_exceeded: { type: 'card_error', code: 'card_declined' },
  payment_code_invalid: { type: 'invalid_request_error', code: 'payment_code_invalid' },
  payment_code_expired: { type: 'invalid_request_error', code: 'payment_code_expired' },
  payment_code_used: { type: 'invalid_request_error', code: 'payment_code_used', status: 400 },
  offline_limit_exceeded: { type: 'card_error', code: 'card_declined' },
  expired_card: { type: 'card_error', code: 'expired_card' },
  incorrect_cvc: { type: 'card_error', code: 'incorrect_cvc' },
  incorrect_number: { type: 'card_error', code: 'incorrect_number' },
  processing_error: { type: 'card_error', code: 'processing_error' },
  authentication_required: { type: 'card_error', code: 'authentication_required' },
});

/** Registered inside the /v1 plugin. */
export const paymentRoutes: FastifyPluginAsyncTypebox<PaymentRoutesOptions> = async (app, options) => {
  registerIntentRoutes(app, options);
  registerMoneyRoutes(app, options);
};

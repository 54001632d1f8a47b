import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
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

/** Registered inside the /v1 plugin. */
export const paymentRoutes: FastifyPluginAsyncTypebox<PaymentRoutesOptions> = async (app, options) => {
  registerIntentRoutes(app, options);
  registerMoneyRoutes(app, options);
};

/**
 * Card PaymentMethods (pm_…) over the card vault, at /v1/payment_methods (docs/payment-methods.md).
 * Other contexts import only from here.
 */
export { paymentMethodMigrations } from './schema.js';
export {
  accountFingerprint,
  createPaymentMethods,
  newPaymentMethodId,
  type AddressInput,
  type BillingDetailsInput,
  type BillingDetailsUpdate,
  type CardInput,
  type PaymentMethodCard,
  type PaymentMethodCreateInput,
  type PaymentMethods,
  type PaymentMethodsDeps,
  type PaymentMethodUpdateInput,
  type RequestInfo,
  type ResolvedPaymentMethod,
} from './service.js';
export { paymentMethodRoutes, type PaymentMethodRoutesOptions } from './routes.js';
export { runCardsRewrap, type CardsRewrapOptions, type CardsRewrapReport } from './cli.js';
export {
  PaymentMethodListSchema,
  PaymentMethodSchema,
  type BillingDetailsWire,
  type CardFunding,
  type CvcCheck,
  type PaymentMethodCardWire,
  type PaymentMethodWire,
} from './wire.js';

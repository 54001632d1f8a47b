import { HttpTransport, type ClientOptions } from '../http.js';
import { BalanceResource, BalanceTransactions } from './balance.js';
import { Charges } from './charges.js';
import { Customers } from './customers.js';
import { Events } from './events.js';
import { PaymentIntents } from './payment-intents.js';
import { PaymentMethods } from './payment-methods.js';
import { QrCodes } from './qr-codes.js';
import { Refunds } from './refunds.js';
import { V1Requester, type V1SessionAuth } from './requester.js';
import { WebhookEndpoints } from './webhook-endpoints.js';

export interface MerchantClientOptions extends ClientOptions {
  /** sk_… (servers), pk_… (browsers: create payment methods, retrieve/confirm with the client secret) or rk_…. */
  apiKey?: string;
  /**
   * Instead of a key: a merchant session's cookie and CSRF token (set by MerchantSession, whose
   * `client` is made this way; use createMerchantSession rather than passing it yourself).
   */
  session?: V1SessionAuth;
}

/** The Stripe-compatible merchant API (/v1): with an API key, or as a MerchantSession's `client`. */
export class MerchantClient {
  readonly paymentIntents: PaymentIntents;
  readonly charges: Charges;
  readonly refunds: Refunds;
  readonly customers: Customers;
  readonly paymentMethods: PaymentMethods;
  readonly balance: BalanceResource;
  readonly balanceTransactions: BalanceTransactions;
  readonly events: Events;
  readonly webhookEndpoints: WebhookEndpoints;
  readonly qrCodes: QrCodes;

  constructor(options: MerchantClientOptions, transport?: HttpTransport) {
    if (options.apiKey !== undefined && options.session !== undefined) {
      throw new TypeError('pass either apiKey or session, not both');
    }
    // Without a session the key is checked (and a missing one refused) by the requester.
    const v1 = new V1Requester(transport ?? new HttpTransport(options), options.session ?? (options.apiKey as string));
    this.paymentIntents = new PaymentIntents(v1);
    this.charges = new Charges(v1);
    this.refunds = new Refunds(v1);
    this.customers = new Customers(v1);
    this.paymentMethods = new PaymentMethods(v1);
    this.balance = new BalanceResource(v1);
    this.balanceTransactions = new BalanceTransactions(v1);
    this.events = new Events(v1);
    this.webhookEndpoints = new WebhookEndpoints(v1);
    this.qrCodes = new QrCodes(v1);
  }
}

import { merchantPricingDefault } from './platform/config.js';
import type { Db } from './platform/db.js';
import { createIdempotencyStore, type IdempotencyStore } from './platform/idempotency.js';
import { startInstance, type Instance } from './platform/instances.js';
import type { Logger } from './platform/logger.js';
import {
  createCardsContext,
  type CardNetworkAddress,
  type CardsContext,
  type VaultKeys,
} from './modules/cards/index.js';
import { createCodeService, parseOfflineCaps, revokeCodesOfDevice, type CodeService } from './modules/codes/index.js';
import { createCustomers, type Customers } from './modules/customers/index.js';
import {
  createMerchantEvents,
  createNotifications,
  createWebhooks,
  recordEvent,
  type HostResolver,
  type MerchantEvents,
  type Notifications,
  type Webhooks,
} from './modules/events/index.js';
import { createIdentity, type Identity, type IdentityDependencies } from './modules/identity/index.js';
import type { Ledger } from './modules/ledger/index.js';
import {
  balanceTransactionDto,
  chargeDto,
  createPaymentAccounts,
  createPaymentService,
  createCardChallenges,
  createMerchantQr,
  createWalletMethod,
  type CardChallenges,
  type CardForPayment,
  intentDto,
  paymentEventSink,
  type MerchantQr,
  type PaymentService,
  type WalletMethod,
} from './modules/payments/index.js';
import { createMerchants, type Merchants, type MerchantsConfig } from './modules/merchants/index.js';
// Merchant POS/dashboard sessions.
import { createMerchantSessions, type MerchantSessions } from './modules/merchant-sessions/index.js';
import { ExpandRegistry } from './v1/index.js';
import {
  createWalletService,
  defaultWalletLimits,
  parseWalletLimits,
  type WalletLimitsTable,
  type WalletService,
} from './modules/wallets/index.js';

/** The bounded contexts' services, built once per process and shared by the HTTP app and workers. */
export interface Services {
  /** This process, as other nodes see it (its heartbeat tells them it is alive). */
  instance: Instance;
  ledger: Ledger;
  identity: Identity;
  notifications: Notifications;
  idempotency: IdempotencyStore;
  wallets: WalletService;
  codes: CodeService;
  merchants: Merchants;
  /** Merchant POS/dashboard sign-in sessions (cookie + CSRF token). */
  merchantSessions: MerchantSessions;
  customers: Customers;
  merchantEvents: MerchantEvents;
  /** What expand[] on /v1 can reach; each /v1 resource registers its loaders and fields. */
  v1Expand: ExpandRegistry;
  webhooks: Webhooks;
  payments: PaymentService;
  walletMethod: WalletMethod;
  merchantQr: MerchantQr;
  /** Card payments, saved cards and the gateway; null when the process has no card network configured. */
  cards: CardsContext | null;
  /** 3-D Secure step-up pages for card payments (null without cards). */
  cardChallenges: CardChallenges | null;
  /** A card PaymentMethod (pm_… or a test token) as a payment needs it (throws without cards). */
  cardForPayment(scope: { accountId: string; livemode: boolean }, idOrToken: string): Promise<CardForPayment>;
  /** Closes what the services hold open (the card network connections). */
  close(): Promise<void>;
}

export interface ServiceOptions {
  db: Db;
  ledger: Ledger;
  /** The process's role, recorded with its instance (default all). */
  role?: string;
  logger?: Logger;
  walletLimitsJson?: string | null;
  walletTestTopups?: boolean;
  /** Tests relax or tighten identity's rate limits. */
  identityRateLimits?: IdentityDependencies['rateLimits'];
  /** JSON offline code caps (codes/caps.ts parseOfflineCaps); null or absent: the defaults. */
  offlineCodeCapsJson?: string | null;
  /** Tests move the codes context's clock (expiry, TOTP steps). */
  codesNow?: () => number;
  /** Default merchant pricing (config YUNPAY_MERCHANT_FEE_BPS, YUNPAY_MERCHANT_FEE_FIXED); absent: merchantPricingDefault. */
  merchantPricing?: MerchantsConfig;
  /** Tests move the merchants context's clock (rolled key expiry, key cache). */
  merchantsNow?: () => number;
  /** YUNPAY_WEBHOOK_ALLOW_PRIVATE: webhook endpoints may be on loopback/private addresses (default false). */
  webhookAllowPrivate?: boolean;
  /** Tests resolve webhook hosts themselves and move the webhook worker's scheduling clock. */
  webhookResolver?: HostResolver;
  webhooksNow?: () => number;
  /** Tests tighten the merchant sessions' failed sign-in limit and move their clock. */
  merchantSessionSignInFailures?: { failuresMax: number; windowMs: number };
  merchantSessionsNow?: () => number;
  /** Card payments: the vault's keys and where the card network is. Absent: no card payments. */
  cards?: { vaultKeys: VaultKeys; network: CardNetworkAddress };
}

export function createServices(options: ServiceOptions): Services {
  const { db, ledger } = options;
  const notifications = createNotifications({
    db,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const identity = createIdentity({
    db,
    notifications: notifications.writer,
    // A revoked device's payment codes and offline key die in the same transaction.
    onDeviceRevoked: revokeCodesOfDevice,
    ...(options.identityRateLimits === undefined ? {} : { rateLimits: options.identityRateLimits }),
  });
  const instance = startInstance(db, {
    role: options.role ?? 'all',
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const idempotency = createIdempotencyStore(db, { instance });
  const limits: WalletLimitsTable =
    options.walletLimitsJson === undefined || options.walletLimitsJson === null
      ? defaultWalletLimits
      : parseWalletLimits(options.walletLimitsJson);
  // Cards need nothing of the other contexts; wallets top up through them, payments charge them.
  const cards =
    options.cards === undefined
      ? null
      : createCardsContext({
          db,
          vaultKeys: options.cards.vaultKeys,
          network: options.cards.network,
          testTokens: options.walletTestTopups ?? true,
          ...(options.logger === undefined ? {} : { logger: options.logger }),
        });
  const paymentAccounts = createPaymentAccounts(ledger);
  const wallets = createWalletService({
    db,
    ledger,
    identity,
    notifications: notifications.writer,
    idempotency,
    limits,
    testTopupsEnabled: options.walletTestTopups ?? true,
    ...(cards === null
      ? {}
      : {
          cardFunding: {
            isCardSource: (source: string) => cards.walletCards.isCardSource(source),
            checkSource: async (userId: string, source: string) => {
              await cards.walletCards.vaultCardOf(userId, source);
            },
            charge: (input) => cards.chargeWalletCard(input),
            resolve: (reference: string) => cards.resolveWalletCharge(reference),
            clearingAccount: (currency: string) => paymentAccounts.cardClearing(true, currency),
          },
        }),
  });
  const codes = createCodeService({
    db,
    identity,
    notifications: notifications.writer,
    ...(options.codesNow === undefined ? {} : { now: options.codesNow }),
    ...(options.offlineCodeCapsJson === undefined || options.offlineCodeCapsJson === null
      ? {}
      : { offlineCaps: parseOfflineCaps(options.offlineCodeCapsJson) }),
  });
  const merchants = createMerchants({
    db,
    config: options.merchantPricing ?? merchantPricingDefault,
    ...(options.merchantsNow === undefined ? {} : { now: options.merchantsNow }),
  });
  const customers = createCustomers({ db });
  const merchantEvents = createMerchantEvents({ db });
  const v1Expand = new ExpandRegistry();
  v1Expand.registerLoader(
    'customer',
    (scope, id) => customers.find(scope, id) as Promise<Record<string, unknown> | null>,
  );
  const merchantName = async (accountId: string) => (await merchants.getMerchant(accountId)).name;
  const payments = createPaymentService({
    db,
    ledger,
    pricingOf: async (accountId) => (await merchants.getMerchant(accountId)).pricing,
    merchantName,
    events: paymentEventSink(recordEvent),
    walletPayer: wallets,
    recovery: idempotency,
    ...(cards === null ? {} : { cards: cards.paymentsPort }),
  });
  const walletMethod = createWalletMethod({
    db,
    payments,
    notifications: notifications.writer,
    ports: {
      redeemPaymentCode: (code, redeemOptions) => codes.redeemPaymentCode(code, redeemOptions),
      wallets,
      verifyPaymentPin: (userId, pin) => identity.verifyPaymentPin(userId, pin),
      merchantName,
    },
  });
  const merchantQr = createMerchantQr({
    payments,
    walletMethod,
    getMerchant: (accountId) => merchants.getMerchant(accountId),
  });
  v1Expand.registerLoader('payment_intent', async (scope, id) =>
    intentDto(await payments.retrieveIntent(scope, id), { includeClientSecret: true }),
  );
  v1Expand.registerLoader('charge', async (scope, id) =>
    chargeDto(await payments.retrieveCharge(scope, id), await payments.refundsOf(scope, id)),
  );
  v1Expand.registerLoader('balance_transaction', async (scope, id) =>
    balanceTransactionDto(await payments.balanceTransaction(scope, id)),
  );
  v1Expand.registerFields('payment_intent', { customer: 'customer', latest_charge: 'charge' });
  v1Expand.registerFields('charge', { payment_intent: 'payment_intent', balance_transaction: 'balance_transaction' });
  v1Expand.registerFields('refund', {
    charge: 'charge',
    payment_intent: 'payment_intent',
    balance_transaction: 'balance_transaction',
  });
  async function cardForPayment(
    scope: { accountId: string; livemode: boolean },
    idOrToken: string,
  ): Promise<CardForPayment> {
    if (cards === null) throw new Error('assertion failed: card payments are configured');
    const { paymentMethod } = await cards.paymentMethods.resolve(scope, idOrToken);
    const card = await cards.paymentMethods.cardOf(scope, paymentMethod.id);
    return {
      paymentMethodId: paymentMethod.id,
      details: { ...paymentMethod.card, network: card.brand },
      reference: `${card.brand} •••• ${card.last4}`,
    };
  }
  const cardChallenges =
    cards === null
      ? null
      : createCardChallenges({
          db,
          payments,
          ports: {
            cardForPayment,
            merchantName: async (accountId) => (await merchants.getMerchant(accountId)).name,
          },
        });
  if (cards !== null) {
    v1Expand.registerLoader(
      'payment_method',
      (scope, id) => cards.paymentMethods.find(scope, id) as unknown as Promise<Record<string, unknown> | null>,
    );
    v1Expand.registerFields('payment_intent', { payment_method: 'payment_method' });
    v1Expand.registerFields('charge', { payment_method: 'payment_method' });
    v1Expand.registerFields('payment_method', { customer: 'customer' });
  }
  return {
    payments,
    walletMethod,
    merchantQr,
    cards,
    cardChallenges,
    cardForPayment,
    close: async () => {
      await cards?.close();
      await instance.stop();
    },
    instance,
    ledger,
    identity,
    notifications,
    idempotency,
    wallets,
    codes,
    merchants,
    // Merchant POS/dashboard sessions.
    merchantSessions: createMerchantSessions({
      db,
      merchants,
      ...(options.merchantSessionsNow === undefined ? {} : { now: options.merchantSessionsNow }),
      ...(options.merchantSessionSignInFailures === undefined
        ? {}
        : { signInFailures: options.merchantSessionSignInFailures }),
    }),
    customers,
    merchantEvents,
    v1Expand,
    webhooks: createWebhooks({
      db,
      events: merchantEvents,
      allowPrivate: options.webhookAllowPrivate ?? false,
      ...(options.webhookResolver === undefined ? {} : { resolver: options.webhookResolver }),
      ...(options.webhooksNow === undefined ? {} : { now: options.webhooksNow }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    }),
  };
}

import { systemClock, type Clock } from './platform/clock.js';
import { merchantPricingDefault } from './platform/config.js';
import type { Db } from './platform/db.js';
import { createIdempotencyStore, type IdempotencyStore } from './platform/idempotency.js';
import { startInstance, type Instance } from './platform/instances.js';
import type { WorkerJob } from './platform/jobs.js';
import { limits } from './platform/limits.js';
import type { Logger } from './platform/logger.js';
import {
  createCardsContext,
  type CardNetworkAddress,
  type CardsContext,
  type VaultKeys,
} from './modules/cards/index.js';
import { createCodesContext, revokeCodesOfDevice, type CodeService, type CodesContext } from './modules/codes/index.js';
import { createCustomersContext, type Customers, type CustomersContext } from './modules/customers/index.js';
import {
  createEventsContext,
  type EventsContext,
  type HostResolver,
  type MerchantEvents,
  type Notifications,
  type Webhooks,
} from './modules/events/index.js';
import {
  createIdentityContext,
  type Identity,
  type IdentityContext,
  type IdentityDependencies,
} from './modules/identity/index.js';
import type { Ledger } from './modules/ledger/index.js';
import {
  createMerchantSessionsContext,
  type MerchantSessions,
  type MerchantSessionsContext,
} from './modules/merchant-sessions/index.js';
import {
  createMerchantsContext,
  type Merchants,
  type MerchantsConfig,
  type MerchantsContext,
} from './modules/merchants/index.js';
import {
  createPaymentAccounts,
  createPaymentsContext,
  type CardChallenges,
  type CardForPayment,
  type MerchantQr,
  type PaymentsContext,
  type PaymentService,
  type WalletMethod,
} from './modules/payments/index.js';
import { createWalletsContext, type WalletsContext, type WalletService } from './modules/wallets/index.js';
import { ExpandRegistry } from './v1/index.js';
import { recoveryAfterMs } from './worker-jobs.js';

/**
 * The composition root: every bounded context built once per process, in dependency order, with
 * one clock, shared by the HTTP app and the worker. It only wires: each context's
 * createXContext(deps) makes its services and lists its worker jobs.
 */
export interface Services {
  /** This process, as other nodes see it (its heartbeat tells them it is alive). */
  instance: Instance;
  clock: Clock;
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
  /** Every context's background jobs (the worker role runs them: worker-jobs.ts). */
  jobs: WorkerJob[];
  /** Closes what the services hold open, in reverse order of opening. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  db: Db;
  ledger: Ledger;
  /** The process's one clock (the system's by default). */
  clock?: Clock;
  /** Tests move one context's clock alone (code expiry, key expiry, webhook retries, sessions). */
  testClocks?: Partial<Record<'codes' | 'merchants' | 'webhooks' | 'merchantSessions', Clock>>;
  /** The process's role, recorded with its instance (default all). */
  role?: string;
  logger?: Logger;
  walletLimitsJson?: string | null;
  walletTestTopups?: boolean;
  /** YUNPAY_PHONE_REGION: where national phone numbers (13800000001) are read as from; absent: CN. */
  phoneRegion?: string;
  /** Tests relax or tighten identity's rate limits. */
  identityRateLimits?: IdentityDependencies['rateLimits'];
  /** JSON offline code caps (codes/caps.ts parseOfflineCaps); null or absent: the defaults. */
  offlineCodeCapsJson?: string | null;
  /** Default merchant pricing (config YUNPAY_MERCHANT_FEE_BPS, YUNPAY_MERCHANT_FEE_FIXED); absent: merchantPricingDefault. */
  merchantPricing?: MerchantsConfig;
  /** YUNPAY_WEBHOOK_ALLOW_PRIVATE: webhook endpoints may be on loopback/private addresses (default false). */
  webhookAllowPrivate?: boolean;
  /** Tests resolve webhook hosts themselves. */
  webhookResolver?: HostResolver;
  /** Tests tighten the merchant sessions' failed sign-in limit. */
  merchantSessionSignInFailures?: { failuresMax: number; windowMs: number };
  /** Card payments: the vault's keys and where the card network is. Absent: no card payments. */
  cards?: { vaultKeys: VaultKeys; network: CardNetworkAddress };
}

export function createServices(options: ServiceOptions): Services {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const closers: (() => Promise<void>)[] = [];
  const instance = startInstance(db, {
    role: options.role ?? 'all',
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  closers.push(() => instance.stop());
  const idempotency = createIdempotencyStore(db, { instance });
  const v1Expand = new ExpandRegistry();
  const shared: SharedPlatform = { options, clock, idempotency, v1Expand };
  const core = coreContexts(shared);
  // Cards need nothing of the other contexts; wallets top up through them, payments charge them.
  const cards = options.cards === undefined ? null : cardsContext(options, options.cards);
  if (cards !== null) closers.push(() => cards.close());
  const money = moneyContexts(shared, core, cards);
  const merchantSessions = merchantSessionsContext(shared, core.merchants);
  return servicesOf({ ...shared, instance, core, cards, money, merchantSessions, closers });
}

/** What every context may share: the options, the one clock, idempotency keys and /v1 expand. */
interface SharedPlatform {
  options: ServiceOptions;
  clock: Clock;
  idempotency: IdempotencyStore;
  v1Expand: ExpandRegistry;
}

/** The contexts that depend on no money-moving context. */
interface CoreContexts {
  events: EventsContext;
  identity: IdentityContext;
  merchants: MerchantsContext;
  customers: CustomersContext;
}

/** The contexts that move money (and the payment codes they redeem). */
interface MoneyContexts {
  wallets: WalletsContext;
  codes: CodesContext;
  payments: PaymentsContext;
}

function coreContexts({ options, clock, v1Expand }: SharedPlatform): CoreContexts {
  const { db } = options;
  const events = createEventsContext({
    db,
    clock: options.testClocks?.webhooks ?? clock,
    webhookAllowPrivate: options.webhookAllowPrivate ?? false,
    ...(options.webhookResolver === undefined ? {} : { webhookResolver: options.webhookResolver }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const identity = createIdentityContext({
    db,
    clock,
    notifications: events.notifications.writer,
    // A revoked device's payment codes and offline key die in the same transaction.
    onDeviceRevoked: revokeCodesOfDevice,
    ...(options.identityRateLimits === undefined ? {} : { rateLimits: options.identityRateLimits }),
    ...(options.phoneRegion === undefined ? {} : { phoneRegion: options.phoneRegion }),
  });
  const merchants = createMerchantsContext({
    db,
    clock: options.testClocks?.merchants ?? clock,
    pricing: options.merchantPricing ?? merchantPricingDefault,
  });
  const customers = createCustomersContext({ db, v1Expand });
  return { events, identity, merchants, customers };
}

function moneyContexts(shared: SharedPlatform, core: CoreContexts, cards: CardsContext | null): MoneyContexts {
  const { options, clock, idempotency } = shared;
  const { db, ledger } = options;
  const { events, identity } = core;
  const olderThanMs = recoveryAfterMs(
    options.cards?.network.requestTimeoutMs ?? limits.cardNetworkRequestTimeoutMsDefault,
  );
  const wallets = walletsContext({
    options,
    clock,
    identity: identity.identity,
    events,
    idempotency,
    cards,
    olderThanMs,
  });
  const codes = createCodesContext({
    db,
    clock: options.testClocks?.codes ?? clock,
    identity: identity.identity,
    notifications: events.notifications.writer,
    offlineCapsJson: options.offlineCodeCapsJson ?? null,
  });
  const payments = createPaymentsContext({
    db,
    ledger,
    clock,
    merchants: core.merchants.merchants,
    recordEvent: events.recordEvent,
    wallets: wallets.wallets,
    redeemPaymentCode: (code, redeemOptions) => codes.codes.redeemPaymentCode(code, redeemOptions),
    verifyPaymentPin: (userId, pin) => identity.identity.verifyPaymentPin(userId, pin),
    notifications: events.notifications.writer,
    idempotency,
    cards,
    v1Expand: shared.v1Expand,
    recoveryAfterMs: olderThanMs,
  });
  return { wallets, codes, payments };
}

function merchantSessionsContext({ options, clock, idempotency }: SharedPlatform, merchants: MerchantsContext) {
  return createMerchantSessionsContext({
    db: options.db,
    clock: options.testClocks?.merchantSessions ?? clock,
    merchants: merchants.merchants,
    idempotency,
    ...(options.merchantSessionSignInFailures === undefined
      ? {}
      : { signInFailures: options.merchantSessionSignInFailures }),
  });
}

/** The Services object: each context's public part, every job, and one close in reverse order. */
function servicesOf(
  input: SharedPlatform & {
    instance: Instance;
    core: CoreContexts;
    cards: CardsContext | null;
    money: MoneyContexts;
    merchantSessions: MerchantSessionsContext;
    closers: (() => Promise<void>)[];
  },
): Services {
  const { idempotency, core, cards, money } = input;
  const { events, identity } = core;
  const { wallets, codes, payments } = money;
  return {
    instance: input.instance,
    clock: input.clock,
    ledger: input.options.ledger,
    identity: identity.identity,
    notifications: events.notifications,
    idempotency,
    wallets: wallets.wallets,
    codes: codes.codes,
    merchants: core.merchants.merchants,
    merchantSessions: input.merchantSessions.merchantSessions,
    customers: core.customers.customers,
    merchantEvents: events.merchantEvents,
    v1Expand: input.v1Expand,
    webhooks: events.webhooks,
    payments: payments.payments,
    walletMethod: payments.walletMethod,
    merchantQr: payments.merchantQr,
    cards,
    cardChallenges: payments.cardChallenges,
    cardForPayment: payments.cardForPayment,
    jobs: [
      idempotencyJob(idempotency),
      ...events.jobs,
      ...identity.jobs,
      ...codes.jobs,
      ...(cards?.jobs ?? []),
      ...payments.jobs,
      ...wallets.jobs,
    ],
    close: async () => {
      for (const close of input.closers.reverse()) await close();
    },
  };
}

function cardsContext(options: ServiceOptions, cards: NonNullable<ServiceOptions['cards']>): CardsContext {
  return createCardsContext({
    db: options.db,
    vaultKeys: cards.vaultKeys,
    network: cards.network,
    testTokens: options.walletTestTopups ?? true,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
}

function walletsContext(input: {
  options: ServiceOptions;
  clock: Clock;
  identity: Identity;
  events: EventsContext;
  idempotency: IdempotencyStore;
  cards: CardsContext | null;
  olderThanMs: number;
}) {
  const { options, cards } = input;
  const paymentAccounts = createPaymentAccounts(options.ledger);
  return createWalletsContext({
    db: options.db,
    ledger: options.ledger,
    clock: input.clock,
    identity: input.identity,
    notifications: input.events.notifications.writer,
    idempotency: input.idempotency,
    limitsJson: options.walletLimitsJson ?? null,
    testTopupsEnabled: options.walletTestTopups ?? true,
    recoveryAfterMs: input.olderThanMs,
    ...(cards === null
      ? {}
      : {
          cardFunding: {
            isCardSource: (source: string) => cards.walletCards.isCardSource(source),
            checkSource: async (userId: string, source: string) => {
              await cards.walletCards.vaultCardOf(userId, source);
            },
            charge: (chargeInput) => cards.chargeWalletCard(chargeInput),
            resolve: (reference: string) => cards.resolveWalletCharge(reference),
            clearingAccount: (currency: string) => paymentAccounts.cardClearing(true, currency),
          },
        }),
  });
}

/** The platform's own housekeeping: idempotency keys past retention, and responses stored in clear before sealing existed. */
function idempotencyJob(idempotency: IdempotencyStore): WorkerJob {
  return {
    name: 'idempotency-housekeeping',
    intervalMs: limits.housekeepingIntervalMs,
    async run(logger) {
      const keys = await idempotency.purgeExpired();
      const resealed = await idempotency.resealLegacy();
      if (keys + resealed > 0)
        logger.info({ idempotency_keys: keys, resealed_responses: resealed }, 'idempotency housekeeping');
    },
  };
}

import type { Db } from '../../platform/db.js';
import type { WorkerJob } from '../../platform/jobs.js';
import { limits as platformLimits } from '../../platform/limits.js';
import type { Logger } from '../../platform/logger.js';
import type { CardNetworkPort } from '../payments/index.js';
import { createCardGateway, type CardGateway, type CardTransactionOutcome } from './gateway/index.js';
import { createPaymentMethods, type PaymentMethods } from './methods/index.js';
import { createCardNetworkConnector, type CardNetworkConnector } from './network/index.js';
import { createVault, type CardVault, type VaultKeys } from './vault/index.js';
import { createWalletCards, type WalletCards } from './wallet-cards.js';

/** How a process reaches the card network (config YUNPAY_NETWORK_*). */
export interface CardNetworkAddress {
  host: string;
  port: number;
  requestTimeoutMs: number;
  poolSize: number;
}

export interface CardsOptions {
  db: Db;
  vaultKeys: VaultKeys;
  network: CardNetworkAddress;
  /** Test tokens (tok_visa…) for saved wallet cards. */
  testTokens: boolean;
  logger?: Logger;
}

/** What the network answered, as the payments and wallets contexts see it. */
export type CardOutcome =
  { approved: true } | { approved: false; code: string; declineCode: string | null; message: string };

/** The merchant id (field 42 source) wallet top-ups are acquired under. */
export const walletTopupMerchantId = 'yunpay_wallet_topups';

function declined(decline: { code: string; declineCode: string; message: string }): CardOutcome {
  return { approved: false, code: decline.code, declineCode: decline.declineCode, message: decline.message };
}

function outcomeOf(outcome: CardTransactionOutcome): CardOutcome {
  return outcome.status === 'approved' ? { approved: true } : declined(outcome.decline);
}

export interface CardsContext {
  vault: CardVault;
  paymentMethods: PaymentMethods;
  gateway: CardGateway;
  connector: CardNetworkConnector;
  walletCards: WalletCards;
  /** The payments context's card network port, implemented here. */
  paymentsPort: CardNetworkPort;
  /** The gateway's sweep: reversals not yet confirmed, advices not yet delivered, sends whose process died. */
  jobs: WorkerJob[];
  /** Recovery of a top-up's card charge (see paymentsPort.resolveCharge). */
  resolveWalletCharge(reference: string): Promise<CardOutcome | null>;
  /** Charges a wallet user's saved card for a top-up (idempotent by reference). */
  chargeWalletCard(input: {
    userId: string;
    source: string;
    reference: string;
    amountMinor: bigint;
    currency: string;
  }): Promise<CardOutcome>;
  close(): Promise<void>;
}

/** The cards context: vault, payment methods, the gateway and its connection to the card network. */
export function createCardsContext(options: CardsOptions): CardsContext {
  const { db } = options;
  const vault = createVault({ db, keys: options.vaultKeys });
  const paymentMethods = createPaymentMethods({ db, vault });
  const connector = createCardNetworkConnector({
    host: options.network.host,
    port: options.network.port,
    poolSize: options.network.poolSize,
    requestTimeoutMs: options.network.requestTimeoutMs,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const gateway = createCardGateway({
    db,
    vault,
    transport: connector,
    requestTimeoutMs: options.network.requestTimeoutMs,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const walletCards = createWalletCards({ db, vault, testTokens: options.testTokens });

  return {
    vault,
    paymentMethods,
    gateway,
    connector,
    walletCards,
    paymentsPort: paymentsPortOf({ gateway, paymentMethods }),
    chargeWalletCard: (input) => chargeWalletCard({ gateway, walletCards }, input),
    resolveWalletCharge: (reference) => resolveWalletCharge(gateway, reference),
    jobs: [gatewaySweepJob(gateway)],
    close: () => connector.close(),
  };
}

/** The payments context's card network port: a saved PaymentMethod's card, through the gateway. */
function paymentsPortOf({
  gateway,
  paymentMethods,
}: {
  gateway: CardGateway;
  paymentMethods: PaymentMethods;
}): CardNetworkPort {
  return {
    async authorize(input) {
      const card = await paymentMethods.cardOf(input.ctx, input.paymentMethodId);
      return outcomeOf(
        await gateway.authorize({
          reference: input.chargeId,
          cardId: card.cardId,
          amountMinor: input.amountMinor,
          currency: input.currency,
          merchantAccountId: input.ctx.accountId,
          capture: input.captureMethod,
          authenticated: input.authenticated === true,
          expiry: { month: card.expMonth, year: card.expYear },
        }),
      );
    },
    async capture(input) {
      const outcome = await gateway.capture({
        reference: `${input.chargeId}:capture`,
        authorizationReference: input.chargeId,
        amountMinor: input.amountMinor,
      });
      // A completion not yet acknowledged is recorded and delivered by the sweep: the capture stands.
      return outcome.status === 'approved' ? { approved: true } : declined(outcome.decline);
    },
    async void(input) {
      await gateway.void({ authorizationReference: input.chargeId });
    },
    async refund(input) {
      const card = await paymentMethods.cardOf(input.ctx, input.paymentMethodId);
      return outcomeOf(
        await gateway.refund({
          reference: input.refundId,
          cardId: card.cardId,
          amountMinor: input.amountMinor,
          currency: input.currency,
          merchantAccountId: input.ctx.accountId,
          expiry: { month: card.expMonth, year: card.expYear },
        }),
      );
    },
    async resolveCharge(input) {
      const outcome = await gateway.resolveOriginal(
        input.chargeId,
        input.captureMethod === 'manual' ? 'authorization' : 'sale',
      );
      return outcome === null ? null : outcomeOf(outcome);
    },
    async resolveRefund(input) {
      const outcome = await gateway.resolveOriginal(input.refundId, 'refund');
      return outcome === null ? null : outcomeOf(outcome);
    },
  };
}

async function chargeWalletCard(
  { gateway, walletCards }: { gateway: CardGateway; walletCards: WalletCards },
  input: Parameters<CardsContext['chargeWalletCard']>[0],
): Promise<CardOutcome> {
  const { vaultCardId } = await walletCards.vaultCardOf(input.userId, input.source);
  return outcomeOf(
    await gateway.authorize({
      reference: `topup:${input.reference}`,
      cardId: vaultCardId,
      amountMinor: input.amountMinor,
      currency: input.currency,
      merchantAccountId: walletTopupMerchantId,
      capture: 'automatic',
    }),
  );
}

async function resolveWalletCharge(gateway: CardGateway, reference: string): Promise<CardOutcome | null> {
  const outcome = await gateway.resolveOriginal(`topup:${reference}`, 'sale');
  return outcome === null ? null : outcomeOf(outcome);
}

function gatewaySweepJob(gateway: CardGateway): WorkerJob {
  return {
    name: 'card-gateway-sweep',
    intervalMs: platformLimits.recoverySweepIntervalMs,
    async run(logger) {
      const report = await gateway.sweep({ batchSizeMax: platformLimits.recoveryBatchSizeMax });
      if (report.claimedCount > 0) logger.info({ ...report }, 'card gateway sweep');
    },
  };
}

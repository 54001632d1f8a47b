import { describe, expect, it } from 'vitest';
import { checkAllLimits } from '../src/limit-checks.js';
import { cardGatewayLimits, checkCardGatewayLimits } from '../src/modules/cards/gateway/index.js';
import { checkIso8583Limits, iso8583BodyBytesMax } from '../src/modules/cards/iso8583/index.js';
import {
  cardNetworkLimits,
  checkCardNetworkLimits,
  createCardNetworkConnector,
} from '../src/modules/cards/network/index.js';
import { checkCodesLimits, emvLimits } from '../src/modules/codes/index.js';
import { checkMerchantSessionLimits, merchantSessionLimits } from '../src/modules/merchant-sessions/index.js';
import { checkWalletLimits, walletLimits } from '../src/modules/wallets/index.js';
import { checkWebhookLimits } from '../src/modules/events/index.js';
import { checkIdempotencyLimits, idempotencyLimits } from '../src/platform/idempotency.js';
import { checkInstanceLimits, instanceLimits } from '../src/platform/instances.js';
import { limits } from '../src/platform/limits.js';

describe('checkAllLimits', () => {
  it('passes on the tables as they are', () => {
    expect(() => checkAllLimits()).not.toThrow();
  });

  it("catches a broken table in every context's check", () => {
    expect(() => checkCardNetworkLimits({ ...cardNetworkLimits, simulatorConnectionsDefault: 2_000 })).toThrow(
      /simulatorConnections/,
    );
    expect(() => checkCardNetworkLimits({ ...cardNetworkLimits, simulatorFaultDelayMsMax: 2 ** 31 })).toThrow(
      /setTimeout/,
    );
    expect(() => checkCardGatewayLimits({ ...cardGatewayLimits, reversalAttemptsMaxDefault: 11 })).toThrow(
      /reversalAttemptsMax/,
    );
    expect(() => checkCardGatewayLimits({ ...cardGatewayLimits, inFlightPollMs: 0 })).toThrow(/inFlightPollMs/);
    expect(() => checkIso8583Limits(iso8583BodyBytesMax - 1)).toThrow(/cardsIso8583FrameBytesMax/);
    expect(() => checkCodesLimits({ ...emvLimits, merchantNameLengthMax: -1 })).toThrow(/merchantNameLengthMax/);
    expect(() =>
      checkMerchantSessionLimits({ ...merchantSessionLimits, touchIntervalMs: merchantSessionLimits.idleMs }),
    ).toThrow(/touch interval/);
    expect(() => checkWalletLimits({ ...walletLimits, historyPageMax: limits.pageSizeMax + 1 })).toThrow(
      /historyPageMax/,
    );
    expect(() => checkWebhookLimits([60_000, 30_000])).toThrow(/never shrink/);
    expect(() => checkWebhookLimits([limits.webhookRetryDelayMsMax + 1])).toThrow(/webhook retry delay/);
    expect(() => checkIdempotencyLimits({ ...idempotencyLimits, staleAfterMs: instanceLimits.deadAfterMs })).toThrow(
      /dead process/,
    );
    expect(() => checkInstanceLimits({ ...instanceLimits, deadAfterMs: instanceLimits.heartbeatIntervalMs })).toThrow(
      /missed heartbeats/,
    );
  });

  it('gives the connector the card network timeout and pool bounds of platform limits, as config and the gateway have', async () => {
    const make = (options: { requestTimeoutMs?: number; poolSize?: number }) =>
      createCardNetworkConnector({ host: '127.0.0.1', port: 9, ...options });
    const atMax = make({
      requestTimeoutMs: limits.cardNetworkRequestTimeoutMsMax,
      poolSize: limits.cardNetworkPoolSizeMax,
    });
    await atMax.close();
    expect(() => make({ requestTimeoutMs: limits.cardNetworkRequestTimeoutMsMax + 1 })).toThrow(/requestTimeoutMs/);
    expect(() => make({ poolSize: limits.cardNetworkPoolSizeMax + 1 })).toThrow(/poolSize/);
    expect(cardGatewayLimits).not.toHaveProperty('requestTimeoutMsMax');
    expect(cardNetworkLimits).not.toHaveProperty('connectorRequestTimeoutMsMax');
  });
});

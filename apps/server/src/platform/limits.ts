import { assert } from './errors.js';

/**
 * The server's fixed upper bounds (TigerBeetle style: limits on everything). Operator-tunable values
 * (config.ts) are bounded by the *Max / *Min entries here. A few contexts keep a table of bounds
 * only they use next to their code (cardNetworkLimits, cardGatewayLimits, paymentLimits, …), each
 * with a check function; src/limit-checks.ts checkAllLimits runs this file's checkLimits and all of
 * those at start-up (and in a test), so a bad edit crashes before the server takes traffic. A value
 * lives in one table only: another table that needs it refers to it.
 */
export const limits = {
  /** Largest request body the HTTP server reads; larger bodies get 413 body_too_large. */
  httpBodyBytesMax: 1_048_576,
  /** Time a client has to send a whole request (headers and body). */
  httpRequestTimeoutMs: 30_000,
  /** Idle time allowed on a socket before it is closed. */
  httpConnectionTimeoutMs: 60_000,
  /** Idle time a kept-alive connection stays open between requests (above typical LB idle timeouts). */
  httpKeepAliveTimeoutMs: 72_000,
  /** Length of a client-supplied X-Request-Id we accept; longer ones are replaced. */
  requestIdLengthMax: 64,
  /** Longest URL parameter the router accepts; a longer one is a 400 invalid_request (app.ts frameworkErrors). */
  httpParamLengthMax: 200,
  /** Characters of a request path an error message quotes (a 404's "No route GET /…"). */
  httpErrorPathLengthMax: 200,
  /** YUNPAY_TRUST_PROXY: the largest hop count, and the most addresses or CIDR ranges in its list. */
  httpTrustProxyHopsMax: 10,
  httpTrustProxyAddressesMax: 32,
  /** YUNPAY_TLS=self-signed: addresses a generated certificate names, its validity, and when it is made again. */
  tlsAddressesMax: 32,
  tlsSelfSignedValidityDays: 365,
  tlsSelfSignedRenewBeforeDays: 30,
  /** Objects in one page of a list response. */
  pageSizeMax: 100,

  /** After SIGTERM, how long draining may take before the process exits anyway. */
  shutdownDrainTimeoutMs: 25_000,
  /** How long /readyz waits for the database before reporting it unreachable. */
  readinessCheckTimeoutMs: 2_000,

  /** Connections in one node's PostgreSQL pool. */
  databasePoolSizeDefault: 10,
  databasePoolSizeMax: 200,
  /** A statement running longer than this is cancelled by PostgreSQL. */
  databaseStatementTimeoutMs: 30_000,
  databaseConnectTimeoutS: 10,
  /** Distinct statement texts one PostgreSQL pool prepares (platform/db.ts); past it, new texts run unprepared. */
  databasePreparedStatementsMax: 2_000,

  /** Transfers applied in one ledger transaction (8190 = TigerBeetle's batch size). */
  ledgerBatchSizeDefault: 8_190,
  ledgerBatchSizeMax: 8_190,
  /** Ledger batches being applied at once (each holds one database connection); the ledger allows 8. */
  ledgerBatchesInFlightDefault: 1,
  ledgerBatchesInFlightMax: 8,

  /** Transfers waiting for a ledger batch in one process; past it submissions get ledger_overloaded. */
  ledgerQueuedTransfersMax: 1_000_000,
  /** Times a ledger batch is retried after a unique-key conflict or deadlock with another node. */
  ledgerBatchRetriesMax: 5,
  /** Ids in one ledger lookup. */
  ledgerLookupIdsMax: 1_000,
  /** Entries in one page of an account's history. */
  ledgerEntriesPageMax: 1_000,
  /** Serialized size of a transfer's or account's metadata. */
  ledgerMetadataBytesMax: 4_096,
  /** Longest reservation a pending transfer may hold (PostgreSQL integer seconds). */
  ledgerPendingTimeoutSMax: 2_147_483_647,

  /** Worker: how often payments whose approval did not come within 60 s are canceled. */
  paymentApprovalSweepIntervalMs: 5_000,
  /**
   * Worker: how often the recovery sweep finishes money movements a crash left half done (card
   * reversals and advices, charges, captures, cancels, refunds, approvals, transfers, top-ups).
   */
  recoverySweepIntervalMs: 2_000,
  /** The least age of a middle state the sweep takes (3 × the card network timeout when that is more). */
  recoveryAfterMsMin: 15_000,
  /** Middle states of each kind the sweep finishes per run. */
  recoveryBatchSizeMax: 100,
  /** Worker: how often expired idempotency keys and refresh tokens are purged. */
  housekeepingIntervalMs: 60_000,

  /** Worker: how often pending transfers past their timeout are voided. */
  ledgerExpiryIntervalMs: 1_000,
  /** Worker: pending transfers voided per call, so one tick never runs unbounded (the ledger allows 1000). */
  ledgerExpiryBatchMax: 1_000,
  /** Worker: calls per tick when each call fills its batch (a backlog), before yielding to the next tick. */
  ledgerExpiryCallsPerTickMax: 10,

  /** Random bytes in a generated admin token. */
  adminTokenBytes: 32,
  /** Shortest admin token accepted from YUNPAY_ADMIN_TOKEN. */
  adminTokenLengthMin: 32,
  adminTokenLengthMax: 512,

  // --- identity (modules/identity) ---
  /** Password length in Unicode code points (NIST SP 800-63B: at least 8, allow at least 64). */
  identityPasswordLengthMin: 12,
  identityPasswordLengthMax: 128,
  /** A person's display name, in UTF-16 code units. */
  identityNameLengthMax: 100,
  /** RFC 5321 path limit. */
  identityEmailLengthMax: 254,
  /** Longest phone number as typed (with spaces and dashes) before it is normalised to E.164. */
  identityPhoneInputLengthMax: 32,
  identityDeviceNameLengthMax: 100,
  /** Devices not revoked per user; a sign-in from one more answers conflict until one is removed. */
  identityDevicesPerUserMax: 100,
  /** Consecutive failed sign-ins before the account locks (PCI DSS 8.3.4: at most 10). */
  identitySignInFailuresMax: 10,
  /** How long a locked account stays locked (PCI DSS 8.3.4: at least 30 minutes). */
  identitySignInLockoutMs: 1_800_000,
  /** Consecutive wrong payment PINs before payments lock. */
  identityPinFailuresMax: 5,
  identityPinLockoutMs: 1_800_000,
  identityAccessTokenLifetimeS: 900,
  identityRefreshTokenLifetimeS: 2_592_000,
  /** Leeway for exp/nbf between nodes whose clocks differ slightly. */
  identityAccessTokenClockToleranceS: 5,
  /** Shortest gap between two reloads of the signing keys when a token names an unknown kid. */
  identitySigningKeysReloadIntervalMs: 1_000,
  /** Per-node rate limits (fixed windows). Generous per IP: mobile carriers put many people behind one address. */
  identitySignUpsPerIpMax: 20,
  identitySignUpsPerIpWindowMs: 600_000,
  identitySignInsPerIpMax: 100,
  identitySignInsPerIpWindowMs: 60_000,
  identitySignInsPerLoginMax: 10,
  identitySignInsPerLoginWindowMs: 60_000,
  identityPinAttemptsPerUserMax: 10,
  identityPinAttemptsPerUserWindowMs: 60_000,
  identityRefreshesPerIpMax: 300,
  identityRefreshesPerIpWindowMs: 60_000,
  /** Keys one rate limiter remembers per node; past it the oldest window is forgotten. */
  identityRateLimitKeysMax: 100_000,
  /** Expired refresh tokens deleted per call of deleteExpiredRefreshTokens. */
  identityRefreshTokenPruneBatchMax: 1_000,
  // --- end identity ---

  // --- events: notifications (modules/events) ---
  /** Serialized size of one notification's data. */
  notificationDataBytesMax: 4_096,
  /** Longest user id a notification may name (it travels in a NOTIFY payload, limited to 8000 bytes). */
  notificationUserIdLengthMax: 64,
  /** Live notification streams one user may hold open on one node; past it, 429 rate_limited. */
  notificationStreamsPerUserMax: 5,
  /** Live notification streams open on one node; past it, 429 rate_limited. */
  notificationStreamsMax: 10_000,
  /** Notifications replayed after a Last-Event-ID on reconnect. */
  notificationReplayMax: 100,
  /** Interval of the comment line that keeps idle streams (and proxies) alive. */
  notificationStreamHeartbeatMs: 15_000,
  /** Bytes a slow client may leave unread on its stream before it is ended (it reconnects and replays). */
  notificationStreamBufferedBytesMax: 262_144,
  /** Announced notifications waiting to be loaded by one node's hub; past it, the user's streams are ended. */
  notificationHubPendingMax: 10_000,
  /** Notifications the hub loads in one query. */
  notificationHubLoadBatchMax: 500,
  // --- end events ---

  // --- merchants and /v1 (modules/merchants, modules/customers, modules/merchant-events, src/v1) ---
  /** Random bytes in an API key (sk_, pk_, rk_); base62-encoded after the prefix. */
  merchantApiKeyBytes: 32,
  /** Authenticated keys (and unknown ones) one node remembers; past it the oldest is forgotten. */
  merchantKeyCacheEntriesMax: 10_000,
  /** How long a node trusts a cached key lookup: a revoked key stops working within this time. */
  merchantKeyCacheTtlMs: 5_000,
  /** Merchants one node keeps cached (getMerchant), for the same time. */
  merchantCacheEntriesMax: 10_000,
  /** Default grace period of a rolled secret key, and the longest one allowed. */
  merchantKeyRollGraceSDefault: 86_400,
  merchantKeyRollGraceSMax: 604_800,
  /** Keys (all kinds and modes, expired ones included) one merchant may hold. */
  merchantApiKeysPerMerchantMax: 100,
  merchantNameLengthMax: 100,
  merchantCityLengthMax: 50,
  /** Pricing: basis points (1/100 of a percent) and a fixed fee per payment, in minor units. */
  merchantFeeBasisPointsMax: 10_000,
  merchantFeeFixedMinorMax: 1_000_000_000,
  /** Nesting of a /v1 form or JSON body (`a[b][c][d][e]` is 5). */
  v1BodyDepthMax: 5,
  /** Parameters (leaf values) in one /v1 body or query string. */
  v1BodyKeysMax: 1_000,
  /** Dotted levels in one expand[] path, and expand[] paths in one request (Stripe: 4 levels). */
  v1ExpandDepthMax: 4,
  v1ExpandPathsMax: 20,
  v1PageSizeDefault: 10,
  /** Stripe's metadata rules. */
  v1MetadataKeysMax: 50,
  v1MetadataKeyLengthMax: 40,
  v1MetadataValueLengthMax: 500,
  /** Longest object id accepted in a path or a cursor. */
  v1ObjectIdLengthMax: 255,
  /** Longest ordinary string parameter (names, descriptions, emails). */
  v1StringLengthMax: 5_000,
  // --- end merchants and /v1 ---

  // --- codes: payment codes and merchant QR (modules/codes) ---
  /** How long an online payment code can be redeemed after it is issued. */
  codesOnlineCodeLifetimeMs: 60_000,
  /** Online codes one device may hold live (unused, unexpired) at once; past it, 429 rate_limited. */
  codesOnlineLiveCodesPerDeviceMax: 5,
  /** Random draws of a new online code before giving up (a collision with a kept code is ~1e-10). */
  codesOnlineCodeDrawsMax: 10,
  /** Random draws of an 8-digit offline device number before giving up. */
  codesDeviceNumberDrawsMax: 20,
  /** Steps older than the accepted window still recognised, so that a late code says expired. */
  codesOfflineExpiredLookbackSteps: 20,
  /** How long an expired online code stays stored (a late redemption is told expired or used, not invalid). */
  codesOnlineCodeRetentionMs: 86_400_000,
  /** Expired online codes deleted per call of deleteExpiredCodes. */
  codesPurgeBatchMax: 1_000,
  /** A merchant QR payload (EMV QRCPS-MPM allows 512 characters). */
  codesQrPayloadLengthMax: 512,
  /** Pixels per QR module in the PNG image. */
  codesQrImageScale: 6,
  /**
   * Offline code guessing (codes/attempts.ts), counted in PostgreSQL so that every node shares the
   * counts. A device number's offline key is suspended at its 5th wrong code within one 15-minute
   * window (a TOTP guess succeeds with odds of 4 in 10^8).
   */
  codesOfflineFailuresPerDeviceMax: 5,
  codesOfflineFailuresPerDeviceWindowMs: 900_000,
  /** A merchant's wrong offline codes in one 10-minute window; past it, 429 rate_limited before any check. */
  codesOfflineFailuresPerMerchantMax: 30,
  codesOfflineFailuresPerMerchantWindowMs: 600_000,
  /** Ended attempt windows deleted per call of deleteExpiredAttempts. */
  codesOfflineAttemptsPurgeBatchMax: 1_000,
  // --- end codes ---

  // --- webhooks (modules/webhooks) ---
  /** Live webhook endpoints per merchant and mode (Stripe: 16). */
  webhookEndpointsPerAccountMax: 16,
  webhookUrlLengthMax: 2_048,
  /** Entries in one endpoint's enabled_events. */
  webhookEnabledEventsMax: 100,
  /** Addresses of a resolved endpoint host that are checked (all must be public). */
  webhookResolvedAddressesMax: 32,
  /** One POST to an endpoint, connect to last byte. */
  webhookDeliveryTimeoutMs: 10_000,
  /** Response bytes read from an endpoint, and the excerpt of them kept with the attempt. */
  webhookResponseBytesMax: 65_536,
  webhookResponseExcerptBytesMax: 1_024,
  /** How long a claimed delivery is leased to its worker (longer than a whole batch's POSTs can take). */
  webhookDeliveryLeaseMs: 300_000,
  /** Retries stop this long after the event (or after a resend): 3 days. */
  webhookRetryWindowMs: 259_200_000,
  /** Longest wait between two attempts. */
  webhookRetryDelayMsMax: 36_000_000,
  /** Worker: how often due deliveries are sent, how many per tick, and how many POSTs at once. */
  webhookDeliveryIntervalMs: 1_000,
  webhookDeliveryBatchMax: 100,
  webhookDeliveryBatchDefault: 50,
  webhookDeliveryConcurrencyMax: 8,
  // --- end webhooks ---

  // --- cards: ISO 8583 codec and framing (modules/cards/iso8583) ---
  /** Largest ISO 8583 message body (after the 2-byte length prefix) packed or accepted from a stream. */
  cardsIso8583FrameBytesMax: 2_048,
  // --- end cards: ISO 8583 ---

  // --- cards: network connection (config, modules/cards) ---
  /** How long the gateway waits for the network's answer before it reverses. */
  cardNetworkRequestTimeoutMsDefault: 5_000,
  cardNetworkRequestTimeoutMsMin: 50,
  cardNetworkRequestTimeoutMsMax: 60_000,
  /** TCP connections from one process to the card network. */
  cardNetworkPoolSizeDefault: 2,
  cardNetworkPoolSizeMax: 16,
  // --- end cards: network connection ---

  // --- cards: vault (modules/cards/vault) ---
  /** Key-encryption keys (and fingerprint keys) one configuration may list. */
  cardVaultKeysMax: 16,
  /** A key id: letters, digits, '_' and '-'. */
  cardVaultKeyIdLengthMax: 32,
  /** The whole "id:base64,id:base64" configuration text. */
  cardVaultKeysTextLengthMax: 2_048,
  /** Cardholder name, in UTF-16 code units (ISO/IEC 7813 track 1 holds 26 characters). */
  cardVaultCardholderNameLengthMax: 100,
  /** Years ahead an expiry date may lie. */
  cardVaultExpiryYearsAheadMax: 50,
  /** Records returned by one fingerprint lookup. */
  cardVaultFingerprintMatchesMax: 100,
  /** Data keys re-wrapped in one short transaction of rewrapAll. */
  cardVaultRewrapBatchSizeDefault: 500,
  cardVaultRewrapBatchSizeMax: 1_000,
  // --- end cards: vault ---
} as const;

export type Limits = { readonly [Name in keyof typeof limits]: number };

/** Crashes unless every value of a table of bounds is a positive safe integer. */
export function checkLimitTable(tableName: string, table: Readonly<Record<string, number>>): void {
  for (const [name, value] of Object.entries(table)) {
    assert(Number.isSafeInteger(value) && value > 0, `${tableName}.${name} must be a positive integer, got ${value}`);
  }
}

/** Crashes unless `defaultValue` lies between `min` (1 when not given) and `max`. */
export function checkDefaultInRange(name: string, range: { min?: number; defaultValue: number; max: number }): void {
  const min = range.min ?? 1;
  assert(
    min <= range.defaultValue && range.defaultValue <= range.max,
    `${name} default ${range.defaultValue} must lie in ${min}-${range.max}`,
  );
}

/** Crashes on an inconsistent limits table; called at start-up by checkAllLimits and by the tests. */
export function checkLimits(table: Limits = limits): void {
  for (const [name, value] of Object.entries(table)) {
    assert(Number.isSafeInteger(value) && value > 0, `limit ${name} must be a positive integer, got ${value}`);
  }
  checkServerRules(table);
  checkIdentityAndEventsRules(table);
  checkMerchantsAndCodesRules(table);
  checkWebhooksRules(table);
  checkCardsRules(table);
}

function checkServerRules(table: Limits): void {
  assert(table.httpBodyBytesMax <= 64 * 1_048_576, 'httpBodyBytesMax must stay at or below 64 MiB');
  assert(
    table.httpKeepAliveTimeoutMs < table.httpConnectionTimeoutMs + table.httpRequestTimeoutMs,
    'httpKeepAliveTimeoutMs must be shorter than the connection and request timeouts together',
  );
  assert(table.requestIdLengthMax >= 36, 'requestIdLengthMax must fit a UUID');
  assert(table.ledgerBatchSizeDefault <= table.ledgerBatchSizeMax, 'ledgerBatchSizeDefault exceeds its max');
  assert(
    table.ledgerBatchesInFlightDefault <= table.ledgerBatchesInFlightMax,
    'ledgerBatchesInFlightDefault exceeds its max',
  );
  assert(table.databasePoolSizeDefault <= table.databasePoolSizeMax, 'databasePoolSizeDefault exceeds its max');
  assert(
    table.readinessCheckTimeoutMs < table.httpRequestTimeoutMs,
    'readinessCheckTimeoutMs must be shorter than httpRequestTimeoutMs',
  );
  assert(
    table.ledgerExpiryIntervalMs < table.shutdownDrainTimeoutMs,
    'ledgerExpiryIntervalMs must be shorter than shutdownDrainTimeoutMs',
  );
  assert(table.adminTokenLengthMin <= table.adminTokenLengthMax, 'adminTokenLengthMin exceeds its max');
  // A generated token (base64url, 4 chars per 3 bytes) must itself pass the env check.
  assert(
    Math.ceil((table.adminTokenBytes * 4) / 3) >= table.adminTokenLengthMin,
    'adminTokenBytes is too small for adminTokenLengthMin',
  );
}

function checkIdentityAndEventsRules(table: Limits): void {
  assert(table.identityPasswordLengthMin >= 8, 'identityPasswordLengthMin must be at least 8 (NIST SP 800-63B)');
  assert(
    table.identityPasswordLengthMin <= table.identityPasswordLengthMax,
    'identityPasswordLengthMin exceeds its max',
  );
  assert(table.identitySignInFailuresMax <= 10, 'identitySignInFailuresMax must be at most 10 (PCI DSS 8.3.4)');
  assert(table.identitySignInLockoutMs >= 1_800_000, 'identitySignInLockoutMs must be at least 30 minutes');
  assert(
    table.identityAccessTokenLifetimeS < table.identityRefreshTokenLifetimeS,
    'identityAccessTokenLifetimeS must be shorter than identityRefreshTokenLifetimeS',
  );
  assert(
    table.notificationStreamsPerUserMax <= table.notificationStreamsMax,
    'notificationStreamsPerUserMax exceeds notificationStreamsMax',
  );
  assert(table.notificationReplayMax <= table.pageSizeMax, 'notificationReplayMax must fit in one page');
  assert(
    table.notificationStreamHeartbeatMs < table.httpConnectionTimeoutMs,
    'notificationStreamHeartbeatMs must be shorter than httpConnectionTimeoutMs, or idle streams time out',
  );
  assert(
    table.notificationHubLoadBatchMax <= table.notificationHubPendingMax,
    'notificationHubLoadBatchMax exceeds notificationHubPendingMax',
  );
}

function checkMerchantsAndCodesRules(table: Limits): void {
  assert(table.merchantApiKeyBytes >= 32, 'merchantApiKeyBytes must be at least 32');
  assert(
    table.merchantKeyCacheTtlMs <= 5_000,
    'merchantKeyCacheTtlMs must be at most 5 s so revoked keys stop quickly',
  );
  assert(
    table.merchantKeyRollGraceSDefault <= table.merchantKeyRollGraceSMax,
    'merchantKeyRollGraceSDefault exceeds its max',
  );
  assert(table.v1PageSizeDefault <= table.pageSizeMax, 'v1PageSizeDefault exceeds pageSizeMax');
  assert(table.codesOnlineCodeLifetimeMs <= 300_000, 'codesOnlineCodeLifetimeMs must stay short (at most 5 minutes)');
  assert(
    table.codesOnlineCodeRetentionMs >= table.codesOnlineCodeLifetimeMs,
    'codesOnlineCodeRetentionMs must be at least codesOnlineCodeLifetimeMs',
  );
  assert(table.codesQrPayloadLengthMax <= 512, 'codesQrPayloadLengthMax must stay within EMV QRCPS-MPM (512)');
  assert(
    table.codesOfflineFailuresPerDeviceMax <= 10,
    'codesOfflineFailuresPerDeviceMax must stay small: each failure is a TOTP guess',
  );
  assert(
    table.codesOfflineFailuresPerDeviceMax <= table.codesOfflineFailuresPerMerchantMax,
    'codesOfflineFailuresPerDeviceMax exceeds codesOfflineFailuresPerMerchantMax',
  );
}

function checkWebhooksRules(table: Limits): void {
  assert(
    table.webhookDeliveryLeaseMs >
      Math.ceil(table.webhookDeliveryBatchMax / table.webhookDeliveryConcurrencyMax) * table.webhookDeliveryTimeoutMs,
    'webhookDeliveryLeaseMs must exceed the time a whole batch of POSTs can take, or a slow POST is sent twice',
  );
  assert(
    table.webhookResponseExcerptBytesMax <= table.webhookResponseBytesMax,
    'webhookResponseExcerptBytesMax exceeds webhookResponseBytesMax',
  );
  assert(
    table.webhookDeliveryBatchDefault <= table.webhookDeliveryBatchMax,
    'webhookDeliveryBatchDefault exceeds its max',
  );
  assert(
    table.webhookRetryDelayMsMax < table.webhookRetryWindowMs,
    'webhookRetryDelayMsMax must fit in the retry window',
  );
}

function checkCardsRules(table: Limits): void {
  assert(
    table.cardsIso8583FrameBytesMax <= 65_535,
    'cardsIso8583FrameBytesMax must fit the 2-byte length prefix (65535)',
  );
  checkDefaultInRange('cardNetworkRequestTimeoutMs', {
    min: table.cardNetworkRequestTimeoutMsMin,
    defaultValue: table.cardNetworkRequestTimeoutMsDefault,
    max: table.cardNetworkRequestTimeoutMsMax,
  });
  checkDefaultInRange('cardNetworkPoolSize', {
    defaultValue: table.cardNetworkPoolSizeDefault,
    max: table.cardNetworkPoolSizeMax,
  });
  assert(
    table.cardVaultRewrapBatchSizeDefault <= table.cardVaultRewrapBatchSizeMax,
    'cardVaultRewrapBatchSizeDefault exceeds its max',
  );
  assert(
    table.cardVaultFingerprintMatchesMax <= table.pageSizeMax,
    'cardVaultFingerprintMatchesMax must fit in one page',
  );
}

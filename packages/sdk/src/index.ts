/**
 * @yunpay/sdk: a typed client for Yunpay's wallet (/wallet/v1), merchant (/v1, Stripe-compatible)
 * and admin (/admin/v1) APIs. Runs in browsers and in Node 20 (fetch, Web Crypto, TextEncoder).
 */
import { AdminClient, type AdminClientOptions } from './admin/client.js';
import { HttpTransport, type ClientOptions } from './http.js';
import { MerchantClient, type MerchantClientOptions } from './merchant/client.js';
import { MerchantSession, type MerchantSessionOptions } from './merchant/session.js';
import { WalletClient, type WalletClientOptions } from './wallet/client.js';

export interface Yunpay {
  /** `wallet({ refreshTokenCookie: true })` for web apps on Yunpay's origin (the refresh token in an httpOnly cookie). */
  wallet<Cookie extends boolean = false>(
    options?: Omit<WalletClientOptions<Cookie>, keyof ClientOptions>,
  ): WalletClient<Cookie>;
  merchant(apiKey: string): MerchantClient;
  /** The POS and dashboard: a merchant signed in with a cookie session (signIn / resume / signOut). */
  merchantSession(options?: Omit<MerchantSessionOptions, keyof ClientOptions>): MerchantSession;
  admin(adminToken: string): AdminClient;
}

/**
 * One transport (base URL, fetch, retries, timeout, hooks) shared by the clients made from it:
 * `const yunpay = createYunpay({ baseUrl }); const wallet = yunpay.wallet();`
 */
export function createYunpay(options: ClientOptions): Yunpay {
  const transport = new HttpTransport(options);
  return {
    wallet: <Cookie extends boolean = false>(
      walletOptions: Omit<WalletClientOptions<Cookie>, keyof ClientOptions> = {},
    ) => new WalletClient<Cookie>({ ...options, ...walletOptions }, transport),
    merchant: (apiKey) => new MerchantClient({ ...options, apiKey }, transport),
    merchantSession: (sessionOptions = {}) => new MerchantSession({ ...options, ...sessionOptions }, transport),
    admin: (adminToken) => new AdminClient({ ...options, adminToken }, transport),
  };
}

/**
 * A merchant cookie session on its own (the POS and dashboard):
 * `const merchant = createMerchantSession({ baseUrl: location.origin }); await merchant.resume();`
 */
export function createMerchantSession(options: MerchantSessionOptions): MerchantSession {
  return new MerchantSession(options);
}

export { AdminClient, MerchantClient, MerchantSession, WalletClient };
export type { AdminClientOptions, MerchantClientOptions, MerchantSessionOptions, WalletClientOptions };
export type {
  HistoryListParams,
  NotificationStreamOptions,
  SignInInput,
  SignInResult,
  SignUpInput,
} from './wallet/client.js';
export type { V1SessionAuth } from './merchant/requester.js';
export { MemoryTokenStore, type TokenStore } from './wallet/tokens.js';
export {
  HttpTransport,
  backoffDelayMs,
  retryAfterMs,
  type ClientOptions,
  type FetchCredentials,
  type FetchInit,
  type FetchLike,
  type FetchResponse,
  type RequestEvent,
  type ResponseEvent,
  type RetryClass,
  type RetryOptions,
} from './http.js';
export {
  YunpayAbortError,
  YunpayApiError,
  YunpayError,
  YunpayNetworkError,
  YunpayTimeoutError,
  errorFromResponse,
  isYunpayError,
  type YunpayErrorKind,
} from './errors.js';
export { type CallOptions } from './merchant/requester.js';
export { autoPaginate, type AutoPaginateOptions, type List, type ListPromise, type PageFetcher } from './pagination.js';
export {
  AmountParseError,
  currencyExponent,
  currencyExponents,
  formatAmount,
  parseAmount,
  toDecimalString,
  tryParseAmount,
  type FormatAmountOptions,
  type ParseAmountErrorCode,
  type ParseAmountResult,
} from './money.js';
export { newDeviceId, newIdempotencyKey, uuidV4 } from './ids.js';
export { toForm } from './form.js';
export { readSse, type SseEvent } from './sse.js';
export { verifyWebhookSignature } from './webhooks.js';
export { sdkLimits } from './limits.js';
export type * from './types/wallet.js';
export type * from './types/v1.js';
export type * from './types/admin.js';
export type * from './types/merchant-session.js';

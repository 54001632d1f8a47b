import { YunpayApiError, type YunpayError } from '../errors.js';
import { toFlatQuery } from '../form.js';
import { HttpTransport, type ClientOptions, type RequestSpec } from '../http.js';
import { checkIntegerOption, sdkLimits } from '../limits.js';
import type { List } from '../pagination.js';
import type {
  DailyBalanceSummaryList,
  MerchantApiKey,
  MerchantApiKeyRollParams,
  MerchantRolledApiKey,
  MerchantSessionInfo,
} from '../types/merchant-session.js';
import { MerchantClient } from './client.js';
import type { CallOptions } from './requester.js';

export interface MerchantSessionOptions extends ClientOptions {
  /** Called when a request finds the session over (401: signed out elsewhere, expired, key rolled). */
  onSessionEnded?: (error: YunpayError) => void;
}

/**
 * A merchant signed in to the POS or dashboard on Yunpay's own origin. The secret key is sent
 * once (signIn) and never kept; the server answers with an httpOnly session cookie (scripts cannot
 * read it) and a CSRF token this object keeps in memory only. After a page reload, resume() asks
 * for the token again. Every request goes with `credentials: 'same-origin'`, the CSRF token as
 * X-CSRF-Token and no Authorization header. `client` is the /v1 API acting as the signed-in merchant.
 */
export class MerchantSession {
  readonly #transport: HttpTransport;
  readonly #onSessionEnded: ((error: YunpayError) => void) | undefined;
  #info: MerchantSessionInfo | null = null;
  /** The Stripe-compatible /v1 API, authenticated by this session. */
  readonly client: MerchantClient;

  constructor(options: MerchantSessionOptions, transport?: HttpTransport) {
    this.#transport = transport ?? new HttpTransport(options);
    this.#onSessionEnded = options.onSessionEnded;
    this.client = new MerchantClient(
      {
        ...options,
        session: { csrfToken: () => this.#info?.csrf_token ?? null, ended: (error) => this.#ended(error) },
      },
      this.#transport,
    );
  }

  /** The signed-in session (account, mode, expiry), or null. */
  get current(): MerchantSessionInfo | null {
    return this.#info;
  }

  /** Signs in with a secret key (sk_…): the key is sent in this request only. Not retried except on 429. */
  async signIn(secretKey: string, options: CallOptions = {}): Promise<MerchantSessionInfo> {
    if (typeof secretKey !== 'string' || secretKey === '') throw new TypeError('secretKey must be a secret key');
    const info = await this.#transport.request<MerchantSessionInfo>({
      method: 'POST',
      path: '/merchant/v1/sessions',
      body: { kind: 'json', value: { secret_key: secretKey } },
      retry: 'unsafe',
      credentials: 'same-origin',
      ...signalOf(options),
    });
    return this.#keep(info);
  }

  /** The session after a page reload (its CSRF token again), or null when signed out. */
  async resume(options: CallOptions = {}): Promise<MerchantSessionInfo | null> {
    // /sessions/resume answers 200 when signed out too, so a page opened signed out logs no error.
    const answer = await this.#transport.request<{ signed_in: boolean; session: MerchantSessionInfo | null }>({
      method: 'GET',
      path: '/merchant/v1/sessions/resume',
      retry: 'idempotent',
      credentials: 'same-origin',
      ...signalOf(options),
    });
    if (!answer.signed_in || answer.session === null) {
      this.#info = null;
      return null;
    }
    return this.#keep(answer.session);
  }

  /** Ends the session on the server (which clears the cookie) and forgets it here. */
  async signOut(options: CallOptions = {}): Promise<void> {
    try {
      await this.#call<void>({ method: 'DELETE', path: '/merchant/v1/sessions/current', retry: 'idempotent' }, options);
    } catch (error) {
      // Already over there: nothing to undo.
      if (!(error instanceof YunpayApiError && error.status === 401)) throw error;
    } finally {
      this.#info = null;
    }
  }

  readonly apiKeys = {
    /** The account's keys in the session's mode, redacted. */
    list: (options?: CallOptions): Promise<List<MerchantApiKey>> =>
      this.#call({ method: 'GET', path: '/merchant/v1/api_keys', retry: 'idempotent' }, options),
    /**
     * Rolls the secret key of the session's mode; the new key is in this answer only. The session
     * carries on with the new key. Not retried except on 429 (a second roll would roll again).
     */
    roll: (params: MerchantApiKeyRollParams = {}, options?: CallOptions): Promise<MerchantRolledApiKey> =>
      this.#call(
        { method: 'POST', path: '/merchant/v1/api_keys/roll', body: { kind: 'json', value: params }, retry: 'unsafe' },
        options,
      ),
  };

  readonly balance = {
    /** Charges, refunds, fees and net per UTC day and currency for the last `days` days (1–90, default 30). */
    daily: (params: { days?: number } = {}, options?: CallOptions): Promise<DailyBalanceSummaryList> => {
      if (params.days !== undefined) checkIntegerOption('days', params.days, 1, sdkLimits.dailySummaryDaysMax);
      return this.#call(
        {
          method: 'GET',
          path: '/merchant/v1/balance/daily',
          query: toFlatQuery({ days: params.days }),
          retry: 'idempotent',
        },
        options,
      );
    },
  };

  #keep(info: MerchantSessionInfo): MerchantSessionInfo {
    if (info?.object !== 'merchant_session' || typeof info.csrf_token !== 'string' || info.csrf_token === '') {
      throw new Error('assertion failed: a merchant session has a CSRF token');
    }
    this.#info = info;
    return info;
  }

  #ended(error: YunpayApiError): void {
    const wasSignedIn = this.#info !== null;
    this.#info = null;
    if (wasSignedIn) this.#onSessionEnded?.(error);
  }

  /** A cookie request of this session: same-origin credentials and the CSRF token; 401 ends the session. */
  async #call<T>(spec: Omit<RequestSpec, 'bearer' | 'credentials'>, options: CallOptions = {}): Promise<T> {
    const csrfToken = this.#info?.csrf_token ?? null;
    try {
      return await this.#transport.request<T>({
        ...spec,
        credentials: 'same-origin',
        ...(csrfToken === null ? {} : { headers: { ...spec.headers, 'x-csrf-token': csrfToken } }),
        ...signalOf(options),
      });
    } catch (error) {
      if (error instanceof YunpayApiError && error.status === 401) this.#ended(error);
      throw error;
    }
  }
}

function signalOf(options: CallOptions): { signal?: AbortSignal } {
  return options.signal === undefined ? {} : { signal: options.signal };
}

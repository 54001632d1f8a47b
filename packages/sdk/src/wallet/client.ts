import { YunpayApiError, type YunpayError } from '../errors.js';
import { segment, toFlatQuery } from '../form.js';
import { HttpTransport, type ClientOptions, type OpenResponse, type RequestSpec } from '../http.js';
import { checkIntegerOption, sdkLimits } from '../limits.js';
import { idempotencyKeyFor, type CallOptions } from '../merchant/requester.js';
import { autoPaginate, listPromise, type AutoPaginateOptions, type List, type ListPromise } from '../pagination.js';
import { readSse } from '../sse.js';
import type {
  CookieTokenPair,
  Device,
  DevicePlatform,
  HistoryFilter,
  Me,
  Notification,
  OfflineKey,
  PaymentApproval,
  PaymentApprovalResult,
  PaymentCode,
  QrPayment,
  QrPreview,
  RecentRecipient,
  RecipientPreview,
  SaveCardInput,
  TokenPair,
  User,
  WalletBalance,
  WalletCard,
  WalletTransaction,
} from '../types/wallet.js';
import { MemoryTokenStore, type TokenStore } from './tokens.js';

export interface WalletClientOptions<Cookie extends boolean = boolean> extends ClientOptions {
  /** Keeps the refresh token (memory by default). Not with refreshTokenCookie. */
  tokenStore?: TokenStore;
  /**
   * Web apps on Yunpay's own origin: the server keeps the refresh token in an httpOnly cookie
   * (Path=/wallet/v1/sessions) that no script can read. Sign-in asks for the cookie; refresh and
   * sign-out send `{}` / no token with `X-Yunpay-CSRF: 1` and `credentials: 'same-origin'`; the
   * access token stays in memory. After a page reload call resume().
   */
  refreshTokenCookie?: Cookie;
  /** An access token from an earlier sign-in (kept in memory only). */
  accessToken?: string;
  /** Called when the session can no longer be refreshed (signed out elsewhere, token reused, expired). */
  onSessionEnded?: (error: YunpayError) => void;
}

export interface SignUpInput {
  /** E.164 phone, an email, or both. */
  phone?: string;
  email?: string;
  password: string;
  name: string;
  /** The payment PIN (6 digits), set with the account: all or nothing (details.fields lists every bad field). */
  pin?: string;
}

export interface SignInInput {
  /** Phone or email. */
  login: string;
  password: string;
  /** A stable id per install (newDeviceId() once, then keep it), a name and the platform. */
  device: { id: string; name: string; platform: DevicePlatform };
}

export interface HistoryListParams extends HistoryFilter {
  /** 1–100 (default 10). */
  limit?: number;
  starting_after?: string;
}

export interface NotificationStreamOptions {
  signal?: AbortSignal;
  /** Resume after this notification (the id of the last one shown). */
  lastEventId?: string;
  /** Reconnect when the stream ends (default true); the server ends streams on overflow and shutdown. */
  reconnect?: boolean;
}

/** What signIn returns: the pair, or in cookie mode the access token only (the refresh token is the cookie). */
export type SignInResult<Cookie extends boolean> = Cookie extends true ? CookieTokenPair : TokenPair;

/** The header that proves a cookie request came from our own page (a cross-site form cannot send it). */
const cookieCsrfHeaders: Readonly<Record<string, string>> = { 'x-yunpay-csrf': '1' };

function sessionCodes(error: unknown): boolean {
  return error instanceof YunpayApiError && error.status === 401 && error.code === 'token_invalid';
}

/**
 * The wallet API (/wallet/v1) for the PWA and for scripts. Sign in once; the access token stays
 * in memory, the refresh token goes to the token store (or, with `refreshTokenCookie: true`, into
 * the server's httpOnly cookie), and a call answered 401 token_invalid refreshes the session once
 * (one refresh shared by concurrent calls) and is sent again.
 */
export class WalletClient<Cookie extends boolean = false> {
  readonly #transport: HttpTransport;
  readonly #tokenStore: TokenStore;
  readonly #onSessionEnded: ((error: YunpayError) => void) | undefined;
  /** Cookie mode: the refresh token is the server's httpOnly cookie, never seen here. */
  readonly #cookieMode: boolean;
  /** Cookie mode: whether a cookie session may exist (signed in or resumed, not yet ended). */
  #cookieSession = false;
  #accessToken: string | null;
  #refreshing: Promise<string> | null = null;

  constructor(options: WalletClientOptions<Cookie>, transport?: HttpTransport) {
    this.#cookieMode = options.refreshTokenCookie === true;
    if (this.#cookieMode && options.tokenStore !== undefined) {
      throw new TypeError('refreshTokenCookie keeps the refresh token in a cookie: pass no tokenStore');
    }
    this.#transport = transport ?? new HttpTransport(options);
    this.#tokenStore = options.tokenStore ?? new MemoryTokenStore();
    this.#accessToken = options.accessToken ?? null;
    this.#onSessionEnded = options.onSessionEnded;
  }

  /** Whether an access token is held in memory (it may still have expired). */
  get hasAccessToken(): boolean {
    return this.#accessToken !== null;
  }

  /** Whether the refresh token lives in the server's httpOnly cookie (refreshTokenCookie). */
  get usesRefreshTokenCookie(): boolean {
    return this.#cookieMode;
  }

  /** Whether a refresh may get a new access token: a stored refresh token, or a cookie session. */
  async #canRefresh(): Promise<boolean> {
    if (this.#cookieMode) return this.#cookieSession;
    return (await this.#tokenStore.getRefreshToken()) !== null;
  }

  /** Cookie mode: the CSRF header and same-origin credentials for the session routes. */
  #cookieSpec(): Pick<RequestSpec, 'headers' | 'credentials'> {
    return this.#cookieMode ? { headers: { ...cookieCsrfHeaders }, credentials: 'same-origin' } : {};
  }

  /** Forgets the session here (both tokens, or the cookie-session flag). */
  async #forget(): Promise<void> {
    this.#accessToken = null;
    this.#cookieSession = false;
    if (!this.#cookieMode) await this.#tokenStore.setRefreshToken(null);
  }

  // ---- session -------------------------------------------------------------------------------

  /** Creates an account (not signed in yet: call signIn). Not retried except on 429. */
  signUp(input: SignUpInput, options: CallOptions = {}): Promise<User> {
    return this.#transport.request<User>({
      method: 'POST',
      path: '/wallet/v1/users',
      body: { kind: 'json', value: input },
      retry: 'unsafe',
      ...signalOf(options),
    });
  }

  /**
   * Signs in on a device; keeps the tokens (the access token in memory, the refresh token in the
   * store). In cookie mode the server sets the refresh token cookie and the answer has no refresh_token.
   */
  async signIn(input: SignInInput, options: CallOptions = {}): Promise<SignInResult<Cookie>> {
    const pair = await this.#transport.request<TokenPair | CookieTokenPair>({
      method: 'POST',
      path: '/wallet/v1/sessions',
      body: { kind: 'json', value: this.#cookieMode ? { ...input, refresh_token_cookie: true } : input },
      retry: 'unsafe',
      ...this.#cookieSpec(),
      ...signalOf(options),
    });
    await this.#keep(pair);
    return pair as SignInResult<Cookie>;
  }

  /**
   * Picks up an existing session after a page reload or restart: with an access token in memory,
   * nothing to do; otherwise one refresh (from the cookie in cookie mode, else from the token
   * store's refresh token). Resolves false when there is no session to resume (nothing stored,
   * no cookie, or the server refused it); onSessionEnded is not called for that.
   */
  async resume(options: CallOptions = {}): Promise<boolean> {
    if (this.#accessToken !== null) return true;
    if (!this.#cookieMode && (await this.#tokenStore.getRefreshToken()) === null) return false;
    try {
      if (this.#cookieMode) await this.#resumeFromCookie(options);
      else await this.#refreshShared(false, options);
      return true;
    } catch (error) {
      if (error instanceof YunpayApiError && error.status === 401) return false;
      throw error;
    }
  }

  /**
   * Cookie mode: POST /wallet/v1/sessions/resume, which answers 200 whether or not a session
   * cookie is there (a page opened signed out logs no HTTP error). It rotates the cookie like a
   * refresh, so it takes the same single-flight slot; no session rejects with a local 401.
   */
  #resumeFromCookie(options: CallOptions): Promise<string> {
    if (this.#refreshing !== null) return this.#refreshing;
    const path = '/wallet/v1/sessions/resume';
    this.#refreshing = this.#transport
      .request<{ signed_in: boolean; tokens: CookieTokenPair | null }>({
        method: 'POST',
        path,
        body: { kind: 'json', value: {} },
        retry: 'unsafe',
        ...this.#cookieSpec(),
        ...signalOf(options),
      })
      .then(async (answer) => {
        if (!answer.signed_in || answer.tokens === null) {
          await this.#forget();
          throw new YunpayApiError({
            kind: 'api',
            status: 401,
            code: 'refresh_token_invalid',
            message: 'Not signed in: there is no session cookie, or it has ended.',
            method: 'POST',
            path,
          });
        }
        await this.#keep(answer.tokens);
        return answer.tokens.access_token;
      })
      .finally(() => {
        this.#refreshing = null;
      });
    return this.#refreshing;
  }

  /**
   * Rotates the refresh token for a new pair. Never retried: the old refresh token is spent on
   * the server as soon as it is read, and presenting it twice revokes the session.
   */
  refresh(): Promise<string> {
    return this.#refreshShared(true, {});
  }

  /** One refresh at a time: concurrent callers share it (the first caller's options apply). */
  #refreshShared(notifyEnded: boolean, options: CallOptions): Promise<string> {
    if (this.#refreshing === null) {
      this.#refreshing = this.#refresh(notifyEnded, options).finally(() => {
        this.#refreshing = null;
      });
    }
    return this.#refreshing;
  }

  async #refresh(notifyEnded: boolean, options: CallOptions): Promise<string> {
    const refreshToken = this.#cookieMode ? null : await this.#tokenStore.getRefreshToken();
    if (this.#cookieMode ? !this.#cookieSession : refreshToken === null) {
      throw new YunpayApiError({
        kind: 'api',
        status: 401,
        code: 'refresh_token_invalid',
        message: 'Not signed in: there is no refresh token.',
        method: 'POST',
        path: '/wallet/v1/sessions/refresh',
      });
    }
    let pair: TokenPair | CookieTokenPair;
    try {
      pair = await this.#transport.request<TokenPair | CookieTokenPair>({
        method: 'POST',
        path: '/wallet/v1/sessions/refresh',
        // Cookie mode: an empty body makes the server read the cookie.
        body: { kind: 'json', value: this.#cookieMode ? {} : { refresh_token: refreshToken } },
        retry: 'unsafe',
        ...this.#cookieSpec(),
        ...signalOf(options),
      });
    } catch (error) {
      if (error instanceof YunpayApiError && error.status === 401) {
        // The session is over (revoked, reused, expired): forget it.
        await this.#forget();
        if (notifyEnded) this.#onSessionEnded?.(error);
      }
      throw error;
    }
    await this.#keep(pair);
    return pair.access_token;
  }

  /**
   * Signs out on the server (best effort) and forgets the tokens. In cookie mode the server also
   * clears the cookie; with no access token in memory, the cookie itself says which session ends.
   */
  async signOut(options: CallOptions = {}): Promise<void> {
    try {
      if (this.#cookieMode || this.#accessToken !== null || (await this.#canRefresh())) {
        await this.#call<void>(
          { method: 'DELETE', path: '/wallet/v1/sessions/current', retry: 'idempotent', ...this.#cookieSpec() },
          options,
        );
      }
    } catch (error) {
      // Already signed out there: nothing to undo.
      if (!(error instanceof YunpayApiError && error.status === 401)) throw error;
    } finally {
      await this.#forget();
    }
  }

  async #keep(pair: TokenPair | CookieTokenPair): Promise<void> {
    if (typeof pair.access_token !== 'string' || pair.access_token === '') {
      throw new Error('assertion failed: a token pair has an access token');
    }
    if (this.#cookieMode) {
      // The refresh token must stay in the httpOnly cookie: a page script never holds it.
      if ('refresh_token' in pair) throw new Error('assertion failed: the server kept the refresh token in the cookie');
      this.#accessToken = pair.access_token;
      this.#cookieSession = true;
      return;
    }
    if (!('refresh_token' in pair) || typeof pair.refresh_token !== 'string') {
      throw new Error('assertion failed: a token pair has both tokens');
    }
    this.#accessToken = pair.access_token;
    await this.#tokenStore.setRefreshToken(pair.refresh_token);
  }

  /**
   * One authenticated call. Without an access token but with a refresh token, refreshes first.
   * On 401 token_invalid, refreshes once (unless another call already did) and sends the same
   * request again: same body, same Idempotency-Key.
   */
  async #call<T>(spec: Omit<RequestSpec, 'bearer'>, options: CallOptions = {}): Promise<T> {
    const full = {
      ...spec,
      ...(this.#cookieMode ? { credentials: 'same-origin' as const } : {}),
      ...signalOf(options),
    };
    let token = this.#accessToken;
    if (token === null && (await this.#canRefresh())) token = await this.refresh();
    try {
      return await this.#transport.request<T>({ ...full, bearer: token });
    } catch (error) {
      if (!sessionCodes(error)) throw error;
      const current = this.#accessToken;
      const next = current !== null && current !== token ? current : await this.#refreshOrThrow(error);
      return this.#transport.request<T>({ ...full, bearer: next });
    }
  }

  async #refreshOrThrow(original: unknown): Promise<string> {
    if (!(await this.#canRefresh())) throw original;
    return this.refresh();
  }

  // ---- profile and devices -------------------------------------------------------------------

  me(options?: CallOptions): Promise<Me> {
    return this.#call({ method: 'GET', path: '/wallet/v1/me', retry: 'idempotent' }, options);
  }

  readonly devices = {
    list: (options?: CallOptions): Promise<List<Device>> =>
      this.#call({ method: 'GET', path: '/wallet/v1/devices', retry: 'idempotent' }, options),
    /** Signs the device out and revokes what is bound to it (offline payment keys). */
    revoke: (id: string, options?: CallOptions): Promise<void> =>
      this.#call({ method: 'DELETE', path: `/wallet/v1/devices/${segment(id)}`, retry: 'idempotent' }, options),
    /** Enrolls a device for offline codes; the secret is in this response only. Re-enrolling replaces it. */
    enrollOfflineKey: (id: string, options?: CallOptions): Promise<OfflineKey> =>
      this.#call({ method: 'POST', path: `/wallet/v1/devices/${segment(id)}/offline_key`, retry: 'unsafe' }, options),
  };

  /** Sets or changes the 6-digit payment PIN (needs the password). Not retried except on 429. */
  setPin(input: { pin: string; password: string }, options?: CallOptions): Promise<void> {
    return this.#call(
      { method: 'PUT', path: '/wallet/v1/pin', body: { kind: 'json', value: input }, retry: 'unsafe' },
      options,
    );
  }

  // ---- money ---------------------------------------------------------------------------------

  balances(options?: CallOptions): Promise<WalletBalance[]> {
    return this.#call({ method: 'GET', path: '/wallet/v1/balances', retry: 'idempotent' }, options);
  }

  readonly topups = {
    /** source: a saved card (wc_…) or, in test mode, a test token (tok_visa, tok_chargeDeclined …). */
    create: (
      input: { amount: number; currency: string; source: string },
      options?: CallOptions,
    ): Promise<WalletTransaction> => this.#mutation('/wallet/v1/topups', input, options),
  };

  readonly transfers = {
    /** P2P: `to` is a phone, an email, a usr_ id or a recent recipient (rcp_…). */
    create: (
      input: { to: string; amount: number; currency: string; note?: string; pin: string },
      options?: CallOptions,
    ): Promise<WalletTransaction> => this.#mutation('/wallet/v1/transfers', input, options),
  };

  readonly recipients = {
    /** People this wallet sent money to, newest first (at most 20; phones masked). */
    recent: (options?: CallOptions): Promise<List<RecentRecipient>> =>
      this.#call({ method: 'GET', path: '/wallet/v1/recipients/recent', retry: 'idempotent' }, options),
    /** The confirm step: masked name and phone of a phone, an email or a recent recipient (rcp_…). */
    lookup: (input: { to: string }, options?: CallOptions): Promise<RecipientPreview> =>
      this.#call(
        {
          method: 'POST',
          path: '/wallet/v1/recipients/lookup',
          body: { kind: 'json', value: input },
          retry: 'idempotent',
        },
        options,
      ),
  };

  /** A POST with an Idempotency-Key fixed for the call (the caller's, or a new UUID). */
  #mutation<T>(path: string, body: unknown, options: CallOptions = {}): Promise<T> {
    return this.#call(
      {
        method: 'POST',
        path,
        body: { kind: 'json', value: body },
        idempotencyKey: idempotencyKeyFor(options),
        retry: 'idempotent',
      },
      options,
    );
  }

  readonly transactions = {
    /** One page of history, newest first; await it, or iterate it for every page. */
    list: (params: HistoryListParams = {}, options?: CallOptions): ListPromise<WalletTransaction> =>
      listPromise((cursor) =>
        this.#call<List<WalletTransaction>>(
          {
            method: 'GET',
            path: '/wallet/v1/transactions',
            query: toFlatQuery({
              ...params,
              ...(cursor.startingAfter === undefined ? {} : { starting_after: cursor.startingAfter }),
            }),
            retry: 'idempotent',
          },
          options,
        ),
      ),
    /** A receipt. */
    retrieve: (id: string, options?: CallOptions): Promise<WalletTransaction> =>
      this.#call({ method: 'GET', path: `/wallet/v1/transactions/${segment(id)}`, retry: 'idempotent' }, options),
    /** The history as CSV text (same filters, up to 10,000 rows). */
    csv: (filter: HistoryFilter = {}, options?: CallOptions): Promise<string> =>
      this.#call(
        {
          method: 'GET',
          path: '/wallet/v1/transactions.csv',
          query: toFlatQuery({ ...filter }),
          retry: 'idempotent',
          responseType: 'text',
          headers: { accept: 'text/csv' },
        },
        options,
      ),
  };

  /** Every history row matching the filter, newest first, page by page (100 per page). */
  iterateHistory(
    filter: HistoryFilter = {},
    options: AutoPaginateOptions & CallOptions & { pageSize?: number } = {},
  ): AsyncIterableIterator<WalletTransaction> {
    const limit = checkIntegerOption(
      'pageSize',
      options.pageSize ?? sdkLimits.pageSizeDefault,
      1,
      sdkLimits.pageSizeMax,
    );
    return autoPaginate(
      (cursor) =>
        this.#call<List<WalletTransaction>>(
          {
            method: 'GET',
            path: '/wallet/v1/transactions',
            query: toFlatQuery({ ...filter, limit, starting_after: cursor.startingAfter }),
            retry: 'idempotent',
          },
          options,
        ),
      options.maxItems === undefined ? {} : { maxItems: options.maxItems },
    );
  }

  // ---- saved cards ---------------------------------------------------------------------------

  readonly cards = {
    /** Saves a card (numbers go to the server's vault only); its wc_ id is a top-up source. */
    save: (input: SaveCardInput, options?: CallOptions): Promise<WalletCard> =>
      this.#call(
        { method: 'POST', path: '/wallet/v1/cards', body: { kind: 'json', value: input }, retry: 'unsafe' },
        options,
      ),
    list: async (options?: CallOptions): Promise<WalletCard[]> =>
      (
        await this.#call<{ data: WalletCard[] }>(
          { method: 'GET', path: '/wallet/v1/cards', retry: 'idempotent' },
          options,
        )
      ).data,
    remove: (id: string, options?: CallOptions): Promise<void> =>
      this.#call({ method: 'DELETE', path: `/wallet/v1/cards/${segment(id)}`, retry: 'idempotent' }, options),
  };

  // ---- paying merchants ----------------------------------------------------------------------

  readonly paymentCodes = {
    /** A new online code (60 s, single use, bound to this device). Each call issues another. */
    create: (options?: CallOptions): Promise<PaymentCode> =>
      this.#call({ method: 'POST', path: '/wallet/v1/payment_codes', retry: 'unsafe' }, options),
  };

  readonly paymentApprovals = {
    /** Scanned payments above the no-PIN threshold, waiting for the PIN (60 s). */
    list: (options?: CallOptions): Promise<List<PaymentApproval>> =>
      this.#call({ method: 'GET', path: '/wallet/v1/payment_approvals', retry: 'idempotent' }, options),
    approve: (id: string, input: { pin: string }, options?: CallOptions): Promise<PaymentApprovalResult> =>
      this.#call(
        {
          method: 'POST',
          path: `/wallet/v1/payment_approvals/${segment(id)}`,
          body: { kind: 'json', value: input },
          retry: 'unsafe',
        },
        options,
      ),
  };

  readonly qr = {
    /** What a scanned merchant QR will charge (read-only). */
    resolve: (data: string, options?: CallOptions): Promise<QrPreview> =>
      this.#call(
        { method: 'POST', path: '/wallet/v1/qr/resolve', body: { kind: 'json', value: { data } }, retry: 'idempotent' },
        options,
      ),
    /** Pays a merchant QR; `amount` only for a static (counter) code. */
    pay: (input: { data: string; amount?: number; pin: string }, options?: CallOptions): Promise<QrPayment> =>
      this.#mutation('/wallet/v1/qr/pay', input, options),
  };

  // ---- notifications -------------------------------------------------------------------------

  readonly notifications = {
    list: (
      params: { limit?: number; starting_after?: string; unread?: boolean } = {},
      options?: CallOptions,
    ): ListPromise<Notification> =>
      listPromise((cursor) =>
        this.#call<List<Notification>>(
          {
            method: 'GET',
            path: '/wallet/v1/notifications',
            query: toFlatQuery({
              ...params,
              ...(cursor.startingAfter === undefined ? {} : { starting_after: cursor.startingAfter }),
            }),
            retry: 'idempotent',
          },
          options,
        ),
      ),
    markRead: (id: string, options?: CallOptions): Promise<Notification> =>
      this.#call(
        { method: 'POST', path: `/wallet/v1/notifications/${segment(id)}/read`, retry: 'idempotent' },
        options,
      ),
    /**
     * Live notifications over Server-Sent Events, read with fetch streaming (browsers and Node):
     * the stream needs the Authorization header, which EventSource cannot send. Reconnects with
     * Last-Event-ID when the stream ends (the server replays what was missed), refreshing the
     * session when needed; stop it with the signal or by leaving the for-await loop.
     */
    stream: (options: NotificationStreamOptions = {}): AsyncIterableIterator<Notification> => this.#stream(options),
  };

  async *#stream(options: NotificationStreamOptions): AsyncGenerator<Notification, void, undefined> {
    let lastEventId = options.lastEventId ?? null;
    let failures = 0;
    let delayMs: number = sdkLimits.streamReconnectDelayMsDefault;
    for (;;) {
      if (options.signal?.aborted === true) return;
      let opened: OpenResponse | null = null;
      try {
        opened = await this.#openStream(lastEventId, options.signal);
        failures = 0;
        const body = opened.response.body;
        if (body === undefined || body === null) throw new Error('the stream has no body');
        for await (const event of readSse(body)) {
          if (event.retryMs !== null) delayMs = Math.min(event.retryMs, sdkLimits.retryDelayMsMax);
          if (event.event !== 'notification') continue;
          const notification = JSON.parse(event.data) as Notification;
          if (event.id !== null) lastEventId = event.id;
          yield notification;
        }
      } catch (error) {
        if (isAborted(options.signal)) return;
        // Refusals (signed out, bad Last-Event-ID) end the stream; lost connections are retried.
        if (error instanceof YunpayApiError && error.status !== null && error.status < 500 && error.status !== 429) {
          throw error;
        }
        failures += 1;
        if (failures > sdkLimits.streamReconnectFailuresMax) throw error;
      } finally {
        opened?.close();
      }
      if (options.reconnect === false) return;
      await pause(delayMs, options.signal);
    }
  }

  async #openStream(lastEventId: string | null, signal: AbortSignal | undefined) {
    const spec = {
      method: 'GET' as const,
      path: '/wallet/v1/notifications/stream',
      retry: 'idempotent' as const,
      headers: { accept: 'text/event-stream', ...(lastEventId === null ? {} : { 'last-event-id': lastEventId }) },
      ...(signal === undefined ? {} : { signal }),
      ...(this.#cookieMode ? { credentials: 'same-origin' as const } : {}),
    };
    let token = this.#accessToken;
    if (token === null && (await this.#canRefresh())) token = await this.refresh();
    try {
      return await this.#transport.open({ ...spec, bearer: token });
    } catch (error) {
      if (!sessionCodes(error)) throw error;
      const current = this.#accessToken;
      const next = current !== null && current !== token ? current : await this.#refreshOrThrow(error);
      return this.#transport.open({ ...spec, bearer: next });
    }
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Waits, or stops waiting when the signal aborts (without throwing). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function signalOf(options: CallOptions): { signal?: AbortSignal } {
  return options.signal === undefined ? {} : { signal: options.signal };
}

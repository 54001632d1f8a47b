import { segment, toFlatQuery } from '../form.js';
import { HttpTransport, type ClientOptions, type RequestSpec } from '../http.js';
import type { CallOptions } from '../merchant/requester.js';
import { listPromise, type List, type ListPromise } from '../pagination.js';
import type {
  AdminUser,
  ApiKey,
  CreateMerchantInput,
  LedgerVerifyReport,
  Merchant,
  MerchantWithKeys,
  RestrictedApiKey,
  RolledApiKey,
} from '../types/admin.js';

export interface AdminClientOptions extends ClientOptions {
  /** The admin token (YUNPAY_ADMIN_TOKEN or <data dir>/admin-token). */
  adminToken: string;
}

/** The operator API (/admin/v1). Keep the admin token on servers and consoles, never in a public page. */
export class AdminClient {
  readonly #transport: HttpTransport;
  readonly #token: string;

  constructor(options: AdminClientOptions, transport?: HttpTransport) {
    if (typeof options.adminToken !== 'string' || options.adminToken.length < 32) {
      throw new TypeError('adminToken must be the admin token (32–512 characters)');
    }
    this.#transport = transport ?? new HttpTransport(options);
    this.#token = options.adminToken;
  }

  #call<T>(spec: Omit<RequestSpec, 'bearer'>, options: CallOptions = {}): Promise<T> {
    return this.#transport.request<T>({
      ...spec,
      bearer: this.#token,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  #list<T extends { id: string }>(
    path: string,
    params: { limit?: number; starting_after?: string },
    options?: CallOptions,
  ): ListPromise<T> {
    return listPromise((cursor) =>
      this.#call<List<T>>(
        {
          method: 'GET',
          path,
          query: toFlatQuery({
            ...params,
            ...(cursor.startingAfter === undefined ? {} : { starting_after: cursor.startingAfter }),
          }),
          retry: 'idempotent',
        },
        options,
      ),
    );
  }

  /** Checks the ledger's invariants (balances, entries, conservation). */
  verifyLedger(options?: CallOptions): Promise<LedgerVerifyReport> {
    return this.#call({ method: 'GET', path: '/admin/v1/ledger/verify', retry: 'idempotent' }, options);
  }

  readonly merchants = {
    /** Creates a merchant with test keys (shown only in this response). Not retried except on 429. */
    create: (input: CreateMerchantInput, options?: CallOptions): Promise<MerchantWithKeys> =>
      this.#call(
        { method: 'POST', path: '/admin/v1/merchants', body: { kind: 'json', value: input }, retry: 'unsafe' },
        options,
      ),
    list: (params: { limit?: number; starting_after?: string } = {}, options?: CallOptions): ListPromise<Merchant> =>
      this.#list('/admin/v1/merchants', params, options),
    retrieve: (id: string, options?: CallOptions): Promise<Merchant> =>
      this.#call({ method: 'GET', path: `/admin/v1/merchants/${segment(id)}`, retry: 'idempotent' }, options),
    /** Turns live mode on and issues live keys (shown only in this response). */
    activate: (id: string, options?: CallOptions): Promise<MerchantWithKeys> =>
      this.#call({ method: 'POST', path: `/admin/v1/merchants/${segment(id)}/activate`, retry: 'unsafe' }, options),
    listKeys: (id: string, options?: CallOptions): Promise<List<ApiKey>> =>
      this.#call({ method: 'GET', path: `/admin/v1/merchants/${segment(id)}/keys`, retry: 'idempotent' }, options),
    /** A new secret key; the old one keeps working for expires_in_s (default 24 h; 0: stops now). */
    rollKey: (
      id: string,
      input: { livemode: boolean; expires_in_s?: number },
      options?: CallOptions,
    ): Promise<RolledApiKey> =>
      this.#call(
        {
          method: 'POST',
          path: `/admin/v1/merchants/${segment(id)}/keys/roll`,
          body: { kind: 'json', value: input },
          retry: 'unsafe',
        },
        options,
      ),
    createRestrictedKey: (
      id: string,
      input: { livemode: boolean; permissions: Record<string, 'read' | 'write'> },
      options?: CallOptions,
    ): Promise<RestrictedApiKey> =>
      this.#call(
        {
          method: 'POST',
          path: `/admin/v1/merchants/${segment(id)}/keys`,
          body: { kind: 'json', value: { type: 'restricted', ...input } },
          retry: 'unsafe',
        },
        options,
      ),
  };

  readonly users = {
    list: (params: { limit?: number; starting_after?: string } = {}, options?: CallOptions): ListPromise<AdminUser> =>
      this.#list('/admin/v1/users', params, options),
    setTier: (id: string, tier: 0 | 1 | 2, options?: CallOptions): Promise<AdminUser> =>
      this.#call(
        {
          method: 'POST',
          path: `/admin/v1/users/${segment(id)}/tier`,
          body: { kind: 'json', value: { tier } },
          retry: 'idempotent',
        },
        options,
      ),
    /** A frozen wallet still receives money and refunds but cannot pay. */
    freeze: (id: string, options?: CallOptions): Promise<AdminUser> =>
      this.#call({ method: 'POST', path: `/admin/v1/users/${segment(id)}/freeze`, retry: 'idempotent' }, options),
    unfreeze: (id: string, options?: CallOptions): Promise<AdminUser> =>
      this.#call({ method: 'POST', path: `/admin/v1/users/${segment(id)}/unfreeze`, retry: 'idempotent' }, options),
  };
}

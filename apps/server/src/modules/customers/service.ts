import { randomBytes } from 'node:crypto';
import type { Db, SqlExecutor } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import { newObjectId } from '../merchants/index.js';
import { recordEvent } from '../events/index.js';
import { applyMetadataUpdate, fetchPage, type Metadata, type PageRequest, type V1Scope } from '../../v1/index.js';

export interface AddressWire {
  city: string | null;
  country: string | null;
  line1: string | null;
  line2: string | null;
  postal_code: string | null;
  state: string | null;
}

export type AddressInput = Partial<Record<keyof AddressWire, string>>;

export interface ShippingWire {
  address: AddressWire;
  name: string;
  phone: string | null;
}

export interface ShippingInput {
  address: AddressInput;
  name: string;
  phone?: string;
}

/** Stripe's customer object; fields of features we do not have yet are null (docs/stripe-compatibility.md). */
export interface CustomerWire {
  id: string;
  object: 'customer';
  address: AddressWire | null;
  balance: number;
  created: number;
  currency: string | null;
  default_source: null;
  delinquent: boolean;
  description: string | null;
  discount: null;
  email: string | null;
  invoice_prefix: string;
  invoice_settings: {
    custom_fields: null;
    default_payment_method: null;
    footer: null;
    rendering_options: null;
  };
  livemode: boolean;
  metadata: Metadata;
  name: string | null;
  next_invoice_sequence: number;
  phone: string | null;
  preferred_locales: string[];
  shipping: ShippingWire | null;
  tax_exempt: 'none';
  test_clock: null;
}

export interface DeletedCustomerWire {
  id: string;
  object: 'customer';
  deleted: true;
}

/** Create: absent fields stay unset. */
export interface CustomerCreateInput {
  email?: string;
  name?: string;
  description?: string;
  phone?: string;
  address?: AddressInput;
  shipping?: ShippingInput;
  metadata?: Metadata;
  preferredLocales?: string[];
  balance?: number;
}

/** Update: undefined leaves a field alone, null unsets it; metadata merges (a "" value deletes a key). */
export interface CustomerUpdateInput {
  email?: string | null;
  name?: string | null;
  description?: string | null;
  phone?: string | null;
  address?: AddressInput | null;
  shipping?: ShippingInput | null;
  metadata?: Metadata | '' | null;
  preferredLocales?: string[] | null;
  balance?: number | null;
}

/** The API request behind a change, recorded on its event. */
export interface RequestInfo {
  id: string | null;
  idempotencyKey: string | null;
}

export interface Customers {
  create(scope: V1Scope, input: CustomerCreateInput, request?: RequestInfo): Promise<CustomerWire>;
  /** Throws not_found (resource_missing on /v1) for unknown, deleted, other accounts' or other mode's customers. */
  retrieve(scope: V1Scope, id: string): Promise<CustomerWire>;
  /** The same lookup returning null: the expand[] loader for `customer`. */
  find(scope: V1Scope, id: string): Promise<CustomerWire | null>;
  update(scope: V1Scope, id: string, input: CustomerUpdateInput, request?: RequestInfo): Promise<CustomerWire>;
  delete(scope: V1Scope, id: string, request?: RequestInfo): Promise<DeletedCustomerWire>;
  list(
    scope: V1Scope,
    options: { page: PageRequest; email?: string },
  ): Promise<{ data: CustomerWire[]; hasMore: boolean }>;
}

interface CustomerRow {
  id: string;
  account_id: string;
  livemode: boolean;
  email: string | null;
  name: string | null;
  description: string | null;
  phone: string | null;
  address: AddressWire | null;
  shipping: ShippingWire | null;
  metadata: Metadata;
  preferred_locales: string[];
  invoice_prefix: string;
  balance: bigint;
  currency: string | null;
  created_at: Date;
}

const columns =
  'id, account_id, livemode, email, name, description, phone, address, shipping, metadata, preferred_locales, invoice_prefix, balance, currency, created_at';

function addressWire(input: AddressInput): AddressWire {
  return {
    city: input.city ?? null,
    country: input.country ?? null,
    line1: input.line1 ?? null,
    line2: input.line2 ?? null,
    postal_code: input.postal_code ?? null,
    state: input.state ?? null,
  };
}

function shippingWire(input: ShippingInput): ShippingWire {
  return { address: addressWire(input.address), name: input.name, phone: input.phone ?? null };
}

function toWire(row: CustomerRow): CustomerWire {
  return {
    id: row.id,
    object: 'customer',
    address: row.address,
    balance: Number(row.balance),
    created: Math.floor(row.created_at.getTime() / 1000),
    currency: row.currency,
    default_source: null,
    delinquent: false,
    description: row.description,
    discount: null,
    email: row.email,
    invoice_prefix: row.invoice_prefix,
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: row.livemode,
    metadata: row.metadata,
    name: row.name,
    next_invoice_sequence: 1,
    phone: row.phone,
    preferred_locales: row.preferred_locales,
    shipping: row.shipping,
    tax_exempt: 'none',
    test_clock: null,
  };
}

function missing(id: string): AppError {
  return new AppError('not_found', { message: `No such customer: '${id}'`, param: 'id' });
}

const json = (value: unknown): string | null => (value === null ? null : JSON.stringify(value));

/**
 * Whether the scope has this customer (not deleted), for other contexts that reference customers
 * (payment methods attach to them). With `lock`, the row is share-locked for the caller's
 * transaction, so a concurrent delete waits for it to commit.
 */
export async function customerExists(
  executor: SqlExecutor,
  scope: V1Scope,
  customerId: string,
  options: { lock: boolean },
): Promise<boolean> {
  const rows = await executor.query<{ id: string }>(
    `select id from customers_customers
      where account_id = $1 and livemode = $2 and id = $3 and deleted_at is null${options.lock ? ' for share' : ''}`,
    [scope.accountId, scope.livemode, customerId],
  );
  assert(rows.length <= 1 && (rows[0] === undefined || rows[0].id === customerId), 'one customer row by id');
  return rows.length === 1;
}

export function createCustomers(dependencies: { db: Db }): Customers {
  const { db } = dependencies;

  async function find(executor: SqlExecutor, scope: V1Scope, id: string, lock: boolean): Promise<CustomerRow | null> {
    const rows = await executor.query<CustomerRow>(
      `select ${columns} from customers_customers
        where account_id = $1 and livemode = $2 and id = $3 and deleted_at is null${lock ? ' for update' : ''}`,
      [scope.accountId, scope.livemode, id],
    );
    const row = rows[0];
    if (row !== undefined) {
      // The same property on both sides of the boundary: never another account's or mode's row.
      assert(row.account_id === scope.accountId && row.livemode === scope.livemode, 'customer row out of scope');
    }
    return row ?? null;
  }

  return {
    async create(scope, input, request) {
      const metadata = applyMetadataUpdate({}, input.metadata);
      return db.transaction(async (tx) => {
        const rows = await tx.query<CustomerRow>(
          `insert into customers_customers
             (id, account_id, livemode, email, name, description, phone, address, shipping, metadata,
              preferred_locales, invoice_prefix, balance)
           values ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9::text::jsonb, $10::text::jsonb, $11::text::jsonb, $12, $13)
           returning ${columns}`,
          [
            newObjectId('cus'),
            scope.accountId,
            scope.livemode,
            input.email ?? null,
            input.name ?? null,
            input.description ?? null,
            input.phone ?? null,
            json(input.address === undefined ? null : addressWire(input.address)),
            json(input.shipping === undefined ? null : shippingWire(input.shipping)),
            JSON.stringify(metadata),
            JSON.stringify(input.preferredLocales ?? []),
            randomBytes(4).toString('hex').toUpperCase(),
            input.balance ?? 0,
          ],
        );
        const row = rows[0];
        assert(row !== undefined, 'inserted customer row must be returned');
        const customer = toWire(row);
        await recordEvent(tx, {
          accountId: scope.accountId,
          livemode: scope.livemode,
          type: 'customer.created',
          object: customer as unknown as Record<string, unknown>,
          ...(request === undefined ? {} : { request }),
        });
        return customer;
      });
    },

    async retrieve(scope, id) {
      const row = await find(db, scope, id, false);
      if (row === null) throw missing(id);
      return toWire(row);
    },

    async find(scope, id) {
      const row = await find(db, scope, id, false);
      return row === null ? null : toWire(row);
    },

    async update(scope, id, input, request) {
      return db.transaction(async (tx) => {
        const row = await find(tx, scope, id, true);
        if (row === null) throw missing(id);
        const before = toWire(row);
        const next: CustomerRow = {
          ...row,
          ...(input.email === undefined ? {} : { email: input.email }),
          ...(input.name === undefined ? {} : { name: input.name }),
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.phone === undefined ? {} : { phone: input.phone }),
          ...(input.address === undefined
            ? {}
            : { address: input.address === null ? null : addressWire(input.address) }),
          ...(input.shipping === undefined
            ? {}
            : { shipping: input.shipping === null ? null : shippingWire(input.shipping) }),
          ...(input.preferredLocales === undefined ? {} : { preferred_locales: input.preferredLocales ?? [] }),
          ...(input.balance === undefined ? {} : { balance: BigInt(input.balance ?? 0) }),
          metadata: applyMetadataUpdate(row.metadata, input.metadata),
        };
        const rows = await tx.query<CustomerRow>(
          `update customers_customers
              set email = $4, name = $5, description = $6, phone = $7, address = $8::text::jsonb,
                  shipping = $9::text::jsonb, metadata = $10::text::jsonb, preferred_locales = $11::text::jsonb,
                  balance = $12, updated_at = clock_timestamp()
            where account_id = $1 and livemode = $2 and id = $3
            returning ${columns}`,
          [
            scope.accountId,
            scope.livemode,
            id,
            next.email,
            next.name,
            next.description,
            next.phone,
            json(next.address),
            json(next.shipping),
            JSON.stringify(next.metadata),
            JSON.stringify(next.preferred_locales),
            next.balance,
          ],
        );
        const updatedRow = rows[0];
        assert(updatedRow !== undefined, 'updated customer row must be returned');
        const after = toWire(updatedRow);
        const previous: Record<string, unknown> = {};
        for (const key of Object.keys(after) as (keyof CustomerWire)[]) {
          if (JSON.stringify(after[key]) !== JSON.stringify(before[key])) previous[key] = before[key];
        }
        if (Object.keys(previous).length > 0) {
          await recordEvent(tx, {
            accountId: scope.accountId,
            livemode: scope.livemode,
            type: 'customer.updated',
            object: after as unknown as Record<string, unknown>,
            previousAttributes: previous,
            ...(request === undefined ? {} : { request }),
          });
        }
        return after;
      });
    },

    async delete(scope, id, request) {
      return db.transaction(async (tx) => {
        const row = await find(tx, scope, id, true);
        if (row === null) throw missing(id);
        await tx.query(
          `update customers_customers set deleted_at = clock_timestamp()
            where account_id = $1 and livemode = $2 and id = $3`,
          [scope.accountId, scope.livemode, id],
        );
        await recordEvent(tx, {
          accountId: scope.accountId,
          livemode: scope.livemode,
          type: 'customer.deleted',
          object: toWire(row) as unknown as Record<string, unknown>,
          ...(request === undefined ? {} : { request }),
        });
        return { id, object: 'customer' as const, deleted: true as const };
      });
    },

    async list(scope, options) {
      const where: { sql: string; params: string[] }[] = [{ sql: 'deleted_at is null', params: [] }];
      if (options.email !== undefined) where.push({ sql: 'email = ?', params: [options.email] });
      const page = await fetchPage<CustomerRow>(db, {
        table: 'customers_customers',
        columns,
        accountId: scope.accountId,
        livemode: scope.livemode,
        page: options.page,
        where,
        objectName: 'customer',
      });
      return { data: page.rows.map(toWire), hasMore: page.hasMore };
    },
  };
}

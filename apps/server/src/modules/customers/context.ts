import type { Db } from '../../platform/db.js';
import type { ExpandRegistry } from '../../v1/index.js';
import { createCustomers, type Customers } from './service.js';

/** The customers context: /v1 customers, which other objects' `customer` fields expand to. */
export interface CustomersContext {
  customers: Customers;
}

export function createCustomersContext(deps: { db: Db; v1Expand: ExpandRegistry }): CustomersContext {
  const customers = createCustomers({ db: deps.db });
  deps.v1Expand.registerLoader(
    'customer',
    (scope, id) => customers.find(scope, id) as Promise<Record<string, unknown> | null>,
  );
  return { customers };
}

/** Stripe customer objects (cus_…) of merchants, at /v1/customers. */
export { customerMigrations } from './schema.js';
export {
  createCustomers,
  customerExists,
  type CustomerCreateInput,
  type CustomerUpdateInput,
  type CustomerWire,
  type Customers,
  type DeletedCustomerWire,
} from './service.js';
export { customerRoutes, type CustomerRoutesOptions } from './routes.js';
export { createCustomersContext, type CustomersContext } from './context.js';

/**
 * The Stripe-compatible API framework (/v1). Resources (customers, events, payment intents …) are
 * route plugins registered inside v1Plugin; see docs/stripe-compatibility.md.
 */
export {
  v1Plugin,
  v1Auth,
  v1RequestIds,
  v1Scope,
  type V1Auth,
  type V1PluginOptions,
  type V1RequestIds,
  type V1RouteConfig,
} from './plugin.js';
export {
  v1ErrorResponses,
  V1ErrorSchema,
  v1ErrorResponse,
  bracketParam,
  type StripeErrorType,
  type V1ErrorBody,
} from './errors.js';
export { ExpandRegistry, type ExpandLoader, type V1Scope } from './expand.js';
export {
  fetchPage,
  listResponse,
  pageRequestFrom,
  type CreatedFilter,
  type PageQuery,
  type PageRequest,
} from './list.js';
export {
  V1Address,
  V1AddressUpdate,
  V1Boolean,
  V1CreatedFilter,
  V1Expand,
  V1Id,
  V1Integer,
  V1ListParams,
  V1Metadata,
  V1String,
  V1Unsettable,
  applyMetadataUpdate,
  coerceToSchema,
  toUpdate,
  type Metadata,
} from './schema.js';
export { parseForm } from './form.js';
export { newObjectId } from '../modules/merchants/index.js';

/** Unix seconds, as Stripe's `created`. */
export function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

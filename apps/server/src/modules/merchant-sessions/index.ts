/**
 * Merchant sessions: the POS and dashboard sign in with a secret API key (verified through the
 * merchants context, never stored) and get an httpOnly cookie session with a CSRF token; /v1
 * accepts the session as it accepts the key (merchantSessionV1Auth). Routes at /merchant/v1.
 */
export { merchantSessionMigrations } from './schema.js';
export {
  checkMerchantSessionLimits,
  createMerchantSessions,
  merchantSessionLimits,
  type MerchantSession,
  type MerchantSessions,
  type MerchantSessionsDependencies,
  type SignedIn,
  type SignedUp,
  type SignUpInput,
} from './service.js';
export {
  comesFromSameOrigin,
  csrfHeader,
  merchantSessionRoutes,
  merchantSessionV1Auth,
  requestSession,
  sessionTokenOf,
  type MerchantSessionRoutesOptions,
} from './routes.js';
export { createMerchantSessionsContext, type MerchantSessionsContext } from './context.js';

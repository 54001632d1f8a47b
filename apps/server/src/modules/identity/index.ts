/**
 * Identity: people's accounts, credentials, sessions and refresh tokens, devices, payment PINs, and
 * the keys that sign access tokens. Other contexts import only from here.
 */
export type {
  Device,
  DevicePlatform,
  DeviceRevokedHook,
  Identity,
  JWK,
  Principal,
  SignInInput,
  SignUpInput,
  TokenPair,
  User,
} from './types.js';
export { devicePlatforms } from './types.js';
export { identityMigrations } from './schema.js';
export {
  createIdentity,
  defaultIdentityRateLimits,
  type IdentityDependencies,
  type IdentityRateLimits,
} from './service.js';
export {
  identityRoutes,
  wellKnownRoutes,
  requireUser,
  principalOf,
  toUserResponse,
  UserSchema,
  type UserResponse,
} from './routes.js';
export { accessTokenAudience, accessTokenIssuer } from './tokens.js';
export { isPhoneRegion, maskPhone, normalizeEmail, normalizeLogin, normalizePhone } from './policy.js';
export { createIdentityContext, type IdentityContext } from './context.js';

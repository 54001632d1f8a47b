import type { JWK } from 'jose';
import type { SqlExecutor } from '../../platform/db.js';

export type { JWK };

/** A person with a wallet. Never carries a password or PIN hash. */
export interface User {
  id: string;
  phone: string | null;
  email: string | null;
  name: string;
  /** Unix seconds. */
  createdAt: number;
}

/** Who made an authenticated request: from a verified access token whose session is live. */
export interface Principal {
  userId: string;
  sessionId: string;
  deviceId: string;
}

export const devicePlatforms = ['ios', 'android', 'web', 'other'] as const;
export type DevicePlatform = (typeof devicePlatforms)[number];

export interface Device {
  id: string;
  userId: string;
  name: string;
  platform: DevicePlatform;
  /** Unix seconds. */
  createdAt: number;
  lastSeenAt: number;
  /** Unix seconds; null while the device may be used. Anything bound to a device checks this. */
  revokedAt: number | null;
}

export interface SignUpInput {
  phone?: string | undefined;
  email?: string | undefined;
  password: string;
  name: string;
  /** The payment PIN, set in the same transaction as the account (checked with every other field). */
  pin?: string | undefined;
  /** Who asked (the client IP): the sign-up rate limit key. */
  clientKey: string;
}

export interface SignInInput {
  login: string;
  password: string;
  device: { id: string; name: string; platform: DevicePlatform };
  clientKey: string;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds the access token lives. */
  expiresIn: number;
}

/** Called inside the transaction that revokes a device, so that what is bound to it goes with it. */
export type DeviceRevokedHook = (tx: SqlExecutor, device: { userId: string; deviceId: string }) => Promise<void>;

export interface Identity {
  /** Verifies `Bearer <access token>` and that its session is live; throws token_invalid. */
  authenticate(authorizationHeader: string | undefined): Promise<Principal>;
  /** Throws pin_not_set, pin_invalid (details.attempts_remaining), pin_locked or rate_limited. */
  verifyPaymentPin(userId: string, pin: string): Promise<void>;
  /**
   * Phone (E.164, or national in the operator's region: 13800000001), email (any case) or usr_ id.
   * Throws phone_invalid for text written like a phone number that is not a valid one.
   */
  findUserByLogin(login: string): Promise<User | null>;
  getUser(id: string): Promise<User | null>;
  /** Newest first. Throws invalid_request (param starting_after) for an unknown cursor. */
  listUsers(options: { limit: number; startingAfter?: string }): Promise<{ data: User[]; hasMore: boolean }>;
  jwks(): Promise<{ keys: JWK[] }>;

  // What the routes use; services elsewhere normally need only the methods above.
  signUp(input: SignUpInput): Promise<User>;
  signIn(input: SignInInput): Promise<TokenPair>;
  refresh(input: { refreshToken: string; clientKey: string }): Promise<TokenPair>;
  signOut(principal: Principal): Promise<void>;
  hasPaymentPin(userId: string): Promise<boolean>;
  setPaymentPin(input: { userId: string; pin: string; password: string }): Promise<void>;
  listDevices(userId: string): Promise<Device[]>;
  /** The device row, revoked or not, or null: what offline-key checks read. */
  getDevice(deviceId: string): Promise<Device | null>;
  /** Throws not_found for a device that is not this user's or already revoked. */
  revokeDevice(input: { userId: string; deviceId: string }): Promise<void>;
  /** Deletes up to batchMax refresh-token rows that expired; returns how many (for a worker loop). */
  deleteExpiredRefreshTokens(): Promise<number>;
}

import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import type { CountryCode } from 'libphonenumber-js/max';
import { bearerToken } from '../../platform/admin-auth.js';
import type { Db, SqlExecutor } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import { limits } from '../../platform/limits.js';
import { RateLimiter, rateLimitedError } from '../../platform/rate-limit.js';
import type { NotificationWriter } from '../events/index.js';
import {
  checkPasswordPolicy,
  checkPinPolicy,
  isPhoneRegion,
  looksLikePhone,
  newId,
  normalizeEmail,
  normalizeLogin,
  normalizeName,
  normalizePassword,
  normalizePhone,
  pinPolicyProblem,
} from './policy.js';
import * as repository from './repository.js';
import {
  hashRefreshToken,
  newRefreshToken,
  refreshTokenPattern,
  signAccessToken,
  SigningKeys,
  verifyAccessToken,
} from './tokens.js';
import type { DevicePlatform, DeviceRevokedHook, Identity, Principal, TokenPair, User } from './types.js';

/** argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane). */
const argon2Options = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** The per-node rate limits; tests pass smaller or larger ones. */
export interface IdentityRateLimits {
  signUpsPerIp: { requestsMax: number; windowMs: number };
  signInsPerIp: { requestsMax: number; windowMs: number };
  signInsPerLogin: { requestsMax: number; windowMs: number };
  pinAttemptsPerUser: { requestsMax: number; windowMs: number };
  refreshesPerIp: { requestsMax: number; windowMs: number };
}

export const defaultIdentityRateLimits: IdentityRateLimits = {
  signUpsPerIp: { requestsMax: limits.identitySignUpsPerIpMax, windowMs: limits.identitySignUpsPerIpWindowMs },
  signInsPerIp: { requestsMax: limits.identitySignInsPerIpMax, windowMs: limits.identitySignInsPerIpWindowMs },
  signInsPerLogin: {
    requestsMax: limits.identitySignInsPerLoginMax,
    windowMs: limits.identitySignInsPerLoginWindowMs,
  },
  pinAttemptsPerUser: {
    requestsMax: limits.identityPinAttemptsPerUserMax,
    windowMs: limits.identityPinAttemptsPerUserWindowMs,
  },
  refreshesPerIp: { requestsMax: limits.identityRefreshesPerIpMax, windowMs: limits.identityRefreshesPerIpWindowMs },
};

export interface IdentityDependencies {
  db: Db;
  notifications: NotificationWriter;
  /** Milliseconds since the epoch (Date.now by default); every stored time and token check uses it. */
  now?: () => number;
  rateLimits?: Partial<IdentityRateLimits>;
  /** Where national phone numbers (13800000001) are read as from: ISO 3166 alpha-2 (default CN). */
  phoneRegion?: string;
  /** Runs inside the transaction that revokes a device (e.g. to revoke offline keys bound to it). */
  onDeviceRevoked?: DeviceRevokedHook;
}

/** One field a sign-up got wrong; codes are stable snake_case, like error codes. */
interface SignUpFieldError {
  param: 'name' | 'phone' | 'email' | 'password' | 'pin';
  code: string;
  message: string;
}

function signUpError(fields: readonly SignUpFieldError[]): AppError {
  assert(fields.length > 0, 'a sign-up error names a field');
  const first = fields[0]!;
  const details = { fields: fields.map((field) => ({ ...field })) };
  if (fields.length === 1 && first.code === 'password_too_weak') {
    return new AppError('password_too_weak', { message: first.message, param: first.param, details });
  }
  const message =
    fields.length === 1
      ? first.message
      : `${fields.length} fields are not valid: ${fields.map((f) => f.param).join(', ')}.`;
  return new AppError('invalid_request', { message, param: first.param, details });
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

export function createIdentity(dependencies: IdentityDependencies): Identity {
  const { db, notifications } = dependencies;
  const now = dependencies.now ?? Date.now;
  const rateLimits = { ...defaultIdentityRateLimits, ...dependencies.rateLimits };
  const phoneRegionText = dependencies.phoneRegion ?? 'CN';
  assert(isPhoneRegion(phoneRegionText), 'the phone region is one libphonenumber knows (config checks it)');
  const phoneRegion: CountryCode = phoneRegionText;
  /** A login as typed; phone_invalid (param) for what is written like a phone number but is not one. */
  const loginOf = (login: string, param: string) => {
    const normalized = normalizeLogin(login, phoneRegion);
    if (normalized === null && looksLikePhone(login.trim())) {
      throw new AppError('phone_invalid', { param });
    }
    return normalized;
  };
  const limiter = (options: { requestsMax: number; windowMs: number }) =>
    new RateLimiter({ ...options, keysMax: limits.identityRateLimitKeysMax, now });
  const limiters = {
    signUpsPerIp: limiter(rateLimits.signUpsPerIp),
    signInsPerIp: limiter(rateLimits.signInsPerIp),
    signInsPerLogin: limiter(rateLimits.signInsPerLogin),
    pinAttemptsPerUser: limiter(rateLimits.pinAttemptsPerUser),
    refreshesPerIp: limiter(rateLimits.refreshesPerIp),
  };
  const signingKeys = new SigningKeys({ db, now });

  // Unknown logins are checked against this hash so that they take as long as a wrong password.
  let dummyHash: Promise<string> | null = null;
  const dummyPasswordHash = () => (dummyHash ??= argon2.hash(randomBytes(32).toString('hex'), argon2Options));

  async function verifyHash(hash: string, secret: string): Promise<boolean> {
    assert(hash.startsWith('$argon2id$'), 'stored secrets are argon2id hashes');
    return argon2.verify(hash, secret);
  }

  async function issueTokens(principal: Principal, refreshToken: string): Promise<TokenPair> {
    const accessToken = await signAccessToken(signingKeys, { principal, nowMs: now() });
    return {
      accessToken,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: limits.identityAccessTokenLifetimeS,
    };
  }

  function refreshExpiry(nowMs: number): Date {
    return new Date(nowMs + limits.identityRefreshTokenLifetimeS * 1_000);
  }

  /**
   * Checks a password against the account's lockout counter: claims an attempt first, verifies,
   * then resets on success or locks when the failures reach the limit. Throws account_locked or
   * invalid_credentials.
   */
  async function checkPassword(userId: string, password: string, hash: string): Promise<void> {
    const attempt = await repository.claimAttempt(db, 'identity_credentials', {
      userId,
      now: new Date(now()),
      failuresMax: limits.identitySignInFailuresMax,
    });
    if (attempt === null) return refuseExhausted('identity_credentials', userId, 'account_locked');
    if (await verifyHash(hash, normalizePassword(password))) {
      await repository.resetAttempts(db, 'identity_credentials', userId);
      return;
    }
    const lockedAtMs = now();
    const locked = await db.transaction(async (tx) => {
      const justLocked = await repository.lockIfExhausted(tx, 'identity_credentials', {
        userId,
        failuresMax: limits.identitySignInFailuresMax,
        lockedUntil: new Date(lockedAtMs + limits.identitySignInLockoutMs),
      });
      if (justLocked) {
        await notifications.write(tx, {
          userId,
          type: 'security.account_locked',
          data: { locked_until: Math.floor((lockedAtMs + limits.identitySignInLockoutMs) / 1_000) },
        });
      }
      return justLocked;
    });
    if (locked || attempt >= limits.identitySignInFailuresMax) throw new AppError('account_locked');
    throw new AppError('invalid_credentials');
  }

  /**
   * All or nothing: every field is checked first and every problem reported at once (details.fields,
   * in form order); then the user, the password and the PIN (when given) are written in one
   * transaction. One bad field keeps its own code (password_too_weak, or invalid_request with its
   * param); several answer invalid_request naming the first.
   */
  async function signUp(input: Parameters<Identity['signUp']>[0]): Promise<User> {
    limiters.signUpsPerIp.consume(input.clientKey);
    const fields: SignUpFieldError[] = [];
    const name = normalizeName(input.name);
    if (name === null) {
      fields.push({
        param: 'name',
        code: 'name_invalid',
        message: `The name must have 1 to ${limits.identityNameLengthMax} characters and no control characters.`,
      });
    }
    const phone = input.phone === undefined ? null : normalizePhone(input.phone, phoneRegion);
    if (input.phone !== undefined && phone === null) {
      fields.push({ param: 'phone', code: 'phone_invalid', message: 'This is not a valid phone number.' });
    }
    const email = input.email === undefined ? null : normalizeEmail(input.email);
    if (input.email !== undefined && email === null) {
      fields.push({ param: 'email', code: 'email_invalid', message: 'The email address is not valid.' });
    }
    if (input.phone === undefined && input.email === undefined) {
      fields.push({ param: 'phone', code: 'login_required', message: 'Give a phone number, an email, or both.' });
    }
    try {
      checkPasswordPolicy(input.password, [phone, email, name, input.phone, email?.split('@')[0]]);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'password_too_weak') throw error;
      fields.push({ param: 'password', code: 'password_too_weak', message: error.message });
    }
    const pinProblem = input.pin === undefined ? null : pinPolicyProblem(input.pin);
    if (pinProblem !== null) fields.push({ param: 'pin', ...pinProblem });
    if (fields.length > 0) throw signUpError(fields);
    assert(name !== null && (phone !== null || email !== null), 'a valid sign-up has a name and a login');

    const [passwordHash, pinHash] = await Promise.all([
      argon2.hash(normalizePassword(input.password), argon2Options),
      input.pin === undefined ? null : argon2.hash(input.pin, argon2Options),
    ]);
    const createdAt = new Date(now());
    try {
      return await db.transaction(async (tx) => {
        const user = await repository.insertUser(tx, { id: newId('usr'), phone, email, name, createdAt, passwordHash });
        if (pinHash !== null) await repository.upsertPin(tx, { userId: user.id, pinHash, now: createdAt });
        return user;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('login_taken');
      throw error;
    }
  }

  async function findCredentials(login: string) {
    const normalized = loginOf(login, 'login');
    if (normalized === null || normalized.kind === 'id') return null;
    const user = await repository.findUser(db, normalized);
    if (user === null) return null;
    const secret = await repository.findSecret(db, 'identity_credentials', user.id);
    assert(secret !== null, 'every user has credentials');
    return { user, secret, loginKey: normalized.value };
  }

  async function signIn(input: Parameters<Identity['signIn']>[0]): Promise<TokenPair> {
    limiters.signInsPerIp.consume(input.clientKey);
    limiters.signInsPerLogin.consume(normalizeLogin(input.login, phoneRegion)?.value ?? input.login.toLowerCase());
    const found = await findCredentials(input.login);
    if (found === null) {
      await argon2.verify(await dummyPasswordHash(), normalizePassword(input.password));
      throw new AppError('invalid_credentials');
    }
    const { user, secret } = found;
    await checkPassword(user.id, input.password, secret.hash);

    const nowMs = now();
    const at = new Date(nowMs);
    const refreshToken = newRefreshToken();
    const principal = await db.transaction(async (tx) => {
      const device = { userId: user.id, clientDeviceId: input.device.id, ...input.device, now: at };
      const { deviceId, created, firstEver } = await deviceForSignIn(tx, device);
      if (created && !firstEver) {
        await notifications.write(tx, {
          userId: user.id,
          type: 'security.new_device',
          data: { device_id: deviceId, device_name: input.device.name, platform: input.device.platform },
        });
      }
      // One live session per device: signing in again replaces the previous family.
      await repository.revokeSessionsOfDevice(tx, { deviceId, now: at, reason: 'replaced' });
      const sessionId = newId('ses');
      await repository.insertSession(tx, { id: sessionId, userId: user.id, deviceId, now: at });
      await repository.insertRefreshToken(tx, {
        hash: hashRefreshToken(refreshToken),
        sessionId,
        now: at,
        expiresAt: refreshExpiry(nowMs),
      });
      return { userId: user.id, sessionId, deviceId };
    });
    return issueTokens(principal, refreshToken);
  }

  /** The live device with this client id, touched, or a new one (within the per-user cap). */
  async function deviceForSignIn(
    tx: SqlExecutor,
    device: { userId: string; clientDeviceId: string; name: string; platform: DevicePlatform; now: Date },
  ): Promise<{ deviceId: string; created: boolean; firstEver: boolean }> {
    const existing = await repository.touchDeviceByClientId(tx, device);
    if (existing !== null) return { deviceId: existing, created: false, firstEver: false };
    const counts = await repository.deviceCounts(tx, device.userId);
    if (counts.active >= limits.identityDevicesPerUserMax) {
      throw new AppError('conflict', {
        message: `This account is signed in on ${limits.identityDevicesPerUserMax} devices: remove one first.`,
        param: 'device.id',
      });
    }
    const deviceId = newId('dev');
    if (await repository.insertDeviceIfAbsent(tx, { ...device, id: deviceId })) {
      return { deviceId, created: true, firstEver: counts.ever === 0 };
    }
    // A concurrent sign-in from the same device created it first.
    const raced = await repository.touchDeviceByClientId(tx, device);
    assert(raced !== null, 'the device that blocked the insert is live');
    return { deviceId: raced, created: false, firstEver: false };
  }

  async function refresh(input: { refreshToken: string; clientKey: string }): Promise<TokenPair> {
    limiters.refreshesPerIp.consume(input.clientKey);
    if (!refreshTokenPattern.test(input.refreshToken)) throw new AppError('refresh_token_invalid');
    const hash = hashRefreshToken(input.refreshToken);
    const nowMs = now();
    const at = new Date(nowMs);
    const next = newRefreshToken();
    type Outcome = { kind: 'rotated'; principal: Principal } | { kind: 'invalid' } | { kind: 'reused' };
    const outcome = await db.transaction(async (tx): Promise<Outcome> => {
      const used = await repository.useRefreshToken(tx, { hash, now: at });
      if (used === null) {
        const token = await repository.findRefreshToken(tx, hash);
        if (token === null || token.usedAt === null || token.expiresAt.getTime() <= nowMs) return { kind: 'invalid' };
        // A rotated token came back: whoever holds it, the family is compromised.
        const session = await repository.findSession(tx, token.sessionId);
        assert(session !== null, 'a refresh token has a session');
        const revoked = await repository.revokeSession(tx, {
          sessionId: token.sessionId,
          now: at,
          reason: 'refresh_token_reused',
        });
        if (revoked) {
          await notifications.write(tx, {
            userId: session.userId,
            type: 'security.refresh_token_reused',
            data: { device_id: session.deviceId },
          });
        }
        return { kind: 'reused' };
      }
      const session = await repository.findSession(tx, used.sessionId);
      assert(session !== null, 'a refresh token has a session');
      if (!session.live) return { kind: 'invalid' };
      await repository.insertRefreshToken(tx, {
        hash: hashRefreshToken(next),
        sessionId: used.sessionId,
        now: at,
        expiresAt: refreshExpiry(nowMs),
      });
      await repository.touchDevice(tx, { deviceId: session.deviceId, now: at });
      return {
        kind: 'rotated',
        principal: { userId: session.userId, sessionId: used.sessionId, deviceId: session.deviceId },
      };
    });
    if (outcome.kind === 'invalid') throw new AppError('refresh_token_invalid');
    if (outcome.kind === 'reused') throw new AppError('refresh_token_reused');
    return issueTokens(outcome.principal, next);
  }

  async function authenticate(authorizationHeader: string | undefined): Promise<Principal> {
    const token = bearerToken(authorizationHeader);
    if (token === null) throw new AppError('token_invalid');
    const principal = await verifyAccessToken(signingKeys, { token, nowMs: now() });
    // Checked on every request so that sign-out and device removal take effect at once.
    const session = await repository.findSession(db, principal.sessionId);
    if (
      session === null ||
      !session.live ||
      session.userId !== principal.userId ||
      session.deviceId !== principal.deviceId
    ) {
      throw new AppError('token_invalid');
    }
    return principal;
  }

  async function signOut(principal: Principal): Promise<void> {
    await db.transaction((tx) =>
      repository.revokeSession(tx, { sessionId: principal.sessionId, now: new Date(now()), reason: 'signed_out' }),
    );
  }

  /**
   * No attempt could be claimed: either the secret is locked, or the attempts are all taken by
   * checks still in flight (concurrent requests with the right secret must not be told it is
   * locked: they are asked to retry in a moment).
   */
  async function refuseExhausted(
    table: 'identity_credentials' | 'identity_pins',
    userId: string,
    lockedCode: 'account_locked' | 'pin_locked',
  ): Promise<never> {
    const state = await repository.findSecret(db, table, userId);
    if (state !== null && state.lockedUntil !== null && state.lockedUntil.getTime() > now())
      throw new AppError(lockedCode);
    throw rateLimitedError(1);
  }

  async function verifyPaymentPin(userId: string, pin: string): Promise<void> {
    limiters.pinAttemptsPerUser.consume(userId);
    const secret = await repository.findSecret(db, 'identity_pins', userId);
    if (secret === null) throw new AppError('pin_not_set');
    const attempt = await repository.claimAttempt(db, 'identity_pins', {
      userId,
      now: new Date(now()),
      failuresMax: limits.identityPinFailuresMax,
    });
    if (attempt === null) return refuseExhausted('identity_pins', userId, 'pin_locked');
    // A malformed PIN is just a wrong one: it costs an attempt like any other guess.
    if (/^[0-9]{6}$/.test(pin) && (await verifyHash(secret.hash, pin))) {
      await repository.resetAttempts(db, 'identity_pins', userId);
      return;
    }
    const lockedAtMs = now();
    const lockedUntilMs = lockedAtMs + limits.identityPinLockoutMs;
    const locked = await db.transaction(async (tx) => {
      const justLocked = await repository.lockIfExhausted(tx, 'identity_pins', {
        userId,
        failuresMax: limits.identityPinFailuresMax,
        lockedUntil: new Date(lockedUntilMs),
      });
      if (justLocked) {
        await notifications.write(tx, {
          userId,
          type: 'security.pin_locked',
          data: { locked_until: Math.floor(lockedUntilMs / 1_000) },
        });
      }
      return justLocked;
    });
    if (locked || attempt >= limits.identityPinFailuresMax) throw new AppError('pin_locked');
    throw new AppError('pin_invalid', { details: { attempts_remaining: limits.identityPinFailuresMax - attempt } });
  }

  async function setPaymentPin(input: { userId: string; pin: string; password: string }): Promise<void> {
    limiters.pinAttemptsPerUser.consume(input.userId);
    checkPinPolicy(input.pin);
    const credentials = await repository.findSecret(db, 'identity_credentials', input.userId);
    assert(credentials !== null, 'every user has credentials');
    await checkPassword(input.userId, input.password, credentials.hash);
    const pinHash = await argon2.hash(input.pin, argon2Options);
    await repository.upsertPin(db, { userId: input.userId, pinHash, now: new Date(now()) });
  }

  async function revokeDevice(input: { userId: string; deviceId: string }): Promise<void> {
    const at = new Date(now());
    const revoked = await db.transaction(async (tx) => {
      if (!(await repository.revokeDevice(tx, { ...input, now: at }))) return false;
      await repository.revokeSessionsOfDevice(tx, { deviceId: input.deviceId, now: at, reason: 'device_revoked' });
      await dependencies.onDeviceRevoked?.(tx, input);
      return true;
    });
    if (!revoked) throw new AppError('not_found', { message: 'No such device.', param: 'id' });
  }

  return {
    authenticate,
    verifyPaymentPin,
    async findUserByLogin(login) {
      const normalized = loginOf(login, 'login');
      return normalized === null ? null : repository.findUser(db, normalized);
    },
    async getUser(id) {
      return repository.findUser(db, { kind: 'id', value: id });
    },
    async listUsers(options) {
      assert(
        Number.isSafeInteger(options.limit) && options.limit >= 1 && options.limit <= limits.pageSizeMax,
        'listUsers limit out of range',
      );
      let beforeSeq: bigint | null = null;
      if (options.startingAfter !== undefined) {
        beforeSeq = await repository.userSeq(db, options.startingAfter);
        if (beforeSeq === null) {
          throw new AppError('invalid_request', { message: 'No user has this id.', param: 'starting_after' });
        }
      }
      const rows = await repository.listUsers(db, { limit: options.limit + 1, beforeSeq });
      return { data: rows.slice(0, options.limit), hasMore: rows.length > options.limit };
    },
    async jwks() {
      return { keys: await signingKeys.publicJwks() };
    },
    signUp,
    signIn,
    refresh,
    signOut,
    async hasPaymentPin(userId) {
      return repository.pinExists(db, userId);
    },
    setPaymentPin,
    async listDevices(userId) {
      return repository.listLiveDevices(db, { userId, max: limits.identityDevicesPerUserMax });
    },
    async getDevice(deviceId) {
      return repository.findDevice(db, deviceId);
    },
    revokeDevice,
    async deleteExpiredRefreshTokens() {
      return repository.deleteExpiredRefreshTokens(db, {
        now: new Date(now()),
        batchMax: limits.identityRefreshTokenPruneBatchMax,
      });
    },
  };
}

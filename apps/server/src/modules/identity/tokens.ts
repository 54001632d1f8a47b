import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { calculateJwkThumbprint, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { Db } from '../../platform/db.js';
import { AppError, assert } from '../../platform/errors.js';
import { limits } from '../../platform/limits.js';
import { deviceIdPattern, newId, sessionIdPattern, userIdPattern } from './policy.js';
import { insertSigningKeyIfAbsent, listSigningKeys } from './repository.js';
import type { Principal } from './types.js';

export const accessTokenIssuer = 'yunpay';
export const accessTokenAudience = 'yunpay-wallet';
/** RFC 9068: a typ that only access tokens carry, so no other JWT we might sign passes as one. */
export const accessTokenType = 'at+jwt';
const algorithm = 'EdDSA';

interface SigningKey {
  kid: string;
  generation: number;
  publicJwk: JWK;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/**
 * The Ed25519 keys that sign access tokens. Shared by every node through identity_signing_keys:
 * the first node to need one inserts generation 1 if absent and every node reads back the same row.
 * Kept in memory afterwards; an unknown kid triggers a reload at most once per reload interval, so a
 * key another node added later is found without letting random kids hammer the database.
 */
export class SigningKeys {
  readonly #db: Db;
  readonly #now: () => number;
  #keys: SigningKey[] = [];
  #loading: Promise<void> | null = null;
  #loadedAtMs = Number.NEGATIVE_INFINITY;

  constructor(options: { db: Db; now: () => number }) {
    this.#db = options.db;
    this.#now = options.now;
  }

  async current(): Promise<SigningKey> {
    if (this.#keys.length === 0) await this.#reload();
    if (this.#keys.length === 0) {
      await this.#createFirstKey();
      // A reload another caller began before our insert committed may still be in flight, and
      // joining it reads nothing: wait it out, then read again with a reload of our own.
      for (let attempt = 0; this.#keys.length === 0 && attempt < 2; attempt += 1) await this.#reload();
    }
    const key = this.#keys[0];
    assert(key !== undefined, 'no signing key after creating one');
    return key;
  }

  async byKid(kid: string): Promise<SigningKey | null> {
    const found = this.#keys.find((key) => key.kid === kid);
    if (found !== undefined) return found;
    if (this.#now() - this.#loadedAtMs < limits.identitySigningKeysReloadIntervalMs) return null;
    await this.#reload();
    return this.#keys.find((key) => key.kid === kid) ?? null;
  }

  async publicJwks(): Promise<JWK[]> {
    await this.current();
    return this.#keys.map((key) => ({ ...key.publicJwk }));
  }

  async #reload(): Promise<void> {
    // One reload at a time; callers that arrive meanwhile wait for it.
    this.#loading ??= (async () => {
      try {
        const rows = await listSigningKeys(this.#db);
        this.#keys = rows.map((row) => {
          const privateKey = createPrivateKey({ key: row.privateKeyPkcs8, format: 'pem' });
          const publicKey = createPublicKey(privateKey);
          const publicJwk = { ...(row.publicJwk as JWK), kid: row.kid, alg: algorithm, use: 'sig' };
          assert(publicJwk.kty === 'OKP' && publicJwk.crv === 'Ed25519', 'signing keys are Ed25519');
          return { kid: row.kid, generation: row.generation, publicJwk, publicKey, privateKey };
        });
        this.#loadedAtMs = this.#now();
      } finally {
        this.#loading = null;
      }
    })();
    await this.#loading;
  }

  async #createFirstKey(): Promise<void> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const exported = publicKey.export({ format: 'jwk' });
    const publicJwk: JWK = { kty: 'OKP', crv: 'Ed25519', x: exported.x };
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    await insertSigningKeyIfAbsent(this.#db, {
      kid,
      generation: 1,
      publicJwk: { ...publicJwk },
      privateKeyPkcs8: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      now: new Date(this.#now()),
    });
  }
}

export async function signAccessToken(
  keys: SigningKeys,
  options: { principal: Principal; nowMs: number },
): Promise<string> {
  const key = await keys.current();
  const nowS = Math.floor(options.nowMs / 1_000);
  return new SignJWT({ sid: options.principal.sessionId, did: options.principal.deviceId })
    .setProtectedHeader({ alg: algorithm, kid: key.kid, typ: accessTokenType })
    .setIssuer(accessTokenIssuer)
    .setAudience(accessTokenAudience)
    .setSubject(options.principal.userId)
    .setJti(newId('tok'))
    .setIssuedAt(nowS)
    .setNotBefore(nowS)
    .setExpirationTime(nowS + limits.identityAccessTokenLifetimeS)
    .sign(key.privateKey);
}

function tokenInvalid(cause?: unknown): AppError {
  return new AppError('token_invalid', cause === undefined ? {} : { cause });
}

/**
 * Checks signature (EdDSA only, a known kid), typ, issuer, audience, exp and nbf, and the claims we
 * rely on. Whether the session is still live is the caller's check. Every failure is token_invalid.
 */
export async function verifyAccessToken(
  keys: SigningKeys,
  options: { token: string; nowMs: number },
): Promise<Principal> {
  let payload: JWTPayload;
  try {
    const verified = await jwtVerify(
      options.token,
      async (header) => {
        if (header.alg !== algorithm || typeof header.kid !== 'string') throw tokenInvalid();
        const key = await keys.byKid(header.kid);
        if (key === null) throw tokenInvalid();
        return key.publicKey;
      },
      {
        algorithms: [algorithm],
        issuer: accessTokenIssuer,
        audience: accessTokenAudience,
        typ: accessTokenType,
        requiredClaims: ['exp', 'nbf', 'iat', 'sub', 'jti'],
        currentDate: new Date(options.nowMs),
        clockTolerance: limits.identityAccessTokenClockToleranceS,
        maxTokenAge: limits.identityAccessTokenLifetimeS + limits.identityAccessTokenClockToleranceS,
      },
    );
    payload = verified.payload;
  } catch (error) {
    throw tokenInvalid(error);
  }
  const { sub, sid, did } = payload as { sub?: unknown; sid?: unknown; did?: unknown };
  if (
    typeof sub !== 'string' ||
    !userIdPattern.test(sub) ||
    typeof sid !== 'string' ||
    !sessionIdPattern.test(sid) ||
    typeof did !== 'string' ||
    !deviceIdPattern.test(did)
  ) {
    throw tokenInvalid();
  }
  return { userId: sub, sessionId: sid, deviceId: did };
}

export const refreshTokenPattern = /^rt_[A-Za-z0-9_-]{43}$/;

/** 32 random bytes, base64url, prefixed so that a leaked one is easy to recognise in a scan. */
export function newRefreshToken(): string {
  return `rt_${randomBytes(32).toString('base64url')}`;
}

/** Refresh tokens are high-entropy, so a fast hash is enough: what is stored cannot be replayed. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

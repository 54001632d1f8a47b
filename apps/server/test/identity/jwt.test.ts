import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentity, identityMigrations } from '../../src/modules/identity/index.js';
import { openTestDb } from '../support/db.js';
import { anyString, signUpAndIn, startIdentityHarness, type IdentityHarness, type SignedUp } from './helpers.js';

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

function hs256(header: object, payload: object, secret: Buffer | string): string {
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

describe('access tokens: the JWT attacks bar', () => {
  let harness: IdentityHarness;
  let user: SignedUp;
  let other: SignedUp;
  let kid: string;
  let privateKey: KeyObject;
  let claims: JWTPayload;

  beforeAll(async () => {
    harness = await startIdentityHarness();
    user = await signUpAndIn(harness);
    other = await signUpAndIn(harness, 'Mallory');
    const rows = await harness.testDb.db.query<{ kid: string; private_key_pkcs8: string }>(
      'select kid, private_key_pkcs8 from identity_signing_keys',
    );
    expect(rows).toHaveLength(1);
    kid = rows[0]!.kid;
    privateKey = createPrivateKey(rows[0]!.private_key_pkcs8);
    claims = decodeJwt(user.accessToken);
  });

  afterAll(async () => {
    await harness?.close();
  });

  /** Signs claims with the real private key: a token only the header/claims checks can refuse. */
  function signWithRealKey(overrides: { header?: Record<string, unknown>; payload?: Record<string, unknown> }) {
    return new SignJWT({ ...claims, ...overrides.payload })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt', ...overrides.header })
      .sign(privateKey);
  }

  async function expectRefused(token: string, label: string) {
    const response = await harness.api('GET', '/wallet/v1/me', { token });
    expect(response.status, label).toBe(401);
    expect(response.body.error.code, label).toBe('token_invalid');
  }

  it('accepts the genuine token (the baseline every attack is measured against)', async () => {
    const response = await harness.api('GET', '/wallet/v1/me', { token: user.accessToken });
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(user.id);
    // And a token re-signed with the real key and the same claims passes too: the refusals below
    // come from what each attack changes, not from re-signing.
    expect((await harness.api('GET', '/wallet/v1/me', { token: await signWithRealKey({}) })).status).toBe(200);
  });

  it('refuses alg none', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      const header = b64url(JSON.stringify({ alg, kid, typ: 'at+jwt' }));
      const payload = b64url(JSON.stringify(claims));
      await expectRefused(`${header}.${payload}.`, `alg ${alg}`);
      await expectRefused(`${header}.${payload}.${user.accessToken.split('.')[2]}`, `alg ${alg} with a signature`);
    }
  });

  it('refuses HS256 signed with the public key (raw bytes, PEM, JWK JSON)', async () => {
    const jwks = await harness.api('GET', '/.well-known/jwks.json');
    const jwk = jwks.body.keys[0]!;
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    const secrets: [string, Buffer | string][] = [
      ['raw x', Buffer.from(jwk.x, 'base64url')],
      ['PEM', publicKey.export({ format: 'pem', type: 'spki' }).toString()],
      ['DER', publicKey.export({ format: 'der', type: 'spki' })],
      ['JWK JSON', JSON.stringify(jwk)],
      ['x text', jwk.x],
    ];
    for (const [label, secret] of secrets) {
      await expectRefused(hs256({ alg: 'HS256', kid, typ: 'at+jwt' }, claims, secret), `HS256 with ${label}`);
    }
  });

  it('refuses expired, not-yet-valid, wrong audience, wrong issuer, wrong typ and incomplete tokens', async () => {
    const nowS = Math.floor(harness.clock.nowMs / 1000);
    const cases: [string, Parameters<typeof signWithRealKey>[0]][] = [
      ['expired', { payload: { iat: nowS - 1000, nbf: nowS - 1000, exp: nowS - 60 } }],
      ['not yet valid', { payload: { nbf: nowS + 600 } }],
      ['lives too long', { payload: { iat: nowS - 3600, nbf: nowS - 3600, exp: nowS + 3600 } }],
      ['wrong audience', { payload: { aud: 'yunpay-merchant' } }],
      ['audience list without ours', { payload: { aud: ['other', 'another'] } }],
      ['wrong issuer', { payload: { iss: 'https://evil.example' } }],
      ['plain JWT typ', { header: { typ: 'JWT' } }],
      ['no exp', { payload: { exp: undefined } }],
      ['no session', { payload: { sid: undefined } }],
      ['no device', { payload: { did: undefined } }],
      ['other session', { payload: { sid: decodeJwt(other.accessToken).sid } }],
      ['sub of another user', { payload: { sub: other.id } }],
      ['malformed sub', { payload: { sub: 'admin' } }],
    ];
    for (const [label, overrides] of cases) await expectRefused(await signWithRealKey(overrides), label);
  });

  it('refuses the token once the clock passes its expiry', async () => {
    harness.clock.advance(15 * 60 * 1000 + 6_000);
    try {
      await expectRefused(user.accessToken, 'expired by the clock');
    } finally {
      harness.clock.advance(-(15 * 60 * 1000 + 6_000));
    }
    expect((await harness.api('GET', '/wallet/v1/me', { token: user.accessToken })).status).toBe(200);
  });

  it('refuses a tampered payload or header', async () => {
    const [header, , signature] = user.accessToken.split('.');
    const forged = b64url(JSON.stringify({ ...claims, sub: other.id }));
    await expectRefused(`${header}.${forged}.${signature}`, 'sub swapped');
    const longer = b64url(JSON.stringify({ ...claims, exp: Number(claims.exp) + 86_400 }));
    await expectRefused(`${header}.${longer}.${signature}`, 'exp extended');
    const otherHeader = b64url(JSON.stringify({ ...decodeProtectedHeader(user.accessToken), typ: 'JWT' }));
    await expectRefused(`${otherHeader}.${user.accessToken.split('.')[1]}.${signature}`, 'header changed');
    const flipped = `${signature!.slice(0, -2)}${signature!.endsWith('AA') ? 'BA' : 'AA'}`;
    await expectRefused(`${header}.${user.accessToken.split('.')[1]}.${flipped}`, 'signature flipped');
  });

  it('refuses an unknown kid, and a known kid signed by another key', async () => {
    const { privateKey: attackerKey } = generateKeyPairSync('ed25519');
    const token = (headerKid: string) =>
      new SignJWT({ ...claims }).setProtectedHeader({ alg: 'EdDSA', kid: headerKid, typ: 'at+jwt' }).sign(attackerKey);
    await expectRefused(await token('attacker-key'), 'unknown kid');
    await expectRefused(await token(kid), 'our kid, their key');
    const noKid = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' }).sign(privateKey);
    await expectRefused(noKid, 'no kid');
  });

  it('refuses missing, malformed and non-bearer authorization headers', async () => {
    for (const authorization of [
      undefined,
      '',
      'Bearer',
      'Basic dXNlcjpwYXNz',
      `Token ${user.accessToken}`,
      'Bearer a.b.c',
    ]) {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const response = await harness.api('GET', '/wallet/v1/me', { headers });
      expect(response.status, String(authorization)).toBe(401);
      expect(response.body.error.code).toBe('token_invalid');
    }
  });

  it('refuses the token of a revoked session', async () => {
    const victim = await signUpAndIn(harness, 'Revoked');
    expect((await harness.api('GET', '/wallet/v1/me', { token: victim.accessToken })).status).toBe(200);
    await harness.api('DELETE', '/wallet/v1/sessions/current', { token: victim.accessToken });
    await expectRefused(victim.accessToken, 'revoked session');
  });

  it('publishes the public keys at /.well-known/jwks.json, and they verify our tokens', async () => {
    const response = await harness.api('GET', '/.well-known/jwks.json');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      keys: [{ kty: 'OKP', crv: 'Ed25519', x: anyString, kid, alg: 'EdDSA', use: 'sig' }],
    });
    expect(response.text).not.toContain('"d"');
    const { payload } = await jwtVerify(user.accessToken, createLocalJWKSet(response.body), {
      algorithms: ['EdDSA'],
      issuer: 'yunpay',
      audience: 'yunpay-wallet',
      currentDate: new Date(harness.clock.nowMs),
    });
    expect(payload.sub).toBe(user.id);
  });

  it('has nodes that start at once agree on one signing key', async () => {
    const testDb = await openTestDb({ migrations: identityMigrations });
    try {
      const notifications = { write: async () => {} };
      const nodes = Array.from({ length: 4 }, () => createIdentity({ db: testDb.db, notifications }));
      const sets = await Promise.all(nodes.map((node) => node.jwks()));
      const kids = new Set(sets.map((set) => set.keys.map((key) => key.kid).join(',')));
      expect(kids.size).toBe(1);
      expect(sets[0]!.keys).toHaveLength(1);
      const rows = await testDb.db.query('select kid from identity_signing_keys');
      expect(rows).toHaveLength(1);
    } finally {
      await testDb.dispose();
    }
  });
});

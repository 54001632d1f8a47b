import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerToken, createAdminGuard } from '../src/platform/admin-auth.js';
import { openTestDb, type TestDb } from './support/db.js';
import { buildTestApp, testAdminToken, type TestApp } from './support/app.js';

interface VerifyBody {
  object?: string;
  ok?: boolean;
  checks?: { name: string; ok: boolean; violation_count: number; samples: string[] }[];
  error?: { code: string };
}

describe('admin guard on /admin/v1', () => {
  let testDb: TestDb;
  let subject: TestApp;

  beforeAll(async () => {
    testDb = await openTestDb();
    subject = buildTestApp({ db: testDb.db });
  });

  afterAll(async () => {
    await subject.app.close();
    await testDb.dispose();
  });

  const rejected: { name: string; authorization?: string }[] = [
    { name: 'no Authorization header' },
    { name: 'wrong token of the same length', authorization: `Bearer ${'x'.repeat(testAdminToken.length)}` },
    { name: 'a prefix of the token', authorization: `Bearer ${testAdminToken.slice(0, -1)}` },
    { name: 'the token plus one character', authorization: `Bearer ${testAdminToken}x` },
    { name: 'the right token with the wrong scheme', authorization: `Basic ${testAdminToken}` },
    { name: 'the bare token without a scheme', authorization: testAdminToken },
    { name: 'an empty bearer', authorization: 'Bearer ' },
  ];

  for (const testCase of rejected) {
    it(`answers 401 unauthorized for ${testCase.name}`, async () => {
      const response = await subject.app.inject({
        method: 'GET',
        url: '/admin/v1/ledger/verify',
        headers: testCase.authorization === undefined ? {} : { authorization: testCase.authorization },
      });
      expect(response.statusCode).toBe(401);
      expect(response.json<VerifyBody>().error?.code).toBe('unauthorized');
      expect(response.headers['www-authenticate']).toBe('Bearer realm="yunpay-admin"');
    });
  }

  it('answers 401, not 404, for unknown admin routes without the token', async () => {
    const response = await subject.app.inject({ method: 'GET', url: '/admin/v1/secret-thing' });
    expect(response.statusCode).toBe(401);
    const authorized = await subject.app.inject({
      method: 'GET',
      url: '/admin/v1/secret-thing',
      headers: { authorization: `Bearer ${testAdminToken}` },
    });
    expect(authorized.statusCode).toBe(404);
    expect(authorized.json<VerifyBody>().error?.code).toBe('route_not_found');
  });

  it('serves the ledger verify report with the token', async () => {
    const response = await subject.app.inject({
      method: 'GET',
      url: '/admin/v1/ledger/verify',
      headers: { authorization: `bearer ${testAdminToken}` },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<VerifyBody>();
    expect(body.object).toBe('ledger_verify_report');
    expect(body.ok).toBe(true);
    expect(body.checks?.length).toBeGreaterThanOrEqual(4);
    for (const check of body.checks ?? []) {
      expect(check).toEqual({ name: check.name, ok: true, violation_count: 0, samples: [] });
    }
  });

  it('never logs the presented token', async () => {
    const secret = `Bearer ${'s'.repeat(40)}`;
    await subject.app.inject({ method: 'GET', url: '/admin/v1/ledger/verify', headers: { authorization: secret } });
    expect(subject.logs.raw.join('\n')).not.toContain('s'.repeat(40));
  });
});

describe('bearerToken and createAdminGuard', () => {
  it('parses only well-formed bearer headers', () => {
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken('Token abc')).toBeNull();
  });

  it('refuses to guard with a short token', () => {
    expect(() => createAdminGuard({ token: 'short' })).toThrow(/too short/);
  });
});

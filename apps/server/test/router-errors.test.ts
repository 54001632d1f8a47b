import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../src/platform/limits.js';
import { startPlatform, type TestPlatform } from './support/platform.js';
import { createMerchant, v1, type TestMerchant } from './support/merchant.js';
import { api, signUp, type TestUser } from './support/wallet.js';

/** Errors the router raises before any route runs get the envelope and request id of their API. */
describe('router-level errors', () => {
  let platform: TestPlatform;
  let shop: TestMerchant;
  let alice: TestUser;
  const longId = `cus_${'a'.repeat(5_000)}`;

  beforeAll(async () => {
    platform = await startPlatform();
    shop = await createMerchant(platform.baseUrl, platform.adminToken);
    alice = await signUp(platform.baseUrl, 'Alice');
  });
  afterAll(async () => {
    await platform?.close();
  });

  it.each([
    { name: 'a malformed percent-encoding', path: '/v1/customers/%E0%A4%A', message: /percent-encoding/ },
    { name: 'an id of 5,000 characters', path: `/v1/customers/${longId}`, message: /longer than 200 characters/ },
    { name: 'a long id on a nested route', path: `/v1/payment_intents/${longId}/confirm`, message: /longer than/ },
  ])('/v1: $name is a Stripe-shaped 400 with a request id', async (testCase) => {
    const method = testCase.path.endsWith('/confirm') ? 'POST' : 'GET';
    const response = await v1(platform.baseUrl, method, testCase.path, { key: shop.secretKey });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { type: 'invalid_request_error', message: expect.any(String) } });
    expect(response.body.error.message).toMatch(testCase.message);
    expect(response.body.error.message).not.toContain('aaaaaaaaaa');
    const requestId = response.headers.get('request-id');
    expect(requestId).toMatch(/^req_[0-9a-f]{32}$/);
    expect(response.headers.get('x-request-id')).toBe(requestId);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it.each([
    { name: 'wallet: a malformed percent-encoding', path: '/wallet/v1/transactions/%E0%A4%A', token: 'alice' },
    { name: 'wallet: an id of 5,000 characters', path: `/wallet/v1/transactions/${longId}`, token: 'alice' },
    { name: 'admin: a malformed percent-encoding', path: '/admin/v1/merchants/%E0%A4%A', token: 'admin' },
    { name: 'admin: an id of 5,000 characters', path: `/admin/v1/merchants/${longId}`, token: 'admin' },
    { name: 'merchant sessions: a malformed percent-encoding', path: '/merchant/v1/%E0%A4%A', token: 'none' },
  ])('$name is a 400 invalid_request in our envelope with request_id', async (testCase) => {
    const token =
      testCase.token === 'alice' ? alice.accessToken : testCase.token === 'admin' ? platform.adminToken : undefined;
    const response = await api(platform.baseUrl, 'GET', testCase.path, token === undefined ? {} : { token });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: { code: 'invalid_request', message: expect.any(String), request_id: expect.stringMatching(/^req_/) },
    });
    expect(response.headers.get('x-request-id')).toBe(response.body.error.request_id);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('a sane X-Request-Id is kept, as on every other answer', async () => {
    const response = await api(platform.baseUrl, 'GET', '/wallet/v1/transactions/%E0%A4%A', {
      headers: { 'x-request-id': 'trace-0001' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.request_id).toBe('trace-0001');
  });

  it('an id at the limit still reaches the route (and its own 404)', async () => {
    const atLimit = `cus_${'a'.repeat(limits.httpParamLengthMax - 4)}`;
    const response = await v1(platform.baseUrl, 'GET', `/v1/customers/${atLimit}`, { key: shop.secretKey });
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing' });
  });

  it('404s of long unknown paths quote a bounded part of the path, with the request id', async () => {
    const path = `/wallet/v1/${'b'.repeat(5_000)}`;
    const ours = await api(platform.baseUrl, 'GET', path);
    expect(ours.status).toBe(404);
    expect(ours.body.error.code).toBe('route_not_found');
    expect(ours.body.error.request_id).toMatch(/^req_/);
    expect(ours.body.error.message.length).toBeLessThan(limits.httpErrorPathLengthMax + 50);
    const stripe = await v1(platform.baseUrl, 'GET', `/v1/${'b'.repeat(5_000)}`, { key: shop.secretKey });
    expect(stripe.status).toBe(404);
    expect(stripe.body.error.message.length).toBeLessThan(limits.httpErrorPathLengthMax + 150);
    expect(stripe.headers.get('request-id')).toMatch(/^req_/);
  });
});

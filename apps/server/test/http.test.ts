import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { AppError } from '../src/platform/errors.js';
import { limits } from '../src/platform/limits.js';
import { openTestDb, type TestDb } from './support/db.js';
import { buildTestApp, listenOnFreePort, type TestApp } from './support/app.js';

interface ErrorResponse {
  error: { code: string; message: string; param?: string; details?: Record<string, unknown>; request_id: string };
}

describe('HTTP app over real HTTP', () => {
  let testDb: TestDb;
  let subject: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    testDb = await openTestDb();
    subject = buildTestApp({ db: testDb.db });
    // Routes used only to reach the error handler's other branches; the real routes have no body yet.
    subject.app.post(
      '/test/echo',
      {
        schema: {
          body: Type.Object(
            { amount: Type.Integer({ minimum: 1 }), card: Type.Object({ number: Type.String({ minLength: 12 }) }) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ amount: Type.Integer() }) },
        },
      },
      async (request) => ({ amount: request.body.amount }),
    );
    subject.app.get('/test/crash', async () => {
      throw new Error('connection to 10.1.2.3 failed: password authentication failed for user "ledger"');
    });
    subject.app.get('/test/app-error-5xx', async () => {
      throw new AppError('migration_failed', { message: 'Migration 0007_secret_table failed at /srv/yunpay' });
    });
    subject.app.get('/test/conflict', async () => {
      throw new AppError('conflict', { message: 'That id was used with different data.', param: 'id' });
    });
    baseUrl = await listenOnFreePort(subject.app);
  });

  afterAll(async () => {
    await subject.app.close();
    await testDb.dispose();
  });

  it('GET /healthz answers 200 ok with security headers and a request id', async () => {
    const response = await fetch(`${baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it('GET /readyz answers 200 when the database is reachable and migrated', async () => {
    const response = await fetch(`${baseUrl}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } });
  });

  it('echoes a sane X-Request-Id and replaces an unsafe or oversized one', async () => {
    const sane = 'trace-01.ABC_xyz';
    const echoed = await fetch(`${baseUrl}/healthz`, { headers: { 'x-request-id': sane } });
    expect(echoed.headers.get('x-request-id')).toBe(sane);

    const maxLength = 'a'.repeat(limits.requestIdLengthMax);
    const atLimit = await fetch(`${baseUrl}/healthz`, { headers: { 'x-request-id': maxLength } });
    expect(atLimit.headers.get('x-request-id')).toBe(maxLength);

    for (const unsafe of ['a'.repeat(limits.requestIdLengthMax + 1), 'has space', 'semi;colon', '<script>']) {
      const response = await fetch(`${baseUrl}/healthz`, { headers: { 'x-request-id': unsafe } });
      const id = response.headers.get('x-request-id');
      expect(id).not.toBe(unsafe);
      expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    }

    // The id also reaches the error body and every log line of the request.
    const missing = await fetch(`${baseUrl}/nope`, { headers: { 'x-request-id': 'trace-404' } });
    expect(missing.headers.get('x-request-id')).toBe('trace-404');
    expect(((await missing.json()) as ErrorResponse).error.request_id).toBe('trace-404');
    const requestLines = subject.logs.lines.filter((line) => line.request_id === 'trace-404');
    expect(requestLines.length).toBeGreaterThanOrEqual(2); // incoming request + request completed
    expect(requestLines.map((line) => line.msg)).toContain('request completed');
  });

  it('maps an unknown route to 404 route_not_found', async () => {
    const response = await fetch(`${baseUrl}/v1/does-not-exist?x=1`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as ErrorResponse;
    expect(body.error.code).toBe('route_not_found');
    expect(body.error.message).toBe('No route GET /v1/does-not-exist.');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('maps validation failures to 400 invalid_request naming the param', async () => {
    const cases: { name: string; url: string; init?: RequestInit; param: string; message?: string }[] = [
      {
        name: 'unknown query field',
        url: '/healthz?verbose=1',
        param: 'verbose',
        message: 'Invalid querystring field verbose: is not a known field.',
      },
      {
        name: 'wrong type in the body',
        url: '/test/echo',
        init: { method: 'POST', body: JSON.stringify({ amount: 'ten', card: { number: '4242424242424242' } }) },
        param: 'amount',
      },
      {
        name: 'nested field too short',
        url: '/test/echo',
        init: { method: 'POST', body: JSON.stringify({ amount: 5, card: { number: '42' } }) },
        param: 'card.number',
      },
      {
        name: 'missing required field',
        url: '/test/echo',
        init: { method: 'POST', body: JSON.stringify({ amount: 5 }) },
        param: 'card',
        message: 'Invalid body field card: is required.',
      },
      {
        name: 'unknown body field',
        url: '/test/echo',
        init: { method: 'POST', body: JSON.stringify({ amount: 5, card: { number: '4242424242424242' }, tip: 1 }) },
        param: 'tip',
        message: 'Invalid body field tip: is not a known field.',
      },
    ];
    for (const testCase of cases) {
      const response = await fetch(`${baseUrl}${testCase.url}`, {
        ...testCase.init,
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status, testCase.name).toBe(400);
      const body = (await response.json()) as ErrorResponse;
      expect(body.error.code, testCase.name).toBe('invalid_request');
      expect(body.error.param, testCase.name).toBe(testCase.param);
      if (testCase.message !== undefined) expect(body.error.message, testCase.name).toBe(testCase.message);
      expect(body.error.request_id, testCase.name).toBe(response.headers.get('x-request-id'));
    }
  });

  it('accepts a valid body on the same route (the 400s above come from validation, not the route)', async () => {
    const response = await fetch(`${baseUrl}/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 7, card: { number: '4242424242424242' } }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ amount: 7 });
  });

  it('maps malformed JSON to 400 invalid_request', async () => {
    const response = await fetch(`${baseUrl}/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"amount": ',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorResponse;
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toBe('The request body is not valid JSON.');
  });

  it('maps a body over the limit to 413 body_too_large', async () => {
    const response = await fetch(`${baseUrl}/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 1, card: { number: 'x'.repeat(limits.httpBodyBytesMax) } }),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as ErrorResponse).error.code).toBe('body_too_large');
  });

  it('maps an unsupported content type to 415 unsupported_media_type', async () => {
    const response = await fetch(`${baseUrl}/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<amount>1</amount>',
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as ErrorResponse).error.code).toBe('unsupported_media_type');
  });

  it('maps an AppError to its catalog status with its message and param', async () => {
    const response = await fetch(`${baseUrl}/test/conflict`);
    expect(response.status).toBe(409);
    const body = (await response.json()) as ErrorResponse;
    expect(body.error).toMatchObject({
      code: 'conflict',
      message: 'That id was used with different data.',
      param: 'id',
    });
  });

  it('answers 500 internal_error without internals, and logs the real error', async () => {
    const response = await fetch(`${baseUrl}/test/crash`, { headers: { 'x-request-id': 'trace-crash' } });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('10.1.2.3');
    expect(text).not.toContain('password');
    expect(text).not.toContain('stack');
    const body = JSON.parse(text) as ErrorResponse;
    expect(body.error).toEqual({
      code: 'internal_error',
      message: 'Something went wrong on our side.',
      request_id: 'trace-crash',
    });
    const logged = subject.logs.raw.filter((line) => line.includes('"request_id":"trace-crash"')).join('\n');
    expect(logged).toContain('10.1.2.3');

    // A 5xx AppError also shows only the catalog message.
    const appError = await fetch(`${baseUrl}/test/app-error-5xx`);
    expect(appError.status).toBe(500);
    const appErrorText = await appError.text();
    expect(appErrorText).not.toContain('0007_secret_table');
    expect((JSON.parse(appErrorText) as ErrorResponse).error.code).toBe('migration_failed');
  });

  it('GET /metrics serves Prometheus text with the HTTP histogram and ledger metrics', async () => {
    subject.metrics.ledgerObserver().batchCommitted({ transferCount: 3, commitMs: 4 });
    subject.metrics.ledgerObserver().transfersCompleted([
      { id: 'a', result: 'ok', transfer: null },
      { id: 'b', result: 'ok', transfer: null },
      { id: 'c', result: 'exceeds_credits', transfer: null },
    ]);
    await fetch(`${baseUrl}/healthz`);
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(
      /yunpay_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+/,
    );
    // Unmatched URLs share one label value, so random paths cannot blow up the series count.
    expect(text).toContain('route="unmatched",status="404"');
    expect(text).not.toContain('does-not-exist');
    expect(text).toContain('yunpay_ledger_batch_transfers_count 1');
    expect(text).toContain('yunpay_ledger_batch_transfers_sum 3');
    expect(text).toContain('yunpay_ledger_batch_commit_seconds_sum 0.004');
    expect(text).toContain('yunpay_ledger_transfers_total{result="ok"} 2');
    expect(text).toContain('yunpay_ledger_transfers_total{result="exceeds_credits"} 1');
  });
});

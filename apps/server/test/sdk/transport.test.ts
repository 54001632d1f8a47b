import { describe, expect, test } from 'vitest';
import {
  HttpTransport,
  MerchantClient,
  WalletClient,
  YunpayApiError,
  type YunpayError,
  YunpayNetworkError,
  YunpayTimeoutError,
  backoffDelayMs,
  errorFromResponse,
  retryAfterMs,
  type FetchInit,
  type FetchLike,
  type FetchResponse,
} from '@yunpay/sdk';

/** A scripted fetch: each call takes the next step (a response or a thrown error) and is recorded. */
function scriptedFetch(steps: (FetchResponse | Error | (() => Promise<FetchResponse>))[]) {
  const calls: { url: string; init: FetchInit }[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    const step = steps.shift();
    if (step === undefined) throw new Error('the fake fetch ran out of steps');
    if (step instanceof Error) throw step;
    if (typeof step === 'function') return step();
    return step;
  };
  return { fetch, calls };
}

function response(status: number, body: unknown, headers: Record<string, string> = {}): FetchResponse {
  const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return {
    status,
    headers: { get: (name: string) => lower[name.toLowerCase()] ?? null },
    text: async () => (body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)),
  };
}

const walletError = (code: string, status: number) =>
  response(status, { error: { code, message: `${code} happened`, request_id: 'req_1' } });

/** Records the waits instead of sleeping. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

const paymentIntent = { id: 'pi_1', object: 'payment_intent', amount: 100, currency: 'cny', status: 'succeeded' };

describe('retries', () => {
  test('a mutation that fails twice is retried with the same Idempotency-Key each time', async () => {
    const { fetch, calls } = scriptedFetch([
      new TypeError('fetch failed'),
      response(503, { error: { type: 'api_error', message: 'unavailable' } }),
      response(200, paymentIntent),
    ]);
    const { sleep, waits } = recordingSleep();
    const merchant = new MerchantClient({ baseUrl: 'http://yunpay.test', apiKey: 'sk_test_abc', fetch, sleep });
    const created = await merchant.paymentIntents.create({ amount: 100, currency: 'cny' });
    expect(created.id).toBe('pi_1');
    expect(calls).toHaveLength(3);
    const keys = calls.map((call) => call.init.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(keys).size).toBe(1);
    // The body is the same form on every attempt.
    expect(new Set(calls.map((call) => call.init.body)).size).toBe(1);
    expect(calls[0]!.init.body).toBe('amount=100&currency=cny');
    expect(calls[0]!.init.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(waits).toHaveLength(2);
  });

  test("a caller's Idempotency-Key is sent as given; two calls without one get different keys", async () => {
    const { fetch, calls } = scriptedFetch([
      response(200, paymentIntent),
      response(200, paymentIntent),
      response(200, paymentIntent),
    ]);
    const merchant = new MerchantClient({ baseUrl: 'http://yunpay.test', apiKey: 'sk_test_abc', fetch });
    await merchant.paymentIntents.create({ amount: 100, currency: 'cny' }, { idempotencyKey: 'order-42' });
    await merchant.paymentIntents.create({ amount: 100, currency: 'cny' });
    await merchant.paymentIntents.create({ amount: 100, currency: 'cny' });
    expect(calls[0]!.init.headers['idempotency-key']).toBe('order-42');
    expect(calls[1]!.init.headers['idempotency-key']).not.toBe(calls[2]!.init.headers['idempotency-key']);
  });

  test('the wallet retries a transfer on 409 idempotency_key_in_use with the same key, but not a final 409', async () => {
    const transaction = { id: 'wtx_1', object: 'wallet_transaction' };
    const { fetch, calls } = scriptedFetch([
      walletError('idempotency_key_in_use', 409),
      response(201, transaction),
      walletError('pin_not_set', 409),
    ]);
    const { sleep } = recordingSleep();
    const wallet = new WalletClient({ baseUrl: 'http://yunpay.test', fetch, sleep, accessToken: 'at' });
    const sent = await wallet.transfers.create({ to: '+8613800000002', amount: 100, currency: 'CNY', pin: '123456' });
    expect(sent.id).toBe('wtx_1');
    expect(calls[0]!.init.headers['idempotency-key']).toBe(calls[1]!.init.headers['idempotency-key']);
    const refused = wallet.transfers.create({ to: '+8613800000002', amount: 100, currency: 'CNY', pin: '123456' });
    await expect(refused).rejects.toMatchObject({ code: 'pin_not_set', status: 409 });
    expect(calls).toHaveLength(3);
  });

  test('400 validation errors are never retried', async () => {
    const { fetch, calls } = scriptedFetch([
      response(400, {
        error: { type: 'invalid_request_error', code: 'parameter_missing', message: 'Missing', param: 'amount' },
      }),
    ]);
    const merchant = new MerchantClient({ baseUrl: 'http://yunpay.test', apiKey: 'sk_test_abc', fetch });
    const error = await merchant.paymentIntents
      .create({ amount: 0, currency: 'cny' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(YunpayApiError);
    expect(error).toMatchObject({
      status: 400,
      code: 'parameter_missing',
      param: 'amount',
      type: 'invalid_request_error',
    });
    expect(calls).toHaveLength(1);
  });

  test('429 Retry-After is honoured, for unsafe requests too', async () => {
    const { fetch, calls } = scriptedFetch([
      response(
        429,
        { error: { code: 'rate_limited', message: 'slow down', request_id: 'req_2' } },
        { 'Retry-After': '7' },
      ),
      response(201, { id: 'usr_1', object: 'user' }),
    ]);
    const { sleep, waits } = recordingSleep();
    const wallet = new WalletClient({ baseUrl: 'http://yunpay.test', fetch, sleep, random: () => 0.5 });
    const user = await wallet.signUp({ phone: '+8613800000009', password: 'x', name: 'N' });
    expect(user.id).toBe('usr_1');
    expect(calls).toHaveLength(2);
    expect(waits).toEqual([7_000]);
  });

  test('a Retry-After longer than the cap is not waited for', async () => {
    const { fetch, calls } = scriptedFetch([
      response(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '3600' }),
    ]);
    const wallet = new WalletClient({ baseUrl: 'http://yunpay.test', fetch, accessToken: 'at' });
    await expect(wallet.balances()).rejects.toMatchObject({ status: 429, code: 'rate_limited' });
    expect(calls).toHaveLength(1);
  });

  test('unsafe requests are not retried on network errors or 5xx', async () => {
    const { fetch, calls } = scriptedFetch([new TypeError('fetch failed'), walletError('internal_error', 500)]);
    const wallet = new WalletClient({ baseUrl: 'http://yunpay.test', fetch, accessToken: 'at' });
    await expect(wallet.paymentCodes.create()).rejects.toBeInstanceOf(YunpayNetworkError);
    await expect(wallet.cards.save({ token: 'tok_visa' })).rejects.toMatchObject({ status: 500 });
    expect(calls).toHaveLength(2);
  });

  test('retries stop after maxRetries and surface the last error', async () => {
    const { fetch, calls } = scriptedFetch([
      walletError('internal_error', 500),
      walletError('internal_error', 500),
      walletError('not_ready', 503),
    ]);
    const { sleep, waits } = recordingSleep();
    const wallet = new WalletClient({
      baseUrl: 'http://yunpay.test',
      fetch,
      sleep,
      accessToken: 'at',
      retries: { maxRetries: 2 },
    });
    await expect(wallet.balances()).rejects.toMatchObject({ status: 503, code: 'not_ready', requestId: 'req_1' });
    expect(calls).toHaveLength(3);
    expect(waits).toHaveLength(2);
  });

  test('full-jitter backoff stays within [0, min(max, base × 2^n))', () => {
    const options = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1_000 };
    for (let retry = 0; retry < 40; retry += 1) {
      for (const random of [0, 0.25, 0.999999]) {
        const delay = backoffDelayMs(options, retry, () => random);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(Math.min(1_000, 100 * 2 ** retry));
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
    expect(backoffDelayMs(options, 0, () => 0.5)).toBe(50);
    expect(backoffDelayMs(options, 3, () => 0.5)).toBe(400);
    expect(backoffDelayMs(options, 10, () => 0.5)).toBe(500);
  });

  test('Retry-After reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });

  test('retry options are bounded at construction', () => {
    expect(() => new HttpTransport({ baseUrl: 'http://yunpay.test', retries: { maxRetries: 6 } })).toThrow(RangeError);
    expect(() => new HttpTransport({ baseUrl: 'http://yunpay.test', retries: { maxDelayMs: 600_000 } })).toThrow(
      RangeError,
    );
    expect(() => new HttpTransport({ baseUrl: 'http://yunpay.test', timeoutMs: 0 })).toThrow(RangeError);
    expect(() => new HttpTransport({ baseUrl: 'ftp://yunpay.test' })).toThrow(TypeError);
  });

  test('an attempt that outlives timeoutMs becomes a YunpayTimeoutError, then is retried', async () => {
    const hang = (): Promise<FetchResponse> => new Promise(() => undefined);
    const calls: FetchInit[] = [];
    const fetch: FetchLike = (_url, init) => {
      calls.push(init);
      if (calls.length === 1) {
        return new Promise((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
          void hang();
        });
      }
      return Promise.resolve(response(200, []));
    };
    const { sleep } = recordingSleep();
    const wallet = new WalletClient({ baseUrl: 'http://yunpay.test', fetch, sleep, timeoutMs: 20, accessToken: 'at' });
    await expect(wallet.balances()).resolves.toEqual([]);
    expect(calls).toHaveLength(2);
    const once = new WalletClient({
      baseUrl: 'http://yunpay.test',
      fetch: (_url, init) =>
        new Promise((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        }),
      timeoutMs: 20,
      accessToken: 'at',
      retries: { maxRetries: 0 },
    });
    const error = await once.balances().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(YunpayTimeoutError);
    expect((error as YunpayError).kind).toBe('timeout');
  });

  test("the caller's abort is never retried", async () => {
    const controller = new AbortController();
    const fetch: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        controller.abort();
      });
    const wallet = new WalletClient({ baseUrl: 'http://yunpay.test', fetch, accessToken: 'at' });
    await expect(wallet.balances({ signal: controller.signal })).rejects.toMatchObject({ kind: 'aborted' });
  });
});

describe('errors', () => {
  test('the wallet envelope: code, param, details, request id', () => {
    const error = errorFromResponse({
      status: 402,
      body: {
        error: {
          code: 'limit_exceeded',
          message: 'Over the daily limit.',
          param: 'amount',
          details: { limit: 'daily', limit_amount: 500_000 },
          request_id: 'req_abc',
        },
      },
      headerRequestId: 'req_header',
      method: 'POST',
      path: '/wallet/v1/transfers',
      idempotencyKey: 'k1',
    });
    expect(error).toBeInstanceOf(YunpayApiError);
    expect(error).toMatchObject({
      kind: 'api',
      status: 402,
      code: 'limit_exceeded',
      type: null,
      param: 'amount',
      requestId: 'req_abc',
      details: { limit: 'daily', limit_amount: 500_000 },
      idempotencyKey: 'k1',
      message: 'Over the daily limit.',
    });
  });

  test("Stripe's envelope: type, code, decline_code, payment_intent", () => {
    const error = errorFromResponse({
      status: 402,
      body: {
        error: {
          type: 'card_error',
          code: 'card_declined',
          decline_code: 'generic_decline',
          message: 'Your card was declined.',
          payment_intent: { id: 'pi_1' },
          charge: 'ch_1',
        },
      },
      headerRequestId: 'req_h',
      method: 'POST',
      path: '/v1/payment_intents',
      idempotencyKey: null,
    });
    expect(error).toMatchObject({
      status: 402,
      type: 'card_error',
      code: 'card_declined',
      declineCode: 'generic_decline',
      requestId: 'req_h',
      details: { payment_intent: { id: 'pi_1' }, charge: 'ch_1' },
    });
    expect(error.statusCode).toBe(402);
  });

  test('a body that is not an envelope still gives a typed error without secrets', async () => {
    const { fetch } = scriptedFetch([response(502, '<html>Bad gateway</html>')]);
    const merchant = new MerchantClient({
      baseUrl: 'http://yunpay.test',
      apiKey: 'sk_test_supersecret',
      fetch,
      retries: { maxRetries: 0 },
    });
    const error = (await merchant.paymentIntents
      .retrieve('pi_1', { client_secret: 'pi_1_secret_hidden' })
      .catch((caught: unknown) => caught)) as YunpayError;
    expect(error).toBeInstanceOf(YunpayApiError);
    expect(error.status).toBe(502);
    expect(error.raw).toBe('<html>Bad gateway</html>');
    expect(error.message).not.toMatch(/supersecret|hidden/);
    expect(JSON.stringify({ ...error, message: error.message })).not.toMatch(/supersecret|hidden/);
  });

  test('a network failure is a YunpayNetworkError whose message names no key', async () => {
    const { fetch } = scriptedFetch([new TypeError('fetch failed'), new TypeError('fetch failed'), new TypeError('x')]);
    const { sleep } = recordingSleep();
    const merchant = new MerchantClient({ baseUrl: 'http://yunpay.test', apiKey: 'sk_test_supersecret', fetch, sleep });
    const error = (await merchant.balance.retrieve().catch((caught: unknown) => caught)) as YunpayError;
    expect(error).toBeInstanceOf(YunpayNetworkError);
    expect(error.kind).toBe('network');
    expect(error.status).toBeNull();
    expect(error.message).toBe('GET /v1/balance failed: no response from the server.');
  });
});

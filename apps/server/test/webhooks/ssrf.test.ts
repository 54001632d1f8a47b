import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isForbiddenAddress,
  retryDelayMs,
  signatureHeader,
  systemResolver,
  type HostResolver,
} from '../../src/modules/events/index.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';

describe('webhook address policy (SSRF)', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.1',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '::ffff:10.1.2.3',
    '64:ff9b::a9fe:a9fe',
    '2002:7f00:1::',
    'not-an-address',
  ])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    },
  );

  it('backs off 1 min, 5 min, 30 min, 2 h, 5 h, then every 10 h', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((count) => retryDelayMs(count) / 60_000)).toEqual([
      1, 5, 30, 120, 300, 600, 600, 600,
    ]);
  });

  it('signs as Stripe does', () => {
    const secret = 'whsec_test';
    const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'customer.created', data: { object: {} } });
    const header = signatureHeader({ secret, body, timestampS: Math.floor(Date.now() / 1000) });
    expect(new Stripe('sk_test_x').webhooks.constructEvent(body, header, secret).id).toBe('evt_1');
  });
});

describe('webhook endpoints with private addresses refused', () => {
  let platform: TestPlatform;
  let shop: TestMerchant;
  // rebind.example.test is public when the endpoint is saved, then points at loopback.
  let rebindTarget = '93.184.216.34';
  const resolver: HostResolver = async (hostname) => {
    if (hostname === 'rebind.example.test') return [{ address: rebindTarget, family: 4 }];
    if (hostname === 'mixed.example.test')
      return [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ];
    if (hostname === 'public.example.test') return [{ address: '93.184.216.34', family: 4 }];
    // localhost and the like: the system's resolver (answered from /etc/hosts, no traffic).
    return systemResolver(hostname);
  };

  beforeAll(async () => {
    platform = await startPlatform({ webhookAllowPrivate: false, webhookResolver: resolver });
    shop = await createMerchant(platform.baseUrl, platform.adminToken);
  });
  afterAll(async () => {
    await platform?.close();
  });

  const call = (method: string, path: string, options: Parameters<typeof v1>[3] = {}) =>
    v1(platform.baseUrl, method, path, { key: shop.secretKey, ...options });

  it.each([
    'http://127.0.0.1/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/',
    'http://10.0.0.1',
    'http://localhost:8080/hook',
    'http://[::ffff:127.0.0.1]/',
    'http://[fe80::1]/',
    'http://0.0.0.0/',
    'http://2130706433/',
    'http://mixed.example.test/hook',
    'http://unresolvable.invalid/hook',
    'ftp://public.example.test/hook',
    'http://user:pass@public.example.test/hook',
    'not a url',
  ])('refuses to create an endpoint at %s with 400', async (url) => {
    const response = await call('POST', '/v1/webhook_endpoints', { form: { url, enabled_events: ['*'] } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', code: 'url_invalid', param: 'url' });
  });

  it('refuses a private address on update too', async () => {
    const created = await call('POST', '/v1/webhook_endpoints', {
      form: { url: 'https://public.example.test/hook', enabled_events: ['payment_intent.succeeded'] },
    });
    expect(created.status).toBe(200);
    const updated = await call('POST', `/v1/webhook_endpoints/${created.body.id}`, {
      form: { url: 'http://192.168.0.10/hook' },
    });
    expect(updated.status).toBe(400);
    expect(updated.body.error.code).toBe('url_invalid');
    expect((await call('GET', `/v1/webhook_endpoints/${created.body.id}`)).body.url).toBe(
      'https://public.example.test/hook',
    );
    await call('DELETE', `/v1/webhook_endpoints/${created.body.id}`);
  });

  it('refuses at delivery a host that turned private after the endpoint was saved', async () => {
    rebindTarget = '93.184.216.34';
    const created = await call('POST', '/v1/webhook_endpoints', {
      form: { url: 'http://rebind.example.test/hook', enabled_events: ['customer.created'] },
    });
    expect(created.status).toBe(200);
    rebindTarget = '127.0.0.1';
    expect((await call('POST', '/v1/customers', { form: { name: 'Ann' } })).status).toBe(200);
    const report = await platform.services.webhooks.deliverDue(10);
    expect(report).toMatchObject({ attempts: 1, delivered: 0, retrying: 1 });
    const attempts = await call('GET', `/v1/webhook_endpoints/${created.body.id}/attempts`);
    expect(attempts.body.data).toHaveLength(1);
    expect(attempts.body.data[0]).toMatchObject({ status_code: null, duration_ms: 0 });
    expect(attempts.body.data[0].error).toMatch(/^refused: /);
  });
});

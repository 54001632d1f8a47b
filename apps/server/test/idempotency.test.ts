import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createIdempotencyStore, requestHash } from '../src/platform/idempotency.js';
import { newInstanceId, startInstance } from '../src/platform/instances.js';
import { createMerchant, v1, type TestMerchant } from './support/merchant.js';
import { startPlatform, type TestPlatform } from './support/platform.js';
import { newKey } from './support/wallet.js';

/**
 * Idempotency keys with recovery points: who holds a key in progress (a live process answers 409,
 * a dead one's key is taken over at once, with where it got to), what a released key keeps, ids
 * derived from keys, and stored responses that never keep a secret in clear.
 */
let platform: TestPlatform;
let shop: TestMerchant;

beforeAll(async () => {
  platform = await startPlatform({ webhookAllowPrivate: true });
  shop = await createMerchant(platform.baseUrl, platform.adminToken);
});

afterAll(async () => {
  await platform.close();
});

const hash = requestHash({ amount: 100 });

describe('who holds a key in progress', () => {
  test('a key held by a live process answers idempotency_key_in_use', async () => {
    const holder = startInstance(platform.db, { role: 'api' });
    try {
      const held = createIdempotencyStore(platform.db, { instance: holder });
      const scope = `test:${newKey()}`;
      expect(await held.claim({ scope, key: 'k', requestHash: hash })).toMatchObject({ state: 'claimed' });
      await expect(platform.services.idempotency.claim({ scope, key: 'k', requestHash: hash })).rejects.toMatchObject({
        code: 'idempotency_key_in_use',
      });
    } finally {
      await holder.stop();
    }
  });

  test('a key held by a process that died is taken over at once, with its recovery point and resources', async () => {
    const dead = { id: newInstanceId(), ready: async () => undefined };
    const dying = createIdempotencyStore(platform.db, { instance: dead });
    const scope = `test:${newKey()}`;
    expect(await dying.claim({ scope, key: 'k', requestHash: hash })).toMatchObject({ state: 'claimed' });
    await platform.db.transaction((tx) =>
      dying.recordPoint(tx, { scope, key: 'k' }, 'charge_claimed', { payment_intent: 'pi_1', charge: 'ch_1' }),
    );
    const taken = await platform.services.idempotency.claim({ scope, key: 'k', requestHash: hash });
    expect(taken).toEqual({
      state: 'claimed',
      attempt: {
        call: { scope, key: 'k' },
        resumed: { recoveryPoint: 'charge_claimed', resources: { payment_intent: 'pi_1', charge: 'ch_1' } },
      },
    });
    // Other parameters are still another request.
    await expect(
      platform.services.idempotency.claim({ scope, key: 'k', requestHash: requestHash({ amount: 101 }) }),
    ).rejects.toMatchObject({ code: 'idempotency_key_reused' });
  });

  test('a released key is forgotten before its first phase, and kept for a retry to resume after it', async () => {
    const store = platform.services.idempotency;
    const scope = `test:${newKey()}`;
    await store.claim({ scope, key: 'early', requestHash: hash });
    await store.release({ scope, key: 'early' });
    expect(await store.claim({ scope, key: 'early', requestHash: hash })).toMatchObject({
      state: 'claimed',
      attempt: { resumed: null },
    });
    await store.claim({ scope, key: 'late', requestHash: hash });
    await platform.db.transaction((tx) =>
      store.recordPoint(tx, { scope, key: 'late' }, 'refund_claimed', { refund: 're_1' }),
    );
    await store.release({ scope, key: 'late' });
    expect(await store.claim({ scope, key: 'late', requestHash: hash })).toMatchObject({
      state: 'claimed',
      attempt: { resumed: { recoveryPoint: 'refund_claimed', resources: { refund: 're_1' } } },
    });
  });
});

describe('ids derived from keys', () => {
  test('the same key gives the same id; another key, scope or name another one', async () => {
    const store = platform.services.idempotency;
    const call = { scope: 'v1:acct_a:live', key: 'order-1' };
    const id = await store.derivedId(call, 'pi', 'payment_intent');
    expect(id).toMatch(/^pi_[0-9A-Za-z]{22}$/);
    expect(await store.derivedId(call, 'pi', 'payment_intent')).toBe(id);
    const others = await Promise.all([
      store.derivedId({ ...call, key: 'order-2' }, 'pi', 'payment_intent'),
      store.derivedId({ ...call, scope: 'v1:acct_b:live' }, 'pi', 'payment_intent'),
      store.derivedId(call, 'pi', 'other'),
    ]);
    expect(new Set([id, ...others]).size).toBe(4);
  });
});

describe('stored responses', () => {
  test('a webhook signing secret is not stored in clear, and the replay still reveals it', async () => {
    const key = newKey();
    const form = { url: 'https://127.0.0.1:9/hooks', 'enabled_events[]': 'payment_intent.succeeded' };
    const created = await v1(platform.baseUrl, 'POST', '/v1/webhook_endpoints', {
      key: shop.secretKey,
      form,
      idempotencyKey: key,
    });
    expect(created.status).toBe(200);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_/);
    const rows = await platform.db.query<Record<string, unknown>>('select * from idempotency_keys where key = $1', [
      key,
    ]);
    expect(rows).toHaveLength(1);
    const stored = JSON.stringify(rows[0]);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain('whsec_');
    expect(rows[0]!.response_body).toBeNull();
    expect(rows[0]!.response_sealed).toMatch(/^v1:/);
    const replayed = await v1(platform.baseUrl, 'POST', '/v1/webhook_endpoints', {
      key: shop.secretKey,
      form,
      idempotencyKey: key,
    });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body.secret).toBe(secret);
  });

  test('responses stored in clear by an older version are resealed by housekeeping', async () => {
    const store = platform.services.idempotency;
    const scope = `test:${newKey()}`;
    await store.claim({ scope, key: 'legacy', requestHash: hash });
    await platform.db.query(
      `update idempotency_keys set state = 'completed', response_status = 200,
         response_body = '{"secret":"sk_live_legacy"}'::jsonb where scope = $1`,
      [scope],
    );
    expect(await store.resealLegacy()).toBeGreaterThanOrEqual(1);
    const rows = await platform.db.query<Record<string, unknown>>('select * from idempotency_keys where scope = $1', [
      scope,
    ]);
    expect(JSON.stringify(rows[0])).not.toContain('sk_live_legacy');
    expect(await store.claim({ scope, key: 'legacy', requestHash: hash })).toEqual({
      state: 'replay',
      response: { status: 200, body: { secret: 'sk_live_legacy' } },
    });
  });
});

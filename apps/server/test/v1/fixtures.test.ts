import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { stripeFixtures } from '../support/stripe-fixtures.js';

/**
 * Every object /v1 returns carries the fields of Stripe's own example object for that resource
 * (test/fixtures/stripe, copied from Stripe's OpenAPI repository with its licence). Fields we do not support yet
 * are present as null and listed in docs/stripe-compatibility.md.
 */
const fixtures = stripeFixtures;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Keys of the fixture missing from ours, recursively where both sides hold an object. */
function missingKeys(fixture: Record<string, unknown>, ours: Record<string, unknown>, prefix = ''): string[] {
  const missing: string[] = [];
  for (const [key, value] of Object.entries(fixture)) {
    if (!Object.hasOwn(ours, key)) {
      missing.push(`${prefix}${key}`);
      continue;
    }
    const mine = ours[key];
    // Open-ended maps (metadata, data.object of another type) are not field lists.
    if (key === 'metadata' || key === 'data') continue;
    if (isObject(value) && isObject(mine)) missing.push(...missingKeys(value, mine, `${prefix}${key}.`));
  }
  return missing;
}

describe('Stripe fixture compatibility', () => {
  let platform: TestPlatform;
  let shop: TestMerchant;

  beforeAll(async () => {
    platform = await startPlatform();
    shop = await createMerchant(platform.baseUrl, platform.adminToken);
  });
  afterAll(async () => {
    await platform.close();
  });

  it('customer objects carry every field of Stripe customer', async () => {
    const created = await v1(platform.baseUrl, 'POST', '/v1/customers', {
      key: shop.secretKey,
      form: { name: 'Gus', address: { city: 'Lyon' }, shipping: { name: 'Gus', address: { line1: '2 Rue' } } },
    });
    const fixture = fixtures.resources.customer;
    expect(fixture).toBeDefined();
    expect(missingKeys(fixture ?? {}, created.body)).toEqual([]);
    expect(Object.keys(created.body).sort()).toEqual(Object.keys(fixture ?? {}).sort());
    const deleted = await v1(platform.baseUrl, 'DELETE', `/v1/customers/${created.body.id}`, { key: shop.secretKey });
    expect(Object.keys(deleted.body).sort()).toEqual(Object.keys(fixtures.resources.deleted_customer ?? {}).sort());
  });

  it('event objects and lists carry every field of Stripe event and list', async () => {
    const list = await v1(platform.baseUrl, 'GET', '/v1/events', { key: shop.secretKey });
    const event = list.body.data[0] as Record<string, unknown>;
    const fixture = fixtures.resources.event ?? {};
    expect(missingKeys(fixture, event)).toEqual([]);
    expect(Object.keys(event).sort()).toEqual(Object.keys(fixture).sort());
    // Stripe's list envelope (the fixture's account.external_accounts is one).
    const listFixture = (fixtures.resources.account?.external_accounts ?? {}) as Record<string, unknown>;
    expect(Object.keys(list.body).sort()).toEqual(Object.keys(listFixture).sort());
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCardPlatform, type CardTestPlatform } from '../support/cards.js';
import { api, available, newKey, signUp, testPin, topUp } from '../support/wallet.js';

/**
 * Money coming into a wallet: a refused top-up leaves nothing behind, and the balance cap of the
 * verification tier holds under concurrency (it is a condition of the ledger transfer, checked
 * under the ledger's lock, not a read before the money moves).
 */
let cards: CardTestPlatform;
let url: string;

beforeAll(async () => {
  cards = await startCardPlatform();
  url = cards.platform.baseUrl;
});

afterAll(async () => {
  await cards?.close();
});

async function history(token: string) {
  const listed = await api(url, 'GET', '/wallet/v1/transactions', { token });
  expect(listed.status).toBe(200);
  return listed.body.data as { type: string; status: string }[];
}

describe('a refused top-up', () => {
  test("someone else's saved card, or an unknown one, answers 404 and leaves no row in the history", async () => {
    const owner = await signUp(url, 'Card Owner');
    const saved = await api(url, 'POST', '/wallet/v1/cards', {
      token: owner.accessToken,
      body: { number: '4000056655665556', exp_month: 11, exp_year: 2030, cvc: '424' },
    });
    expect(saved.status).toBe(201);
    const other = await signUp(url, 'Other');
    for (const source of [saved.body.id as string, 'wc_0000000000000000000000']) {
      const refused = await api(url, 'POST', '/wallet/v1/topups', {
        token: other.accessToken,
        idempotencyKey: newKey(),
        body: { amount: 1_000, currency: 'CNY', source },
      });
      expect({ source, status: refused.status }).toEqual({ source, status: 404 });
    }
    expect(await history(other.accessToken)).toEqual([]);
    const unknownTest = await api(url, 'POST', '/wallet/v1/topups', {
      token: other.accessToken,
      idempotencyKey: newKey(),
      body: { amount: 1_000, currency: 'CNY', source: 'tok_unknown' },
    });
    expect(unknownTest.status).toBe(400);
    expect(await history(other.accessToken)).toEqual([]);
    expect(await available(url, other)).toBe(0);
  });
});

describe('the balance cap under concurrency', () => {
  // Tier 0 in CNY: a balance cap of 10,000.00 (1,000,000 minor units).
  const cap = 1_000_000;

  test('racing top-ups never take a wallet over its cap together', async () => {
    const user = await signUp(url, 'Racer');
    await topUp(url, user, cap - 50_000);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () =>
        api(url, 'POST', '/wallet/v1/topups', {
          token: user.accessToken,
          idempotencyKey: newKey(),
          body: { amount: 20_000, currency: 'CNY', source: 'tok_visa' },
        }),
      ),
    );
    const succeeded = answers.filter((answer) => answer.status === 201).length;
    expect(succeeded).toBe(2);
    expect(answers.every((answer) => answer.status === 201 || answer.body.error.code === 'limit_exceeded')).toBe(true);
    expect(await available(url, user)).toBe(cap - 10_000);
  });

  test('racing transfers from many senders never take the recipient over its cap', async () => {
    const recipient = await signUp(url, 'Popular');
    await topUp(url, recipient, cap - 30_000);
    const senders = await Promise.all(
      Array.from({ length: 24 }, async () => {
        const sender = await signUp(url, 'Sender');
        await topUp(url, sender, 50_000);
        return sender;
      }),
    );
    const answers = await Promise.all(
      senders.map((sender) =>
        api(url, 'POST', '/wallet/v1/transfers', {
          token: sender.accessToken,
          idempotencyKey: newKey(),
          body: { to: recipient.phone, amount: 10_000, currency: 'CNY', pin: testPin },
        }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(3);
    expect(answers.every((answer) => answer.status === 201 || answer.body.error.code === 'limit_exceeded')).toBe(true);
    expect(await available(url, recipient)).toBe(cap);
    // The refused senders kept their money and their limits.
    const kept = await Promise.all(senders.map((sender) => available(url, sender)));
    expect(kept.filter((balance) => balance === 50_000)).toHaveLength(21);
  });

  test('a card top-up reserves its credit first: over the cap, the card is never charged', async () => {
    const user = await signUp(url, 'Careful');
    await topUp(url, user, cap - 1_000);
    const saved = await api(url, 'POST', '/wallet/v1/cards', {
      token: user.accessToken,
      body: { number: '4000056655665556', exp_month: 11, exp_year: 2030, cvc: '424' },
    });
    const before = cards.simulator.balanceOf('4000056655665556', 'CNY');
    const over = await api(url, 'POST', '/wallet/v1/topups', {
      token: user.accessToken,
      idempotencyKey: newKey(),
      body: { amount: 2_000, currency: 'CNY', source: saved.body.id },
    });
    expect(over.status).toBe(402);
    expect(over.body.error.code).toBe('limit_exceeded');
    expect(cards.simulator.balanceOf('4000056655665556', 'CNY')).toBe(before);
    expect(await available(url, user)).toBe(cap - 1_000);
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { maskEmail, maskName } from '../../src/modules/wallets/recipients.js';
import { walletLimits } from '../../src/modules/wallets/index.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import {
  api,
  available,
  newKey,
  randomPhone,
  signUp,
  testPassword,
  testPin,
  topUp,
  type TestUser,
} from '../support/wallet.js';

/**
 * Recent recipients and the confirm step's look-up (issue 14): the list is drawn from the user's
 * own succeeded transfers (distinct, newest first, bounded); the look-up answers a masked name and
 * phone, a stable error for a miss, and a rate limit; neither ever answers another person's full
 * phone number or user id.
 */
let platform: TestPlatform;
let url: string;

beforeAll(async () => {
  platform = await startPlatform();
  url = platform.baseUrl;
});

afterAll(async () => {
  await platform.close();
});

/** Someone to send to: signed up, never signed in (one password hash, no session). */
async function person(name: string): Promise<{ id: string; phone: string; name: string }> {
  const phone = randomPhone();
  const created = await api(url, 'POST', '/wallet/v1/users', { body: { phone, password: testPassword, name } });
  expect(created.status).toBe(201);
  return { id: created.body.id as string, phone, name };
}

async function send(from: TestUser, to: string, amount: number) {
  return api(url, 'POST', '/wallet/v1/transfers', {
    token: from.accessToken,
    idempotencyKey: newKey(),
    body: { to, amount, currency: 'CNY', pin: testPin },
  });
}

async function recent(user: TestUser) {
  const result = await api(url, 'GET', '/wallet/v1/recipients/recent', { token: user.accessToken });
  expect(result.status).toBe(200);
  return result;
}

function lookup(user: TestUser, to: string) {
  return api(url, 'POST', '/wallet/v1/recipients/lookup', { token: user.accessToken, body: { to } });
}

/** +86 138****0001, from +8613800000001. */
function masked(phone: string): string {
  const national = phone.slice(3);
  return `+86 ${national.slice(0, 3)}****${national.slice(-4)}`;
}

describe('masking', () => {
  test.each([
    ['李明', '*明'],
    ['王小明', '*小明'],
    ['欧阳娜娜', '*阳娜娜'],
    ['Alice Wong', 'A*'],
    ['Bo', 'B*'],
    ['Z', '*'],
    ['明', '*'],
    ['  Émile  ', 'É*'],
    ['😀 Smile', '😀*'],
  ])('%s is shown as %s', (name, shown) => {
    expect(maskName(name)).toBe(shown);
  });

  test('an email keeps its first character and its domain', () => {
    expect(maskEmail('alice@example.com')).toBe('a***@example.com');
  });
});

describe('GET /wallet/v1/recipients/recent', () => {
  test('a new wallet has none', async () => {
    const alice = await signUp(url, 'Alice');
    expect((await recent(alice)).body).toEqual({ object: 'list', data: [], has_more: false });
  });

  test('distinct people I sent to, newest first, from my own succeeded transfers only', async () => {
    const alice = await signUp(url, 'Alice');
    const eve = await signUp(url, 'Eve');
    const [bob, carol, dan, frank] = await Promise.all([
      person('李明'),
      person('Carol'),
      person('Dan'),
      person('Frank'),
    ]);
    await Promise.all([topUp(url, alice, 10_000), topUp(url, eve, 10_000)]);
    expect((await send(alice, bob.phone, 100)).status).toBe(201);
    expect((await send(alice, carol.phone, 200)).status).toBe(201);
    expect((await send(alice, bob.phone.slice(3), 300)).status).toBe(201);
    // A transfer that failed is not someone I sent money to.
    const failed = await send(alice, dan.phone, 9_500);
    expect(failed.body.error.code).toBe('insufficient_funds');
    // Money I received, and another person's transfers, are not mine.
    expect((await send(eve, alice.phone, 100)).status).toBe(201);
    expect((await send(eve, frank.phone, 100)).status).toBe(201);

    const list = await recent(alice);
    expect(list.body.object).toBe('list');
    expect(list.body.has_more).toBe(false);
    const data = list.body.data as { id: string; name: string; phone: string; last_sent: number }[];
    expect(data.map((row) => row.name)).toEqual(['李明', 'Carol']);
    expect(data[0]).toEqual({
      id: expect.stringMatching(/^rcp_[0-9a-f]{32}$/),
      object: 'recent_recipient',
      name: '李明',
      phone: masked(bob.phone),
      last_sent: expect.any(Number),
    });
    expect(data[0]!.last_sent).toBeGreaterThanOrEqual(data[1]!.last_sent);
    expect(Math.abs(data[0]!.last_sent - Date.now() / 1000)).toBeLessThan(120);
    // Neither full phone numbers nor user ids.
    for (const other of [bob, carol]) {
      expect(list.text).not.toContain(other.phone.slice(3));
      expect(list.text).not.toContain(other.id);
    }
    expect((await recent(eve)).body.data.map((row: { name: string }) => row.name)).toEqual(['Frank', 'Alice']);
  });

  test(`at most ${walletLimits.recentRecipientsMax} people: the oldest drop off`, async () => {
    const alice = await signUp(url, 'Alice');
    await topUp(url, alice, 100_000);
    const count = walletLimits.recentRecipientsMax + 2;
    const people = await Promise.all(Array.from({ length: count }, (_, index) => person(`P${index}`)));
    for (const someone of people) expect((await send(alice, someone.phone, 10)).status).toBe(201);
    // Sending to the first one again brings them back to the top.
    expect((await send(alice, people[0]!.phone, 10)).status).toBe(201);
    const names = (await recent(alice)).body.data.map((row: { name: string }) => row.name);
    expect(names).toHaveLength(walletLimits.recentRecipientsMax);
    expect(names[0]).toBe('P0');
    expect(names[1]).toBe(`P${count - 1}`);
    expect(names).not.toContain('P1');
    expect(names).not.toContain('P2');
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('POST /wallet/v1/recipients/lookup', () => {
  test('a local number, the same number written internationally, and a recent id: masked name and phone', async () => {
    const alice = await signUp(url, 'Alice');
    const bob = await person('李明');
    const national = bob.phone.slice(3);
    const answers = [];
    for (const to of [national, `+86 ${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`]) {
      const found = await lookup(alice, to);
      expect(found.status).toBe(200);
      expect(found.body).toEqual({ object: 'recipient_preview', name: '*明', phone: masked(bob.phone), email: null });
      expect(found.text).not.toContain(national);
      expect(found.text).not.toContain(bob.id);
      answers.push(found.body);
    }

    await topUp(url, alice, 1_000);
    expect((await send(alice, national, 100)).status).toBe(201);
    const [row] = (await recent(alice)).body.data as { id: string }[];
    const byId = await lookup(alice, row!.id);
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual(answers[0]);
  });

  test('a Latin name keeps its first letter; an email-only wallet shows a masked email', async () => {
    const alice = await signUp(url, 'Alice');
    const wong = await person('Alice Wong');
    expect((await lookup(alice, wong.phone)).body).toMatchObject({ name: 'A*', phone: masked(wong.phone) });
    const email = `zoe.${newKey()}@example.com`;
    const created = await api(url, 'POST', '/wallet/v1/users', {
      body: { email, password: testPassword, name: 'Zoe' },
    });
    expect(created.status).toBe(201);
    const found = await lookup(alice, email);
    expect(found.status).toBe(200);
    expect(found.body).toEqual({ object: 'recipient_preview', name: 'Z*', phone: null, email: 'z***@example.com' });
  });

  test('misses: unknown number, not a number, a user id, someone else’s recent id, myself', async () => {
    const alice = await signUp(url, 'Alice');
    const eve = await signUp(url, 'Eve');
    const bob = await person('Bob');
    const unknown = await lookup(alice, randomPhone().slice(3));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'recipient_not_found', param: 'to' });

    const invalid = await lookup(alice, '1380000000');
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({ code: 'phone_invalid', param: 'to' });

    // User ids are not looked up: they would turn the look-up into a way to map ids to people.
    const byUserId = await lookup(alice, bob.id);
    expect(byUserId.status).toBe(404);
    expect(byUserId.body.error.code).toBe('recipient_not_found');

    // Eve's recent id for Bob means nothing to Alice: not for a look-up, not for a transfer.
    await topUp(url, eve, 1_000);
    await topUp(url, alice, 1_000);
    expect((await send(eve, bob.phone, 100)).status).toBe(201);
    const [evesBob] = (await recent(eve)).body.data as { id: string }[];
    const foreign = await lookup(alice, evesBob!.id);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('recipient_not_found');
    const foreignSend = await send(alice, evesBob!.id, 100);
    expect(foreignSend.status).toBe(404);
    expect(foreignSend.body.error.code).toBe('recipient_not_found');
    expect(await available(url, alice)).toBe(1_000);

    const self = await lookup(alice, alice.phone);
    expect(self.status).toBe(400);
    expect(self.body.error.code).toBe('recipient_is_sender');

    const empty = await lookup(alice, '');
    expect(empty.status).toBe(400);
  });

  test(`${walletLimits.recipientLookupsPerUserMax} look-ups per minute per person, then rate_limited`, async () => {
    const alice = await signUp(url, 'Alice');
    const eve = await signUp(url, 'Eve');
    for (let index = 0; index < walletLimits.recipientLookupsPerUserMax; index += 1) {
      const answer = await lookup(alice, randomPhone());
      expect(answer.status).toBe(404);
    }
    const limited = await lookup(alice, eve.phone);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.text).not.toContain('Eve');
    // Others are not held back by Alice's tries.
    expect((await lookup(eve, alice.phone)).status).toBe(200);
  });
});

describe('sending to a recent recipient', () => {
  test('the rcp_ id from my list is a transfer destination; the money arrives once', async () => {
    const alice = await signUp(url, 'Alice');
    const bob = await signUp(url, 'Bob');
    await topUp(url, alice, 10_000);
    expect((await send(alice, bob.phone, 500)).status).toBe(201);
    const [row] = (await recent(alice)).body.data as { id: string }[];
    const key = newKey();
    const body = { to: row!.id, amount: 700, currency: 'CNY', pin: testPin };
    const sent = await api(url, 'POST', '/wallet/v1/transfers', {
      token: alice.accessToken,
      idempotencyKey: key,
      body,
    });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ type: 'p2p_sent', status: 'succeeded', amount: 700 });
    expect(sent.body.counterparty.name).toBe('Bob');
    const again = await api(url, 'POST', '/wallet/v1/transfers', {
      token: alice.accessToken,
      idempotencyKey: key,
      body,
    });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await available(url, bob)).toBe(1_200);
    expect(await available(url, alice)).toBe(10_000 - 1_200);
  });
});

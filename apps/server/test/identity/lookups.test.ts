import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/platform/errors.js';
import { password, randomEmail, randomPhone, startIdentityHarness, type IdentityHarness } from './helpers.js';

describe('identity lookups for other contexts', () => {
  let harness: IdentityHarness;
  const created: { id: string; phone: string; email: string }[] = [];

  beforeAll(async () => {
    harness = await startIdentityHarness();
    for (let index = 0; index < 5; index += 1) {
      const phone = randomPhone();
      const email = randomEmail();
      const user = await harness.identity.signUp({ phone, email, password, name: `User ${index}`, clientKey: 'test' });
      created.push({ id: user.id, phone, email });
    }
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('finds a user by phone (as typed), email (any case) or id, and null otherwise', async () => {
    const target = created[2]!;
    const spacedPhone = `${target.phone.slice(0, 3)} ${target.phone.slice(3)}`;
    for (const login of [target.phone, spacedPhone, target.email.toUpperCase(), target.id]) {
      expect((await harness.identity.findUserByLogin(login))?.id, login).toBe(target.id);
    }
    for (const login of [randomPhone(), randomEmail(), 'usr_00000000000000000000000000000000', 'nonsense', '']) {
      expect(await harness.identity.findUserByLogin(login), login).toBeNull();
    }
    expect((await harness.identity.getUser(target.id))?.email).toBe(target.email.toLowerCase());
    expect(await harness.identity.getUser('usr_nope')).toBeNull();
  });

  it('lists users newest first with a cursor', async () => {
    const first = await harness.identity.listUsers({ limit: 2 });
    expect(first.data.map((user) => user.id)).toEqual([created[4]!.id, created[3]!.id]);
    expect(first.hasMore).toBe(true);
    const second = await harness.identity.listUsers({ limit: 2, startingAfter: created[3]!.id });
    expect(second.data.map((user) => user.id)).toEqual([created[2]!.id, created[1]!.id]);
    const last = await harness.identity.listUsers({ limit: 2, startingAfter: created[1]!.id });
    expect(last.data.map((user) => user.id)).toEqual([created[0]!.id]);
    expect(last.hasMore).toBe(false);
    const unknown = await harness.identity
      .listUsers({ limit: 2, startingAfter: 'usr_missing' })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(AppError);
    expect((unknown as AppError).param).toBe('starting_after');
    // No user object carries a secret.
    expect(JSON.stringify(first)).not.toContain('argon2');
  });
});

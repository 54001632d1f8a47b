import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commonPasswordCount } from '../../src/modules/identity/policy.js';
import { matching, password, randomEmail, randomPhone, startIdentityHarness, type IdentityHarness } from './helpers.js';

describe('POST /wallet/v1/users (sign-up)', () => {
  let harness: IdentityHarness;

  beforeAll(async () => {
    harness = await startIdentityHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('creates a user by phone and by email, normalised, with a usr_ id and unix-second time', async () => {
    const phone = randomPhone();
    const spaced = `${phone.slice(0, 3)} ${phone.slice(3, 7)}-${phone.slice(7)}`;
    const byPhone = await harness.api('POST', '/wallet/v1/users', {
      body: { phone: spaced, password, name: '  Grace Hopper ' },
    });
    expect(byPhone.status).toBe(201);
    expect(byPhone.body).toEqual({
      id: matching(/^usr_[0-9a-f]{32}$/),
      object: 'user',
      phone,
      email: null,
      name: 'Grace Hopper',
      created_at: Math.floor(harness.clock.nowMs / 1000),
    });

    const email = randomEmail();
    const byEmail = await harness.api('POST', '/wallet/v1/users', { body: { email, password, name: 'Alan' } });
    expect(byEmail.status).toBe(201);
    expect(byEmail.body.email).toBe(email.toLowerCase());
    expect(byEmail.body.phone).toBeNull();

    const both = await harness.api('POST', '/wallet/v1/users', {
      body: { email: randomEmail(), phone: randomPhone(), password, name: 'Both' },
    });
    expect(both.status).toBe(201);
    expect(both.body.phone).not.toBeNull();
    expect(both.body.email).not.toBeNull();
  });

  it('ships a common-password list of a few hundred entries', () => {
    expect(commonPasswordCount()).toBeGreaterThanOrEqual(300);
  });

  const cases: { name: string; body: Record<string, unknown>; code: string; param: string }[] = [
    { name: 'short password', body: { password: 'short pass' }, code: 'password_too_weak', param: 'password' },
    { name: 'common password', body: { password: 'password1234' }, code: 'password_too_weak', param: 'password' },
    {
      name: 'common password, other case',
      body: { password: 'QwertyUiop123' },
      code: 'password_too_weak',
      param: 'password',
    },
    {
      name: 'repetitive password',
      body: { password: 'abababababababab' },
      code: 'password_too_weak',
      param: 'password',
    },
    {
      name: 'password over 128 characters',
      body: { password: 'x1y2z3'.repeat(22) },
      code: 'password_too_weak',
      param: 'password',
    },
    { name: 'password absurdly long', body: { password: 'a'.repeat(300) }, code: 'invalid_request', param: 'password' },
    {
      name: 'password equal to name',
      body: { name: 'Ada Augusta King', password: 'ada augusta king' },
      code: 'password_too_weak',
      param: 'password',
    },
    { name: 'phone without +', body: { phone: '447911123456' }, code: 'invalid_request', param: 'phone' },
    { name: 'phone too short', body: { phone: '+4479111' }, code: 'invalid_request', param: 'phone' },
    { name: 'phone too long', body: { phone: '+4479111234567890' }, code: 'invalid_request', param: 'phone' },
    { name: 'phone with letters', body: { phone: '+44791112345a' }, code: 'invalid_request', param: 'phone' },
    {
      name: 'phone over-long string',
      body: { phone: '+44' + '1'.repeat(40) },
      code: 'invalid_request',
      param: 'phone',
    },
    { name: 'bad email', body: { phone: undefined, email: 'not-an-email' }, code: 'invalid_request', param: 'email' },
    {
      name: 'email with space',
      body: { phone: undefined, email: 'a b@example.com' },
      code: 'invalid_request',
      param: 'email',
    },
    {
      name: 'email over-long',
      body: { phone: undefined, email: `${'a'.repeat(250)}@example.com` },
      code: 'invalid_request',
      param: 'email',
    },
    { name: 'neither phone nor email', body: { phone: undefined }, code: 'invalid_request', param: 'phone' },
    { name: 'missing password', body: { password: undefined }, code: 'invalid_request', param: 'password' },
    { name: 'missing name', body: { name: undefined }, code: 'invalid_request', param: 'name' },
    { name: 'blank name', body: { name: '   ' }, code: 'invalid_request', param: 'name' },
    { name: 'name over-long', body: { name: 'n'.repeat(101) }, code: 'invalid_request', param: 'name' },
    { name: 'name with control character', body: { name: 'Eve\u0007' }, code: 'invalid_request', param: 'name' },
    { name: 'name with NUL', body: { name: 'Eve\u0000' }, code: 'parameter_invalid_characters', param: 'name' },
    { name: 'extra field', body: { is_admin: true }, code: 'invalid_request', param: 'is_admin' },
    { name: 'wrong type', body: { name: 42 }, code: 'invalid_request', param: 'name' },
  ];

  for (const testCase of cases) {
    it(`refuses ${testCase.name} with 400 ${testCase.code} param ${testCase.param}`, async () => {
      const body = { phone: randomPhone(), password, name: 'Valid Name', ...testCase.body };
      const response = await harness.api('POST', '/wallet/v1/users', { body });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe(testCase.code);
      expect(response.body.error.param).toBe(testCase.param);
    });
  }

  it('refuses a password equal to the phone number or email', async () => {
    const phone = randomPhone();
    const samePhone = await harness.api('POST', '/wallet/v1/users', {
      body: { phone, password: phone, name: 'Phone Person' },
    });
    expect(samePhone.status).toBe(400);
    expect(samePhone.body.error.code).toBe('password_too_weak');
    const email = randomEmail();
    const sameEmail = await harness.api('POST', '/wallet/v1/users', {
      body: { email, password: email.toUpperCase(), name: 'Mail Person' },
    });
    expect(sameEmail.status).toBe(400);
    expect(sameEmail.body.error.code).toBe('password_too_weak');
  });

  it('answers 409 login_taken for a phone or email already used (email in any case)', async () => {
    const phone = randomPhone();
    const email = randomEmail();
    expect(
      (await harness.api('POST', '/wallet/v1/users', { body: { phone, email, password, name: 'First' } })).status,
    ).toBe(201);
    const samePhone = await harness.api('POST', '/wallet/v1/users', { body: { phone, password, name: 'Second' } });
    expect(samePhone.status).toBe(409);
    expect(samePhone.body.error.code).toBe('login_taken');
    const sameEmail = await harness.api('POST', '/wallet/v1/users', {
      body: { email: email.toUpperCase(), password, name: 'Third' },
    });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.body.error.code).toBe('login_taken');
  });

  it('lets exactly one of several concurrent sign-ups of the same phone win', async () => {
    const phone = randomPhone();
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        harness.api('POST', '/wallet/v1/users', { body: { phone, password, name: `Racer ${index}` } }),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
    const rows = await harness.testDb.db.query('select id from identity_users where phone = $1', [phone]);
    expect(rows).toHaveLength(1);
  });

  it('stores the password only as an argon2id hash with the agreed cost', async () => {
    const phone = randomPhone();
    const created = await harness.api('POST', '/wallet/v1/users', { body: { phone, password, name: 'Hash Check' } });
    const rows = await harness.testDb.db.query<{ password_hash: string }>(
      'select password_hash from identity_credentials where user_id = $1',
      [created.body.id],
    );
    expect(rows[0]?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(rows[0]?.password_hash).not.toContain(password);
  });
});

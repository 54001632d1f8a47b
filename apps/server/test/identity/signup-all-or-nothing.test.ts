import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskPhone, normalizePhone } from '../../src/modules/identity/policy.js';
import { password, randomDevice, startIdentityHarness, type IdentityHarness } from './helpers.js';

/** A Chinese mobile number as typed at home (no +86). */
function localPhone(): string {
  return `139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
}

describe('sign-up is all or nothing; phone numbers in the operator region (issue 14)', () => {
  let harness: IdentityHarness;

  beforeAll(async () => {
    harness = await startIdentityHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('lists every invalid field at once, in form order, with stable codes', async () => {
    const response = await harness.api('POST', '/wallet/v1/users', {
      body: { name: '   ', phone: '1390000', password: 'short', pin: '123456' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid_request', param: 'name' });
    expect((response.body.error.details as { fields: { param: string; code: string }[] }).fields).toEqual([
      { param: 'name', code: 'name_invalid', message: expect.any(String) },
      { param: 'phone', code: 'phone_invalid', message: 'This is not a valid phone number.' },
      { param: 'password', code: 'password_too_weak', message: expect.any(String) },
      { param: 'pin', code: 'pin_too_weak', message: expect.any(String) },
    ]);
    const malformedPin = await harness.api('POST', '/wallet/v1/users', {
      body: { name: 'Pat', phone: localPhone(), password, pin: '12ab' },
    });
    expect(malformedPin.body.error).toMatchObject({ code: 'invalid_request', param: 'pin' });
    expect(malformedPin.body.error.details?.fields).toEqual([
      { param: 'pin', code: 'pin_format', message: 'The PIN must be exactly 6 digits.' },
    ]);
  });

  it('creates no user, password or session when only the PIN is wrong; then all of them with a good PIN', async () => {
    const phone = localPhone();
    const weak = await harness.api('POST', '/wallet/v1/users', {
      body: { name: 'Quinn', phone, password, pin: '111111' },
    });
    expect(weak.body.error).toMatchObject({ code: 'invalid_request', param: 'pin' });
    const rows = await harness.testDb.db.query<{ count: string }>(
      'select count(*)::text as count from identity_users where phone = $1',
      [`+86${phone}`],
    );
    expect(rows[0]?.count).toBe('0');
    const signIn = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: phone, password, device: randomDevice() },
    });
    expect(signIn.body.error.code).toBe('invalid_credentials');

    const created = await harness.api('POST', '/wallet/v1/users', {
      body: { name: 'Quinn', phone, password, pin: '470815' },
    });
    expect(created.status).toBe(201);
    expect(created.body.phone).toBe(`+86${phone}`);
    const session = await harness.api('POST', '/wallet/v1/sessions', {
      body: {
        login: `+86 ${phone.slice(0, 3)} ${phone.slice(3, 7)} ${phone.slice(7)}`,
        password,
        device: randomDevice(),
      },
    });
    expect(session.status).toBe(200);
    const me = await harness.api('GET', '/wallet/v1/me', { token: session.body.access_token });
    expect(me.body).toMatchObject({ phone: `+86${phone}`, pin_set: true });
    const again = await harness.api('POST', '/wallet/v1/users', {
      body: { name: 'Quinn', phone: `0086${phone}`, password, pin: '470815' },
    });
    expect(again.body.error.code).toBe('login_taken');
  });

  it('answers phone_invalid to a sign-in with a number that cannot be one', async () => {
    const response = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: '1390000000', password, device: randomDevice() },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'phone_invalid', param: 'login' });
    const unknown = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: 'nobody', password, device: randomDevice() },
    });
    expect(unknown.body.error.code).toBe('invalid_credentials');
  });

  it('normalises national and international numbers to E.164 and masks them for others', () => {
    const table: [string, string | null][] = [
      ['13800000001', '+8613800000001'],
      ['+86 138 0000 0001', '+8613800000001'],
      ['(+86) 138-0000-0001', '+8613800000001'],
      ['008613800000001', '+8613800000001'],
      ['+44 7911 123456', '+447911123456'],
      ['1380000000', null],
      ['+4479111234567890', null],
      ['138OOOOOOO1', null],
      ['', null],
    ];
    for (const [input, expected] of table) expect(normalizePhone(input, 'CN'), input).toBe(expected);
    expect(normalizePhone('07911 123456', 'GB')).toBe('+447911123456');
    expect(maskPhone('+8613800000001')).toBe('+86 138****0001');
  });
});

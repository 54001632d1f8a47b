import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { expect } from 'vitest';
import { randomBytes, randomInt } from 'node:crypto';
import type { SqlExecutor } from '../../src/platform/db.js';
import type { Migration } from '../../src/platform/migrations.js';
import type { NotificationInput, NotificationWriter } from '../../src/modules/events/index.js';
import {
  createIdentity,
  identityMigrations,
  identityRoutes,
  wellKnownRoutes,
  type Identity,
  type IdentityRateLimits,
} from '../../src/modules/identity/index.js';
import { buildTestApp, listenOnFreePort, type TestApp } from '../support/app.js';
import { openTestDb, type TestDb } from '../support/db.js';

export const password = 'violet tractor umbrella 93';
export const generousRateLimits: IdentityRateLimits = {
  signUpsPerIp: { requestsMax: 100_000, windowMs: 60_000 },
  signInsPerIp: { requestsMax: 100_000, windowMs: 60_000 },
  signInsPerLogin: { requestsMax: 100_000, windowMs: 60_000 },
  pinAttemptsPerUser: { requestsMax: 100_000, windowMs: 60_000 },
  refreshesPerIp: { requestsMax: 100_000, windowMs: 60_000 },
};

// The events context owns real notifications; here a table that lives and dies with the caller's transaction.
const testNotificationsMigration: Migration = {
  id: '0999_test_notifications',
  sql: `create table test_notifications (
          seq bigint generated always as identity primary key,
          user_id text not null,
          type text not null,
          data jsonb not null
        )`,
};

class TableNotificationWriter implements NotificationWriter {
  async write(tx: SqlExecutor, notification: NotificationInput): Promise<void> {
    await tx.query('insert into test_notifications (user_id, type, data) values ($1, $2, $3::text::jsonb)', [
      notification.userId,
      notification.type,
      JSON.stringify(notification.data),
    ]);
  }
}

/** A clock tests can move: every identity time (lockouts, token expiry, rate windows) reads it. */
export class TestClock {
  nowMs = Date.now();
  readonly now = (): number => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

/**
 * What tests read from a JSON body, typed as if every field were present: an absent field reads as
 * undefined and fails the assertion that looks at it. Non-JSON bodies arrive as text (see text).
 */
export interface ResponseBody {
  error: { code: string; message: string; param?: string; details?: Record<string, unknown>; request_id: string };
  id: string;
  object: string;
  phone: string | null;
  email: string | null;
  name: string;
  created_at: number;
  pin_set: boolean;
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  data: { id: string; name: string; current: boolean }[];
  keys: { kty: 'OKP'; crv: string; x: string; kid: string; alg: string; use: string }[];
}

export interface Response {
  status: number;
  body: ResponseBody;
  headers: Headers;
  text: string;
}

export interface IdentityHarness {
  testDb: TestDb;
  subject: TestApp;
  identity: Identity;
  clock: TestClock;
  baseUrl: string;
  /** Every response body text this harness saw, for the no-secrets checks. */
  responseTexts: string[];
  api(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  notifications(userId: string): Promise<{ type: string; data: Record<string, unknown> }[]>;
  close(): Promise<void>;
}

export async function startIdentityHarness(
  options: { rateLimits?: Partial<IdentityRateLimits> } = {},
): Promise<IdentityHarness> {
  const testDb = await openTestDb({ migrations: [...identityMigrations, testNotificationsMigration] });
  const clock = new TestClock();
  const identity = createIdentity({
    db: testDb.db,
    notifications: new TableNotificationWriter(),
    now: clock.now,
    rateLimits: { ...generousRateLimits, ...options.rateLimits },
  });
  const subject = buildTestApp({ db: testDb.db, migrations: [...identityMigrations, testNotificationsMigration] });
  await subject.app.register(identityRoutes, { prefix: '/wallet/v1', identity });
  await subject.app.register(wellKnownRoutes, { identity });
  const baseUrl = await listenOnFreePort(subject.app);
  const responseTexts: string[] = [];

  return {
    testDb,
    subject,
    identity,
    clock,
    baseUrl,
    responseTexts,
    async api(method, path, requestOptions = {}) {
      const headers: Record<string, string> = { ...(requestOptions.headers ?? {}) };
      if (requestOptions.token !== undefined) headers.authorization = `Bearer ${requestOptions.token}`;
      if (requestOptions.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        ...(requestOptions.body === undefined
          ? {}
          : {
              body: typeof requestOptions.body === 'string' ? requestOptions.body : JSON.stringify(requestOptions.body),
            }),
      });
      const text = await response.text();
      responseTexts.push(text);
      const isJson = (response.headers.get('content-type') ?? '').includes('application/json');
      const body = (isJson && text !== '' ? JSON.parse(text) : text) as ResponseBody;
      return { status: response.status, body, headers: response.headers, text };
    },
    async notifications(userId) {
      return testDb.db.query<{ type: string; data: Record<string, unknown> }>(
        'select type, data from test_notifications where user_id = $1 order by seq',
        [userId],
      );
    },
    async close() {
      await subject.app.close();
      await testDb.dispose();
    },
  };
}

/**
 * A random UK mobile number that libphonenumber's full metadata accepts (sign-up validates numbers;
 * about 0.5 % of +4479… numbers are in unallocated ranges and would fail a test at random).
 */
export function randomPhone(): string {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const phone = `+4479${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
    if (parsePhoneNumberFromString(phone)?.isValid() === true) return phone;
  }
  throw new Error('no valid random phone number in 100 draws');
}

export function randomEmail(): string {
  return `Person.${randomBytes(5).toString('hex')}@Example.COM`;
}

export function randomDevice(overrides: Partial<{ id: string; name: string; platform: string }> = {}) {
  return { id: `device-${randomBytes(8).toString('hex')}`, name: 'Pixel 9', platform: 'android', ...overrides };
}

export interface SignedUp {
  id: string;
  phone: string;
  accessToken: string;
  refreshToken: string;
  device: ReturnType<typeof randomDevice>;
}

/** Signs a new person up by phone and signs in on a new device. */
export async function signUpAndIn(harness: IdentityHarness, name = 'Ada Lovelace'): Promise<SignedUp> {
  const phone = randomPhone();
  const created = await harness.api('POST', '/wallet/v1/users', { body: { phone, password, name } });
  if (created.status !== 201) throw new Error(`sign-up failed: ${created.status} ${created.text}`);
  const device = randomDevice();
  const session = await harness.api('POST', '/wallet/v1/sessions', { body: { login: phone, password, device } });
  if (session.status !== 200) throw new Error(`sign-in failed: ${session.status} ${session.text}`);
  return {
    id: created.body.id,
    phone,
    accessToken: session.body.access_token,
    refreshToken: session.body.refresh_token,
    device,
  };
}

// Vitest types its asymmetric matchers as any; these keep the lint rules about any meaningful.
export const anyString = expect.any(String) as unknown;
export function matching(pattern: RegExp): unknown {
  return expect.stringMatching(pattern) as unknown;
}
export function containing(fields: Record<string, unknown>): unknown {
  return expect.objectContaining(fields) as unknown;
}

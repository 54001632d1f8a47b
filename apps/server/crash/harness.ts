/**
 * What the crash test and the end-to-end benchmark share: a free port, waiting for a server to be
 * ready, and seeding merchants and wallet users through the public API as a real client would.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { request } from './http.js';

/**
 * The environment of a server under test: its own port, data directory, admin token and vault
 * keys, loopback trusted as the proxy (seeding comes from many client addresses through it), no
 * demo data, warnings only. The caller adds the store and the card network's settings.
 */
export function serverEnv(options: { port: number; dataDir: string; adminToken: string }): NodeJS.ProcessEnv {
  const key32 = () => randomBytes(32).toString('base64');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(options.port),
    HOST: '127.0.0.1',
    YUNPAY_DATA_DIR: options.dataDir,
    YUNPAY_ADMIN_TOKEN: options.adminToken,
    YUNPAY_VAULT_KEYS: `k1:${key32()}`,
    YUNPAY_VAULT_KEY_ID: 'k1',
    YUNPAY_VAULT_FINGERPRINT_KEY: `f1:${key32()}`,
    YUNPAY_TRUST_PROXY: '127.0.0.1',
    YUNPAY_DEMO_DATA: 'false',
    LOG_LEVEL: 'warn',
  };
  delete env.DATABASE_URL;
  return env;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Polls /readyz until 200; fails early if `child` (the server being waited for) exits. */
export async function waitForReady(baseUrl: string, deadlineMs: number, child?: ChildProcess): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    if (child !== undefined && child.exitCode !== null) {
      throw new Error(`the server exited (${child.exitCode}) while starting`);
    }
    try {
      if ((await request(baseUrl, { method: 'GET', path: '/readyz' }, 2_000)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`${baseUrl} not ready after ${deadlineMs} ms`);
}

export interface SeededMerchant {
  accountId: string;
  liveKey: string;
  testKey: string;
}

/** Creates a merchant through /admin/v1 and activates it (which gives it its live key). */
export async function createActiveMerchant(baseUrl: string, adminToken: string, name: string): Promise<SeededMerchant> {
  const admin = (spec: Parameters<typeof request>[1]) => request(baseUrl, { ...spec, token: adminToken }, 60_000);
  const merchant = await admin({
    method: 'POST',
    path: '/admin/v1/merchants',
    json: { name, country: 'CN', default_currency: 'cny', mcc: '5812', city: 'Shanghai' },
  });
  if (merchant.status !== 201) throw new Error(`merchant: ${merchant.status} ${JSON.stringify(merchant.body)}`);
  const activated = await admin({ method: 'POST', path: `/admin/v1/merchants/${merchant.body.id}/activate` });
  if (activated.status !== 200) throw new Error(`activate: ${activated.status} ${JSON.stringify(activated.body)}`);
  return {
    accountId: merchant.body.id as string,
    liveKey: activated.body.secret_key as string,
    testKey: merchant.body.secret_key as string,
  };
}

export interface SeededUser {
  id: string;
  phone: string;
  token: string;
}

/**
 * Signs up wallet user `index` (a phone number of its own), signs in on a device, sets the payment
 * PIN and tops the wallet up with a test card. Sign-ups are limited per client address, so each user
 * comes from an address of its own, through the server's trusted proxy (loopback).
 */
export async function createWalletUser(
  baseUrl: string,
  options: { index: number; label: string; password: string; pin: string; topupMinor: number },
): Promise<SeededUser> {
  const { index, label, password } = options;
  const forwardedFor = `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
  const phone = `+8613${String(100_000_000 + index * 7_919).slice(0, 9)}`;
  const created = await request(baseUrl, {
    method: 'POST',
    path: '/wallet/v1/users',
    json: { phone, password, name: `${label} User ${index}` },
    forwardedFor,
  });
  if (created.status !== 201) throw new Error(`sign-up: ${created.status} ${JSON.stringify(created.body)}`);
  const device = { id: `${label.toLowerCase()}-device-${index}`, name: `${label} phone`, platform: 'android' };
  const session = await request(baseUrl, {
    method: 'POST',
    path: '/wallet/v1/sessions',
    json: { login: phone, password, device },
    forwardedFor,
  });
  if (session.status !== 200) throw new Error(`sign-in: ${session.status} ${JSON.stringify(session.body)}`);
  const token = session.body.access_token as string;
  const pinSet = await request(baseUrl, {
    method: 'PUT',
    path: '/wallet/v1/pin',
    token,
    json: { pin: options.pin, password },
  });
  if (pinSet.status !== 204) throw new Error(`pin: ${pinSet.status} ${JSON.stringify(pinSet.body)}`);
  const topup = await request(baseUrl, {
    method: 'POST',
    path: '/wallet/v1/topups',
    token,
    idempotencyKey: `${label.toLowerCase()}-seed-${index}`,
    json: { amount: options.topupMinor, currency: 'CNY', source: 'tok_visa' },
  });
  if (topup.status !== 201) throw new Error(`top-up: ${topup.status} ${JSON.stringify(topup.body)}`);
  return { id: created.body.id as string, phone, token };
}

/** Seeds `count` users, `parallel` at a time (each sign-up hashes a password and a PIN). */
export async function createWalletUsers(
  baseUrl: string,
  count: number,
  options: Omit<Parameters<typeof createWalletUser>[1], 'index'> & { parallel?: number },
): Promise<SeededUser[]> {
  const parallel = options.parallel ?? 8;
  const users: SeededUser[] = [];
  for (let start = 0; start < count; start += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - start) }, (_, offset) =>
      createWalletUser(baseUrl, { ...options, index: start + offset }),
    );
    users.push(...(await Promise.all(batch)));
  }
  return users;
}

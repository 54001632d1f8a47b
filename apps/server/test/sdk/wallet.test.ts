import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  MemoryTokenStore,
  WalletClient,
  YunpayApiError,
  createYunpay,
  newDeviceId,
  type WalletTransaction,
} from '@yunpay/sdk';
import { verifyLedger } from '../../src/modules/ledger/index.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { randomPhone, testPassword, testPin } from '../support/wallet.js';

/** The wallet client against the real server on a free port. */
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startPlatform();
});

afterAll(async () => {
  const report = await verifyLedger(platform.db);
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  // After fetch aborts a stream, undici opens a spare connection that never sends a request and
  // server.close() would wait for it (see test/events/helpers.ts): close the sockets too.
  const closing = platform.close();
  platform.app.server.closeAllConnections();
  await closing;
});

async function signedIn(name: string, tokenStore = new MemoryTokenStore()) {
  const wallet = new WalletClient({ baseUrl: platform.baseUrl, tokenStore });
  const phone = randomPhone();
  const user = await wallet.signUp({ phone, password: testPassword, name });
  await wallet.signIn({
    login: phone,
    password: testPassword,
    device: { id: newDeviceId(), name: 'SDK test', platform: 'web' },
  });
  await wallet.setPin({ pin: testPin, password: testPassword });
  return { wallet, user, phone, tokenStore };
}

describe('wallet client', () => {
  test('sign-up → top-up → P2P → history iteration and receipts', async () => {
    const alice = await signedIn('Alice');
    const bob = await signedIn('Bob');
    expect(alice.user).toMatchObject({ object: 'user', name: 'Alice', phone: alice.phone });
    expect(await alice.wallet.me()).toMatchObject({ id: alice.user.id, pin_set: true });

    const topup = await alice.wallet.topups.create({ amount: 50_000, currency: 'CNY', source: 'tok_visa' });
    expect(topup).toMatchObject({ object: 'wallet_transaction', type: 'topup', status: 'succeeded', amount: 50_000 });

    // A retry with the caller's key replays the same transfer instead of sending twice.
    const key = `transfer-${Date.now()}`;
    const input = { to: bob.phone, amount: 1_250, currency: 'CNY', note: 'coffee', pin: testPin };
    const sent = await alice.wallet.transfers.create(input, { idempotencyKey: key });
    const replayed = await alice.wallet.transfers.create(input, { idempotencyKey: key });
    expect(replayed.id).toBe(sent.id);
    expect(sent).toMatchObject({ type: 'p2p_sent', status: 'succeeded', amount: 1_250, note: 'coffee' });
    for (let index = 0; index < 11; index += 1) {
      await alice.wallet.transfers.create({ ...input, amount: 100 + index, note: `n${index}` });
    }

    const balances = await alice.wallet.balances();
    const expected = 50_000 - 1_250 - Array.from({ length: 11 }, (_, index) => 100 + index).reduce((a, b) => a + b);
    expect(balances).toEqual([{ currency: 'CNY', available: expected, pending: 0 }]);

    // Iterate the whole history through pages of 5: 1 top-up + 12 transfers, newest first, no repeats.
    const rows: WalletTransaction[] = [];
    for await (const row of alice.wallet.iterateHistory({}, { pageSize: 5 })) rows.push(row);
    expect(rows).toHaveLength(13);
    expect(new Set(rows.map((row) => row.id)).size).toBe(13);
    expect(rows[rows.length - 1]!.type).toBe('topup');
    const sentOnly = await alice.wallet.transactions.list({ type: 'p2p_sent', limit: 5 }).autoPagingToArray();
    expect(sentOnly).toHaveLength(12);
    const firstPage = await alice.wallet.transactions.list({ limit: 5 });
    expect(firstPage).toMatchObject({ object: 'list', has_more: true });
    expect(firstPage.data).toHaveLength(5);

    const receipt = await bob.wallet.transactions.retrieve(
      (await bob.wallet.transactions.list({ type: 'p2p_received', limit: 100 })).data.find(
        (row) => row.reference === sent.reference,
      )!.id,
    );
    expect(receipt).toMatchObject({ type: 'p2p_received', amount: 1_250, counterparty: { name: 'Alice' } });
    const csv = await alice.wallet.transactions.csv({ type: 'topup' });
    expect(csv.split('\r\n')[1]).toContain('500.00,CNY');
  });

  test('errors carry the server codes; a transfer without funds is refused with insufficient_funds', async () => {
    const carol = await signedIn('Carol');
    const dave = await signedIn('Dave');
    const error = await carol.wallet.transfers
      .create({ to: dave.phone, amount: 100, currency: 'CNY', pin: testPin })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(YunpayApiError);
    expect(error).toMatchObject({ status: 402, code: 'insufficient_funds' });
    expect((error as YunpayApiError).requestId).toMatch(/^req_/);
    const wrongPin = await carol.wallet.transfers
      .create({ to: dave.phone, amount: 100, currency: 'CNY', pin: '000000' })
      .catch((caught: unknown) => caught);
    expect(wrongPin).toMatchObject({
      status: 403,
      code: 'pin_invalid',
      details: { attempts_remaining: expect.any(Number) },
    });
  });

  test('an invalid access token is refreshed once, the refresh token rotates, and the call goes through', async () => {
    const erin = await signedIn('Erin');
    const firstRefresh = erin.tokenStore.getRefreshToken();
    // A second client (another tab) with the same store and a bad access token in memory.
    const events: { path: string; status: number | null }[] = [];
    const tab = new WalletClient({
      baseUrl: platform.baseUrl,
      tokenStore: erin.tokenStore,
      accessToken: 'eyJhbGciOiJFZERTQSJ9.e30.invalid',
      onResponse: (event) => events.push({ path: event.path, status: event.status }),
    });
    const [me, balances] = await Promise.all([tab.me(), tab.balances()]);
    expect(me.id).toBe(erin.user.id);
    expect(balances).toEqual([]);
    // Both calls met 401; one refresh served both.
    expect(events.filter((event) => event.path === '/wallet/v1/sessions/refresh')).toEqual([
      { path: '/wallet/v1/sessions/refresh', status: 200 },
    ]);
    expect(events.filter((event) => event.status === 401)).toHaveLength(2);
    expect(erin.tokenStore.getRefreshToken()).not.toBe(firstRefresh);

    // A client with only the refresh token refreshes before its first call.
    const restored = new WalletClient({ baseUrl: platform.baseUrl, tokenStore: erin.tokenStore });
    expect((await restored.me()).id).toBe(erin.user.id);

    // Signing out ends the session: a later refresh fails and the store is cleared.
    await restored.signOut();
    expect(erin.tokenStore.getRefreshToken()).toBeNull();
    await expect(restored.me()).rejects.toMatchObject({ status: 401, code: 'token_invalid' });
  });

  test('devices, payment codes, notifications list and the live stream', async () => {
    const yunpay = createYunpay({ baseUrl: platform.baseUrl });
    const frank = await signedIn('Frank');
    const grace = await signedIn('Grace');
    const devices = await frank.wallet.devices.list();
    expect(devices.data).toHaveLength(1);
    expect(devices.data[0]).toMatchObject({ object: 'device', current: true, platform: 'web' });
    const code = await frank.wallet.paymentCodes.create();
    expect(code.code).toMatch(/^88[0-9]{16}$/);
    expect((await frank.wallet.paymentApprovals.list()).data).toEqual([]);

    const controller = new AbortController();
    const stream = grace.wallet.notifications.stream({ signal: controller.signal });
    const first = stream.next();
    await frank.wallet.topups.create({ amount: 1_000, currency: 'CNY', source: 'tok_visa' });
    await frank.wallet.transfers.create({ to: grace.phone, amount: 300, currency: 'CNY', pin: testPin });
    const received = await first;
    expect(received.done).toBe(false);
    expect(received.value).toMatchObject({ object: 'notification', type: 'money.received' });
    controller.abort();
    await stream.return?.(undefined);

    const listed = await grace.wallet.notifications.list({ limit: 10 });
    expect(listed.data.map((notification) => notification.type)).toContain('money.received');
    const read = await grace.wallet.notifications.markRead(listed.data[0]!.id);
    expect(read.read).toBe(true);
    expect(yunpay.wallet()).toBeInstanceOf(WalletClient);
  });
});

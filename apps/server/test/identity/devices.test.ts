import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containing,
  password,
  randomDevice,
  signUpAndIn,
  startIdentityHarness,
  type IdentityHarness,
} from './helpers.js';

describe('devices', () => {
  let harness: IdentityHarness;

  beforeAll(async () => {
    harness = await startIdentityHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('lists the devices signed in to the account, marking the current one', async () => {
    const user = await signUpAndIn(harness);
    harness.clock.advance(2_000);
    const tablet = randomDevice({ name: 'Galaxy Tab', platform: 'android' });
    const second = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: user.phone, password, device: tablet },
    });
    expect(second.status).toBe(200);

    const list = await harness.api('GET', '/wallet/v1/devices', { token: user.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.object).toBe('list');
    expect(list.body.data).toHaveLength(2);
    const phoneDeviceId = decodeJwt(user.accessToken).did;
    const tabletDeviceId = decodeJwt(second.body.access_token).did;
    expect(list.body.data).toEqual([
      {
        id: tabletDeviceId,
        object: 'device',
        name: 'Galaxy Tab',
        platform: 'android',
        created_at: Math.floor(harness.clock.nowMs / 1000),
        last_seen_at: Math.floor(harness.clock.nowMs / 1000),
        current: false,
      },
      containing({ id: phoneDeviceId, name: 'Pixel 9', current: true }),
    ]);
  });

  it('removes a device: 204, its sessions end, and it leaves the list; the device row keeps revoked_at', async () => {
    const user = await signUpAndIn(harness);
    const tablet = randomDevice({ name: 'Old tablet' });
    const tabletSession = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: user.phone, password, device: tablet },
    });
    const tabletDeviceId = decodeJwt(tabletSession.body.access_token).did as string;

    const removed = await harness.api('DELETE', `/wallet/v1/devices/${tabletDeviceId}`, { token: user.accessToken });
    expect(removed.status).toBe(204);

    const me = await harness.api('GET', '/wallet/v1/me', { token: tabletSession.body.access_token });
    expect(me.status).toBe(401);
    const refresh = await harness.api('POST', '/wallet/v1/sessions/refresh', {
      body: { refresh_token: tabletSession.body.refresh_token },
    });
    expect(refresh.status).toBe(401);
    const list = await harness.api('GET', '/wallet/v1/devices', { token: user.accessToken });
    expect(list.body.data.map((device: { id: string }) => device.id)).not.toContain(tabletDeviceId);

    const row = await harness.identity.getDevice(tabletDeviceId);
    expect(row?.revokedAt).toBe(Math.floor(harness.clock.nowMs / 1000));
    // Removing it again: it is gone.
    expect(
      (await harness.api('DELETE', `/wallet/v1/devices/${tabletDeviceId}`, { token: user.accessToken })).status,
    ).toBe(404);

    // Signing in again from the same client device makes a new device (what was bound to the old stays revoked).
    const again = await harness.api('POST', '/wallet/v1/sessions', {
      body: { login: user.phone, password, device: tablet },
    });
    expect(again.status).toBe(200);
    expect(decodeJwt(again.body.access_token).did).not.toBe(tabletDeviceId);
    expect((await harness.identity.getDevice(tabletDeviceId))?.revokedAt).not.toBeNull();
  });

  it("answers 404 for another user's device (never 403) and leaves it alone", async () => {
    const alice = await signUpAndIn(harness, 'Alice');
    const bob = await signUpAndIn(harness, 'Bob');
    const bobDeviceId = decodeJwt(bob.accessToken).did as string;
    const response = await harness.api('DELETE', `/wallet/v1/devices/${bobDeviceId}`, { token: alice.accessToken });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
    expect((await harness.api('GET', '/wallet/v1/me', { token: bob.accessToken })).status).toBe(200);
    for (const id of ['dev_00000000000000000000000000000000', 'nonsense']) {
      const unknown = await harness.api('DELETE', `/wallet/v1/devices/${id}`, { token: alice.accessToken });
      expect(unknown.status).toBe(404);
    }
    expect((await harness.api('GET', '/wallet/v1/devices')).status).toBe(401);
  });

  it('removing the current device signs this session out', async () => {
    const user = await signUpAndIn(harness);
    const deviceId = decodeJwt(user.accessToken).did as string;
    expect((await harness.api('DELETE', `/wallet/v1/devices/${deviceId}`, { token: user.accessToken })).status).toBe(
      204,
    );
    expect((await harness.api('GET', '/wallet/v1/devices', { token: user.accessToken })).status).toBe(401);
  });

  it('runs the onDeviceRevoked hook inside the revoking transaction', async () => {
    const { createIdentity } = await import('../../src/modules/identity/index.js');
    const seen: { userId: string; deviceId: string }[] = [];
    const identity = createIdentity({
      db: harness.testDb.db,
      notifications: { write: async () => {} },
      now: harness.clock.now,
      onDeviceRevoked: async (tx, device) => {
        await tx.query('select 1');
        seen.push(device);
      },
    });
    const user = await signUpAndIn(harness);
    const deviceId = decodeJwt(user.accessToken).did as string;
    await identity.revokeDevice({ userId: user.id, deviceId });
    expect(seen).toEqual([{ userId: user.id, deviceId }]);
  });
});

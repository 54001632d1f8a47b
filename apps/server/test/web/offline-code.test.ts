import { randomBytes, randomInt } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { base32Encode, offlineCode as serverOfflineCode, totpStep } from '../../src/modules/codes/totp.js';

/** The wallet's browser port of offline codes (Web Crypto), checked against the server's codes context. */
interface BrowserOfflineCode {
  base32Decode(text: string): Uint8Array | null;
  importOfflineSecret(secretBase32: string): Promise<unknown>;
  offlineCode(options: { key: unknown; deviceNumber: string; nowMs: number }): Promise<string>;
}

// Imported by path: the web app's sources are outside this package's TypeScript project.
const modulePath = path.resolve(import.meta.dirname, '../../../web/src/wallet/offline-code.ts');
const load = async (): Promise<BrowserOfflineCode> =>
  (await import(/* @vite-ignore */ pathToFileURL(modulePath).href)) as BrowserOfflineCode;

describe('offline payment codes computed in the browser', () => {
  it('gives the worked example of docs/payment-codes.md', async () => {
    const web = await load();
    const key = await web.importOfflineSecret('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA');
    expect(await web.offlineCode({ key, deviceNumber: '12345678', nowMs: 1_767_225_600_000 })).toBe(
      '891234567883594141',
    );
  });

  it('agrees with the server for random secrets, device numbers and times', async () => {
    const web = await load();
    for (let index = 0; index < 50; index += 1) {
      const secret = randomBytes(32);
      const encoded = base32Encode(secret);
      expect(Buffer.from(web.base32Decode(encoded) ?? [])).toEqual(secret);
      const deviceNumber = String(randomInt(0, 100_000_000)).padStart(8, '0');
      const nowMs = randomInt(0, 2 ** 47);
      const key = await web.importOfflineSecret(encoded);
      expect(await web.offlineCode({ key, deviceNumber, nowMs })).toBe(
        serverOfflineCode({ deviceNumber, secret, step: totpStep(nowMs) }),
      );
    }
    expect(web.base32Decode('not base32!')).toBeNull();
  });
});

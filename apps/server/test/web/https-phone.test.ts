import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import QRCode from 'qrcode';
import type { Browser } from 'playwright-core';
import { Agent, setGlobalDispatcher } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadTls, machineAddresses, type TlsMaterial } from '../../src/platform/tls.js';
import { buildWeb, launchBrowser, removeWebBuild, screenshot } from '../support/browser.js';
import { qrVideo } from '../support/camera.js';
import { createMerchant, type TestMerchant } from '../support/merchant.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, signUp, topUp } from '../support/wallet.js';

/**
 * Trying the apps on a real phone (YUNPAY_TLS=self-signed): the generated certificate names this
 * machine's addresses; Chromium (told to accept it, as a user does once) reaches /app/ over HTTPS
 * in a secure context, the wallet's service worker registers, and the POS reads a customer's
 * payment code with the (fake) camera.
 */
let tempDir: string;
let tls: TlsMaterial;
let webDir: string;
let platform: TestPlatform;
let merchant: TestMerchant;

beforeAll(async () => {
  tempDir = mkdtempSync(path.join(tmpdir(), 'yunpay-https-'));
  tls = (await loadTls({ tls: { kind: 'self-signed' }, dataDir: tempDir }))!;
  // The test's own requests trust exactly this certificate, no more.
  setGlobalDispatcher(new Agent({ connect: { ca: tls.cert } }));
  webDir = await buildWeb();
  platform = await startPlatform({ webDir, https: { cert: tls.cert, key: tls.key } });
  merchant = await createMerchant(platform.baseUrl, platform.adminToken, { name: 'Phone Cafe' });
}, 180_000);

afterAll(async () => {
  await platform?.close();
  if (webDir !== undefined) removeWebBuild(webDir);
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
});

it('makes a certificate for localhost and every address of this machine, keeps it private, and reuses it', async () => {
  expect(tls.created).toBe(true);
  const certificate = new X509Certificate(tls.cert);
  const names = certificate.subjectAltName ?? '';
  expect(names).toContain('DNS:localhost');
  expect(names).toContain('IP Address:127.0.0.1');
  for (const address of machineAddresses().filter((candidate) => !candidate.includes(':'))) {
    expect(names).toContain(`IP Address:${address}`);
  }
  expect(statSync(path.join(tempDir, 'tls', 'key.pem')).mode & 0o077).toBe(0);
  const again = await loadTls({ tls: { kind: 'self-signed' }, dataDir: tempDir });
  expect(again).toMatchObject({ created: false, fingerprint256: tls.fingerprint256 });
  // Near its expiry it is made again.
  const later = Date.parse(certificate.validTo) - 86_400_000;
  const renewed = await loadTls({ tls: { kind: 'self-signed' }, dataDir: tempDir }, later);
  expect(renewed?.created).toBe(true);
  expect(renewed?.fingerprint256).not.toBe(tls.fingerprint256);
});

it('refuses a key that does not belong to the certificate', async () => {
  const other = mkdtempSync(path.join(tmpdir(), 'yunpay-https-other-'));
  try {
    const second = (await loadTls({ tls: { kind: 'self-signed' }, dataDir: other }))!;
    writeFileSync(path.join(other, 'mismatched-key.pem'), second.key);
    writeFileSync(path.join(other, 'cert.pem'), tls.cert);
    await expect(
      loadTls({
        tls: { kind: 'files', certFile: path.join(other, 'cert.pem'), keyFile: path.join(other, 'mismatched-key.pem') },
        dataDir: other,
      }),
    ).rejects.toMatchObject({ code: 'config_invalid' });
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

it('serves the wallet over HTTPS: a secure context whose service worker registers, and the POS camera scans a code', async () => {
  const payer = await signUp(platform.baseUrl, 'Phone Payer');
  await topUp(platform.baseUrl, payer, 10_000);
  const issued = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: payer.accessToken });
  expect(issued.status).toBe(201);
  const video = path.join(tempDir, 'code.y4m');
  writeFileSync(video, qrVideo(await QRCode.toBuffer(issued.body.code as string, { margin: 4, scale: 6 })));
  let browser: Browser | undefined;
  try {
    browser = await launchBrowser({
      args: [
        '--ignore-certificate-errors',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-video-capture=${video}`,
      ],
    });
    const phone = await browser.newContext({ viewport: { width: 360, height: 800 }, isMobile: true, locale: 'en-US' });
    const wallet = await phone.newPage();
    const answer = await wallet.goto(`${platform.baseUrl}/app/`);
    expect(answer?.url()).toMatch(/^https:\/\//);
    expect(await wallet.evaluate(() => (globalThis as unknown as { isSecureContext: boolean }).isSecureContext)).toBe(
      true,
    );
    const scope = await wallet.evaluate(async () => {
      interface Registration {
        scope: string;
        active: { scriptURL: string } | null;
      }
      const { navigator } = globalThis as unknown as { navigator: { serviceWorker: { ready: Promise<Registration> } } };
      const registration = await navigator.serviceWorker.ready;
      return { scope: registration.scope, script: registration.active?.scriptURL ?? null };
    });
    expect(scope).toEqual({ scope: `${platform.baseUrl}/app/`, script: `${platform.baseUrl}/app/sw.js` });
    await screenshot(wallet, 'https-wallet-signed-out');

    const till = await browser.newContext({ locale: 'en-US' });
    await till.grantPermissions(['camera'], { origin: platform.baseUrl });
    await till.addInitScript(() =>
      (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem(
        'yunpay.merchant.locale',
        'en',
      ),
    );
    const pos = await till.newPage();
    await pos.goto(`${platform.baseUrl}/pos/`);
    await pos.getByLabel('Secret API key').fill(merchant.secretKey);
    await pos.getByRole('button', { name: 'Sign in' }).click();
    await pos.getByRole('group', { name: 'Amount keypad' }).waitFor();
    for (const key of '500') await pos.getByRole('button', { name: key, exact: true }).click();
    await pos.getByRole('button', { name: 'Scan customer code' }).click();
    await pos.getByRole('button', { name: 'Use camera' }).click();
    await pos.locator('[data-outcome="succeeded"]').waitFor({ timeout: 20_000 });
    await screenshot(pos, 'https-pos-camera-succeeded');
  } finally {
    await browser?.close();
  }
});

import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import QRCode from 'qrcode';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildWeb, launchBrowser, removeWebBuild, screenshot } from '../support/browser.js';
import { qrVideo } from '../support/camera.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, signUp, topUp } from '../support/wallet.js';

/**
 * Scanning with the camera: chromium's fake camera plays a video of a merchant's dynamic QR code
 * (a Y4M file made from the QR image), and the wallet's Scan screen reads it from the camera frames
 * (BarcodeDetector where the browser has one, jsQR otherwise), previews the payment and pays it.
 */
let webDir: string;
let platform: TestPlatform;
let browser: Browser;
let merchant: TestMerchant;
let tempDir: string;
let intentId: string;

beforeAll(async () => {
  tempDir = mkdtempSync(path.join(tmpdir(), 'yunpay-camera-'));
  webDir = await buildWeb();
  platform = await startPlatform({ webDir });
  merchant = await createMerchant(platform.baseUrl, platform.adminToken, { name: 'Tea House' });
  const intent = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
    key: merchant.secretKey,
    form: { amount: 1_570, currency: 'cny', confirm: true, payment_method_data: { type: 'wallet' } },
  });
  expect(intent.body.status).toBe('requires_action');
  intentId = intent.body.id as string;
  const dataUrl = intent.body.next_action.wallet_display_qr_code.image_data_url as string;
  const video = path.join(tempDir, 'qr.y4m');
  writeFileSync(video, qrVideo(Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64')));
  browser = await launchBrowser({
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close();
  if (webDir !== undefined) removeWebBuild(webDir);
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
});

it('the wallet scans a merchant QR with the camera and pays it', async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 }, locale: 'en-US' });
  await context.grantPermissions(['camera'], { origin: platform.baseUrl });
  const page = await context.newPage();
  await page.goto(`${platform.baseUrl}/app/`);
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await page.getByLabel('Your name').fill('Erin');
  await page.getByLabel('Phone or email').fill(`+86135${String(randomInt(0, 100_000_000)).padStart(8, '0')}`);
  await page.getByLabel('Password', { exact: true }).fill('silver canyon lamp 62');
  await page.getByLabel('Payment PIN (6 digits)').fill('264917');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Hello, Erin' }).waitFor();
  await page.getByRole('button', { name: 'Top up' }).click();
  await page.getByLabel('Amount').fill('100');
  await page.getByRole('button', { name: 'Top up' }).click();
  await page.getByText('Topped up ¥100.00.').waitFor();

  await page.locator('nav.tabs').getByRole('link', { name: 'Scan' }).click();
  await page.getByRole('button', { name: 'Scan with the camera' }).click();
  await page.getByRole('button', { name: 'Pay ¥15.70' }).waitFor({ timeout: 20_000 });
  await page.getByText('Tea House').first().waitFor();
  await screenshot(page, 'wallet-scan-camera-preview');
  await page.getByLabel('Payment PIN (6 digits)').fill('264917');
  await page.getByRole('button', { name: 'Pay ¥15.70' }).click();
  // A test-mode merchant: simulated, and the wallet says so (issue 14, defect 5).
  await page.getByText('Test payment of ¥15.70 to Tea House. No money moved.').waitFor();
  const intent = await v1(platform.baseUrl, 'GET', `/v1/payment_intents/${intentId}`, { key: merchant.secretKey });
  expect(intent.body.status).toBe('succeeded');
  await context.close();
});

it('the POS reads the customer’s payment code (as a QR) with the camera and the sale succeeds', async () => {
  const payer = await signUp(platform.baseUrl, 'Camera Payer');
  await topUp(platform.baseUrl, payer, 10_000);
  const issued = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: payer.accessToken });
  expect(issued.status).toBe(201);
  const video = path.join(tempDir, 'code.y4m');
  writeFileSync(video, qrVideo(await QRCode.toBuffer(issued.body.code as string, { margin: 4, scale: 6 })));
  const till = await launchBrowser({
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
  try {
    const context = await till.newContext({ locale: 'en-US' });
    await context.grantPermissions(['camera'], { origin: platform.baseUrl });
    await context.addInitScript(() =>
      (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem(
        'yunpay.merchant.locale',
        'en',
      ),
    );
    const page = await context.newPage();
    await page.goto(`${platform.baseUrl}/pos/`);
    await page.getByLabel('Secret API key').fill(merchant.secretKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('group', { name: 'Amount keypad' }).waitFor();
    for (const key of '500') await page.getByRole('button', { name: key, exact: true }).click();
    await page.getByRole('button', { name: 'Scan customer code' }).click();
    await page.getByRole('button', { name: 'Use camera' }).click();
    await page.locator('[data-outcome="succeeded"]').waitFor({ timeout: 20_000 });
    await screenshot(page, 'pos-camera-succeeded');
  } finally {
    await till.close();
  }
});

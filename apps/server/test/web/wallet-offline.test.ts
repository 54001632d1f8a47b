import { randomInt } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildWeb, launchBrowser, removeWebBuild, screenshot } from '../support/browser.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';

/**
 * The network is gone: the wallet's Pay page falls back to an offline code computed in the browser
 * from the device key it enrolled while online, and a merchant (online) redeems that code.
 */
let webDir: string;
let platform: TestPlatform;
let browser: Browser;
let merchant: TestMerchant;

beforeAll(async () => {
  webDir = await buildWeb();
  [platform, browser] = await Promise.all([startPlatform({ webDir }), launchBrowser()]);
  merchant = await createMerchant(platform.baseUrl, platform.adminToken, { name: 'Night Market' });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close();
  if (webDir !== undefined) removeWebBuild(webDir);
});

it('shows an offline payment code when the phone is offline, and the code pays', async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 }, locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${platform.baseUrl}/app/`);
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await page.getByLabel('Your name').fill('Farah');
  await page.getByLabel('Phone or email').fill(`+86134${String(randomInt(0, 100_000_000)).padStart(8, '0')}`);
  await page.getByLabel('Password', { exact: true }).fill('meadow copper kite 17');
  await page.getByLabel('Payment PIN (6 digits)').fill('318264');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Hello, Farah' }).waitFor();

  // Online first: the Pay page shows an online code (88…) and enrolls the device for offline codes.
  await page.locator('nav.tabs').getByRole('link', { name: 'Pay' }).click();
  const digits = page.locator('.code-digits');
  await expect.poll(async () => (await digits.getAttribute('data-code')) ?? '', { timeout: 15_000 }).toMatch(/^88/);
  await expect
    .poll(() => page.evaluate(() => (globalThis as any).localStorage.getItem('yunpay.wallet.offlineKeyId')), {
      timeout: 15_000,
    })
    .not.toBeNull();

  // The network goes away: the next code is computed on the phone.
  await context.setOffline(true);
  await page.getByRole('button', { name: 'New code' }).click();
  await page.getByText('Offline code: works without a network, up to the offline limits.').waitFor();
  const offline = String(await digits.getAttribute('data-code'));
  expect(offline).toMatch(/^89\d{16}$/);
  await screenshot(page, 'wallet-pay-offline');

  // The merchant's till is online and redeems it.
  const paid = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
    key: merchant.secretKey,
    form: {
      amount: 300,
      currency: 'cny',
      confirm: true,
      payment_method_data: { type: 'wallet', wallet: { code: offline } },
    },
  });
  // The whole answer in the assertion: a refusal shows its error code.
  expect({ status: paid.status, body: paid.body }).toMatchObject({ status: 200, body: { status: 'succeeded' } });
  await context.close();
});

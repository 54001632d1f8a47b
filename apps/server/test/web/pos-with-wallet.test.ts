import { randomInt } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildWeb, launchBrowser, removeWebBuild, screenshot } from '../support/browser.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';

/**
 * The counter, end to end in one browser: a customer's phone shows the wallet's Pay page (at
 * 360×800), the cashier's POS reads the code from it — the 18 digits a scanner would type — and the
 * sale succeeds on the POS without a reload.
 */
let webDir: string;
let platform: TestPlatform;
let browser: Browser;
let merchant: TestMerchant;

beforeAll(async () => {
  webDir = await buildWeb();
  [platform, browser] = await Promise.all([startPlatform({ webDir }), launchBrowser()]);
  merchant = await createMerchant(platform.baseUrl, platform.adminToken, { name: 'Corner Bakery' });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close();
  if (webDir !== undefined) removeWebBuild(webDir);
});

it('a POS sale is paid with the payment code read from the wallet page', async () => {
  const phoneContext = await browser.newContext({
    viewport: { width: 360, height: 800 },
    isMobile: true,
    hasTouch: true,
    locale: 'en-US',
  });
  const phone = await phoneContext.newPage();
  await phone.goto(`${platform.baseUrl}/app/`);
  await phone.getByRole('button', { name: 'New here? Create an account' }).click();
  await phone.getByLabel('Your name').fill('Carol');
  await phone.getByLabel('Phone or email').fill(`+86137${String(randomInt(0, 100_000_000)).padStart(8, '0')}`);
  await phone.getByLabel('Password', { exact: true }).fill('amber violin meadow 93');
  await phone.getByLabel('Payment PIN (6 digits)').fill('581726');
  await phone.getByRole('button', { name: 'Create account' }).click();
  await phone.getByRole('heading', { name: 'Hello, Carol' }).waitFor();
  await phone.getByRole('button', { name: 'Top up' }).click();
  await phone.getByLabel('Amount').fill('50');
  await phone.getByRole('button', { name: 'Top up' }).click();
  await phone.getByText('Topped up ¥50.00.').waitFor();
  await phone.locator('nav.tabs').getByRole('link', { name: 'Pay' }).click();
  const digits = phone.locator('.code-digits');
  await digits.waitFor();
  // What the customer shows: the digits under the barcode, as a cashier's scanner reads them.
  const shown = ((await digits.textContent()) ?? '').replace(/\s/g, '');
  expect(shown).toMatch(/^8[89]\d{16}$/);
  await screenshot(phone, 'counter-wallet-pay');

  const tillContext = await browser.newContext({ locale: 'en-US' });
  await tillContext.addInitScript(() =>
    (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem(
      'yunpay.merchant.locale',
      'en',
    ),
  );
  const till = await tillContext.newPage();
  await till.goto(`${platform.baseUrl}/pos/`);
  await till.getByLabel('Secret API key').fill(merchant.secretKey);
  await till.getByRole('button', { name: 'Sign in' }).click();
  await till.getByRole('group', { name: 'Amount keypad' }).waitFor();
  for (const key of '680') await till.getByRole('button', { name: key, exact: true }).click();
  await till.getByRole('button', { name: 'Scan customer code' }).click();
  // A USB scanner types the digits and Enter into the focused code field.
  await till.keyboard.type(shown);
  await till.keyboard.press('Enter');
  await till.locator('[data-outcome="succeeded"]').waitFor({ timeout: 15_000 });
  await screenshot(till, 'counter-pos-succeeded');
  const intentId = ((await till.locator('.receipt .mono').textContent()) ?? '').trim();
  const intent = await v1(platform.baseUrl, 'GET', `/v1/payment_intents/${intentId}`, {
    key: merchant.secretKey,
  });
  expect(intent.body).toMatchObject({ status: 'succeeded', amount: 680, currency: 'cny' });
  const charge = await v1(platform.baseUrl, 'GET', `/v1/charges/${intent.body.latest_charge}`, {
    key: merchant.secretKey,
  });
  expect(charge.body.payment_method_details.type).toBe('wallet');
  // The code was single use: the same digits cannot pay a second time.
  const again = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
    key: merchant.secretKey,
    form: {
      amount: 100,
      currency: 'cny',
      confirm: true,
      payment_method_data: { type: 'wallet', wallet: { code: shown } },
    },
  });
  expect(again.status).toBe(400);
  await phoneContext.close();
  await tillContext.close();
});

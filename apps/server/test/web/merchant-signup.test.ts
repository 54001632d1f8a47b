import type { Browser } from 'playwright-core';

interface Storage {
  setItem(key: string, value: string): void;
}
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildWeb, launchBrowser, removeWebBuild, screenshot, seriousA11yViolations } from '../support/browser.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, signUp, topUp } from '../support/wallet.js';

/**
 * A new merchant on its own, with no admin token: signs up in the dashboard (test mode), is shown
 * its test keys once, takes a test payment on the POS with a customer's wallet code, and sees it
 * in the dashboard marked as a test.
 */
let webDir: string;
let platform: TestPlatform;
let browser: Browser;

beforeAll(async () => {
  webDir = await buildWeb();
  [platform, browser] = await Promise.all([startPlatform({ webDir }), launchBrowser()]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close();
  if (webDir !== undefined) removeWebBuild(webDir);
});

it('signs up in the browser, takes a test payment on the POS and sees it on the dashboard', async () => {
  const desk = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  await desk.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: platform.baseUrl });
  await desk.addInitScript(() =>
    (globalThis as unknown as { localStorage: Storage }).localStorage.setItem('yunpay.merchant.locale', 'en'),
  );
  const dashboard = await desk.newPage();
  await dashboard.goto(`${platform.baseUrl}/dashboard/`);
  await dashboard.getByRole('button', { name: 'New to Yunpay? Create a test account' }).click();
  await dashboard.getByRole('heading', { name: 'Create a merchant account' }).waitFor();
  expect(await seriousA11yViolations(dashboard)).toEqual([]);
  await screenshot(dashboard, 'merchant-signup-form-en');
  await dashboard.getByLabel('Business name').fill('Lantern Dumplings');
  await dashboard.getByLabel('Business type').selectOption('5812');
  await dashboard.getByLabel('City (optional)').fill('Hangzhou');
  await dashboard.getByRole('button', { name: 'Create account' }).click();
  await dashboard.getByRole('heading', { name: 'Your test keys' }).waitFor();
  const secretKey = ((await dashboard.locator('[data-key="signup-secret"]').textContent()) ?? '').trim();
  expect(secretKey).toMatch(/^sk_test_/);
  expect(((await dashboard.locator('[data-key="signup-publishable"]').textContent()) ?? '').trim()).toMatch(
    /^pk_test_/,
  );
  await dashboard.getByRole('button', { name: 'Copy' }).first().click();
  expect(
    await dashboard.evaluate(() =>
      (
        globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
      ).navigator.clipboard.readText(),
    ),
  ).toBe(secretKey);
  await screenshot(dashboard, 'merchant-signup-keys-en');
  await dashboard.getByRole('button', { name: 'Continue to the dashboard' }).click();
  await dashboard.getByText('Lantern Dumplings').first().waitFor();
  await dashboard.getByText('Test mode').first().waitFor();

  // A customer's real wallet code pays the test-mode sale: simulated, no money moves.
  const customer = await signUp(platform.baseUrl, 'Dumpling Fan');
  await topUp(platform.baseUrl, customer, 5_000);
  const issued = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: customer.accessToken });
  expect(issued.status).toBe(201);
  const till = await (await browser.newContext({ locale: 'en-US' })).newPage();
  await till.addInitScript(() =>
    (globalThis as unknown as { localStorage: Storage }).localStorage.setItem('yunpay.merchant.locale', 'en'),
  );
  await till.goto(`${platform.baseUrl}/pos/`);
  await till.getByLabel('Secret API key').fill(secretKey);
  await till.getByRole('button', { name: 'Sign in' }).click();
  await till.getByRole('group', { name: 'Amount keypad' }).waitFor();
  for (const key of '1880') await till.getByRole('button', { name: key, exact: true }).click();
  await till.getByRole('button', { name: 'Scan customer code' }).click();
  await till.keyboard.type(issued.body.code as string);
  await till.keyboard.press('Enter');
  await till.locator('[data-outcome="succeeded"]').waitFor({ timeout: 20_000 });
  expect(await till.locator('[data-outcome="succeeded"]').textContent()).toContain('Test payment');

  await dashboard.reload();
  // The overview, the dashboard's first page, lists the sale among the recent payments.
  await dashboard.getByRole('heading', { name: 'Overview' }).waitFor();
  const row = dashboard.getByRole('region', { name: 'Recent payments' }).locator('table.data tbody tr').first();
  await row.waitFor({ timeout: 20_000 });
  await expect.poll(() => row.locator('.badge-test').textContent()).toBe('Test');
  expect(await row.textContent()).toContain('18.80');
  await screenshot(dashboard, 'merchant-signup-first-test-payment-en');
  const balances = await api(platform.baseUrl, 'GET', '/wallet/v1/balances', { token: customer.accessToken });
  expect(balances.body).toContainEqual({ currency: 'CNY', available: 5_000, pending: 0 });
  await desk.close();
});

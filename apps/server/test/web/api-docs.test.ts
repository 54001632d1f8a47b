import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../support/browser.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';

/**
 * /docs renders the API reference offline: every request the page makes goes to our own server
 * (anything else is aborted and fails the test), with no console error, and the operations are
 * there to read.
 */
let platform: TestPlatform;
let browser: Browser;

beforeAll(async () => {
  [platform, browser] = await Promise.all([startPlatform(), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close();
});

it('renders the API reference from our own OpenAPI document, with nothing fetched from elsewhere', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = await context.newPage();
  const problems: string[] = [];
  const origin = new URL(platform.baseUrl).origin;
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
    problems.push(`request outside the server: ${url}`);
    return route.abort();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  const answer = await page.goto(`${platform.baseUrl}/docs`);
  expect(answer?.status()).toBe(200);
  expect(answer?.headers()['content-security-policy']).toContain("script-src 'self';");
  await page.getByRole('heading', { name: 'Create a PaymentIntent' }).first().waitFor({ timeout: 30_000 });
  await page.getByText('Stripe SDK talks to it unchanged').first().waitFor();
  for (const tag of ['Payment intents', 'Refunds', 'Wallet: money', 'Webhook endpoints']) {
    await page.getByRole('menuitem', { name: tag }).first().waitFor();
  }
  await page.waitForLoadState('networkidle');
  await screenshot(page, 'api-docs-en', { fullPage: false });
  expect(problems).toEqual([]);
  await context.close();
});

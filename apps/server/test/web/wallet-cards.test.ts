import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildWeb, launchBrowser, removeWebBuild, screenshot, seriousA11yViolations } from '../support/browser.js';
import { startCardPlatform, type CardTestPlatform } from '../support/cards.js';

/**
 * The wallet's saved cards in a real browser, on a platform with the card vault and the ISO 8583
 * network simulator: a card typed into the Top-up screen is saved (the number goes to the vault
 * only), a top-up from it goes through the card network, and History downloads as CSV.
 */
let webDir: string;
let cards: CardTestPlatform;
let browser: Browser;

beforeAll(async () => {
  webDir = await buildWeb();
  [cards, browser] = await Promise.all([startCardPlatform({ webDir }), launchBrowser()]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await cards?.close();
  if (webDir !== undefined) removeWebBuild(webDir);
});

it('saves a card, tops up from it through the card network, and downloads the history as CSV', async () => {
  const context = await browser.newContext({
    viewport: { width: 360, height: 800 },
    locale: 'en-US',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const base = cards.platform.baseUrl;
  await page.goto(`${base}/app/`);
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await page.getByLabel('Your name').fill('Dana');
  await page.getByLabel('Phone or email').fill(`+86136${String(randomInt(0, 100_000_000)).padStart(8, '0')}`);
  await page.getByLabel('Password', { exact: true }).fill('cobalt river window 41');
  await page.getByLabel('Payment PIN (6 digits)').fill('936214');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Hello, Dana' }).waitFor();

  await page.getByRole('button', { name: 'Top up' }).click();
  await page.getByLabel('Card number').fill('4000056655665556');
  await page.getByLabel('Expiry month').selectOption({ index: 11 });
  await page.getByLabel('Expiry year').selectOption({ index: 3 });
  await page.getByLabel('Security code (CVC)').fill('737');
  await page.getByRole('button', { name: 'Save card' }).click();
  await page.getByText('Saved visa •••• 5556.').waitFor();
  // The form forgets the number once it is sent.
  expect(await page.getByLabel('Card number').inputValue()).toBe('');
  await screenshot(page, 'wallet-top-up-saved-card');
  expect(await seriousA11yViolations(page)).toEqual([]);

  const before = cards.simulator.balanceOf('4000056655665556', 'CNY');
  await page.getByLabel('Amount').fill('88');
  await page.getByRole('button', { name: 'Top up', exact: true }).click();
  await page.getByText('Topped up ¥88.00.').waitFor();
  expect(cards.simulator.balanceOf('4000056655665556', 'CNY')).toBe(before - 8_800n);

  await page.locator('nav.tabs').getByRole('link', { name: 'History' }).click();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download CSV' }).click();
  const file = await (await download).path();
  const csv = readFileSync(file, 'utf8');
  expect(csv.split('\n')[0]).toContain('amount');
  expect(csv).toContain('88.00');
  expect(csv).not.toContain('4000056655665556');

  // Nothing card-like stayed in the page's storage.
  const stored = await page.evaluate(() => {
    const scope = globalThis as unknown as {
      localStorage: Record<string, string>;
      sessionStorage: Record<string, string>;
    };
    return JSON.stringify({ ...scope.localStorage, ...scope.sessionStorage });
  });
  expect(stored).not.toContain('5556');
  await context.close();
});

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, launchBrowser, removeWebBuild, screenshot, seriousA11yViolations } from '../support/browser.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';

/**
 * What a newcomer sees first, signed out, in a real browser: the landing page at `/` and the three
 * apps load with no console error, no failed request and no HTTP error answer (the session probes
 * answer 200 when signed out, and every asset a page references exists).
 */
let webDir: string;
let platform: TestPlatform;
let browser: Browser;

beforeAll(async () => {
  webDir = await buildWeb();
  platform = await startPlatform({ webDir });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close();
  if (webDir !== undefined) removeWebBuild(webDir);
});

interface PageProblems {
  problems: string[];
}

/** Records every console error, page error, failed request and 4xx/5xx answer of the page. */
function watch(page: Page): PageProblems {
  const watched: PageProblems = { problems: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') watched.problems.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => watched.problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) =>
    watched.problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) watched.problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return watched;
}

async function openSignedOut(
  context: BrowserContext,
  path: string,
  ready: (page: Page) => Promise<unknown>,
): Promise<{ page: Page; watched: PageProblems }> {
  const page = await context.newPage();
  const watched = watch(page);
  const response = await page.goto(`${platform.baseUrl}${path}`);
  expect(response?.status(), path).toBe(200);
  await ready(page);
  // Whatever the page fetches after it has drawn (probes, icons, the service worker) has finished.
  await page.waitForLoadState('networkidle');
  return { page, watched };
}

describe('every page loads clean, signed out', () => {
  for (const locale of ['en-US', 'zh-CN'] as const) {
    it(`/, /app/, /pos/ and /dashboard/ log no error (${locale})`, async () => {
      const context = await browser.newContext({ locale, viewport: { width: 360, height: 800 } });
      try {
        const zh = locale === 'zh-CN';
        const pages = [
          {
            path: '/',
            name: 'landing',
            ready: (page: Page) => page.getByRole('heading', { level: 1, name: zh ? /云付/ : /Yunpay/ }).waitFor(),
          },
          {
            path: '/app/',
            name: 'wallet-signed-out',
            ready: (page: Page) =>
              page.getByRole('heading', { name: zh ? '登录钱包' : 'Sign in to your wallet' }).waitFor(),
          },
          {
            path: '/pos/',
            name: 'pos-signed-out',
            ready: (page: Page) => page.locator('input[type="password"]').waitFor(),
          },
          {
            path: '/dashboard/',
            name: 'dashboard-signed-out',
            ready: (page: Page) => page.locator('input[type="password"]').waitFor(),
          },
        ];
        for (const { path, name, ready } of pages) {
          const { page, watched } = await openSignedOut(context, path, ready);
          expect(watched.problems, `${path} (${locale})`).toEqual([]);
          await screenshot(page, `${name}-${locale}`);
          expect(await seriousA11yViolations(page), path).toEqual([]);
          await page.close();
        }
      } finally {
        await context.close();
      }
    });
  }

  it('the landing page links to the wallet, the POS, the dashboard, the API reference and health, all live', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const { page, watched } = await openSignedOut(context, '/', (page) => page.getByRole('list').waitFor());
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
      const links = await page
        .getByRole('list')
        .getByRole('link')
        .evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href')));
      expect(links).toEqual(['/app/', '/pos/', '/dashboard/', '/docs', '/readyz']);
      for (const href of links) {
        const answer = await fetch(`${platform.baseUrl}${href}`);
        expect({ href, status: answer.status }).toEqual({ href, status: 200 });
      }
      // The language switch leads to the Chinese page, and back.
      await page.getByRole('link', { name: '中文' }).click();
      await page.getByRole('heading', { level: 1, name: /云付/ }).waitFor();
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
      await expect(page.getByRole('link', { name: /钱包/ }).getAttribute('href')).resolves.toBe('/app/');
      await page.getByRole('link', { name: 'English' }).click();
      await page.getByRole('heading', { level: 1, name: /Yunpay/ }).waitFor();
      expect(watched.problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

declare const document: { documentElement: { lang: string } };

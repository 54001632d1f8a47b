import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { buildWeb, launchBrowser, removeWebBuild } from './browser.js';
import { startPlatform, type TestPlatform } from './platform.js';

/** What a browser test file shares: the built apps, the platform serving them, one browser. */
export interface WebSuite {
  readonly platform: TestPlatform;
  readonly browser: Browser;
  /** A phone (360×800, touch) in its own context, closed after the file's tests. */
  newPhone(locale?: 'en-US' | 'zh-CN'): Promise<Page>;
}

/** Registers the file's beforeAll/afterAll: builds the web apps, starts the platform and a browser. */
export function webSuite(options: Parameters<typeof startPlatform>[0] = {}): WebSuite {
  let webDir: string | undefined;
  let platform: TestPlatform | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    webDir = await buildWeb();
    [platform, browser] = await Promise.all([startPlatform({ ...options, webDir }), launchBrowser()]);
  }, 180_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await platform?.close();
    if (webDir !== undefined) removeWebBuild(webDir);
  });

  return {
    get platform() {
      if (platform === undefined) throw new Error('the platform starts in beforeAll');
      return platform;
    },
    get browser() {
      if (browser === undefined) throw new Error('the browser starts in beforeAll');
      return browser;
    },
    async newPhone(locale = 'en-US') {
      if (browser === undefined) throw new Error('the browser starts in beforeAll');
      const context = await browser.newContext({
        viewport: { width: 360, height: 800 },
        deviceScaleFactor: 1,
        isMobile: true,
        hasTouch: true,
        locale,
      });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error('page error:', error.message));
      return page;
    },
  };
}

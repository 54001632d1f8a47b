import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import jsqrModule from 'jsqr';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, launchBrowser, removeWebBuild, screenshot, seriousA11yViolations } from '../support/browser.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, newKey, signUp, testPin, topUp, type TestUser } from '../support/wallet.js';

// jsqr is CommonJS with an ES-style default export: Node hands over module.exports, bundlers the function.
const jsQR = ((jsqrModule as unknown as { default?: unknown }).default ?? jsqrModule) as typeof jsqrModule.default;

// Browser globals used inside page.evaluate (the server's tsconfig has no DOM lib); module-scoped.
interface BrowserStorage {
  setItem(key: string, value: string): void;
}
interface BrowserImage {
  naturalWidth: number;
  naturalHeight: number;
  decode(): Promise<void>;
}
interface BrowserCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    drawImage(image: BrowserImage, x: number, y: number): void;
    getImageData(
      x: number,
      y: number,
      w: number,
      h: number,
    ): { width: number; height: number; data: ArrayLike<number> };
  } | null;
}
declare const window: {
  localStorage: BrowserStorage & Record<string, unknown>;
  sessionStorage: Record<string, unknown>;
};
declare const document: {
  cookie: string;
  activeElement: unknown;
  documentElement: { lang: string };
  createElement(tag: 'canvas'): BrowserCanvas;
};

/**
 * The merchant POS (/pos/) and dashboard (/dashboard/) in a real browser (Debian's chromium via
 * playwright-core): sales paid with a wallet's code and with a dynamic QR, a refund, a key roll,
 * webhooks and the counter QR, with screenshots and axe checks of every main screen.
 */
let webDir: string;
let platform: TestPlatform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let merchant: TestMerchant;
let payer: TestUser;
let hookServer: Server;
let hookUrl: string;
const hookDeliveries: string[] = [];

beforeAll(async () => {
  webDir = await buildWeb();
  platform = await startPlatform({ webDir, webhookAllowPrivate: true });
  merchant = await createMerchant(platform.baseUrl, platform.adminToken, { name: 'Lucky Noodles', city: 'Shanghai' });
  payer = await signUp(platform.baseUrl, 'Payer');
  await topUp(platform.baseUrl, payer, 500_000);
  hookServer = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      hookDeliveries.push(body);
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`;
  browser = await launchBrowser();
  context = await browser.newContext({ locale: 'en-US', acceptDownloads: true });
  await context.addInitScript(() => window.localStorage.setItem('yunpay.merchant.locale', 'en'));
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => hookServer?.close(resolve));
  await platform?.close();
  if (webDir !== undefined) removeWebBuild(webDir);
});

async function checkScreen(name: string): Promise<void> {
  await screenshot(page, name);
  expect(await seriousA11yViolations(page), name).toEqual([]);
}

async function keyIn(amount: string): Promise<void> {
  for (const key of amount) await page.getByRole('button', { name: key, exact: true }).click();
}

async function paymentCode(user: TestUser): Promise<string> {
  const issued = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: user.accessToken });
  expect(issued.status).toBe(201);
  return issued.body.code as string;
}

async function sessionCookie(): Promise<string> {
  const cookies = await context.cookies(platform.baseUrl);
  const cookie = cookies.find((entry) => entry.name === 'yunpay_msess');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Strict');
  return `${cookie?.name}=${cookie?.value}`;
}

const receiptIds: string[] = [];

describe('merchant POS', () => {
  it('serves the page with a strict CSP and the usual security headers', async () => {
    const response = await page.goto(`${platform.baseUrl}/pos/`);
    expect(response?.status()).toBe(200);
    const headers = response?.headers() ?? {};
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("style-src 'self'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['referrer-policy']).toBe('no-referrer');
    await page.getByLabel('Secret API key').waitFor();
    await checkScreen('pos-sign-in');
  });

  it('signs in with the secret key, keeping nothing in localStorage', async () => {
    await page.getByLabel('Secret API key').fill(merchant.secretKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('group', { name: 'Amount keypad' }).waitFor();
    const stored = await page.evaluate(() => JSON.stringify({ ...window.localStorage, ...window.sessionStorage }));
    expect(stored).not.toContain('sk_test_');
    expect(stored).not.toContain('csrf');
    expect(await page.evaluate(() => document.cookie)).toBe(''); // httpOnly: script cannot read it
    await checkScreen('pos-keypad');
  });

  it('sells with the customer’s code typed by a USB scanner (18 digits + Enter)', async () => {
    await keyIn('1250');
    await expect.poll(() => page.locator('output.amount').getAttribute('data-amount-minor')).toBe('1250');
    expect(await page.locator('output.amount').textContent()).toContain('12.50');
    await page.getByRole('button', { name: 'Scan customer code' }).click();
    const field = page.getByLabel('Customer payment code');
    await expect.poll(() => field.evaluate((element) => element === document.activeElement)).toBe(true);
    await checkScreen('pos-scan');
    await page.keyboard.type(await paymentCode(payer));
    await page.keyboard.press('Enter');
    await page.locator('[data-outcome="succeeded"]').waitFor({ timeout: 15_000 });
    const receiptId = (await page.locator('.receipt .mono').textContent()) ?? '';
    expect(receiptId).toMatch(/^pi_/);
    receiptIds.push(receiptId);
    await checkScreen('pos-succeeded-receipt');
  });

  it('shows “awaiting approval” above the no-PIN threshold, then succeeded once the payer approves', async () => {
    await page.getByRole('button', { name: 'New sale' }).click();
    await keyIn('30000');
    await page.getByRole('button', { name: 'Scan customer code' }).click();
    await page.getByLabel('Customer payment code').fill(await paymentCode(payer));
    await page.keyboard.press('Enter');
    await page.locator('[data-outcome="awaiting"]').waitFor({ timeout: 15_000 });
    await checkScreen('pos-awaiting-approval');
    const approvals = await api(platform.baseUrl, 'GET', '/wallet/v1/payment_approvals', { token: payer.accessToken });
    expect(approvals.status).toBe(200);
    const approval = approvals.body.data[0];
    const approved = await api(platform.baseUrl, 'POST', `/wallet/v1/payment_approvals/${approval.id}`, {
      token: payer.accessToken,
      body: { pin: testPin },
    });
    expect(approved.status).toBe(200);
    // No reload: the POS follows the intent.
    await page.locator('[data-outcome="succeeded"]').waitFor({ timeout: 15_000 });
  });

  it('shows a dynamic QR that the wallet pays, and the outcome arrives live', async () => {
    await page.getByRole('button', { name: 'New sale' }).click();
    await keyIn('880');
    await page.getByRole('button', { name: 'Show QR' }).click();
    const image = page.getByRole('img', { name: /QR code to pay .*8\.80/ });
    await image.waitFor({ timeout: 15_000 });
    await checkScreen('pos-qr');
    const pixels = await image.evaluate(async (element) => {
      const img = element as unknown as BrowserImage;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context2d = canvas.getContext('2d');
      if (context2d === null) throw new Error('no 2d context');
      context2d.drawImage(img, 0, 0);
      const data = context2d.getImageData(0, 0, canvas.width, canvas.height);
      return { width: data.width, height: data.height, data: Array.from(data.data) };
    });
    const decoded = jsQR(Uint8ClampedArray.from(pixels.data), pixels.width, pixels.height);
    expect(decoded?.data).toMatch(/^000201010212/);
    const paid = await api(platform.baseUrl, 'POST', '/wallet/v1/qr/pay', {
      token: payer.accessToken,
      idempotencyKey: newKey(),
      body: { data: decoded?.data, pin: testPin },
    });
    expect(paid.status).toBe(200);
    await page.locator('[data-outcome="succeeded"]').waitFor({ timeout: 15_000 });
    await checkScreen('pos-qr-succeeded');
  });

  it('switches to Chinese', async () => {
    await page.getByRole('button', { name: 'New sale' }).click();
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('button', { name: '扫描顾客付款码' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await checkScreen('pos-keypad-zh');
    await page.getByLabel('语言').selectOption('en');
  });

  it('refuses cookie requests without the CSRF token, with a wrong one, or cross-site', async () => {
    const cookie = await sessionCookie();
    const form = 'amount=100&currency=cny';
    const post = (headers: Record<string, string>) =>
      fetch(`${platform.baseUrl}/v1/payment_intents`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: form,
      });
    const current = await fetch(`${platform.baseUrl}/merchant/v1/sessions/current`, { headers: { cookie } });
    const csrf = ((await current.json()) as { csrf_token: string }).csrf_token;
    expect((await post({})).status).toBe(403);
    expect((await post({ 'x-csrf-token': 'x'.repeat(43) })).status).toBe(403);
    expect((await post({ 'x-csrf-token': csrf, origin: 'https://attacker.example' })).status).toBe(403);
    expect((await post({ 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ 'x-csrf-token': csrf })).status).toBe(200);
  });
});

describe('merchant dashboard', () => {
  it('lists payments and finds one by search', async () => {
    const response = await page.goto(`${platform.baseUrl}/dashboard/`);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'self'");
    // The overview comes first (issue 14); the full list is one link away.
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Payments', exact: true }).click();
    await page.getByRole('heading', { name: 'Payments', exact: true }).waitFor();
    await page.locator('table.data tbody tr').first().waitFor();
    await checkScreen('dashboard-payments');
    const id = receiptIds[0] ?? '';
    await page.getByLabel('Search (id, description, customer)').fill(id);
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('table.data tbody tr').count()).toBe(1);
    await page.getByRole('link', { name: id }).click();
    await page.getByRole('heading', { name: `Payment ${id}` }).waitFor();
  });

  it('shows the timeline and refunds part of the payment', async () => {
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    expect(await page.locator('.timeline li').count()).toBeGreaterThanOrEqual(2);
    await checkScreen('dashboard-payment-timeline');
    await page.getByLabel('Refund amount').fill('5.00');
    await page.getByRole('button', { name: 'Refund', exact: true }).click();
    // Refunds are confirmed (issue 14): the amount, then the confirmation.
    await page
      .getByRole('alertdialog')
      .getByRole('button', { name: /Confirm refund of .*5\.00/ })
      .click();
    await page.getByText(/Refund re_\w+ created/).waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getByTestId('refunded').textContent()).toContain('5.00');
    const refunds = await v1(platform.baseUrl, 'GET', `/v1/refunds?payment_intent=${receiptIds[0]}`, {
      key: merchant.secretKey,
    });
    expect(refunds.body.data.map((refund: { amount: number }) => refund.amount)).toEqual([500]);
    await checkScreen('dashboard-payment-refunded');
  });

  it('shows the balance with the daily chart and its table', async () => {
    await page.getByRole('link', { name: 'Balance' }).click();
    await page.getByRole('img', { name: /daily volume and fees/i }).waitFor();
    expect(await page.locator('.uplot canvas').count()).toBeGreaterThanOrEqual(1);
    await checkScreen('dashboard-balance');
  });

  it('creates a webhook endpoint, lists an attempt and resends it', async () => {
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByLabel('Endpoint URL').fill(hookUrl);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText(/whsec_/).waitFor();
    // An event after the endpoint exists, delivered by the worker's step.
    const refund = await v1(platform.baseUrl, 'POST', '/v1/refunds', {
      key: merchant.secretKey,
      form: { payment_intent: receiptIds[0], amount: 100 },
    });
    expect(refund.status).toBe(200);
    await platform.services.webhooks.deliverDue(50);
    expect(hookDeliveries.length).toBeGreaterThanOrEqual(1);
    await page.getByRole('button', { name: 'Attempts' }).click();
    await page.locator('tr.attempt').first().waitFor();
    await checkScreen('dashboard-webhooks');
    const before = hookDeliveries.length;
    await page.locator('tr.attempt').first().getByRole('button', { name: 'Resend' }).click();
    await page.getByText(/Queued again/).waitFor();
    await platform.services.webhooks.deliverDue(50);
    expect(hookDeliveries.length).toBe(before + 1);
  });

  it('rolls the secret key: shown once, the old key refused by /v1', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.locator('table.data tbody tr').first().waitFor();
    expect(await page.content()).not.toContain(merchant.secretKey);
    await checkScreen('dashboard-keys');
    // A grace period is the default (issue 14); a key believed leaked is rolled "Now".
    await page.getByLabel('Old key stops working').selectOption({ label: 'Now' });
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Roll secret key' }).click();
    const secret = (await page.getByTestId('new-secret').textContent()) ?? '';
    expect(secret).toMatch(/^sk_test_/);
    await checkScreen('dashboard-keys-rolled');
    expect((await v1(platform.baseUrl, 'GET', '/v1/balance', { key: merchant.secretKey })).status).toBe(401);
    expect((await v1(platform.baseUrl, 'GET', '/v1/balance', { key: secret })).status).toBe(200);
    merchant = { ...merchant, secretKey: secret };
  });

  it('shows the counter QR and downloads it as PNG and SVG', async () => {
    await page.getByRole('link', { name: 'Counter QR' }).click();
    await page.getByRole('img', { name: /Static counter QR code of Lucky Noodles/ }).waitFor();
    await checkScreen('dashboard-qr');
    const [png] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download PNG' }).click(),
    ]);
    expect(png.suggestedFilename()).toBe('yunpay-counter-qr.png');
    const pngBytes = readFileSync((await png.path()) ?? '');
    expect(pngBytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    const [svg] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download SVG' }).click(),
    ]);
    expect(svg.suggestedFilename()).toBe('yunpay-counter-qr.svg');
    expect(readFileSync((await svg.path()) ?? '', 'utf8')).toContain('<svg');
  });

  it('signs out: the session is gone', async () => {
    const cookie = await sessionCookie();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Secret API key').waitFor();
    const after = await fetch(`${platform.baseUrl}/merchant/v1/sessions/current`, { headers: { cookie } });
    expect(after.status).toBe(401);
  });
});

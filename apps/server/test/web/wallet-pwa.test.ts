import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, launchBrowser, removeWebBuild, screenshot, seriousA11yViolations } from '../support/browser.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';

/**
 * The wallet PWA end to end: Debian's chromium (playwright-core) against the real server serving
 * a fresh vite build. Two people sign up in the UI, top up, send money to each other, pay a
 * merchant's dynamic QR from an uploaded picture, and show a payment code that a merchant redeems.
 * Every main screen is screenshotted at 360×800 and checked with axe-core.
 */
const password = 'lantern harbour quartz 58';
const pin = '470815';

function randomPhone(): string {
  return `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
}

describe('wallet PWA in a real browser', () => {
  let webDir: string;
  let platform: TestPlatform;
  let browser: Browser;
  let merchant: TestMerchant;
  let tempDir: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    webDir = await buildWeb();
    [platform, browser] = await Promise.all([startPlatform({ webDir }), launchBrowser()]);
    merchant = await createMerchant(platform.baseUrl, platform.adminToken, { name: 'Lucky Noodles' });
    tempDir = mkdtempSync(path.join(tmpdir(), 'yunpay-wallet-e2e-'));
  }, 180_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await platform?.close();
    if (webDir !== undefined) removeWebBuild(webDir);
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  });

  async function newPhone(): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 360, height: 800 },
      deviceScaleFactor: 1,
      isMobile: true,
      hasTouch: true,
      locale: 'en-US',
    });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error('page error:', error.message));
    return page;
  }

  async function expectAccessible(page: Page, screen: string): Promise<void> {
    expect({ screen, violations: await seriousA11yViolations(page) }).toEqual({ screen, violations: [] });
  }

  async function signUp(page: Page, name: string, phone: string): Promise<void> {
    await page.goto(`${platform.baseUrl}/app/`);
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await page.getByLabel('Your name').fill(name);
    await page.getByLabel('Phone or email').fill(phone);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByLabel('Payment PIN (6 digits)').fill(pin);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: `Hello, ${name}` }).waitFor();
  }

  async function tab(page: Page, name: string): Promise<void> {
    // The tab bar (its accessible name follows the language: Main / 主菜单).
    await page.locator('nav.tabs').getByRole('link', { name }).click();
  }

  it('signs up two people, tops up, sends P2P, pays a QR from a picture and shows a code a merchant redeems', async () => {
    const alice = await newPhone();
    const bob = await newPhone();
    const alicePhone = randomPhone();
    const bobPhone = randomPhone();

    // Sign-in page, then sign-up.
    await alice.goto(`${platform.baseUrl}/app/`);
    await alice.getByRole('heading', { name: 'Sign in to your wallet' }).waitFor();
    await screenshot(alice, 'wallet-sign-in');
    await expectAccessible(alice, 'sign-in');
    await signUp(alice, 'Alice', alicePhone);
    await signUp(bob, 'Bob', bobPhone);
    await screenshot(alice, 'wallet-home-empty');

    // Nothing secret in script-readable storage; the refresh token is an httpOnly cookie.
    const storage = await alice.evaluate(() =>
      JSON.stringify({ ...(globalThis as any).localStorage, cookie: (globalThis as any).document.cookie }),
    );
    expect(storage).not.toMatch(/rt_|eyJ/);
    const cookies = await alice.context().cookies();
    const refreshCookie = cookies.find((cookie) => cookie.name === 'yunpay_rt');
    expect(refreshCookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/wallet/v1/sessions' });

    // Top up 1,000.50 CNY with the test Visa token, typed with a thousands separator.
    await alice.getByRole('button', { name: 'Top up' }).click();
    await alice.getByRole('heading', { name: 'Top up' }).waitFor();
    await alice.getByLabel('Amount').fill('1,000.50');
    await screenshot(alice, 'wallet-top-up');
    await expectAccessible(alice, 'top-up');
    await alice.getByRole('button', { name: 'Top up' }).click();
    // ¥ for CNY in English too (Intl's narrowSymbol), as Alipay and WeChat Pay write it.
    await alice.getByText('Topped up ¥1,000.50.').waitFor();

    // A reload keeps the session through the cookie (the access token lived in memory only).
    await alice.reload();
    await alice.getByRole('heading', { name: 'Top up' }).waitFor();
    await tab(alice, 'Home');
    await alice.getByRole('heading', { name: 'Hello, Alice' }).waitFor();
    await alice.getByText('¥1,000.50').waitFor();
    await screenshot(alice, 'wallet-home');
    await expectAccessible(alice, 'home');

    // Send 12.34 to Bob.
    await alice.getByRole('button', { name: 'Send' }).click();
    await alice.getByLabel('To (phone, email)').fill(bobPhone);
    await alice.getByLabel('Amount').fill('12.34');
    await alice.getByLabel('Note (optional)').fill('noodles');
    await screenshot(alice, 'wallet-send');
    await expectAccessible(alice, 'send');
    await alice.getByRole('button', { name: 'Next' }).click();
    await alice.getByRole('region', { name: 'Confirm the recipient' }).getByText('¥12.34').waitFor();
    await expectAccessible(alice, 'send-confirm');
    await alice.getByRole('button', { name: 'Confirm' }).click();
    await alice.getByLabel('Payment PIN (6 digits)').fill(pin);
    await alice.getByRole('button', { name: 'Send', exact: true }).click();
    await alice.getByText('Sent ¥12.34 to Bob.').waitFor();

    // Both histories show it; the receipt has the note.
    await tab(alice, 'History');
    await alice.locator('.history-row[data-type="p2p_sent"]').getByText('−¥12.34').waitFor();
    await screenshot(alice, 'wallet-history');
    await expectAccessible(alice, 'history');
    await tab(bob, 'History');
    await bob.locator('.history-row[data-type="p2p_received"]').getByText('+¥12.34').waitFor();
    await alice.locator('.history-row[data-type="p2p_sent"]').click();
    await alice.getByRole('heading', { name: 'Receipt' }).waitFor();
    await alice.getByText('noodles').waitFor();
    await screenshot(alice, 'wallet-receipt');
    await expectAccessible(alice, 'receipt');
    // Filters: only top-ups.
    await tab(alice, 'History');
    await alice.getByLabel('Type').selectOption('topup');
    await alice.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => alice.locator('.history-row[data-type="p2p_sent"]').count()).toBe(0);
    await alice.locator('.history-row[data-type="topup"]').first().waitFor();

    // A merchant's dynamic QR, uploaded as a picture.
    const created = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
      key: merchant.secretKey,
      form: { amount: '888', currency: 'cny', confirm: 'true', 'payment_method_data[type]': 'wallet' },
    });
    expect(created.body.status).toBe('requires_action');
    const imageDataUrl: string = created.body.next_action.wallet_display_qr_code.image_data_url;
    const qrFile = path.join(tempDir, 'merchant-qr.png');
    writeFileSync(qrFile, Buffer.from(imageDataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
    await tab(alice, 'Scan');
    await alice.getByRole('heading', { name: 'Scan a merchant QR' }).waitFor();
    await screenshot(alice, 'wallet-scan');
    await expectAccessible(alice, 'scan');
    await alice.getByLabel('Upload a picture of the QR code').setInputFiles(qrFile);
    await expect.poll(() => alice.locator('.preview-merchant').textContent()).toBe('Lucky Noodles');
    expect(await alice.locator('.preview-amount').textContent()).toBe('¥8.88');
    await alice.getByLabel('Payment PIN (6 digits)').fill(pin);
    await screenshot(alice, 'wallet-scan-preview');
    await alice.getByRole('button', { name: 'Pay ¥8.88' }).click();
    // A test-mode merchant: the payment is simulated, and the wallet says so (issue 14, defect 5).
    await alice.getByText('Test payment of ¥8.88 to Lucky Noodles. No money moved.').waitFor();
    const paid = await v1(platform.baseUrl, 'GET', `/v1/payment_intents/${created.body.id}`, {
      key: merchant.secretKey,
    });
    expect(paid.body).toMatchObject({ status: 'succeeded', amount: 888 });

    // The Pay page's code (QR, barcode and its 18 digits) pays at a till.
    await tab(alice, 'Pay');
    const digits = alice.locator('.code-digits');
    await digits.waitFor();
    const code = String(await digits.getAttribute('data-code'));
    expect(code).toMatch(/^88\d{16}$/);
    expect((await digits.textContent())?.replace(/\s/g, '')).toBe(code);
    await alice.getByRole('img', { name: 'Payment code as a QR code' }).waitFor();
    await alice.getByRole('img', { name: 'Payment code as a barcode' }).waitFor();
    await screenshot(alice, 'wallet-pay');
    await expectAccessible(alice, 'pay');
    const till = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
      key: merchant.secretKey,
      form: {
        amount: '500',
        currency: 'cny',
        confirm: 'true',
        'payment_method_data[type]': 'wallet',
        'payment_method_data[wallet][code]': code,
      },
    });
    expect(till.body).toMatchObject({ status: 'succeeded', amount: 500 });
    // The wallet notices its code was used at once: a full-screen result, labelled as a test.
    const result = alice.getByRole('dialog', { name: 'Test payment' });
    await result.waitFor();
    expect(await result.textContent()).toContain('Lucky Noodles');
    await result.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => digits.getAttribute('data-code')).not.toBe(code);

    // Settings: devices, PIN, language (zh-CN sets <html lang>), sign out.
    await tab(alice, 'Settings');
    await alice.getByRole('heading', { name: 'Devices' }).waitFor();
    await alice.getByText('(this device)').waitFor();
    await screenshot(alice, 'wallet-settings');
    await expectAccessible(alice, 'settings');
    await alice.getByLabel('Language').first().selectOption('zh-CN');
    await alice.getByRole('heading', { name: '设置' }).waitFor();
    expect(await alice.evaluate(() => (globalThis as any).document.documentElement.lang)).toBe('zh-CN');
    await tab(alice, '首页');
    // Test-mode merchant payments never touch the wallet's money: 1,000.50 − 12.34.
    await alice.getByText('¥988.16').waitFor();
    await screenshot(alice, 'wallet-home-zh');
    await expectAccessible(alice, 'home (zh-CN)');
    await tab(alice, '设置');
    await alice.getByRole('button', { name: '退出登录' }).click();
    await alice.getByRole('heading', { name: '登录钱包' }).waitFor();
    expect((await alice.context().cookies()).find((cookie) => cookie.name === 'yunpay_rt')).toBeUndefined();
  }, 120_000);
});

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, launchBrowser, removeWebBuild, screenshot } from '../support/browser.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, available, signUp, testPassword, testPin, topUp, type TestUser } from '../support/wallet.js';

/**
 * Issue 14, as a cashier and a customer meet them at the counter: test-mode payments labelled as
 * such on the POS, in the wallet and on the dashboard (5); a used pay code noticed by the wallet at
 * once, and POS errors in words with "Try again" (6); Cancel while the customer approves (7); the
 * POS on a 360×800 phone with a physical keyboard (13).
 */
let webDir: string;
let platform: TestPlatform;
let browser: Browser;
let merchant: TestMerchant;

// Browser globals used inside page.evaluate (the server's tsconfig has no DOM lib).
declare const window: { localStorage: { setItem(key: string, value: string): void }; innerHeight: number };

beforeAll(async () => {
  webDir = await buildWeb();
  [platform, browser] = await Promise.all([startPlatform({ webDir }), launchBrowser()]);
  merchant = await createMerchant(platform.baseUrl, platform.adminToken, { name: 'Noodle Bar' });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close();
  if (webDir !== undefined) removeWebBuild(webDir);
});

async function phoneContext(locale: 'en' | 'zh-CN' = 'en'): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: 360, height: 800 },
    isMobile: true,
    hasTouch: true,
    locale: locale === 'en' ? 'en-US' : 'zh-CN',
  });
  await context.addInitScript((stored) => {
    window.localStorage.setItem('yunpay.merchant.locale', stored);
    window.localStorage.setItem('yunpay.locale', stored);
  }, locale);
  return context;
}

/** The POS signed in with the test merchant's secret key. */
async function openPos(context: BrowserContext): Promise<Page> {
  const till = await context.newPage();
  await till.goto(`${platform.baseUrl}/pos/`);
  await till.getByLabel(/Secret API key|密钥/).fill(merchant.secretKey);
  await till.locator('form button[type="submit"]').click();
  await till.locator('.keypad').waitFor();
  return till;
}

/** The wallet of `user` signed in on a 360×800 phone, on the Pay screen. */
async function openWalletPay(context: BrowserContext, user: TestUser): Promise<Page> {
  const phone = await context.newPage();
  await phone.goto(`${platform.baseUrl}/app/`);
  await phone.getByLabel('Phone (+86…) or email').fill(user.phone);
  await phone.getByLabel('Password', { exact: true }).fill(testPassword);
  await phone.getByRole('button', { name: 'Sign in', exact: true }).click();
  await phone.getByRole('heading', { name: `Hello, ${user.name}` }).waitFor();
  await phone.locator('nav.tabs').getByRole('link', { name: 'Pay' }).click();
  await phone.locator('.code-digits').waitFor();
  return phone;
}

async function shownCode(phone: Page): Promise<string> {
  const code = await phone.locator('.code-digits').getAttribute('data-code');
  expect(code).toMatch(/^\d{18}$/);
  return code!;
}

async function keyIn(till: Page, amount: string): Promise<void> {
  for (const key of amount) await till.getByRole('button', { name: key, exact: true }).click();
}

async function charge(till: Page, code: string): Promise<void> {
  await till.getByRole('button', { name: 'Scan customer code' }).click();
  await till.getByLabel('Customer payment code').fill(code);
  await till.keyboard.press('Enter');
}

describe('defect 5: test-mode payments are labelled as tests everywhere', () => {
  it('a real wallet paying a test-mode merchant: the POS, the wallet and the dashboard say "test", no money moves', async () => {
    const user = await signUp(platform.baseUrl, 'Dora');
    await topUp(platform.baseUrl, user, 10_000);
    const before = await available(platform.baseUrl, user);
    const context = await phoneContext();
    const phone = await openWalletPay(context, user);
    const till = await openPos(await browser.newContext({ locale: 'en-US' }));
    await keyIn(till, '2550');
    await charge(till, await shownCode(phone));

    const outcome = till.locator('[data-outcome="succeeded"]');
    await outcome.waitFor({ timeout: 15_000 });
    await expect.poll(() => outcome.textContent()).toContain('Test payment');
    expect(await till.locator('.receipt').textContent()).toContain('Test payment: no money moved');
    await screenshot(till, 'pos-defects-test-payment-pos');

    // The wallet says what happened: a simulated payment at a test-mode merchant.
    const result = phone.getByRole('dialog', { name: /Test payment/ });
    await result.waitFor({ timeout: 10_000 });
    const resultText = (await result.textContent()) ?? '';
    expect(resultText).toContain('Noodle Bar');
    expect(resultText).toMatch(/¥25\.50/);
    expect(resultText).toContain('No money moved');
    await screenshot(phone, 'pos-defects-test-payment-wallet');
    expect(await available(platform.baseUrl, user)).toBe(before);

    // The QR way round: the wallet previews and pays the POS's QR, and says "test" too.
    const intent = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
      key: merchant.secretKey,
      form: { amount: 300, currency: 'cny', confirm: true, payment_method_data: { type: 'wallet' } },
    });
    expect(intent.body.status).toBe('requires_action');
    expect(intent.body.livemode).toBe(false);
    await result.getByRole('button', { name: 'Done' }).click();
    await phone.locator('nav.tabs').getByRole('link', { name: 'Scan' }).click();
    await phone.getByLabel('Or paste the code text').fill(intent.body.next_action.wallet_display_qr_code.data);
    await phone.getByRole('button', { name: 'Check' }).click();
    await phone.getByText('Test mode: this merchant is testing. No money will move.').waitFor();
    await phone.getByLabel('Payment PIN').fill(testPin);
    await phone.getByRole('button', { name: /^Pay / }).click();
    await phone.getByText(/^Test payment of (CN)?¥3\.00 to Noodle Bar\. No money moved\.$/).waitFor();
    expect(await available(platform.baseUrl, user)).toBe(before);

    // The dashboard's payments list marks test rows.
    const desk = await (await browser.newContext({ locale: 'en-US' })).newPage();
    await desk.addInitScript(() => window.localStorage.setItem('yunpay.merchant.locale', 'en'));
    await desk.goto(`${platform.baseUrl}/dashboard/`);
    await desk.getByLabel('Secret API key').fill(merchant.secretKey);
    await desk.getByRole('button', { name: 'Sign in' }).click();
    const row = desk.locator('table.data tbody tr').first();
    await row.waitFor();
    await expect.poll(() => row.locator('.badge-test').textContent()).toBe('Test');
    await screenshot(desk, 'pos-defects-test-payment-dashboard');
    await context.close();
  });
});

describe('defect 6: a used code is noticed at once; POS errors in words, with Try again', () => {
  it('the wallet shows a full-screen result and a new code the moment its code is used (live notification)', async () => {
    // A live merchant this time: real money moves, and the result says "Paid", not "Test".
    const admin = await api(platform.baseUrl, 'POST', '/admin/v1/merchants', {
      token: platform.adminToken,
      body: { name: 'Tea House', country: 'CN', default_currency: 'CNY', mcc: '5812' },
    });
    const activated = await api(platform.baseUrl, 'POST', `/admin/v1/merchants/${admin.body.id}/activate`, {
      token: platform.adminToken,
    });
    expect(activated.body.secret_key).toMatch(/^sk_live_/);
    const user = await signUp(platform.baseUrl, 'Eve');
    await topUp(platform.baseUrl, user, 10_000);
    const context = await phoneContext();
    const phone = await openWalletPay(context, user);
    const used = await shownCode(phone);
    const paid = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
      key: activated.body.secret_key as string,
      form: {
        amount: 680,
        currency: 'cny',
        confirm: true,
        payment_method_data: { type: 'wallet', wallet: { code: used } },
      },
    });
    expect(paid.body.status).toBe('succeeded');
    const result = phone.getByRole('dialog', { name: 'Paid' });
    await result.waitFor({ timeout: 10_000 });
    const text = (await result.textContent()) ?? '';
    expect(text).toMatch(/¥6\.80/);
    expect(text).toContain('Tea House');
    expect(text).not.toContain('No money moved');
    expect(await available(platform.baseUrl, user)).toBe(10_000 - 680);
    await screenshot(phone, 'pos-defects-wallet-code-used');
    // The used code is gone from the screen at once, not when its countdown ends.
    await expect.poll(() => phone.locator('.code-digits').getAttribute('data-code'), { timeout: 5_000 }).not.toBe(used);
    await result.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => result.count()).toBe(0);
    await context.close();
  });

  it('the POS says in words that a code was used and tries again with the same sale', async () => {
    const user = await signUp(platform.baseUrl, 'Finn');
    await topUp(platform.baseUrl, user, 10_000);
    const code = async () =>
      (await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: user.accessToken })).body
        .code as string;
    const spent = await code();
    await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
      key: merchant.secretKey,
      form: {
        amount: 100,
        currency: 'cny',
        confirm: true,
        payment_method_data: { type: 'wallet', wallet: { code: spent } },
      },
    });
    for (const locale of ['en', 'zh-CN'] as const) {
      const till = await openPos(await phoneContext(locale));
      await keyIn(till, '975');
      await till.locator('.pos .actions button').first().click();
      await till.locator('#payment-code').fill(spent);
      await till.keyboard.press('Enter');
      const declined = till.locator('[data-outcome="declined"]');
      await declined.waitFor({ timeout: 15_000 });
      const text = (await declined.textContent()) ?? '';
      expect(text).not.toContain('payment_code_used');
      expect(text).toContain(locale === 'en' ? 'This payment code was already used' : '此付款码已使用');
      await screenshot(till, `pos-defects-code-used-${locale}`);
      await till.getByRole('button', { name: locale === 'en' ? 'Try again' : '重试' }).click();
      // The same sale: the amount is kept and the code field is ready for the next scan.
      expect(await till.locator('output.amount').getAttribute('data-amount-minor')).toBe('975');
      await till.locator('#payment-code').fill(await code());
      await till.keyboard.press('Enter');
      await till.locator('[data-outcome="succeeded"]').waitFor({ timeout: 15_000 });
      await till.context().close();
    }
  });
});

describe('defect 7: Cancel while the customer approves', () => {
  it('cancels the payment intent on the server and returns to the sale', async () => {
    const user = await signUp(platform.baseUrl, 'Gus');
    await topUp(platform.baseUrl, user, 500_00);
    const till = await openPos(await phoneContext());
    await keyIn(till, '30000'); // CN¥300.00: above the no-PIN threshold, so the customer approves
    const code = (await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: user.accessToken })).body
      .code as string;
    await charge(till, code);
    await till.locator('[data-outcome="awaiting"]').waitFor({ timeout: 15_000 });
    const waiting = await api(platform.baseUrl, 'GET', '/wallet/v1/payment_approvals', { token: user.accessToken });
    expect(waiting.body.data).toHaveLength(1);
    expect(waiting.body.data[0].livemode).toBe(false); // the wallet's prompt says it is a test
    const cancel = till.getByRole('button', { name: 'Cancel' });
    expect(await cancel.isVisible()).toBe(true);
    await screenshot(till, 'pos-defects-awaiting-cancel');
    await cancel.click();
    await till.locator('.keypad').waitFor();
    expect(await till.locator('output.amount').getAttribute('data-amount-minor')).toBe('30000');
    const listed = await v1(platform.baseUrl, 'GET', '/v1/payment_intents?limit=1', { key: merchant.secretKey });
    expect(listed.body.data[0]).toMatchObject({ amount: 30_000, status: 'canceled' });
    // The customer's phone no longer asks to approve it.
    const approvals = await api(platform.baseUrl, 'GET', '/wallet/v1/payment_approvals', { token: user.accessToken });
    expect(approvals.body.data).toEqual([]);
    // …and cannot approve it any more: nothing is paid after the cashier canceled.
    const late = await api(platform.baseUrl, 'POST', `/wallet/v1/payment_approvals/${waiting.body.data[0].id}`, {
      token: user.accessToken,
      body: { pin: testPin },
    });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('payment_approval_closed');
    expect(await available(platform.baseUrl, user)).toBe(500_00);
    await till.context().close();
  });
});

describe('defect 13: the POS on a 360×800 phone and with a keyboard', () => {
  it('fits the phone: compact header, full-width buttons, the wait visible without scrolling', async () => {
    const till = await openPos(await phoneContext());
    const header = await till.locator('header.topbar').boundingBox();
    expect(header!.height).toBeLessThanOrEqual(64);
    const main = await till.locator('main.pos').boundingBox();
    for (const name of ['Scan customer code', 'Show QR']) {
      const box = await till.getByRole('button', { name }).boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(360);
      expect(box!.width).toBeGreaterThanOrEqual(main!.width - 2 * 16 - 1); // the content width
      expect(box!.y + box!.height).toBeLessThanOrEqual(800);
    }
    await screenshot(till, 'pos-defects-phone-keypad');
    await keyIn(till, '500');
    await till.getByRole('button', { name: 'Show QR' }).click();
    const waiting = till.locator('[data-outcome="waiting_scan"]');
    await waiting.waitFor({ timeout: 15_000 });
    const box = await waiting.boundingBox();
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.y + box!.height).toBeLessThanOrEqual(await till.evaluate(() => window.innerHeight));
    await screenshot(till, 'pos-defects-phone-qr');
    await till.context().close();
  });

  it('takes the amount from a physical keyboard: digits, ".", Backspace and Enter', async () => {
    const till = await openPos(await phoneContext());
    const amount = till.locator('output.amount');
    await till.keyboard.type('12.57');
    await expect.poll(() => amount.getAttribute('data-amount-minor')).toBe('1257');
    await till.keyboard.press('Backspace');
    await till.keyboard.type('9');
    await expect.poll(() => amount.getAttribute('data-amount-minor')).toBe('1259');
    await till.keyboard.press('Enter'); // the main action: scan the customer's code
    await till.getByLabel('Customer payment code').waitFor();
    await till.context().close();
  });
});

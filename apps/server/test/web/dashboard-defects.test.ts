import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, launchBrowser, removeWebBuild, screenshot } from '../support/browser.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, newKey, signUp, topUp, type TestUser } from '../support/wallet.js';

// Browser globals used inside page.evaluate (the server's tsconfig has no DOM lib); module-scoped.
declare const window: {
  localStorage: { setItem(key: string, value: string): void };
  getComputedStyle(element: unknown): { textAlign: string; fontVariantNumeric: string };
};
declare const navigator: { clipboard: { readText(): Promise<string> } };
declare const document: { documentElement: { lang: string } };

/**
 * Issue 14, the merchant dashboard as a new user met it (defects 9–12): raw API statuses, a partly
 * refunded payment shown as "succeeded", refunds without a confirmation, English POS descriptions in
 * the Chinese dashboard, new sales only after a reload; a chart without axes or values, dates in
 * two formats, misaligned number columns; a loopback webhook URL refused with a bare code; a masked
 * publishable key without a copy button and a key roll that defaults to "Now".
 */
let webDir: string;
let platform: TestPlatform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let merchant: TestMerchant;
let payer: TestUser;
const cspViolations: string[] = [];

beforeAll(async () => {
  webDir = await buildWeb();
  // The default: webhook endpoints on loopback and private networks are refused.
  [platform, browser] = await Promise.all([startPlatform({ webDir }), launchBrowser()]);
  merchant = await createMerchant(platform.baseUrl, platform.adminToken, { name: 'Tea House' });
  payer = await signUp(platform.baseUrl, 'Payer');
  await topUp(platform.baseUrl, payer, 500_000);
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: platform.baseUrl });
  await context.addInitScript(() => window.localStorage.setItem('yunpay.merchant.locale', 'en'));
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (message: ConsoleMessage) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  await page.goto(`${platform.baseUrl}/dashboard/`);
  await page.getByLabel('Secret API key').fill(merchant.secretKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close();
  if (webDir !== undefined) removeWebBuild(webDir);
});

/** A wallet payment through /v1 (below the no-PIN threshold: it succeeds at once). */
async function walletPayment(amount: number, form: Record<string, unknown> = {}): Promise<string> {
  const issued = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: payer.accessToken });
  expect(issued.status).toBe(201);
  const created = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
    key: merchant.secretKey,
    idempotencyKey: newKey(),
    form: {
      amount,
      currency: 'cny',
      confirm: true,
      payment_method_data: { type: 'wallet', wallet: { code: issued.body.code } },
      ...form,
    },
  });
  expect(created.status).toBe(200);
  expect(created.body.status).toBe('succeeded');
  return created.body.id as string;
}

/** Each test starts on its own screen, in English (the init script sets it on every load). */
let loads = 0;
async function open(section: string): Promise<void> {
  // A new query string: a real page load (a fragment change alone would not reload the data).
  loads += 1;
  await page.goto(`${platform.baseUrl}/dashboard/?load=${loads}#/${section}`);
  await page.getByRole('navigation').getByRole('link', { name: 'Payments', exact: true }).waitFor();
}

function row(id: string) {
  return page.locator('table.data tbody tr').filter({ has: page.getByRole('link', { name: id, exact: true }) });
}

/** The index of a column of the payments table by its (English) header: columns come and go. */
async function columnIndex(header: string): Promise<number> {
  const index = (await page.locator('table.data thead th').allTextContents()).indexOf(header);
  expect(index, header).toBeGreaterThan(-1);
  return index;
}

async function setLanguage(locale: 'en' | 'zh-CN'): Promise<void> {
  await page.locator('.lang-switch select').selectOption(locale);
  await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe(locale);
}

let succeededId: string;
let partlyRefundedId: string;
let incompleteId: string;
let canceledId: string;

describe('defect 9: payments in words people use, confirmed refunds, live updates', () => {
  it('shows statuses as human labels in English and Chinese, never the raw API status', async () => {
    succeededId = await walletPayment(1250);
    partlyRefundedId = await walletPayment(2000);
    const refund = await v1(platform.baseUrl, 'POST', '/v1/refunds', {
      key: merchant.secretKey,
      form: { payment_intent: partlyRefundedId, amount: 500 },
    });
    expect(refund.status).toBe(200);
    const incomplete = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
      key: merchant.secretKey,
      form: { amount: 700, currency: 'cny' },
    });
    expect(incomplete.body.status).toBe('requires_payment_method');
    incompleteId = incomplete.body.id as string;
    const toCancel = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
      key: merchant.secretKey,
      form: { amount: 300, currency: 'cny' },
    });
    canceledId = toCancel.body.id as string;
    expect(
      (await v1(platform.baseUrl, 'POST', `/v1/payment_intents/${canceledId}/cancel`, { key: merchant.secretKey }))
        .status,
    ).toBe(200);

    await open('payments');
    await row(canceledId).waitFor();
    await expect.poll(() => row(succeededId).locator('.status').textContent()).toBe('Succeeded');
    expect(await row(partlyRefundedId).locator('.status').textContent()).toBe('Partially refunded');
    expect(await row(incompleteId).locator('.status').textContent()).toBe('Incomplete');
    expect(await row(canceledId).locator('.status').textContent()).toBe('Canceled');
    const table = (await page.locator('table.data').textContent()) ?? '';
    expect(table).not.toMatch(/requires_|succeeded|canceled/);
    const options = await page.getByLabel('Status').locator('option').allTextContents();
    expect(options.join(' ')).not.toContain('requires_');
    expect(options).toContain('Partially refunded');
    await screenshot(page, 'dashboard-defects-statuses');

    await setLanguage('zh-CN');
    await expect.poll(() => row(succeededId).locator('.status').textContent()).toBe('成功');
    expect(await row(partlyRefundedId).locator('.status').textContent()).toBe('部分退款');
    expect(await row(incompleteId).locator('.status').textContent()).toBe('未完成');
    expect(await row(canceledId).locator('.status').textContent()).toBe('已取消');
    expect((await page.locator('table.data').textContent()) ?? '').not.toMatch(/requires_|succeeded|canceled/);
    await screenshot(page, 'dashboard-defects-statuses-zh');
    await setLanguage('en');
  });

  it('filters by the partly refunded status', async () => {
    await open('payments');
    await page.getByLabel('Status').selectOption({ label: 'Partially refunded' });
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('table.data tbody tr').count()).toBe(1);
    await row(partlyRefundedId).waitFor();
    await page.getByLabel('Status').selectOption({ label: 'Any' });
    await page.getByRole('button', { name: 'Apply' }).click();
    await row(succeededId).waitFor();
  });

  it('says a partly refunded payment is partly refunded, with the amount refunded', async () => {
    await open(`payments/${partlyRefundedId}`);
    await page.getByRole('heading', { name: `Payment ${partlyRefundedId}` }).waitFor();
    expect(await page.locator('.facts .status').textContent()).toBe('Partially refunded');
    expect(await page.getByTestId('refunded').textContent()).toContain('5.00');
    const timeline = (await page.locator('.timeline').textContent()) ?? '';
    expect(timeline).not.toMatch(/— (succeeded|pending)/);
  });

  it('asks for a confirmation (amount, then confirm) before refunding', async () => {
    await open(`payments/${partlyRefundedId}`);
    await page.getByRole('heading', { name: `Payment ${partlyRefundedId}` }).waitFor();
    // The field is prefilled with what is left to refund once the payment has loaded; type after that.
    const amount = page.getByLabel('Refund amount');
    await expect.poll(() => amount.inputValue()).not.toBe('');
    await amount.fill('3.00');
    await expect.poll(() => amount.inputValue()).toBe('3.00');
    await page.getByRole('button', { name: 'Refund', exact: true }).click();
    const confirmation = page.getByRole('alertdialog');
    await confirmation.waitFor();
    expect(await confirmation.textContent()).toContain('3.00');
    await screenshot(page, 'dashboard-defects-refund-confirm');
    // Nothing refunded before the merchant confirms; going back refunds nothing either.
    await confirmation.getByRole('button', { name: 'Back' }).click();
    const before = await v1(platform.baseUrl, 'GET', `/v1/refunds?payment_intent=${partlyRefundedId}`, {
      key: merchant.secretKey,
    });
    expect(before.body.data).toHaveLength(1);
    await page.getByRole('button', { name: 'Refund', exact: true }).click();
    await page
      .getByRole('alertdialog')
      .getByRole('button', { name: /Confirm refund/ })
      .click();
    await page.getByText(/Refund re_\w+ created/).waitFor({ timeout: 15_000 });
    const after = await v1(platform.baseUrl, 'GET', `/v1/refunds?payment_intent=${partlyRefundedId}`, {
      key: merchant.secretKey,
    });
    expect(after.body.data.map((refund: { amount: number }) => refund.amount).sort()).toEqual([300, 500]);
    await expect.poll(() => page.getByTestId('refunded').textContent()).toContain('8.00');
  });

  it('shows the POS’s descriptions in the dashboard’s language', async () => {
    const till = await context.newPage();
    await till.goto(`${platform.baseUrl}/pos/`);
    await till.getByRole('group', { name: 'Amount keypad' }).waitFor();
    for (const key of '990') await till.getByRole('button', { name: key, exact: true }).click();
    await till.getByRole('button', { name: 'Scan customer code' }).click();
    const issued = await api(platform.baseUrl, 'POST', '/wallet/v1/payment_codes', { token: payer.accessToken });
    await till.getByLabel('Customer payment code').fill(issued.body.code as string);
    await till.keyboard.press('Enter');
    await till.locator('[data-outcome="succeeded"]').waitFor({ timeout: 15_000 });
    const posId = ((await till.locator('.receipt .mono').textContent()) ?? '').trim();
    await till.close();
    expect(posId).toMatch(/^pi_/);

    await open('payments');
    await row(posId).waitFor();
    const description = await columnIndex('Description');
    expect(await row(posId).locator('td').nth(description).textContent()).toBe('POS sale');
    await setLanguage('zh-CN');
    await expect.poll(() => row(posId).locator('td').nth(description).textContent()).toBe('收银台收款');
    expect((await page.locator('table.data').textContent()) ?? '').not.toContain('POS sale');
    await setLanguage('en');
  });

  it('shows a new sale without a reload', async () => {
    await open('payments');
    await row(succeededId).waitFor();
    const id = await walletPayment(4321);
    await row(id).waitFor({ timeout: 20_000 });
    expect(await row(id).locator('.status').textContent()).toBe('Succeeded');
  });
});

describe('defect 10: a real chart, one date format, aligned numbers', () => {
  it('draws the daily chart with axes and a legend that shows the value under the cursor, under the CSP', async () => {
    await open('balance');
    const chart = page.locator('.uplot').first();
    await chart.waitFor();
    expect(await chart.locator('.u-axis').count()).toBeGreaterThanOrEqual(2);
    const over = chart.locator('.u-over');
    const box = await over.boundingBox();
    expect(box).not.toBeNull();
    if (box === null) return;
    // The last day is today, where every payment of this test is.
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    await expect.poll(() => chart.locator('.u-legend').textContent()).toMatch(/CN¥\d/);
    const legend = (await chart.locator('.u-legend').textContent()) ?? '';
    expect(legend).toContain('Volume');
    expect(legend).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    expect(cspViolations).toEqual([]);
    await screenshot(page, 'dashboard-defects-balance');
  });

  it('formats every date one way (the dashboard’s locale) and right-aligns number columns', async () => {
    await open('balance');
    const day = page.locator('figure.chart table.data tbody th').first();
    const dayText = ((await day.textContent()) ?? '').trim();
    expect(dayText).not.toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(dayText).toMatch(/[A-Z][a-z]{2} \d{1,2}, \d{4}/);
    for (const table of [page.locator('figure.chart table.data').first(), page.locator('table.data').first()]) {
      const headers = table.locator('thead th');
      const count = await headers.count();
      for (let index = 1; index < count; index += 1) {
        const align = await headers.nth(index).evaluate((element) => window.getComputedStyle(element).textAlign);
        const cell = table
          .locator('tbody tr')
          .first()
          .locator('td')
          .nth(index - 1);
        const cellStyle = await cell.evaluate((element) => window.getComputedStyle(element));
        expect(align).toBe('right');
        expect(cellStyle.textAlign).toBe('right');
        expect(cellStyle.fontVariantNumeric).toContain('tabular-nums');
      }
    }
    await setLanguage('zh-CN');
    await expect.poll(async () => ((await day.textContent()) ?? '').trim()).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日$/);
    await screenshot(page, 'dashboard-defects-balance-zh');
    await setLanguage('en');

    await page.getByRole('link', { name: 'Payments' }).click();
    await row(succeededId).waitFor();
    const amountHeader = page.locator('table.data thead th').nth(1);
    expect(await amountHeader.evaluate((element) => window.getComputedStyle(element).textAlign)).toBe('right');
    const created = (
      (await row(succeededId)
        .locator('td')
        .nth(await columnIndex('Created'))
        .textContent()) ?? ''
    ).trim();
    expect(created).toMatch(/^[A-Z][a-z]{2} \d{1,2}, \d{4}/);
  });

  it('fits the chart on a phone (360×800)', async () => {
    await page.setViewportSize({ width: 360, height: 800 });
    try {
      await open('balance');
      const chart = page.locator('.uplot').first();
      await chart.waitFor();
      // uPlot sizes itself to its container after the viewport change: wait for that layout.
      await expect.poll(async () => (await chart.boundingBox())?.width ?? 0, { timeout: 10_000 }).toBeGreaterThan(200);
      const box = await chart.boundingBox();
      expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(360);
      await screenshot(page, 'dashboard-defects-balance-phone');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });
});

describe('defect 11: a refused webhook URL explains itself', () => {
  it('explains YUNPAY_WEBHOOK_ALLOW_PRIVATE and local testing, in English and Chinese', async () => {
    const refused = await v1(platform.baseUrl, 'POST', '/v1/webhook_endpoints', {
      key: merchant.secretKey,
      form: { url: 'http://127.0.0.1:9/hook', 'enabled_events[]': '*' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('url_invalid');
    expect(refused.body.error.message).toContain('YUNPAY_WEBHOOK_ALLOW_PRIVATE');

    await open('webhooks');
    await page.getByLabel('Endpoint URL').fill('http://127.0.0.1:9/hook');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).not.toMatch(/^url_invalid/);
    expect(text).toContain('YUNPAY_WEBHOOK_ALLOW_PRIVATE');
    expect(text).toMatch(/test webhooks locally/i);
    await screenshot(page, 'dashboard-defects-webhook-refused');

    await setLanguage('zh-CN');
    await page.getByRole('button', { name: '添加端点' }).click();
    await expect.poll(async () => (await page.getByRole('alert').textContent()) ?? '').toMatch(/本地测试/);
    expect((await page.getByRole('alert').textContent()) ?? '').toContain('YUNPAY_WEBHOOK_ALLOW_PRIVATE');
    await screenshot(page, 'dashboard-defects-webhook-refused-zh');
    await setLanguage('en');
  });
});

describe('defect 12: API keys', () => {
  it('shows the publishable key in full with a copy button', async () => {
    await open('keys');
    await page.locator('table.data tbody tr').first().waitFor();
    const publishable = page.locator('table.data tbody tr').filter({ hasText: 'pk_test_' });
    expect(await publishable.locator('.mono').textContent()).toBe(merchant.publishableKey);
    await publishable.getByRole('button', { name: /Copy/ }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(merchant.publishableKey);
    expect(await page.content()).not.toContain(merchant.secretKey);
    await screenshot(page, 'dashboard-defects-keys');
  });

  it('rolls the secret key with a grace period by default; the new secret has a copy button', async () => {
    await open('keys');
    const grace = page.getByLabel('Old key stops working');
    expect(await grace.locator('option:checked').textContent()).toBe('In 1 hour');
    expect(await grace.locator('option').allTextContents()).toEqual(['Now', 'In 1 hour', 'In 24 hours', 'In 7 days']);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Roll secret key' }).click();
    const secret = ((await page.getByTestId('new-secret').textContent()) ?? '').trim();
    expect(secret).toMatch(/^sk_test_/);
    // The old key keeps working during the grace period.
    expect((await v1(platform.baseUrl, 'GET', '/v1/balance', { key: merchant.secretKey })).status).toBe(200);
    expect((await v1(platform.baseUrl, 'GET', '/v1/balance', { key: secret })).status).toBe(200);
    await page.getByRole('region', { name: 'New secret key' }).getByRole('button', { name: /Copy/ }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    const expiring = page.locator('table.data tbody tr').filter({ hasText: 'sk_test_' });
    expect(await expiring.count()).toBe(2);
    await screenshot(page, 'dashboard-defects-keys-rolled');
  });
});

import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, launchBrowser, removeWebBuild, screenshot, seriousA11yViolations } from '../support/browser.js';
import { createMerchant, v1, type TestMerchant } from '../support/merchant.js';
import { startPlatform, type TestPlatform } from '../support/platform.js';
import { api, newKey, signUp, topUp, type TestUser } from '../support/wallet.js';

// Browser globals used inside page.evaluate (the server's tsconfig has no DOM lib); module-scoped.
declare const window: { localStorage: { setItem(key: string, value: string): void } };
declare const document: { documentElement: { lang: string } };

/**
 * Issue 14, the dashboard as good as Stripe's: an overview first (today's volume, count, fees and
 * net from the server, a daily chart, the latest payments with the Test badge), the payment method
 * and fee/net on each payment, and the filtered payments list as a CSV file (amounts exact).
 */
let webDir: string;
let platform: TestPlatform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let merchant: TestMerchant;
let payer: TestUser;

beforeAll(async () => {
  webDir = await buildWeb();
  [platform, browser] = await Promise.all([startPlatform({ webDir }), launchBrowser()]);
  merchant = await createMerchant(platform.baseUrl, platform.adminToken, { name: 'Plum Bakery' });
  payer = await signUp(platform.baseUrl, 'Payer');
  await topUp(platform.baseUrl, payer, 500_000);
  context = await browser.newContext({
    locale: 'en-US',
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  await context.addInitScript(() => window.localStorage.setItem('yunpay.merchant.locale', 'en'));
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
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

/** "12.50" from 1250 fen, by integer arithmetic (never floats). */
function major(amountMinor: number): string {
  const sign = amountMinor < 0 ? '-' : '';
  const absolute = Math.abs(amountMinor);
  return `${sign}${Math.trunc(absolute / 100)}.${String(absolute % 100).padStart(2, '0')}`;
}

interface ChargeFacts {
  fee: number;
  net: number;
}

/** The fee and net of each payment's charge, as /v1/balance_transactions has them. */
async function chargeFacts(): Promise<Map<string, ChargeFacts>> {
  const listed = await v1(platform.baseUrl, 'GET', '/v1/balance_transactions?type=charge&limit=100', {
    key: merchant.secretKey,
  });
  expect(listed.status).toBe(200);
  const byCharge = new Map<string, ChargeFacts>();
  for (const entry of listed.body.data as { source: string; fee: number; net: number }[]) {
    byCharge.set(entry.source, { fee: entry.fee, net: entry.net });
  }
  const byIntent = new Map<string, ChargeFacts>();
  const intents = await v1(platform.baseUrl, 'GET', '/v1/payment_intents?limit=100', { key: merchant.secretKey });
  for (const intent of intents.body.data as { id: string; latest_charge: string | null }[]) {
    const facts = intent.latest_charge === null ? undefined : byCharge.get(intent.latest_charge);
    if (facts !== undefined) byIntent.set(intent.id, facts);
  }
  return byIntent;
}

let loads = 0;
async function open(section: string): Promise<void> {
  loads += 1;
  await page.goto(`${platform.baseUrl}/dashboard/?load=${loads}#/${section}`);
  await page.getByRole('navigation').getByRole('link', { name: 'Payments', exact: true }).waitFor();
}

async function setLanguage(target: Page, locale: 'en' | 'zh-CN'): Promise<void> {
  await target.locator('.lang-switch select').selectOption(locale);
  await expect.poll(() => target.evaluate(() => document.documentElement.lang)).toBe(locale);
}

/** Screenshots at the dashboard's size and a phone's, in English and Chinese, with axe checks. */
async function screens(target: Page, name: string, ready: () => Promise<void>): Promise<void> {
  for (const locale of ['en', 'zh-CN'] as const) {
    await setLanguage(target, locale);
    for (const [width, label] of [
      [1280, 'desktop'],
      [360, 'phone'],
    ] as const) {
      await target.setViewportSize({ width, height: 800 });
      await ready();
      await screenshot(target, `${name}-${locale}-${label}`);
      expect(await seriousA11yViolations(target), `${name} ${locale} ${label}`).toEqual([]);
    }
  }
  await setLanguage(target, 'en');
  await target.setViewportSize({ width: 1280, height: 800 });
}

const ids: { plain: string; refunded: string; described: string; incomplete: string } = {
  plain: '',
  refunded: '',
  described: '',
  incomplete: '',
};

describe('the overview', () => {
  it('opens on the overview: today’s volume, count, fees and net, a chart, and the latest payments marked Test', async () => {
    ids.plain = await walletPayment(1250);
    ids.refunded = await walletPayment(2099);
    const refund = await v1(platform.baseUrl, 'POST', '/v1/refunds', {
      key: merchant.secretKey,
      form: { payment_intent: ids.refunded, amount: 500 },
    });
    expect(refund.status).toBe(200);
    ids.described = await walletPayment(10_007, { description: 'Cake, "large" =SUM(1)' });
    const incomplete = await v1(platform.baseUrl, 'POST', '/v1/payment_intents', {
      key: merchant.secretKey,
      form: { amount: 700, currency: 'cny' },
    });
    ids.incomplete = incomplete.body.id as string;

    const facts = await chargeFacts();
    const succeeded = [ids.plain, ids.refunded, ids.described];
    const volume = 1250 + 2099 + 10_007;
    const fees = succeeded.reduce((sum, id) => sum + (facts.get(id)?.fee ?? Number.NaN), 0);
    // A refund gives back its share of the fee: the fees kept are what the daily summary says.
    const summary = await refundFeeBack();
    expect(fees).toBeGreaterThan(0);

    await page.goto(`${platform.baseUrl}/dashboard/`);
    await page.getByLabel('Secret API key').fill(merchant.secretKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const today = page.getByRole('region', { name: /Today/ });
    await expect.poll(() => today.getByTestId('today-volume').textContent()).toContain(`¥${formatted(volume)}`);
    expect(await today.getByTestId('today-count').textContent()).toBe('3');
    expect(await today.getByTestId('today-fees').textContent()).toContain(formatted(fees - summary.feesGivenBack));
    expect(await today.getByTestId('today-net').textContent()).toContain(
      formatted(volume - 500 - (fees - summary.feesGivenBack)),
    );
    expect(await today.getByTestId('today-refunded').textContent()).toContain(formatted(500));

    await page.getByRole('img', { name: /daily volume and fees/i }).waitFor();
    const recent = page.getByRole('region', { name: 'Recent payments' });
    const rows = recent.locator('table.data tbody tr');
    await expect.poll(() => rows.count()).toBe(4);
    const newest = rows.first();
    expect(await newest.getByRole('link').first().textContent()).toBe(ids.incomplete);
    expect(await newest.locator('.badge-test').textContent()).toBe('Test');
    expect(await rows.nth(1).textContent()).toContain('100.07');
    await recent.getByRole('link', { name: 'View all payments' }).click();
    await page.getByRole('heading', { name: 'Payments', exact: true }).waitFor();
    expect(page.url()).toContain('#/payments');

    await open('overview');
    await page.getByRole('img', { name: /daily volume and fees/i }).waitFor();
    await screens(page, 'dashboard-overview', async () => {
      await page.locator('[data-testid="today-volume"]').waitFor();
    });
  });

  it('shows a new merchant an empty overview that points to the POS', async () => {
    const newcomer = await createMerchant(platform.baseUrl, platform.adminToken, { name: 'New Noodles' });
    const desk = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    await desk.addInitScript(() => window.localStorage.setItem('yunpay.merchant.locale', 'en'));
    const fresh = await desk.newPage();
    await fresh.goto(`${platform.baseUrl}/dashboard/`);
    await fresh.getByLabel('Secret API key').fill(newcomer.secretKey);
    await fresh.getByRole('button', { name: 'Sign in' }).click();
    await fresh.getByRole('heading', { name: 'Overview' }).waitFor();
    await fresh.getByText('No payments yet — take one on the POS').waitFor();
    expect(await fresh.getByRole('link', { name: 'Open the POS' }).getAttribute('href')).toBe('/pos/');
    expect(await fresh.getByTestId('today-count').textContent()).toBe('0');
    expect(await fresh.getByTestId('today-volume').textContent()).toContain('0.00');
    // No chart of zeros: the period says it had no payments.
    await fresh.getByText('No payments in this period.').waitFor();
    expect(await fresh.locator('.uplot').count()).toBe(0);
    await screens(fresh, 'dashboard-overview-empty', async () => {
      await fresh.getByTestId('today-count').waitFor();
    });
    await desk.close();
  });
});

/** The fees the refund gave back (balance transactions of type refund carry a negative fee). */
async function refundFeeBack(): Promise<{ feesGivenBack: number }> {
  const listed = await v1(platform.baseUrl, 'GET', '/v1/balance_transactions?type=refund&limit=100', {
    key: merchant.secretKey,
  });
  expect(listed.status).toBe(200);
  const given = (listed.body.data as { fee: number }[]).reduce((sum, entry) => sum - entry.fee, 0);
  return { feesGivenBack: given };
}

/** 33356 → "333.56"; 1234567 → "12,345.67" (en-US grouping). */
function formatted(amountMinor: number): string {
  const [whole, fraction] = major(amountMinor).split('.');
  return `${Number(whole).toLocaleString('en-US')}.${fraction}`;
}

describe('payments: method, fee and net, and CSV export', () => {
  it('shows the payment method, fee and net on each payment and in its detail', async () => {
    const facts = await chargeFacts();
    await open('payments');
    const row = page
      .locator('table.data tbody tr')
      .filter({ has: page.getByRole('link', { name: ids.described, exact: true }) });
    await expect.poll(() => row.getByTestId('payment-method').textContent()).toBe('Yunpay wallet');
    const described = facts.get(ids.described);
    expect(described).toBeDefined();
    expect(await row.getByTestId('payment-fee').textContent()).toContain(formatted(described?.fee ?? 0));
    expect(await row.getByTestId('payment-net').textContent()).toContain(formatted(described?.net ?? 0));

    await open(`payments/${ids.described}`);
    await page.getByRole('heading', { name: `Payment ${ids.described}` }).waitFor();
    const details = page.locator('.facts');
    await expect.poll(() => details.getByTestId('payment-method').textContent()).toBe('Yunpay wallet');
    expect(await details.getByTestId('payment-fee').textContent()).toContain(formatted(described?.fee ?? 0));
    expect(await details.getByTestId('payment-net').textContent()).toContain(formatted(described?.net ?? 0));
  });

  it('downloads the filtered payments as CSV with exact amounts', async () => {
    const facts = await chargeFacts();
    await open('payments');
    await page.locator('table.data tbody tr').nth(3).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^yunpay-payments-\d{4}-\d{2}-\d{2}\.csv$/);
    const text = readFileSync(await download.path(), 'utf8');
    const lines = parseCsv(text.replace(/^\uFEFF/, ''));
    expect(lines[0]).toEqual([
      'id',
      'created',
      'amount',
      'currency',
      'status',
      'description',
      'livemode',
      'payment_method',
      'fee',
      'net',
      'amount_refunded',
    ]);
    const body = lines.slice(1);
    expect(body.map((line) => line[0])).toEqual([ids.incomplete, ids.described, ids.refunded, ids.plain]);
    const byId = new Map(body.map((line) => [line[0], line]));
    const described = facts.get(ids.described);
    const refunded = facts.get(ids.refunded);
    expect(byId.get(ids.described)?.slice(2)).toEqual([
      '100.07',
      'CNY',
      'Succeeded',
      // The description as given; a leading "=" would be neutralised, this one starts with a letter.
      'Cake, "large" =SUM(1)',
      'false',
      'Yunpay wallet',
      major(described?.fee ?? Number.NaN),
      major(described?.net ?? Number.NaN),
      '0.00',
    ]);
    expect(byId.get(ids.refunded)?.slice(2)).toEqual([
      '20.99',
      'CNY',
      'Partially refunded',
      '',
      'false',
      'Yunpay wallet',
      major(refunded?.fee ?? Number.NaN),
      major(refunded?.net ?? Number.NaN),
      '5.00',
    ]);
    expect(byId.get(ids.incomplete)?.slice(2)).toEqual(['7.00', 'CNY', 'Incomplete', '', 'false', '', '', '', '0.00']);
    for (const line of body) expect(line[1]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    // The raw line keeps the quotes of a field with a comma and quotes.
    expect(text).toContain('"Cake, ""large"" =SUM(1)"');

    // Only what the filters show: the partly refunded payment.
    await page.getByLabel('Status').selectOption({ label: 'Partially refunded' });
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('table.data tbody tr').count()).toBe(1);
    const [filtered] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const filteredLines = parseCsv(readFileSync(await filtered.path(), 'utf8').replace(/^\uFEFF/, ''));
    expect(filteredLines.slice(1).map((line) => line[0])).toEqual([ids.refunded]);
    await page.getByText(/Downloaded 1 payment/).waitFor();
    // The notice follows the language, as everything else on the page.
    await setLanguage(page, 'zh-CN');
    await page.getByText('已下载 1 笔付款。').waitFor();
    await setLanguage(page, 'en');
    await screens(page, 'dashboard-payments-csv', async () => {
      await page.getByRole('button', { name: /Download CSV|下载 CSV/ }).waitFor();
    });
  });

  it('neutralises a description that a spreadsheet would run as a formula', async () => {
    const formula = await walletPayment(100, { description: '=HYPERLINK("http://example.com")' });
    await open('payments');
    await page.getByRole('link', { name: formula, exact: true }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const lines = parseCsv(readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, ''));
    const line = lines.find((entry) => entry[0] === formula);
    expect(line?.[5]).toBe(`'=HYPERLINK("http://example.com")`);
  });
});

describe('the overview, live', () => {
  it('shows a sale taken meanwhile without a reload', async () => {
    await open('overview');
    const count = page.getByTestId('today-count');
    await expect.poll(() => count.textContent()).toBe('4');
    const sale = await walletPayment(4_321);
    await expect.poll(() => count.textContent(), { timeout: 15_000 }).toBe('5');
    const newest = page.getByRole('region', { name: 'Recent payments' }).locator('table.data tbody tr').first();
    await expect.poll(() => newest.getByRole('link').first().textContent()).toBe(sale);
    expect(await newest.locator('.badge-test').textContent()).toBe('Test');
  });
});

/** RFC 4180: fields separated by commas, quoted when they hold commas, quotes or line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r' && text[index + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      index += 1;
    } else field += char;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

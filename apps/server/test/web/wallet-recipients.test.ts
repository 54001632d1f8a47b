import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.js';
import { webSuite } from '../support/web-suite.js';
import { available, signUp, testPassword, testPin, topUp, type TestUser } from '../support/wallet.js';

/**
 * Issue 14: sending to a recent recipient, with a confirm step. A sends to B by typing B's local
 * number (13800000001, no +86), checks B's masked name and phone before the PIN, pays; then picks
 * B from Recent on the Send screen and pays again. B's balance rises by both amounts and B's toasts
 * name A. Real browser at 360×800 against the real server.
 */
describe('wallet: recent recipients and the confirm step', () => {
  const suite = webSuite();

  async function signIn(page: Page, user: TestUser): Promise<void> {
    await page.goto(`${suite.platform.baseUrl}/app/`);
    await page.getByRole('heading', { name: 'Sign in to your wallet' }).waitFor();
    await page.getByLabel('Phone (+86…) or email').fill(user.phone);
    await page.getByLabel('Password', { exact: true }).fill(testPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: `Hello, ${user.name}` }).waitFor();
  }

  /** B's phone as the sender sees it on the confirm step: +86 138****0001. */
  function maskedPhone(user: TestUser): string {
    const national = user.phone.slice(3);
    return `+86 ${national.slice(0, 3)}****${national.slice(-4)}`;
  }

  it('A sends to B by local number and then from Recent, confirming B each time; B is paid twice and told by whom', async () => {
    const alice = await signUp(suite.platform.baseUrl, 'Ana');
    const bob = await signUp(suite.platform.baseUrl, '李明');
    await topUp(suite.platform.baseUrl, alice, 10_000);
    const bobBefore = await available(suite.platform.baseUrl, bob);

    const a = await suite.newPhone();
    const b = await suite.newPhone();
    await Promise.all([signIn(a, alice), signIn(b, bob)]);

    // Nobody sent to yet: Recent says so.
    await a.getByRole('button', { name: 'Send' }).click();
    await a.getByRole('heading', { name: 'Send money' }).waitFor();
    const recent = a.getByRole('region', { name: 'Recent' });
    await recent.getByText('No recent recipients yet.').waitFor();
    await screenshot(a, 'wallet-recipients-empty');

    // 1. Typing B's local number; the confirm step shows the masked name and phone before the PIN.
    await a.getByLabel('To (phone, email)').fill(bob.phone.slice(3));
    await a.getByLabel('Amount').fill('5');
    expect(await a.getByLabel('Payment PIN (6 digits)').count()).toBe(0);
    await a.getByRole('button', { name: 'Next' }).click();
    const confirm = a.getByRole('region', { name: 'Confirm the recipient' });
    await confirm.getByText('*明').waitFor();
    await confirm.getByText(maskedPhone(bob)).waitFor();
    await confirm.getByText('¥5.00').waitFor();
    expect(await confirm.innerText()).not.toContain(bob.phone.slice(3));
    await screenshot(a, 'wallet-recipients-confirm');
    await confirm.getByRole('button', { name: 'Confirm' }).click();
    await a.getByLabel('Payment PIN (6 digits)').fill(testPin);
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    await a.getByText('Sent ¥5.00 to 李明.').waitFor();
    const fromAlice = `Ana (${maskedPhone(alice)}) sent you`;
    await b.locator('.toast', { hasText: `${fromAlice} ¥5.00.` }).waitFor();

    // 2. Send again: B is in Recent; picking B goes to the same confirm step.
    await a.locator('nav.tabs').getByRole('link', { name: 'Home' }).click();
    await a.getByRole('button', { name: 'Send' }).click();
    const bobRow = a.getByRole('region', { name: 'Recent' }).getByRole('button', { name: /李明/ });
    await bobRow.waitFor();
    expect(await bobRow.innerText()).toContain(maskedPhone(bob));
    await screenshot(a, 'wallet-recipients-recent');
    await bobRow.click();
    await a.getByLabel('Amount').fill('7');
    await a.getByRole('button', { name: 'Next' }).click();
    await confirm.getByText('*明').waitFor();
    await confirm.getByText(maskedPhone(bob)).waitFor();
    await confirm.getByText('¥7.00').waitFor();
    await confirm.getByRole('button', { name: 'Confirm' }).click();
    await a.getByLabel('Payment PIN (6 digits)').fill(testPin);
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    await a.getByText('Sent ¥7.00 to 李明.').waitFor();
    await b.locator('.toast', { hasText: `${fromAlice} ¥7.00.` }).waitFor();

    expect((await available(suite.platform.baseUrl, bob)) - bobBefore).toBe(1_200);
    expect(await available(suite.platform.baseUrl, alice)).toBe(10_000 - 1_200);
  });

  it('the Send screen reads in Chinese: 最近转账, 确认收款人', async () => {
    const alice = await signUp(suite.platform.baseUrl, 'Ana');
    const bob = await signUp(suite.platform.baseUrl, '王小明');
    await topUp(suite.platform.baseUrl, alice, 10_000);
    const a = await suite.newPhone('zh-CN');
    await a.goto(`${suite.platform.baseUrl}/app/`);
    await a.locator('input[autocomplete="username"]').fill(alice.phone);
    await a.locator('input[type="password"]').fill(testPassword);
    await a.locator('form button[type="submit"]').click();
    await a.getByRole('heading', { name: '你好，Ana' }).waitFor();
    await a.getByRole('button', { name: '转账' }).click();
    await a.getByRole('region', { name: '最近转账' }).getByText('还没有转账记录。').waitFor();
    await a.getByLabel('收款人（手机号或邮箱）').fill(bob.phone.slice(3));
    await a.getByLabel('金额').fill('1');
    await a.getByRole('button', { name: '下一步' }).click();
    const confirm = a.getByRole('region', { name: '确认收款人' });
    await confirm.getByText('*小明').waitFor();
    await confirm.getByText(maskedPhone(bob)).waitFor();
    await screenshot(a, 'wallet-recipients-confirm-zh');
  });
});

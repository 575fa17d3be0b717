import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { browserSkip, lowContrast, onPage, screenshot, untranslated, watchPage, startBrowserSuite, stopBrowserSuite } from './support.js';

describe('web UI languages and keyboard use', { skip: browserSkip() }, () => {
  let t: TestServer;
  let browser: Browser;
  let base: string;
  before(async () => {
    ({ t, browser, base } = await startBrowserSuite(startTestServer()));
  });
  after(() => stopBrowserSuite(browser, t));

  test('Accept-Language: ko renders Korean on every page, and the switch changes and remembers the language', async () => {
    const email = uniqueEmail('ko');
    assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    const ctx = await browser.newContext({ locale: 'ko-KR', extraHTTPHeaders: { 'Accept-Language': 'ko' }, viewport: { width: 1200, height: 900 } });
    const page = await ctx.newPage();
    const problems = watchPage(page);
    await page.goto(`${base}/signin`);
    await onPage(page, '/signin');
    assert.equal(await page.getAttribute('html', 'lang'), 'ko');
    assert.equal(await page.locator('main h1').innerText(), '로그인');
    assert.equal(await page.title(), '로그인 · Gatehouse');
    assert.deepEqual(await untranslated(page), []);
    await screenshot(page, 'signin-ko');

    const main = page.locator('main');
    await main.getByLabel('이메일 주소').fill(email);
    await main.getByLabel('비밀번호', { exact: true }).fill('wrong password 123');
    await main.getByRole('button', { name: '로그인' }).click();
    await main.locator('[data-error-for="_form"]').filter({ hasText: '이메일 또는 비밀번호가 올바르지 않습니다.' }).waitFor();
    await main.getByLabel('비밀번호', { exact: true }).fill(GOOD_PASSWORD);
    await main.getByRole('button', { name: '로그인' }).click();
    await onPage(page, '/account');
    assert.equal(await page.locator('main h1').innerText(), '내 계정');
    assert.match(await page.locator('#devices .device').first().innerText(), /이 기기/);
    assert.deepEqual(await untranslated(page), []);
    await screenshot(page, 'account-ko');
    assert.deepEqual(await lowContrast(page), []);
    await page.getByRole('link', { name: '탐색기' }).click();
    await onPage(page, '/explorer');
    assert.equal(await page.locator('main h1').innerText(), '세션 대 JWT 탐색기');
    assert.deepEqual(await untranslated(page), []);
    await screenshot(page, 'explorer-ko');

    // The switch: English now, and after a reload (the lang cookie outranks Accept-Language).
    await page.getByLabel('언어').selectOption('en');
    await page.locator('main h1', { hasText: 'Session vs JWT explorer' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal((await ctx.cookies()).find((c) => c.name === 'lang')?.value, 'en');
    await page.reload();
    await onPage(page, '/explorer');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.locator('main h1').innerText(), 'Session vs JWT explorer');
    // ?lang=ko chooses Korean again.
    await page.goto(`${base}/account?lang=ko`);
    await onPage(page, '/account');
    assert.equal(await page.locator('main h1').innerText(), '내 계정');
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  test('the sign-in form works from the keyboard alone, with a visible focus and the status in a live region', async () => {
    const email = uniqueEmail('kbd');
    assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    const ctx = await browser.newContext({ locale: 'en-GB' });
    const page = await ctx.newPage();
    await page.goto(`${base}/signin`);
    await onPage(page, '/signin');
    assert.equal(await page.locator('#status').getAttribute('role'), 'status');
    assert.equal(await page.locator('#status').getAttribute('aria-live'), 'polite');

    // Tab order: skip link, navigation, language switch, then the form in reading order.
    const order: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        return el.id || el.getAttribute('href') || el.tagName;
      }));
    }
    const iEmail = order.indexOf('signin-email');
    assert.ok(iEmail > order.indexOf('lang-select') && order.indexOf('lang-select') > order.indexOf('/signin'), order.join(' '));
    assert.equal(order[iEmail + 1], 'signin-password', order.join(' '));
    assert.equal(order[iEmail + 2], 'BUTTON', order.join(' ')); // the show/hide toggle of the password
    assert.equal(order[iEmail + 3], 'mode-session', order.join(' '));

    await page.focus('#signin-email');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.notEqual(outline, 'none', 'focus is visible');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(GOOD_PASSWORD);
    await page.keyboard.press('Tab'); // the show/hide toggle
    await page.keyboard.press('Tab');
    await page.keyboard.press('ArrowDown'); // radio group: choose token mode
    assert.equal(await page.locator('#mode-token').isChecked(), true);
    await page.keyboard.press('Enter');
    await onPage(page, '/account');
    assert.match(await page.locator('#whoami').innerText(), /Signed in as .* with tokens held in memory/);
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', 'focus moves to the new page heading');
    await ctx.close();
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { browserSkip, onPage, screenshot, startBrowserSuite, stopBrowserSuite } from './support.js';

describe('web UI under the brute-force limits', { skip: browserSkip() }, () => {
  let t: TestServer;
  let browser: Browser;
  let base: string;
  before(async () => {
    ({ t, browser, base } = await startBrowserSuite(startTestServer({ config: { rateLimits: { enabled: true, accountAttempts: 2, accountBlock: '5m' } } })));
  });
  after(() => stopBrowserSuite(browser, t));

  test('a throttled sign-in says when to try again, from the 429 answer\'s Retry-After', async () => {
    const email = uniqueEmail('throttled');
    assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    const ctx = await browser.newContext({ locale: 'en-GB' });
    const page = await ctx.newPage();
    await page.goto(`${base}/signin`);
    await onPage(page, '/signin');
    const main = page.locator('main');
    await main.getByLabel('Email address').fill(email);
    let retryAfter: string | null = null;
    for (let i = 0; i < 4 && retryAfter === null; i++) {
      await main.getByLabel('Password', { exact: true }).fill(`wrong password ${i}`);
      const answer = page.waitForResponse((r) => r.url().endsWith('/auth/login'));
      await main.getByRole('button', { name: 'Sign in' }).click();
      const res = await answer;
      if (res.status() === 429) retryAfter = await res.headerValue('retry-after');
      else assert.equal(res.status(), 401);
    }
    assert.ok(retryAfter && /^\d+$/.test(retryAfter), `a 429 with Retry-After came (${retryAfter})`);
    const msg = page.locator('[data-error-for="_form"]');
    const seconds = Number(retryAfter);
    await msg.filter({ hasText: seconds >= 120 ? `Try again in ${Math.ceil(seconds / 60)} minutes` : `Try again in ${seconds} seconds` }).waitFor();
    assert.equal(await msg.getAttribute('role'), 'alert');
    await screenshot(page, 'signin-rate-limited-real');
    await ctx.close();
  });
});

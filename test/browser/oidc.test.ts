/**
 * Signing in with an identity provider in Chromium: "Continue with" on the sign-in page, the real
 * provider's login page, and back on the account page signed in, with the linked provider listed;
 * the buttons in Korean; screenshots at desktop and phone sizes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { opAccount, startOidcBed, type OidcBed } from '../support/oidc.js';
import { uniqueEmail } from '../support/server.js';
import { browserSkip, launchBrowser, onPage, screenshot, VIEWPORTS, watchPage } from './support.js';

describe('Continue with an identity provider (Chromium)', { skip: browserSkip() }, () => {
  let bed: OidcBed;
  let browser: Browser;
  before(async () => {
    bed = await startOidcBed();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await bed?.close();
  });

  for (const viewport of ['desktop', 'phone'] as const) {
    test(`clicking "Continue with" signs in at the provider and lands signed in on the account page (${viewport})`, async () => {
      const email = uniqueEmail('web-oidc');
      const login = opAccount(bed.op, { email, email_verified: true, name: 'Web Person' });
      const ctx = await browser.newContext({ locale: 'en-GB', viewport: VIEWPORTS[viewport] });
      const page = await ctx.newPage();
      const problems = watchPage(page);
      try {
        // The public URL (the provider's redirect URI) is on 127.0.0.1: the flow cookie must be set there.
        await page.goto(`${bed.publicUrl}/signin`);
        await onPage(page, '/signin');
        const button = page.locator('a[data-provider="op"]');
        await button.waitFor();
        assert.equal((await button.textContent())?.trim(), 'Continue with Test OP');
        await screenshot(page, `oidc-signin-${viewport}`);
        await button.click();
        await page.waitForURL((u) => u.origin === bed.op.issuer);
        await page.fill('input[name="login"]', login);
        await page.fill('input[name="password"]', 'any');
        await page.click('button[type="submit"]');
        await page.waitForURL((u) => u.pathname === '/account' && u.origin === bed.publicUrl);
        await onPage(page, '/account');
        await page.locator('#whoami').filter({ hasText: email }).waitFor();
        await page.locator('#identities li').filter({ hasText: 'Test OP' }).waitFor();
        await page.locator('#devices').filter({ hasText: 'Test OP' }).waitFor();
        await screenshot(page, `oidc-account-${viewport}`);
        assert.deepEqual(problems, []);
      } finally {
        await ctx.close();
      }
    });
  }

  test('the sign-up page offers the providers that allow sign-up, in Korean too', async () => {
    const ctx = await browser.newContext({ locale: 'ko-KR', viewport: VIEWPORTS.desktop, extraHTTPHeaders: { 'Accept-Language': 'ko' } });
    const page = await ctx.newPage();
    try {
      await page.goto(`${bed.publicUrl}/signup`);
      await onPage(page, '/signup');
      const button = page.locator('a[data-provider="op"]');
      await button.waitFor();
      assert.equal((await button.textContent())?.trim(), 'Test OP(으)로 계속');
      await screenshot(page, 'oidc-signup-ko');
    } finally {
      await ctx.close();
    }
  });
});

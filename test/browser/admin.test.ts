/**
 * The admin console in Chromium: an administrator searches users, opens one, ends their sessions and
 * disables them through confirmation dialogs, filters the audit trail, and watches the live panel
 * move; a user without the role is shown a refusal. Every step is checked from the outside as well
 * (the user's own credentials over HTTP, what the store holds). Both pages are screenshotted at
 * 1280×800 and 390×844 in English and Korean, with no sideways overflow, untranslated text, low
 * contrast or CSP violation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { cookieLogin, register, tokenLogin } from '../support/flows.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { newUser, signedIn } from './kit.js';
import {
  browserSkip, horizontalOverflow, lowContrast, onPage, screenshot, startBrowserSuite, stopBrowserSuite, untranslated, VIEWPORTS, watchPage,
  type ViewportName,
} from './support.js';

describe('the admin console', { skip: browserSkip() }, () => {
  let t: TestServer;
  let browser: Browser;
  let base: string;
  let adminEmail: string;
  let adminId: string;

  before(async () => {
    ({ t, browser, base } = await startBrowserSuite(startTestServer()));
    adminEmail = uniqueEmail('console-admin');
    adminId = await register(t, adminEmail);
    assert.equal(await t.srv.gatehouse.core.admin.setAdmin(adminId, true), true);
  });
  after(() => stopBrowserSuite(browser, t));

  /** Confirms the open dialog after checking it is a labelled modal with the safe choice focused. */
  async function confirm(page: Page, heading: RegExp): Promise<void> {
    const dlg = page.locator('#confirm-dialog');
    await dlg.waitFor({ state: 'visible' });
    assert.match(await page.locator('#confirm-h').innerText(), heading);
    assert.equal(await dlg.getAttribute('aria-labelledby'), 'confirm-h');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'confirm-cancel', 'Cancel has the focus');
    await page.click('#confirm-ok');
    await dlg.waitFor({ state: 'hidden' });
  }

  test('search, open a user, end their sessions, disable them, filter the audit trail; the live panel follows', async () => {
    const tag = `c${Date.now().toString(36)}`;
    const targetEmail = `${tag}-target@example.test`;
    const targetId = await register(t, targetEmail);
    await register(t, `${tag}-other@example.test`);
    const cookie = await cookieLogin(t, targetEmail);
    const token = await tokenLogin(t, targetEmail);

    const { ctx, page } = await signedIn(browser, base, adminEmail);
    const problems = watchPage(page);
    try {
      await page.goto(`${base}/admin`);
      await onPage(page, '/admin');
      await page.locator('#stat-succeeded').filter({ hasText: /^\d+$/ }).waitFor();

      // The live panel polls: a sign-in elsewhere shows up within a few seconds.
      const before = Number(await page.locator('#stat-succeeded').innerText());
      await cookieLogin(t, `${tag}-other@example.test`);
      await page.locator('#stat-succeeded').filter({ hasText: String(before + 1) }).waitFor({ timeout: 12_000 });

      await page.fill('#us-email', tag);
      await page.click('#user-search button[type="submit"]');
      await page.locator('#users-count').filter({ hasText: /2/ }).waitFor();
      assert.deepEqual((await page.locator('#users-table tbody tr').allInnerTexts()).map((r) => r.split(/\s/)[0]).sort(), [`${tag}-other@example.test`, targetEmail].sort());

      await page.click(`#users-table tr[data-user="${targetId}"] a`);
      await onPage(page, '/admin/user');
      assert.equal(await page.locator('#au-heading').innerText(), targetEmail);
      assert.equal(await page.locator('#au-sessions li').count(), 2, 'a cookie session and a token session');

      await page.click('#act-end-all');
      await confirm(page, /End every session/);
      await page.locator('#user-status').filter({ hasText: '2 sessions ended' }).waitFor();
      assert.equal(await page.locator('#au-sessions li').count(), 0);
      assert.equal((await cookie.client.req('GET', '/auth/me')).status, 401, 'the cookie session ended');
      assert.equal((await new Client(t.url).req('GET', '/auth/me', { bearer: token.access })).status, 401, 'the token session ended');

      await page.click('#act-disable');
      await confirm(page, /Disable/);
      await page.locator('#user-status').filter({ hasText: 'is disabled' }).waitFor();
      assert.notEqual((await t.stores.users.getUserById(targetId))?.disabledAt, null);
      assert.equal((await new Client(t.url).req('POST', '/auth/login', { json: { email: targetEmail, password: GOOD_PASSWORD } })).status !== 200, true);
      const stored = await t.stores.audit.listEvents({ userId: targetId, types: ['user.disabled', 'sessions.revoked_all'], limit: 5 });
      assert.deepEqual(stored.map((e) => [e.type, e.detail?.actor]), [['user.disabled', adminId], ['sessions.revoked_all', adminId]]);

      // A cancelled dialog does nothing.
      await page.click('#act-enable');
      await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
      await page.keyboard.press('Escape');
      await page.locator('#confirm-dialog').waitFor({ state: 'hidden' });
      assert.notEqual((await t.stores.users.getUserById(targetId))?.disabledAt, null, 'still disabled');

      await page.click('a[href="/admin"]');
      await onPage(page, '/admin');
      await page.fill('#au-user', targetId);
      await page.fill('#au-type', 'user.disabled');
      await page.click('#audit-search button[type="submit"]');
      await page.locator('#audit-count').filter({ hasText: /^1 / }).waitFor();
      const row = page.locator('#audit-table tbody tr');
      assert.equal(await row.count(), 1);
      assert.equal(await row.getAttribute('data-type'), 'user.disabled');
      assert.match(await row.innerText(), new RegExp(adminId));
      assert.deepEqual(problems, []);
    } finally {
      await ctx.close();
    }
  });

  test('a signed-in user without the role sees a refusal and no console', async () => {
    const email = await newUser(t, 'not-admin');
    const { ctx, page } = await signedIn(browser, base, email);
    try {
      await page.goto(`${base}/admin`);
      await onPage(page, '/admin');
      await page.locator('#admin-refused').waitFor({ state: 'visible' });
      assert.match(await page.locator('#admin-refused').innerText(), /for administrators/);
      assert.equal(await page.locator('#admin-body').isHidden(), true);
    } finally {
      await ctx.close();
    }
  });

  for (const lang of ['en', 'ko'] as const) {
    for (const vp of ['desktop', 'phone'] as ViewportName[]) {
      test(`screenshots: ${lang}, ${VIEWPORTS[vp].width}×${VIEWPORTS[vp].height}`, async () => {
        const email = uniqueEmail(`shot-${lang}-${vp}`);
        const id = await register(t, email);
        await cookieLogin(t, email, { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0' } });
        await tokenLogin(t, email);
        await new Client(t.url).req('POST', '/auth/login', { json: { email, password: 'not the password' } });
        const { ctx, page } = await signedIn(browser, base, adminEmail, { viewport: vp, locale: lang });
        const problems = watchPage(page);
        try {
          await page.goto(`${base}/admin`);
          await onPage(page, '/admin');
          await page.locator('#users-table tbody tr').first().waitFor();
          await page.locator('#audit-table tbody tr').first().waitFor();
          const label = `admin-${lang}-${VIEWPORTS[vp].width}x${VIEWPORTS[vp].height}`;
          assert.deepEqual(await horizontalOverflow(page), [], `${label}: nothing sticks out sideways`);
          assert.deepEqual(await untranslated(page), [], `${label}: every text translated`);
          assert.deepEqual(await lowContrast(page), [], `${label}: contrast`);
          await screenshot(page, label, undefined, 2400);

          await page.goto(`${base}/admin/user?id=${id}`);
          await onPage(page, '/admin/user');
          await page.locator('#au-sessions li').first().waitFor();
          await page.locator('#au-events tbody tr').first().waitFor();
          const userLabel = `admin-user-${lang}-${VIEWPORTS[vp].width}x${VIEWPORTS[vp].height}`;
          assert.deepEqual(await horizontalOverflow(page), [], `${userLabel}: nothing sticks out sideways`);
          assert.deepEqual(await untranslated(page), [], `${userLabel}: every text translated`);
          assert.deepEqual(await lowContrast(page), [], `${userLabel}: contrast`);
          await screenshot(page, userLabel, undefined, 2400);

          // The confirmation dialog, as an administrator sees it before acting.
          await page.click('#act-delete');
          await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
          await screenshot(page, `${userLabel}-confirm`, undefined, VIEWPORTS[vp].height);
          await page.click('#confirm-cancel');
          assert.notEqual(await t.stores.users.getUserById(id), null, 'cancel deletes nothing');
          assert.deepEqual(problems, []);
        } finally {
          await ctx.close();
        }
      });
    }
  }
});

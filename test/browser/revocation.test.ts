/**
 * A sign-in ended from elsewhere shows without a click: a page checks GET /auth/session every
 * WATCH_MS (5 s) while visible. The bound asserted here is WATCH_MS plus a margin for a loaded
 * machine; the delay measured each time is printed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Client, GOOD_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { newUser, signedIn } from './kit.js';
import { browserSkip, FIREFOX_WINDOWS_UA, freePort, inViewport, onPage, RealClock, screenshot, screenshotOf, startBrowserSuite, stopBrowserSuite, watchPage } from './support.js';

/** The page's own bound (web/assets/api.js WATCH_MS). */
const WATCH_MS = 5000;
/** Room for a busy machine: timers, the check's request and rendering. */
const MARGIN_MS = 2500;

describe('a sign-in ended elsewhere shows without a click', { skip: browserSkip() }, () => {
  let t: TestServer;
  let browser: Browser;
  let base: string;
  before(async () => {
    // Real time (tokens expire on the wall clock in the browser too), public URL = the server itself.
    const port = await freePort();
    base = `http://localhost:${port}`;
    ({ t, browser } = await startBrowserSuite(startTestServer({ port, clock: new RealClock(), config: { publicUrl: base } })));
  });
  after(() => stopBrowserSuite(browser, t));

  /** Signs the other device out through the API as the user does from the account page (DELETE), timed. */
  async function revokeFromElsewhere(email: string): Promise<void> {
    const other = new Client(t.url);
    assert.equal((await other.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD }, headers: { 'user-agent': FIREFOX_WINDOWS_UA } })).status, 200);
    const list = await other.req('GET', '/auth/sessions');
    const victim = list.body.sessions.find((s: { current: boolean; device: { browser: string } }) => !s.current && s.device.browser === 'Chrome');
    assert.ok(victim, 'the page under test is on the device list');
    const del = await other.req('DELETE', `/auth/sessions/${victim.id}`);
    assert.equal(del.status, 204);
  }

  for (const mode of ['session', 'token'] as const) {
    // Token mode in Korean on a phone, session mode in English on a desktop.
    const ko = mode === 'token';
    test(`${mode} mode, on the account page (${ko ? 'Korean, 390 px' : 'English, 1280 px'}): sent to sign-in with the reason, within ${WATCH_MS + MARGIN_MS} ms`, async () => {
      const email = await newUser(t, `watch${mode}`);
      const A = await signedIn(browser, base, email, { mode, ...(ko ? { locale: 'ko' as const, viewport: 'phone' as const } : {}) });
      const problems = watchPage(A.page);
      await A.page.waitForTimeout(300);
      const clicks: number[] = [];
      await A.page.exposeFunction('__clicked', () => clicks.push(Date.now()));
      await A.page.evaluate(() => document.addEventListener('click', () => (window as unknown as { __clicked(): void }).__clicked(), true));
      await revokeFromElsewhere(email);
      const revokedAt = Date.now();
      await onPage(A.page, '/signin');
      const delay = Date.now() - revokedAt;
      console.log(`# ${mode} mode: the ended session showed ${delay} ms after the revocation (bound ${WATCH_MS} ms + ${MARGIN_MS} ms margin)`);
      assert.ok(delay <= WATCH_MS + MARGIN_MS, `${delay} ms`);
      assert.deepEqual(clicks, [], 'nothing was clicked');
      assert.match(await A.page.locator('#status').innerText(), ko ? /다른 곳에서 세션이 종료되었습니다/ : /Your session was ended elsewhere/);
      assert.equal(await A.page.locator('#status').getAttribute('data-kind'), 'error');
      assert.equal(await inViewport(A.page, '#status'), true);
      assert.equal(await A.page.locator('header').getByRole('link', { name: ko ? '계정' : 'Account' }).isHidden(), true);
      await screenshot(A.page, `ended-elsewhere-${mode}-${ko ? 'ko-phone' : 'en-desktop'}`);
      assert.deepEqual(problems, []);
      await A.ctx.close();
    });

    test(`${mode} mode, on the explorer: it stays, says what happened and shows both credentials refused`, async () => {
      const email = await newUser(t, `watchx${mode}`);
      const A = await signedIn(browser, base, email, { mode, viewport: mode === 'token' ? 'phone' : 'desktop' });
      const a = A.page;
      const problems = watchPage(a);
      await a.locator('header').getByRole('link', { name: 'Explorer' }).click();
      await onPage(a, '/explorer');
      await revokeFromElsewhere(email);
      const revokedAt = Date.now();
      await a.locator('#x-mode', { hasText: 'ended elsewhere' }).waitFor({ timeout: WATCH_MS + MARGIN_MS });
      const results = a.locator('#revoke-results');
      await results.locator('li').first().waitFor();
      const delay = Date.now() - revokedAt;
      console.log(`# explorer, ${mode} mode: noticed ${delay} ms after the revocation`);
      assert.ok(delay <= WATCH_MS + MARGIN_MS, `${delay} ms`);
      assert.equal(new URL(a.url()).pathname, '/explorer', 'the explorer stays to show it');
      const text = await results.innerText();
      assert.match(text, /Ended elsewhere\. This page noticed \d+\.\d s after its last check/);
      const seconds = Number(/noticed (\d+\.\d) s/.exec(text)![1]);
      assert.ok(seconds <= (WATCH_MS + MARGIN_MS) / 1000, `${seconds} s`);
      if (mode === 'session') {
        assert.match(await results.locator('li[data-key="explorer.revoke.cookie"]').innerText(), /GET \/auth\/session → 200 user: null refused/);
      } else {
        await results.locator('li[data-key="explorer.revoke.refresh"]').waitFor();
        assert.match(await results.locator('li[data-key="explorer.revoke.token"]').innerText(), /401 invalid_token refused/);
        assert.match(await results.locator('li[data-key="explorer.revoke.refresh"]').innerText(), /400 invalid_grant refused/);
        assert.match(await a.locator('#x-state [data-slot="jwt"]').innerText(), /Revoked: the signature still checks out until exp/);
      }
      assert.match(await a.locator('#x-state [data-col="' + mode + '"] [data-slot="record"]').innerText(), /deleted/);
      await screenshot(a, `explorer-ended-elsewhere-${mode}`);
      await screenshotOf(a.locator('#x-revocation'), `explorer-ended-elsewhere-${mode}-row`);
      assert.deepEqual(problems, []);
      await A.ctx.close();
    });
  }
});

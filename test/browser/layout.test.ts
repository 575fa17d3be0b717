/**
 * Every page at 1280×800 and 390×844, in English and Korean, signed out and signed in (both modes):
 * nothing sticks out sideways, every text is translated, contrast holds, no CSP violation, and a
 * signed-out load logs no console error. A screenshot of each is saved (test-results/screenshots).
 * Also: the shell shows text before its scripts run, and Korean breaks lines between words.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { GOOD_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { newUser } from './kit.js';
import {
  browserSkip,
  consoleLog,
  horizontalOverflow,
  lowContrast,
  onPage,
  screenshot,
  startBrowserSuite,
  stopBrowserSuite,
  untranslated,
  VIEWPORTS,
  watchPage,
  type ViewportName,
} from './support.js';

const SIGNED_OUT = ['/', '/signin', '/signup', '/forgot', '/reset', '/verify-email', '/confirm-email', '/explorer', '/nope'];
const SIGNED_IN = ['/', '/account', '/explorer'];
const shotName = (path: string) => (path === '/' ? 'home' : path.slice(1));

describe('every page at both sizes and in both languages', { skip: browserSkip() }, () => {
  let t: TestServer;
  let browser: Browser;
  let base: string;
  before(async () => {
    ({ t, browser, base } = await startBrowserSuite(startTestServer()));
  });
  after(() => stopBrowserSuite(browser, t));

  async function check(page: Page, path: string, label: string): Promise<void> {
    await onPage(page, path === '/nope' ? 'notfound' : path);
    await page.waitForTimeout(150); // the explorer's first tick
    assert.deepEqual(await horizontalOverflow(page), [], `${label}: nothing sticks out sideways`);
    assert.deepEqual(await untranslated(page), [], `${label}: every text translated`);
    assert.deepEqual(await lowContrast(page), [], `${label}: contrast`);
    await screenshot(page, label);
  }

  for (const lang of ['en', 'ko'] as const) {
    for (const vp of ['desktop', 'phone'] as ViewportName[]) {
      test(`${lang}, ${VIEWPORTS[vp].width}×${VIEWPORTS[vp].height}`, async () => {
        const ctx = await browser.newContext({
          locale: lang === 'ko' ? 'ko-KR' : 'en-GB',
          viewport: VIEWPORTS[vp],
          ...(lang === 'ko' ? { extraHTTPHeaders: { 'Accept-Language': 'ko' } } : {}),
        });
        const page = await ctx.newPage();
        const problems = watchPage(page);
        const log = consoleLog(page);

        for (const path of SIGNED_OUT) {
          log.errors.length = 0;
          await page.goto(`${base}${path}`);
          await check(page, path, `${shotName(path)}-${lang}-${vp}`);
          // The one error Chromium logs for /nope is the page's own, correct, 404 status.
          const errors = log.errors.filter((e) => !(path === '/nope' && e.includes('status of 404') && e.includes(`${base}/nope`)));
          assert.deepEqual(errors, [], `${path}: a signed-out load logs no console error`);
        }
        assert.equal(await page.evaluate(() => document.documentElement.lang), lang);

        const email = await newUser(t, `layout${lang}${vp}`);
        for (const mode of ['session', 'token'] as const) {
          await page.goto(`${base}/signin`);
          await onPage(page, '/signin');
          await page.fill('#signin-email', email);
          await page.fill('#signin-password', GOOD_PASSWORD);
          if (mode === 'token') await page.check('#mode-token');
          await page.click('#signin-form button[type="submit"]');
          await onPage(page, '/account');
          for (const path of SIGNED_IN) {
            log.errors.length = 0;
            await page.goto(`${base}${path}`);
            await check(page, path, `${shotName(path)}-${mode}-${lang}-${vp}`);
            assert.deepEqual(log.errors, [], `${path} (${mode}): no console error`);
          }
          await page.locator('#nav-signout').click();
          await onPage(page, '/signin');
        }
        assert.deepEqual(problems, [], 'no CSP violation, no page error');
        await ctx.close();
      });
    }
  }
});

describe('text before scripts, and Korean line breaks', { skip: browserSkip() }, () => {
  let t: TestServer;
  let browser: Browser;
  let base: string;
  before(async () => {
    ({ t, browser, base } = await startBrowserSuite(startTestServer()));
  });
  after(() => stopBrowserSuite(browser, t));

  test('on a slow network the page shows its heading in the chosen language at once, and never waits for a language file', async () => {
    for (const [lang, heading, loading] of [
      ['en', 'Sign in', 'Loading…'],
      ['ko', '로그인', '불러오는 중…'],
    ] as const) {
      const ctx = await browser.newContext({ locale: lang === 'ko' ? 'ko-KR' : 'en-GB', ...(lang === 'ko' ? { extraHTTPHeaders: { 'Accept-Language': 'ko' } } : {}) });
      const page = await ctx.newPage();
      const problems = watchPage(page);
      const fetched: string[] = [];
      page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      await page.route('**/assets/app.js', async (route) => {
        await held;
        await route.continue();
      });
      await page.goto(`${base}/signin`, { waitUntil: 'commit' });
      await page.locator('main h1', { hasText: heading }).waitFor();
      assert.equal(await page.locator('main .loading').innerText(), loading);
      assert.equal(await page.locator('header').getByRole('link', { name: lang === 'ko' ? '회원가입' : 'Sign up' }).isVisible(), true, 'the header is readable already');
      await screenshot(page, `slow-network-${lang}`);
      release();
      await onPage(page, '/signin');
      assert.equal(await page.locator('main .loading').count(), 0);
      assert.deepEqual(fetched.filter((p) => p.startsWith('/i18n/')), [], 'the messages came with the page');
      assert.deepEqual(problems, []);
      await ctx.close();
    }
  });

  test('the explorer links the Korean quick start and guide, which open as readable text', async () => {
    const ctx = await browser.newContext({ locale: 'ko-KR', viewport: VIEWPORTS.phone, extraHTTPHeaders: { 'Accept-Language': 'ko' } });
    const page = await ctx.newPage();
    const problems = watchPage(page);
    for (const [name, heading] of [
      ['한국어 가이드', '# 세션과 토큰, 어떻게 고를까'],
      ['한국어 빠른 시작', '# Gatehouse 빠른 시작'],
    ] as const) {
      await page.goto(`${base}/explorer`);
      await onPage(page, '/explorer');
      await page.locator('main').getByRole('link', { name }).click();
      await page.waitForURL(/\/docs\//);
      const text = await page.locator('body').innerText();
      assert.ok(text.startsWith(heading), text.slice(0, 60));
      if (name === '한국어 가이드') assert.match(text, /gatehouse-session-redis[^\n]*5,802/, 'with the measured figures');
      await screenshot(page, `doc-${name === '한국어 가이드' ? 'choosing' : 'readme'}-ko-phone`);
    }
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  test('Korean text breaks between words, never inside one; English keeps normal breaking', async () => {
    const ctx = await browser.newContext({ locale: 'ko-KR', viewport: VIEWPORTS.phone, extraHTTPHeaders: { 'Accept-Language': 'ko' } });
    const page = await ctx.newPage();
    await page.goto(`${base}/signin`);
    await onPage(page, '/signin');
    // Every word of the wrapped paragraphs sits on one line (a word split across lines has two boxes).
    const split = await page.evaluate(() => {
      const out: string[] = [];
      for (const el of document.querySelectorAll('main p, main label, main legend, main h1')) {
        const node = [...el.childNodes].find((n) => n.nodeType === 3 && n.textContent!.trim());
        if (!node) continue;
        const text = node.textContent!;
        const re = /\S+/g;
        let m: RegExpExecArray | null;
        while ((m = re.exec(text))) {
          const r = document.createRange();
          r.setStart(node, m.index);
          r.setEnd(node, m.index + m[0].length);
          const lines = new Set([...r.getClientRects()].map((b) => Math.round(b.top)));
          if (lines.size > 1) out.push(m[0]);
        }
      }
      return out;
    });
    assert.deepEqual(split, [], 'no word split across lines');
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('main p')!).wordBreak), 'keep-all');
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('main h1')!).fontWeight), '700');
    await page.getByLabel('언어').selectOption('en');
    await page.locator('main h1', { hasText: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('main p')!).wordBreak), 'normal');
    await ctx.close();
  });
});

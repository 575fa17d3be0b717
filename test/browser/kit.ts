/** Steps the browser suites share: a user, a sign-in in either mode, the status of an action. */
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Client, GOOD_PASSWORD, uniqueEmail, type TestServer } from '../support/server.js';
import { inViewport, onPage, VIEWPORTS, type ViewportName } from './support.js';

export async function newUser(t: TestServer, prefix = 'web', password = GOOD_PASSWORD): Promise<string> {
  const email = uniqueEmail(prefix);
  assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password } })).status, 201);
  return email;
}

export interface Signed {
  ctx: BrowserContext;
  page: Page;
}

/** A new browser context signed in through the sign-in page, ending on the account page. */
export async function signedIn(
  browser: Browser,
  base: string,
  email: string,
  opts: { mode?: 'session' | 'token'; viewport?: ViewportName; userAgent?: string; locale?: 'en' | 'ko'; password?: string } = {},
): Promise<Signed> {
  const ko = opts.locale === 'ko';
  const ctx = await browser.newContext({
    locale: ko ? 'ko-KR' : 'en-GB',
    viewport: VIEWPORTS[opts.viewport ?? 'desktop'],
    ...(ko ? { extraHTTPHeaders: { 'Accept-Language': 'ko' } } : {}),
    ...(opts.userAgent ? { userAgent: opts.userAgent } : {}),
  });
  const page = await ctx.newPage();
  await page.goto(`${base}/signin`);
  await onPage(page, '/signin');
  await page.fill('#signin-email', email);
  await page.fill('#signin-password', opts.password ?? GOOD_PASSWORD);
  if (opts.mode === 'token') await page.check('#mode-token');
  await page.click('#signin-form button[type="submit"]');
  await onPage(page, '/account');
  return { ctx, page };
}

/** Waits for a status region to say `text`, then asserts it is on screen (the result of an action is seen). */
export async function statusShows(page: Page, selector: string, text: string | RegExp, kind?: 'success' | 'error' | 'info'): Promise<void> {
  await page.locator(selector).filter({ hasText: text }).waitFor({ timeout: 10_000 });
  const where = await page.evaluate((sel) => {
    const r = document.querySelector(sel)!.getBoundingClientRect();
    return `top ${Math.round(r.top)}, bottom ${Math.round(r.bottom)}, viewport ${window.innerHeight}, scrollY ${Math.round(scrollY)}`;
  }, selector);
  assert.equal(await inViewport(page, selector), true, `${selector} ("${String(text)}") is in the viewport (${where})`);
  if (kind) assert.equal(await page.locator(selector).getAttribute('data-kind'), kind, `${selector} is ${kind}`);
}

/**
 * Sign-up, sign-in and the account page as a new user meets them, at desktop and phone sizes: the
 * devices as cards with their own action, every result beside the action that caused it (and on
 * screen), messages that fit what happened, confirmation before risky actions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Client, GOOD_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { newUser, signedIn, statusShows } from './kit.js';
import {
  browserSkip,
  consoleLog,
  FIREFOX_WINDOWS_UA,
  horizontalOverflow,
  inViewport,
  lowContrast,
  onPage,
  screenshot,
  startBrowserSuite,
  stopBrowserSuite,
  storageIsEmpty,
  untranslated,
  VIEWPORTS,
  watchPage,
} from './support.js';

describe('web UI: sign-up, sign-in and the account page', { skip: browserSkip() }, () => {
  let t: TestServer;
  let browser: Browser;
  let base: string;
  before(async () => {
    ({ t, browser, base } = await startBrowserSuite(startTestServer()));
  });
  after(() => stopBrowserSuite(browser, t));

  for (const vp of ['desktop', 'phone'] as const) test(`at ${VIEWPORTS[vp].width} px, sign-up: field errors from the API; a new and an already registered address get the same message, which fits both`, async () => {
    const ctx = await browser.newContext({ locale: 'en-GB', viewport: VIEWPORTS[vp] });
    const page = await ctx.newPage();
    const problems = watchPage(page);
    const email = `signup${vp}${Date.now()}@example.com`;
    const signUp = async (password: string) => {
      await page.goto(`${base}/signup`);
      await onPage(page, '/signup');
      await page.locator('main').getByLabel('Email address').fill(email);
      await page.locator('main').getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Create account' }).click();
    };
    await signUp('short');
    await page.locator('[data-error-for="password"]').filter({ hasText: 'at least 8 characters' }).waitFor();
    assert.equal(await page.locator('main').getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');

    await signUp(GOOD_PASSWORD);
    await onPage(page, '/signin');
    const first = await page.locator('#status').innerText();
    assert.match(first, /If this address is new, your account is ready/);
    assert.match(first, /If it already has an account, nothing changed/);
    assert.equal(await page.locator('main').getByLabel('Email address').inputValue(), email);

    // The same address again: the API answers exactly as for a new one, and the page claims nothing false.
    await signUp('another passphrase entirely');
    await onPage(page, '/signin');
    assert.equal(await page.locator('#status').innerText(), first);
    assert.doesNotMatch(first, /Account created\. You can sign in now/);
    await statusShows(page, '#status', 'Check your inbox', 'success');
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  for (const vp of ['desktop', 'phone'] as const) test(`at ${VIEWPORTS[vp].width} px, sign-in says "Signing in…" while it works; the account page says once who is signed in`, async () => {
    const email = await newUser(t, `busy${vp}`);
    const ctx = await browser.newContext({ locale: 'en-GB', viewport: VIEWPORTS[vp] });
    const page = await ctx.newPage();
    const problems = watchPage(page);
    await page.goto(`${base}/signin`);
    await onPage(page, '/signin');
    // A slow network: the login answer is held back until the busy state has been seen.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/auth/login', async (route) => {
      await held;
      await route.continue();
    });
    await page.fill('#signin-email', email);
    await page.fill('#signin-password', GOOD_PASSWORD);
    await page.click('#signin-form button[type="submit"]');
    const button = page.locator('#signin-form button[type="submit"]');
    await button.filter({ hasText: 'Signing in…' }).waitFor();
    assert.equal(await button.isDisabled(), true);
    assert.equal(await page.locator('#signin-form').getAttribute('aria-busy'), 'true');
    release();
    await onPage(page, '/account');
    const text = await page.locator('body').innerText();
    assert.equal(text.match(/Signed in as/g)?.length, 1, 'one "Signed in as", not two');
    assert.equal(await page.locator('#status').innerText(), '');
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  for (const vp of ['phone', 'desktop'] as const) {
    test(`devices at ${VIEWPORTS[vp].width} px: cards with their own action, before the email form; another device signed out after re-authentication, its result in view`, async () => {
      const email = await newUser(t, `dev${vp}`);
      // A second browser that signed in ten minutes ago, and a script using tokens.
      // The server's clock follows the wall clock here (the browser compares with it), ten minutes back first.
      t.clock.set(Date.now() - 10 * 60_000);
      const B = await signedIn(browser, base, email, { userAgent: FIREFOX_WINDOWS_UA });
      t.clock.set(Date.now());
      const curl = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' }, headers: { 'user-agent': 'curl/8.5.0' } });
      assert.equal(curl.status, 200);
      const A = await signedIn(browser, base, email, { viewport: vp });
      const a = A.page;
      const problems = watchPage(a);

      const cards = a.locator('#devices .device');
      assert.equal(await cards.count(), 3);
      assert.match(await cards.nth(0).innerText(), /This device/, 'this device first');
      assert.match(await cards.nth(0).innerText(), /Last active\s+Active now/);
      const firefox = a.locator('#devices .device', { hasText: 'Firefox on Windows' });
      assert.match(await firefox.innerText(), /Last active\s+10 minutes ago/);
      assert.match(await firefox.innerText(), /Signed in with\s+Session cookie/);
      const script = a.locator('#devices .device', { hasText: 'curl' });
      assert.match(await script.innerText(), /Signed in with\s+Token/);
      assert.doesNotMatch(await a.locator('#devices').innerText(), /Unknown/);
      // Each card carries its own action, inside the card and on screen sideways.
      for (let i = 0; i < 3; i++) assert.equal(await cards.nth(i).getByRole('button', { name: /^Sign out/ }).count(), 1);
      assert.deepEqual(await horizontalOverflow(a), []);
      // Devices come before the (folded) email change.
      const order = await a.evaluate(() => [...document.querySelectorAll('main h2')].map((h) => h.id));
      assert.ok(order.indexOf('devices-h') < order.indexOf('security-h'), order.join(' '));
      assert.equal(await a.locator('#email-form').isVisible(), false, 'the email form is folded away until asked for');
      await screenshot(a, `account-devices-${vp}`, vp === 'desktop' ? 'account' : undefined);
      assert.deepEqual(await lowContrast(a), []);

      // Past the re-authentication window: the API asks for the password; a wrong one is said in the dialog.
      t.clock.advance(11 * 60_000);
      await firefox.getByRole('button', { name: /^Sign out Firefox on Windows/ }).click();
      const dialog = a.getByRole('dialog', { name: 'Confirm your password' });
      await dialog.getByLabel('Password', { exact: true }).fill('wrong password here');
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.locator('[data-error-for="password"]').filter({ hasText: 'incorrect' }).waitFor();
      await screenshot(a, `account-reauth-${vp}`);
      // Cancelling is not an error: nothing happened, and the page says so plainly.
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await statusShows(a, '#devices-status', 'Cancelled. Nothing was changed.', 'info');
      assert.notEqual(await a.locator('#devices-status').evaluate((el) => getComputedStyle(el).color), 'rgb(179, 38, 30)', 'not shown in the error colour');
      assert.equal(await cards.count(), 3);

      await firefox.getByRole('button', { name: /^Sign out Firefox on Windows/ }).click();
      await dialog.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await statusShows(a, '#devices-status', 'Firefox on Windows is signed out.', 'success');
      await a.locator('#devices .device').nth(1).waitFor();
      assert.equal(await cards.count(), 2);
      await a.locator('#events li', { hasText: 'Device signed out' }).waitFor();
      assert.equal(await storageIsEmpty(a), true);
      assert.deepEqual(problems, []);
      await A.ctx.close();
      await B.ctx.close();
    });
  }

  for (const vp of ['phone', 'desktop'] as const) test(`at ${VIEWPORTS[vp].width} px, "Sign out all other devices" is off with none; "Sign out everywhere" asks first, and Cancel changes nothing`, async () => {
    const email = await newUser(t, `others${vp}`);
    const A = await signedIn(browser, base, email, { viewport: vp });
    const a = A.page;
    const problems = watchPage(a);
    const others = a.getByRole('button', { name: 'Sign out all other devices' });
    assert.equal(await others.isDisabled(), true);
    assert.equal(await a.locator('#others-none').isVisible(), true);
    // The main-looking action is not "sign out this device": the two account-wide actions are outlined.
    assert.equal(await a.locator('#logout-all').getAttribute('class'), 'danger-outline');

    const B = await signedIn(browser, base, email, { userAgent: FIREFOX_WINDOWS_UA });
    await a.getByRole('button', { name: 'Refresh list' }).click();
    await statusShows(a, '#devices-status', 'Device list updated.');
    assert.equal(await others.isDisabled(), false);
    await others.click();
    await statusShows(a, '#devices-status', 'Other devices signed out: 1.', 'success');
    assert.equal(await others.isDisabled(), true);
    await B.ctx.close();

    await a.getByRole('button', { name: 'Sign out everywhere…' }).click();
    const confirm = a.getByRole('dialog', { name: 'Sign out everywhere?' });
    await confirm.waitFor();
    assert.match(await confirm.innerText(), /This device is the only one signed in/);
    assert.equal(await a.evaluate(() => document.activeElement?.id), 'confirm-cancel', 'the safe answer has the focus');
    await screenshot(a, `account-confirm-${vp}`);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await statusShows(a, '#devices-status', 'Cancelled. Nothing was changed.');
    assert.equal(await a.evaluate(async () => (await fetch('/auth/session')).json().then((b) => b.user !== null)), true, 'still signed in');

    await a.getByRole('button', { name: 'Sign out everywhere…' }).click();
    await confirm.getByRole('button', { name: 'Sign out everywhere' }).click();
    await onPage(a, '/signin');
    await statusShows(a, '#status', 'Signed out everywhere.', 'success');
    assert.deepEqual(problems, []);
    await A.ctx.close();
  });

  for (const vp of ['phone', 'desktop'] as const) test(`password change at ${VIEWPORTS[vp].width} px: a wrong current password is named as such; success shows beside the form and signs the other devices out`, async () => {
    const email = await newUser(t, `pw${vp}`);
    const B = await signedIn(browser, base, email, { userAgent: FIREFOX_WINDOWS_UA });
    const A = await signedIn(browser, base, email, { viewport: vp });
    const a = A.page;
    const problems = watchPage(a);
    await a.locator('summary', { hasText: 'Change password' }).click();
    const main = a.locator('#password-form');
    await main.getByLabel('Current password', { exact: true }).fill('not my password at all');
    await main.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
    await main.getByRole('button', { name: 'Change password' }).click();
    await a.locator('[data-error-for="current_password"]').filter({ hasText: 'The current password is incorrect.' }).waitFor();
    assert.doesNotMatch(await a.locator('#password-form').innerText(), /Email or password/);

    await main.getByLabel('Current password', { exact: true }).fill(GOOD_PASSWORD);
    await main.getByLabel('New password', { exact: true }).fill('short');
    await main.getByRole('button', { name: 'Change password' }).click();
    await a.locator('[data-error-for="new_password"]').filter({ hasText: 'at least 8 characters' }).waitFor();
    await main.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
    await main.getByRole('button', { name: 'Change password' }).click();
    await statusShows(a, '#password-status', 'Password changed. Other devices were signed out.', 'success');
    await screenshot(a, `account-password-${vp}`);
    assert.deepEqual(await horizontalOverflow(a), []);
    // The other device learns it by itself, without a click.
    await onPage(B.page, '/signin');
    assert.match(await B.page.locator('#status').innerText(), /ended elsewhere/);
    assert.deepEqual(problems, []);
    await A.ctx.close();
    await B.ctx.close();
  });

  for (const vp of ['desktop', 'phone'] as const) test(`at ${VIEWPORTS[vp].width} px, password fields: each form has a username field (no Chromium [DOM] advice) and a show/hide toggle`, async () => {
    const email = await newUser(t, `pwfields${vp}`);
    const ctx = await browser.newContext({ locale: 'en-GB', viewport: VIEWPORTS[vp] });
    const page = await ctx.newPage();
    const log = consoleLog(page);
    for (const path of ['/signin', '/signup', '/reset#token=AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB']) {
      await page.goto(`${base}${path}`);
      await onPage(page, path.split('#')[0]!);
    }
    await page.goto(`${base}/signin`);
    await onPage(page, '/signin');
    const pw = page.locator('#signin-password');
    await pw.fill(GOOD_PASSWORD);
    const toggle = page.getByRole('button', { name: 'Show password' });
    await toggle.click();
    assert.equal(await pw.getAttribute('type'), 'text');
    assert.equal(await page.getByRole('button', { name: 'Hide password' }).innerText(), 'Hide');
    await page.fill('#signin-email', email);
    await page.click('#signin-form button[type="submit"]');
    await onPage(page, '/account');
    // Submitted: the field went back to hidden before the page moved on (nothing left readable).
    await page.locator('summary', { hasText: 'Change password' }).click();
    await page.locator('summary', { hasText: 'Change email address' }).click();
    // Every password form carries the account's username (the re-authentication prompt's is filled when it opens).
    assert.equal(await page.locator('#password-form input[autocomplete="username"]').inputValue(), email);
    assert.equal(await page.locator('#email-form input[autocomplete="username"]').inputValue(), email);
    assert.equal(await page.locator('#reauth-form input[autocomplete="username"]').count(), 1);
    assert.deepEqual(log.dom, [], 'no [DOM] advice from Chromium');
    await ctx.close();
  });

  for (const vp of ['desktop', 'phone'] as const) test(`at ${VIEWPORTS[vp].width} px, a mouse click on a link draws no focus ring around the new heading; the keyboard focus stays visible`, async () => {
    const ctx = await browser.newContext({ locale: 'en-GB', viewport: VIEWPORTS[vp] });
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    await onPage(page, '/');
    await page.locator('header').getByRole('link', { name: 'Explorer' }).click();
    await onPage(page, '/explorer');
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', 'the heading has the focus (for screen readers)');
    assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle), 'none');
    await page.keyboard.press('Tab');
    assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle), 'none');
    assert.deepEqual(await untranslated(page), []);
    assert.equal(await inViewport(page, 'main h1'), true);
    await ctx.close();
  });

  test('the rate-limit message says when to try again, from Retry-After', async () => {
    const ctx = await browser.newContext({ locale: 'en-GB' });
    const page = await ctx.newPage();
    // The API's 429 problem as the rate limiter sends it; the page must read Retry-After.
    await page.route('**/auth/login', (route) =>
      route.fulfill({
        status: 429,
        headers: { 'content-type': 'application/problem+json', 'retry-after': '42' },
        body: JSON.stringify({ type: 'https://gatehouse.dev/problems/rate_limited', title: 'Too many attempts; try again later.', status: 429, code: 'rate_limited' }),
      }),
    );
    await page.goto(`${base}/signin`);
    await onPage(page, '/signin');
    await page.locator('main').getByLabel('Email address').fill('someone@example.com');
    await page.locator('main').getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const msg = page.locator('[data-error-for="_form"]');
    await msg.filter({ hasText: 'Try again in 42 seconds' }).waitFor();
    await screenshot(page, 'signin-rate-limited');
    await ctx.close();
  });
});

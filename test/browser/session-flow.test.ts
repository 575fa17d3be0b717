import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { browserSkip, FIREFOX_WINDOWS_UA, lowContrast, onPage, screenshot, storageIsEmpty, untranslated, watchPage, startBrowserSuite, stopBrowserSuite } from './support.js';

describe('web UI with a session cookie', { skip: browserSkip() }, () => {
  let t: TestServer;
  let browser: Browser;
  let base: string;
  before(async () => {
    ({ t, browser, base } = await startBrowserSuite(startTestServer()));
  });
  after(() => stopBrowserSuite(browser, t));

  test('sign up, sign in with a session, see this device; a second device revoked from the first is sent to sign-in', async () => {
    const email = uniqueEmail('web');
    const ctxA = await browser.newContext({ locale: 'en-GB', viewport: { width: 1200, height: 900 } });
    const a = await ctxA.newPage();
    const problemsA = watchPage(a);

    await a.goto(`${base}/`);
    await onPage(a, '/');
    await screenshot(a, 'home');
    assert.deepEqual(await lowContrast(a), [], 'home');
    await a.getByRole('link', { name: 'Sign up' }).first().click();
    await onPage(a, '/signup');

    // A field error comes from the API's problem response (password_too_short, field "password").
    await a.locator('main').getByLabel('Email address').fill(email);
    await a.locator('main').getByLabel('Password', { exact: true }).fill('short');
    await a.getByRole('button', { name: 'Create account' }).click();
    const pwError = a.locator('[data-error-for="password"]');
    await pwError.filter({ hasText: 'at least 8 characters' }).waitFor();
    assert.equal(await a.locator('main').getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
    await screenshot(a, 'signup-error');
    assert.deepEqual(await lowContrast(a), [], 'signup-error');

    await a.locator('main').getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await a.getByRole('button', { name: 'Create account' }).click();
    await onPage(a, '/signin');
    assert.match(await a.locator('#status').innerText(), /Account created/);
    assert.equal(await a.locator('main').getByLabel('Email address').inputValue(), email);

    // A wrong password is a form-level error and does not lose the page.
    await a.locator('main').getByLabel('Password', { exact: true }).fill('not the password at all');
    await a.getByRole('button', { name: 'Sign in' }).click();
    await a.locator('[data-error-for="_form"]').filter({ hasText: 'Email or password is incorrect.' }).waitFor();

    await a.locator('main').getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    assert.equal(await a.locator('main').getByLabel('Session cookie').isChecked(), true);
    await screenshot(a, 'signin');
    assert.deepEqual(await lowContrast(a), [], 'signin');
    await a.getByRole('button', { name: 'Sign in' }).click();
    await onPage(a, '/account');
    assert.match(await a.locator('#whoami').innerText(), new RegExp(`${email.replace(/[.+]/g, '\\$&')}.*session cookie`));
    const rowsA = a.locator('#devices tbody tr');
    assert.equal(await rowsA.count(), 1);
    assert.match(await rowsA.first().innerText(), /This device/);
    assert.match(await rowsA.first().innerText(), /127\.0\.0\.1/);

    const cookies = await ctxA.cookies();
    const sessionCookie = cookies.find((c) => c.name === '__Host-gatehouse');
    assert.ok(sessionCookie, 'the session cookie is set');
    assert.equal(sessionCookie.httpOnly, true);
    assert.equal(sessionCookie.sameSite, 'Lax');
    assert.equal(await a.evaluate(() => document.cookie.includes('__Host-gatehouse')), false, 'the page cannot read the session cookie');

    // The second device: another browser context with a different user agent.
    const ctxB = await browser.newContext({ locale: 'en-GB', userAgent: FIREFOX_WINDOWS_UA });
    const b = await ctxB.newPage();
    const problemsB = watchPage(b);
    await b.goto(`${base}/signin`);
    await onPage(b, '/signin');
    await b.locator('main').getByLabel('Email address').fill(email);
    await b.locator('main').getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await b.getByRole('button', { name: 'Sign in' }).click();
    await onPage(b, '/account');
    assert.equal(await b.locator('#devices tbody tr').count(), 2);

    await a.getByRole('button', { name: 'Reload devices' }).click();
    await a.locator('#devices tbody tr').nth(1).waitFor();
    const other = a.locator('#devices tbody tr:not([data-current])');
    assert.match(await other.innerText(), /Firefox/);
    assert.match(await other.innerText(), /Windows/);
    await screenshot(a, 'account', 'account');
    assert.deepEqual(await lowContrast(a), [], 'account');

    // Eleven minutes later the API wants the password again before ending another device.
    t.clock.advance(11 * 60_000);
    await other.getByRole('button', { name: /^Sign out Firefox on Windows/ }).click();
    const dialog = a.getByRole('dialog', { name: 'Confirm your password' });
    await dialog.waitFor();
    await dialog.getByLabel('Password').fill('wrong password here');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.locator('[data-error-for="password"]').filter({ hasText: 'incorrect' }).waitFor();
    await screenshot(a, 'account-reauth');
    assert.deepEqual(await lowContrast(a), [], 'account-reauth');
    await dialog.getByLabel('Password').fill(GOOD_PASSWORD);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await a.locator('#status').filter({ hasText: 'That device is signed out.' }).waitFor();
    assert.equal(await a.locator('#devices tbody tr').count(), 1);
    await a.locator('#events li').filter({ hasText: 'Device signed out' }).waitFor();

    // The second device learns on its next action.
    await b.getByRole('button', { name: 'Reload devices' }).click();
    await onPage(b, '/signin');
    assert.match(await b.locator('#status').innerText(), /Your session has ended/);
    assert.equal(await b.getByRole('link', { name: 'Account' }).isHidden(), true);

    // Explorer: the cookie's attributes (value redacted) and the server-side record, then a revoke.
    await a.getByRole('link', { name: 'Explorer' }).click();
    await onPage(a, '/explorer');
    const attrs = await a.locator('#cookie-attrs').innerText();
    assert.match(attrs, /__Host-gatehouse/);
    assert.match(attrs, /redacted/);
    assert.match(attrs, /Lax/);
    assert.equal(attrs.includes(sessionCookie.value), false, 'the cookie value is never shown');
    assert.match(await a.locator('#session-record').innerText(), /"mode": "session"/);
    assert.match(await a.locator('#col-token').innerText(), /Not used by this sign-in/);
    assert.deepEqual(await untranslated(a), []);
    await screenshot(a, 'explorer-session');
    assert.deepEqual(await lowContrast(a), [], 'explorer-session');
    await a.getByRole('button', { name: 'Revoke current session' }).click();
    await a.locator('#revoke-results li[data-key="explorer.revoke.cookie"]').waitFor();
    assert.match(await a.locator('#revoke-results').innerText(), /DELETE \/auth\/sessions\/… → 204[\s\S]*GET \/auth\/me → 401 unauthenticated/);
    assert.equal(await a.evaluate(async () => (await fetch('/auth/me')).status), 401);

    assert.equal(await storageIsEmpty(a), true);
    assert.deepEqual(problemsA, []);
    assert.deepEqual(problemsB, []);
    await ctxA.close();
    await ctxB.close();
  });

  test('password change, sign out all other devices and sign out everywhere end the right sessions', async () => {
    const email = uniqueEmail('acct');
    const reg = await fetch(`${t.url}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: GOOD_PASSWORD }) });
    assert.equal(reg.status, 201);
    const signIn = async (ua?: string) => {
      const ctx = await browser.newContext({ locale: 'en-GB', ...(ua ? { userAgent: ua } : {}) });
      const page = await ctx.newPage();
      await page.goto(`${base}/signin`);
      await onPage(page, '/signin');
      await page.locator('main').getByLabel('Email address').fill(email);
      await page.locator('main').getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
      await page.locator('main').getByRole('button', { name: 'Sign in' }).click();
      await onPage(page, '/account');
      return { ctx, page };
    };
    const A = await signIn();
    const B = await signIn(FIREFOX_WINDOWS_UA);
    const a = A.page;
    const main = a.locator('main');

    // Field errors from the API: a too-short new password, then a wrong current password.
    await main.getByLabel('Current password').fill(GOOD_PASSWORD);
    await main.getByLabel('New password').fill('short');
    await main.getByRole('button', { name: 'Change password' }).click();
    await a.locator('[data-error-for="new_password"]').filter({ hasText: 'at least 8 characters' }).waitFor();
    await main.getByLabel('Current password').fill('not my password at all');
    await main.getByLabel('New password').fill('a brand new passphrase');
    await main.getByRole('button', { name: 'Change password' }).click();
    await a.locator('[data-error-for="current_password"]').filter({ hasText: 'incorrect' }).waitFor();
    assert.equal(a.url(), `${base}/account`, 'a wrong current password does not sign the user out');
    await main.getByLabel('Current password').fill(GOOD_PASSWORD);
    await main.getByRole('button', { name: 'Change password' }).click();
    await a.locator('#status').filter({ hasText: 'Password changed.' }).waitFor();
    await a.locator('#events li').filter({ hasText: 'Password changed' }).waitFor();

    // The password change ended the other device.
    await B.page.getByRole('button', { name: 'Reload devices' }).click();
    await onPage(B.page, '/signin');
    await B.ctx.close();

    // Another device signs in with the new password; "all other devices" ends it and keeps this one.
    const C = await (async () => {
      const ctx = await browser.newContext({ locale: 'en-GB', userAgent: FIREFOX_WINDOWS_UA });
      const page = await ctx.newPage();
      await page.goto(`${base}/signin`);
      await onPage(page, '/signin');
      await page.locator('main').getByLabel('Email address').fill(email);
      await page.locator('main').getByLabel('Password', { exact: true }).fill('a brand new passphrase');
      await page.locator('main').getByRole('button', { name: 'Sign in' }).click();
      await onPage(page, '/account');
      return { ctx, page };
    })();
    await a.getByRole('button', { name: 'Sign out all other devices' }).click();
    await a.locator('#status').filter({ hasText: 'Other devices signed out: 1.' }).waitFor();
    assert.equal(await a.locator('#devices tbody tr').count(), 1);
    await C.page.getByRole('button', { name: 'Reload devices' }).click();
    await onPage(C.page, '/signin');
    await C.ctx.close();

    // Everywhere, this device included, after the re-authentication the API asks for.
    t.clock.advance(11 * 60_000);
    await a.getByRole('button', { name: 'Sign out everywhere' }).click();
    const dialog = a.getByRole('dialog', { name: 'Confirm your password' });
    await dialog.getByLabel('Password').fill('a brand new passphrase');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await onPage(a, '/signin');
    assert.match(await a.locator('#status').innerText(), /Signed out everywhere/);
    assert.equal(await a.evaluate(async () => (await fetch('/auth/me')).status), 401);
    await A.ctx.close();
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

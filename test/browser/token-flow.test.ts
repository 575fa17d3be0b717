import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { browserSkip, FIREFOX_WINDOWS_UA, freePort, lowContrast, onPage, RealClock, screenshot, storageIsEmpty, untranslated, watchPage, startBrowserSuite, stopBrowserSuite } from './support.js';

async function signInWithTokens(page: Page, base: string, email: string): Promise<string> {
  await page.goto(`${base}/signin`);
  await onPage(page, '/signin');
  const main = page.locator('main');
  await main.getByLabel('Email address').fill(email);
  await main.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
  await main.getByLabel('Tokens in memory, refresh token in an HttpOnly cookie').check();
  const login = page.waitForResponse((r) => r.url().endsWith('/auth/login'));
  await main.getByRole('button', { name: 'Sign in' }).click();
  const body = await (await login).json();
  assert.equal(body.refresh_token, undefined, 'the refresh token travels only in the HttpOnly cookie');
  await onPage(page, '/account');
  return body.access_token as string;
}

describe('web UI with tokens in memory', { skip: browserSkip() }, () => {
  let t: TestServer;
  let browser: Browser;
  let base: string;
  before(async () => {
    // Real time: the access token lives 2 s and the browser refreshes it on its own.
    const port = await freePort();
    base = `http://localhost:${port}`;
    ({ t, browser } = await startBrowserSuite(startTestServer({ port, clock: new RealClock(), config: { publicUrl: base, token: { accessTtl: '2s', clockSkew: 0 } } })));
  });
  after(() => stopBrowserSuite(browser, t));

  test('token sign-in refreshes silently after the access token expires; the explorer shows the JWT and the refresh', async () => {
    const email = uniqueEmail('webtok');
    assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    const ctx = await browser.newContext({ locale: 'en-GB', viewport: { width: 1200, height: 900 } });
    const page = await ctx.newPage();
    const problems = watchPage(page);
    const first = await signInWithTokens(page, base, email);
    assert.match(await page.locator('#whoami').innerText(), /tokens held in memory/);

    const cookies = await ctx.cookies();
    assert.equal(cookies.some((c) => c.name === '__Host-gatehouse'), false, 'no session cookie in token mode');
    const refresh = cookies.find((c) => c.name === '__Secure-gatehouse-refresh');
    assert.ok(refresh, 'the refresh cookie is set');
    assert.equal(refresh.httpOnly, true);
    assert.equal(refresh.path, '/auth/refresh');
    assert.equal(refresh.sameSite, 'Strict');

    await page.getByRole('link', { name: 'Explorer' }).click();
    await onPage(page, '/explorer');
    const header = JSON.parse(await page.locator('#jwt-header').innerText());
    assert.equal(header.typ, 'at+jwt');
    assert.equal(typeof header.kid, 'string');
    const claims = await page.locator('#jwt-claims').innerText();
    assert.match(claims, /"sid"/);
    assert.match(claims, new RegExp(`"iss": "${base}"`));
    assert.match(claims, /"jti"/);
    assert.match(await page.locator('#countdown').innerText(), /^\d+\.\d s$|^expired$/);

    // The first token expires at 2 s; the page has refreshed it by then (bounded wait).
    await page.locator('#explorer-log li[data-key="log.refreshed"]').first().waitFor({ timeout: 8_000 });
    const exp = JSON.parse(Buffer.from(first.split('.')[1]!, 'base64url').toString()).exp as number;
    const wait = exp * 1000 + 100 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const api = new Client(t.url);
    assert.equal((await api.req('GET', '/auth/me', { bearer: first })).status, 401, 'the first access token has expired');
    // The page still works with the token it refreshed into, without a new sign-in.
    assert.notEqual(JSON.parse((await page.locator('#jwt-claims').innerText())).jti, JSON.parse(Buffer.from(first.split('.')[1]!, 'base64url').toString()).jti);
    await page.getByRole('link', { name: 'Account' }).click();
    await onPage(page, '/account');
    assert.equal(await page.locator('#devices tbody tr[data-current="true"]').count(), 1);
    await page.getByRole('link', { name: 'Explorer' }).click();
    await onPage(page, '/explorer');
    await page.locator('#explorer-log li[data-key="log.refreshed"]').nth(1).waitFor({ timeout: 8_000 });
    assert.deepEqual(await untranslated(page), []);
    await screenshot(page, 'explorer', 'explorer');
    assert.deepEqual(await lowContrast(page), []);

    // Revoke: the access token in hand and the refresh cookie both stop working at once.
    await page.getByRole('button', { name: 'Revoke current session' }).click();
    await page.locator('#revoke-results li[data-key="explorer.revoke.refresh"]').waitFor();
    const results = await page.locator('#revoke-results').innerText();
    assert.match(results, /DELETE \/auth\/sessions\/… → 204/);
    assert.match(results, /Access token: GET \/auth\/me → 401 invalid_token/);
    assert.match(results, /Refresh cookie: POST \/auth\/refresh → 400 invalid_grant/);
    await screenshot(page, 'explorer-revoked');
    assert.equal(await storageIsEmpty(page), true);
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  test('a token device revoked from another device is sent to sign-in on its next action', async () => {
    const email = uniqueEmail('webtok2');
    assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    const ctxA = await browser.newContext({ locale: 'en-GB' });
    const a = await ctxA.newPage();
    const ctxB = await browser.newContext({ locale: 'en-GB', userAgent: FIREFOX_WINDOWS_UA });
    const b = await ctxB.newPage();
    const problems = [...watchPage(a), ...watchPage(b)];
    await signInWithTokens(a, base, email);
    await signInWithTokens(b, base, email);

    // A reload keeps the sign-in: the page gets a new access token with the refresh cookie.
    await b.reload();
    await onPage(b, '/account');
    assert.match(await b.locator('#whoami').innerText(), /tokens held in memory/);

    await a.getByRole('button', { name: 'Reload devices' }).click();
    const other = a.locator('#devices tbody tr:not([data-current])');
    await other.waitFor();
    assert.match(await other.innerText(), /Firefox[\s\S]*Windows[\s\S]*Token/);
    await other.getByRole('button', { name: /^Sign out Firefox/ }).click();
    await a.locator('#status').filter({ hasText: 'That device is signed out.' }).waitFor();

    // B's next action sends it to sign-in — unless its scheduled refresh (the access tokens here live
    // 2 s) was refused first and did so already. Either way it must end on sign-in with the message.
    const reload = b.getByRole('button', { name: 'Reload devices' });
    if (await reload.isVisible()) await reload.click({ timeout: 5000 }).catch(() => undefined);
    await onPage(b, '/signin');
    assert.match(await b.locator('#status').innerText(), /Your session has ended/);
    assert.deepEqual(problems, []);
    await ctxA.close();
    await ctxB.close();
  });
});

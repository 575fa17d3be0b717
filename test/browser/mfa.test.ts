/**
 * Second factors and passkeys in the web UI, in Chromium with the DevTools WebAuthn virtual
 * authenticator (ctap2, internal transport, resident keys, user verification): passkey enrolment →
 * sign out → passwordless sign-in; password + authenticator app; a recovery code; step-up for a
 * sensitive action; the devices list says how each session signed in. English and Korean.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { register } from '../support/flows.js';
import { totpCode } from '../support/webauthn.js';
import { browserSkip, freePort, lowContrast, onPage, screenshot, startBrowserSuite, stopBrowserSuite, storageIsEmpty, untranslated, watchPage } from './support.js';

const SECRET = 'a browser-test secret of at least 32 characters';

/** A context whose pages have a virtual platform authenticator with user verification. */
async function withAuthenticator(browser: Browser, opts: { locale?: string; viewport?: { width: number; height: number } } = {}): Promise<{ ctx: BrowserContext; page: Page; problems: string[] }> {
  const ctx = await browser.newContext({ locale: opts.locale ?? 'en-GB', viewport: opts.viewport ?? { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { ctx, page, problems: watchPage(page) };
}

async function passwordSignIn(page: Page, base: string, email: string): Promise<void> {
  await page.goto(`${base}/signin`);
  await onPage(page, '/signin');
  await page.locator('main').getByLabel('Email address').fill(email);
  await page.locator('main').getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Account' }).click();
  await onPage(page, '/account');
  await page.getByRole('button', { name: 'Sign out this device' }).click();
  await onPage(page, '/signin');
}

describe('web UI: second factors and passkeys', { skip: browserSkip() }, () => {
  let t: TestServer;
  let browser: Browser;
  let base: string;
  before(async () => {
    const port = await freePort();
    ({ t, browser, base } = await startBrowserSuite(startTestServer({ port, config: { publicUrl: `http://localhost:${port}`, secret: SECRET } })));
  });
  after(() => stopBrowserSuite(browser, t));

  test('passkey enrolment → sign out → passwordless sign-in; the devices list says how each session signed in', async () => {
    const email = uniqueEmail('webpk');
    await register(t, email);
    const { ctx, page, problems } = await withAuthenticator(browser);
    await passwordSignIn(page, base, email);
    await onPage(page, '/account');

    await page.getByRole('link', { name: 'Security' }).click();
    await onPage(page, '/security');
    await page.locator('main').getByLabel('Passkey name').fill('Test laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.locator('#status').filter({ hasText: 'Passkey “Test laptop” added.' }).waitFor();
    await page.locator('#passkeys').filter({ hasText: 'Test laptop' }).waitFor();
    await screenshot(page, 'security-passkey');
    assert.deepEqual(await lowContrast(page), [], 'security-passkey');

    // Rename it.
    await page.getByRole('button', { name: 'Rename passkey Test laptop' }).click();
    await page.locator('#passkeys').getByLabel('Passkey name').fill('Work laptop');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#passkeys').filter({ hasText: 'Work laptop' }).waitFor();

    await signOut(page);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await onPage(page, '/account');
    const current = page.locator('#devices .device[data-current]');
    assert.match(await current.innerText(), /Passkey · 2 factors/);
    await screenshot(page, 'account-passkey-session');
    assert.deepEqual(await untranslated(page), []);
    assert.equal(await storageIsEmpty(page), true);
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  test('password + authenticator app, a recovery code, and step-up with the code for a sensitive action', async () => {
    const email = uniqueEmail('webtotp');
    await register(t, email);
    const { ctx, page, problems } = await withAuthenticator(browser);
    await passwordSignIn(page, base, email);
    await onPage(page, '/account');
    await page.getByRole('link', { name: 'Security' }).click();
    await onPage(page, '/security');
    assert.equal(await page.locator('#totp-state').innerText(), 'Off');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.locator('#totp-setup').waitFor();
    assert.match((await page.locator('#totp-qr').getAttribute('src')) ?? '', /^data:image\/svg\+xml;base64,/);
    assert.ok(await page.locator('#totp-qr').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), 'the QR code renders under the CSP');
    await screenshot(page, 'security-totp-setup', 'security-totp');
    assert.deepEqual(await lowContrast(page), [], 'security-totp-setup');
    const secret = (await page.locator('#totp-secret').innerText()).replace(/\s+/g, '');
    await page.locator('main').getByLabel('6-digit code from your authenticator app').fill(totpCode(secret, t.clock.now()));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('#status').filter({ hasText: 'Authenticator app turned on.' }).waitFor();
    const codes = (await page.locator('#codes-list li').allInnerTexts()).map((c) => c.trim());
    assert.equal(codes.length, 10);
    assert.equal(await page.locator('#totp-state').innerText(), 'On');
    assert.equal(await page.locator('#codes-download').getAttribute('download'), 'recovery-codes.txt');
    assert.match((await page.locator('#codes-download').getAttribute('href')) ?? '', /^blob:/);
    await screenshot(page, 'security-recovery-codes');
    assert.deepEqual(await lowContrast(page), [], 'security-recovery-codes');

    // Password + code.
    await signOut(page);
    t.clock.advance(30_000);
    await passwordSignIn(page, base, email);
    await onPage(page, '/signin/verify');
    await screenshot(page, 'signin-second-factor', 'signin-second-factor');
    assert.deepEqual(await lowContrast(page), [], 'signin-second-factor');
    await page.locator('main').getByLabel('6-digit code from your authenticator app').fill('000000' === totpCode(secret, t.clock.now()) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Verify' }).first().click();
    await page.locator('[data-error-for="totp"], #mfa-totp-form [data-error-for="_form"]').filter({ hasText: 'incorrect' }).first().waitFor();
    await page.locator('main').getByLabel('6-digit code from your authenticator app').fill(totpCode(secret, t.clock.now()));
    await page.getByRole('button', { name: 'Verify' }).first().click();
    await onPage(page, '/account');
    assert.match(await page.locator('#devices .device[data-current]').innerText(), /Password \+ code · 2 factors/);

    // A recovery code.
    await signOut(page);
    await passwordSignIn(page, base, email);
    await onPage(page, '/signin/verify');
    await page.getByText('Use a recovery code instead').click();
    await page.locator('main').getByLabel('Recovery code').fill(codes[0]!);
    await page.locator('#mfa-recovery-form').getByRole('button', { name: 'Verify' }).click();
    await onPage(page, '/account');
    await page.locator('#events li').filter({ hasText: 'Recovery code used' }).waitFor();

    // Another device signs in (password + code), then eleven minutes later signing it out needs the
    // second factor again.
    t.clock.advance(30_000);
    const other = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: GOOD_PASSWORD, mode: 'token' }) });
    const { mfa_token } = (await other.json()) as { mfa_token: string };
    const done = await fetch(`${base}/auth/login/mfa`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mfa_token, totp: totpCode(secret, t.clock.now()) }) });
    assert.equal(done.status, 200, await done.text());
    t.clock.advance(11 * 60_000);
    await page.getByRole('button', { name: 'Refresh list' }).click();
    await page.locator('#devices .device').nth(1).waitFor();
    await page.getByRole('button', { name: 'Sign out all other devices' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Password', { exact: true }).isHidden(), true, 'the password alone is not offered');
    await screenshot(page, 'step-up-dialog');
    assert.deepEqual(await lowContrast(page), [], 'step-up-dialog');
    await dialog.getByLabel('6-digit code from your authenticator app').fill(totpCode(secret, t.clock.now()));
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.locator('#devices-status').filter({ hasText: /Other devices signed out/ }).waitFor();
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  test('Korean, on a phone-sized screen: the security page and the second step are translated', async () => {
    const email = uniqueEmail('webko');
    await register(t, email);
    const { ctx, page, problems } = await withAuthenticator(browser, { locale: 'ko-KR', viewport: { width: 390, height: 844 } });
    await page.goto(`${base}/signin?lang=ko`);
    await onPage(page, '/signin');
    await page.locator('main').getByLabel('이메일 주소').fill(email);
    await page.locator('main').getByLabel('비밀번호', { exact: true }).fill(GOOD_PASSWORD);
    await page.locator('#signin-form button[type="submit"]').click();
    await onPage(page, '/account');
    await page.goto(`${base}/security`);
    await onPage(page, '/security');
    await page.getByRole('button', { name: '인증 앱 설정' }).click();
    await page.locator('#totp-setup').waitFor();
    const secret = (await page.locator('#totp-secret').innerText()).replace(/\s+/g, '');
    await page.locator('main').getByLabel('인증 앱의 6자리 코드').fill(totpCode(secret, t.clock.now()));
    await page.getByRole('button', { name: '켜기' }).click();
    await page.locator('#codes-list li').nth(9).waitFor();
    assert.deepEqual(await untranslated(page), []);
    await screenshot(page, 'security-ko-phone');
    assert.deepEqual(await lowContrast(page), [], 'security-ko-phone');

    await page.locator('main').getByLabel('패스키 이름').fill('휴대폰');
    await page.getByRole('button', { name: '패스키 추가' }).click();
    await page.locator('#passkeys').filter({ hasText: '휴대폰' }).waitFor();

    const other = await browser.newContext({ locale: 'ko-KR', viewport: { width: 390, height: 844 } });
    const p2 = await other.newPage();
    const problems2 = watchPage(p2);
    await p2.goto(`${base}/signin?lang=ko`);
    await onPage(p2, '/signin');
    await p2.locator('main').getByLabel('이메일 주소').fill(email);
    await p2.locator('main').getByLabel('비밀번호', { exact: true }).fill(GOOD_PASSWORD);
    await p2.locator('#signin-form button[type="submit"]').click();
    await onPage(p2, '/signin/verify');
    assert.deepEqual(await untranslated(p2), []);
    assert.match(await p2.locator('main').innerText(), /2단계 로그인/);
    await screenshot(p2, 'signin-second-factor-ko-phone');
    assert.deepEqual(await lowContrast(p2), [], 'signin-second-factor-ko-phone');
    assert.deepEqual(problems, []);
    assert.deepEqual(problems2, []);
    await other.close();
    await ctx.close();
  });
});

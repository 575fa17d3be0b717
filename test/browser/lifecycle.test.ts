/**
 * The account-lifecycle pages in a real browser, with mail delivered over SMTP to a test server on
 * loopback: forgot password → mailed link → new password → sign in; sign up → verification link →
 * verified; email change with the re-authentication prompt; the Korean forgot page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { GatehouseConfigInput } from '../../src/config.js';
import { GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { startSmtp, type ReceivedMail, type TestSmtp } from '../support/smtp.js';
import { browserSkip, freePort, inViewport, launchBrowser, lowContrast, onPage, screenshot, storageIsEmpty, untranslated, watchPage } from './support.js';

const NEW_PASSWORD = 'a brand new passphrase 42';

interface MailServer {
  t: TestServer;
  smtp: TestSmtp;
  base: string;
  close(): Promise<void>;
}

/** A server whose public URL is its own address, so the mailed links open in the browser as they are. */
async function startServer(config: GatehouseConfigInput = {}): Promise<MailServer> {
  const smtp = await startSmtp();
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const t = await startTestServer({
    port,
    config: { ...config, publicUrl: base, mail: { smtpUrl: smtp.url, unsafeAllowPlaintext: true, retryBase: 50, maxAttempts: 8 }, lifecycle: { resendPerAccount: 1, ...(config.lifecycle ?? {}) } },
  });
  return {
    t,
    smtp,
    base,
    async close() {
      await t.close();
      await smtp.close();
    },
  };
}

/** The full link (`…/path#token=…`) of the newest matching message to `to`, waiting for it to arrive. */
async function mailedLink(s: MailServer, to: string, path: string, not: string[] = []): Promise<string> {
  const re = new RegExp(`(https?://[^\\s#]+${path.replace(/[/-]/g, '\\$&')})#token=([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)`);
  const mail: ReceivedMail = await s.smtp.waitFor((m) => m.to.includes(to) && re.test(m.text) && !not.some((l) => m.text.includes(l)), 10_000);
  const m = re.exec(mail.text)!;
  assert.equal(m[1], `${s.base}${path}`, 'the mailed link points at the web page');
  return `${m[1]}#token=${m[2]}`;
}

async function signUp(page: Page, base: string, email: string): Promise<void> {
  await page.goto(`${base}/signup`);
  await onPage(page, '/signup');
  await page.locator('main').getByLabel('Email address').fill(email);
  await page.locator('main').getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await onPage(page, '/signin');
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  const main = page.locator('main');
  await main.getByLabel('Email address').fill(email);
  await main.getByLabel('Password', { exact: true }).fill(password);
  await main.getByRole('button', { name: 'Sign in' }).click();
}

describe('web UI: password reset, email verification and email change', { skip: browserSkip() }, () => {
  let s: MailServer;
  let browser: Browser;
  before(async () => {
    s = await startServer({ rateLimits: { enabled: true } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('forgot password: the mailed link opens the reset page, which sets a new password that signs in', async () => {
    const email = uniqueEmail('webreset');
    const ctx = await browser.newContext({ locale: 'en-GB' });
    const page = await ctx.newPage();
    const problems = watchPage(page);
    await signUp(page, s.base, email);

    // The sign-in page links to the forgot page, carrying the address typed so far.
    await page.locator('main').getByLabel('Email address').fill(email);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await onPage(page, '/forgot');
    assert.equal(await page.locator('main').getByLabel('Email address').inputValue(), email);
    await screenshot(page, 'forgot');
    assert.deepEqual(await lowContrast(page), [], 'forgot');
    const answer = page.waitForResponse((r) => r.url().endsWith('/auth/password-reset'));
    await page.getByRole('button', { name: 'Send reset link' }).click();
    assert.equal((await answer).status(), 202);
    await page.locator('#forgot-sent').filter({ hasText: 'If an account exists for that address' }).waitFor();
    // One answer, right under the form, and focused (so it is read out and on screen); nothing at the top.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'forgot-sent');
    assert.equal(await inViewport(page, '#forgot-sent'), true);
    assert.equal(await page.locator('#status').innerText(), '');

    // An address without an account gets the very same page.
    await page.locator('main').getByLabel('Email address').fill(uniqueEmail('nobody'));
    const other = page.waitForResponse((r) => r.url().endsWith('/auth/password-reset'));
    await page.getByRole('button', { name: 'Send reset link' }).click();
    assert.equal((await other).status(), 202);
    await page.locator('#forgot-sent').waitFor();
    await screenshot(page, 'forgot-sent');

    const link = await mailedLink(s, email, '/reset');
    await page.goto(link);
    await onPage(page, '/reset');
    assert.equal(await page.evaluate(() => location.hash), '', 'the token is cleared from the address bar');
    assert.equal(await page.evaluate(() => location.pathname), '/reset');

    // A refused password shows on its field and does not spend the link.
    const pw = page.locator('main').getByLabel('New password');
    await pw.fill('short');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.locator('[data-error-for="new_password"]').filter({ hasText: 'at least 8 characters' }).waitFor();
    assert.equal(await pw.getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'reset-error');
    assert.deepEqual(await lowContrast(page), [], 'reset-error');

    await pw.fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.locator('#reset-done').filter({ hasText: 'Your password has been changed' }).waitFor();
    assert.equal(await page.locator('#reset-form').isVisible(), false);
    await screenshot(page, 'reset-done');

    await page.locator('#reset-done').getByRole('link', { name: 'Sign in' }).click();
    await onPage(page, '/signin');
    await signIn(page, email, GOOD_PASSWORD);
    await page.locator('[data-error-for="_form"]').filter({ hasText: 'Email or password is incorrect.' }).waitFor();
    await signIn(page, email, NEW_PASSWORD);
    await onPage(page, '/account');

    // The same link again (e.g. from browser history) is refused, with a way to ask for a new one.
    await page.goto(link);
    await onPage(page, '/reset');
    await page.locator('main').getByLabel('New password').fill('yet another passphrase 7');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.locator('#reset-invalid').filter({ hasText: 'invalid or has expired' }).waitFor();
    assert.equal(await page.locator('#reset-form').isVisible(), false);
    await screenshot(page, 'reset-invalid');
    await page.locator('#reset-invalid').getByRole('link', { name: 'Request a new link' }).click();
    await onPage(page, '/forgot');

    assert.ok(await storageIsEmpty(page));
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  test('sign up, see "not verified" and resend (then the limit), open the link: the account shows verified', async () => {
    const email = uniqueEmail('webverify');
    const ctx = await browser.newContext({ locale: 'en-GB' });
    const page = await ctx.newPage();
    const problems = watchPage(page);
    await signUp(page, s.base, email);
    const first = await mailedLink(s, email, '/verify-email');

    await signIn(page, email, GOOD_PASSWORD);
    await onPage(page, '/account');
    assert.equal(await page.locator('#email-state').innerText(), 'not verified');
    const resend = page.getByRole('button', { name: 'Resend verification email' });
    await resend.click();
    await page.locator('#email-status').filter({ hasText: `Verification link sent to ${email}` }).waitFor();
    assert.equal(await inViewport(page, '#email-status'), true);
    const second = await mailedLink(s, email, '/verify-email', [first]);
    assert.notEqual(second, first);

    // One resend per window here: the next answer is a 429 whose Retry-After the page shows.
    const limited = page.waitForResponse((r) => r.url().endsWith('/auth/verify-email/resend'));
    await resend.click();
    const res = await limited;
    assert.equal(res.status(), 429);
    const seconds = Number(await res.headerValue('retry-after'));
    await page.locator('#email-status').filter({ hasText: seconds >= 120 ? `Try again in ${Math.ceil(seconds / 60)} minutes` : `Try again in ${seconds} seconds` }).waitFor();
    await screenshot(page, 'account-unverified');
    assert.deepEqual(await lowContrast(page), [], 'account-unverified');

    await page.goto(second);
    await onPage(page, '/verify-email');
    await page.locator('#verify-done').filter({ hasText: 'Your email address is verified.' }).waitFor();
    assert.equal(await page.evaluate(() => location.hash), '');
    await screenshot(page, 'verify-email');
    await page.locator('#verify-done').getByRole('link', { name: 'Your account' }).click();
    await onPage(page, '/account');
    await page.locator('#email-state').filter({ hasText: /^verified$/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Resend verification email' }).isVisible(), false);

    // A used link, opened by the signed-in owner of the verified address, says there is nothing left to do.
    await page.goto(second);
    await onPage(page, '/verify-email');
    await page.locator('#verify-already').filter({ hasText: 'already verified' }).waitFor();
    assert.equal(await page.locator('#verify-invalid').isVisible(), false);
    // Signed out, the same link cannot tell whose it was: invalid, with what to do either way.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await onPage(page, '/signin');
    await page.goto(second);
    await onPage(page, '/verify-email');
    await page.locator('#verify-invalid').filter({ hasText: 'If your address is already verified' }).waitFor();
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  test('a verification link opened signed out asks for the account password; a wrong one is said, the right one verifies', async () => {
    const email = uniqueEmail('webverifyout');
    const ctx = await browser.newContext({ locale: 'en-GB' });
    const page = await ctx.newPage();
    const problems = watchPage(page);
    await signUp(page, s.base, email);
    const link = await mailedLink(s, email, '/verify-email');
    await page.goto(link);
    await onPage(page, '/verify-email');
    const form = page.locator('#verify-form');
    await form.filter({ hasText: 'confirm that this account is yours' }).waitFor();
    await form.getByLabel('Password', { exact: true }).fill('not the password at all');
    await form.getByRole('button', { name: 'Verify my address' }).click();
    await form.locator('[data-error-for="password"]').filter({ hasText: 'The password is incorrect.' }).waitFor();
    await screenshot(page, 'verify-email-password');
    await form.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await form.getByRole('button', { name: 'Verify my address' }).click();
    await page.locator('#verify-done').filter({ hasText: 'Your email address is verified.' }).waitFor();
    assert.equal(await inViewport(page, '#verify-done'), true);
    await page.locator('#verify-done').getByRole('link', { name: 'Sign in' }).click();
    await onPage(page, '/signin');
    await signIn(page, email, GOOD_PASSWORD);
    await onPage(page, '/account');
    await page.locator('#email-state').filter({ hasText: /^verified$/ }).waitFor();
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  test('changing the email needs the current password (a wrong one is named); the link to the new address moves the account', async () => {
    const email = uniqueEmail('webchange');
    const next = uniqueEmail('webchanged');
    const ctx = await browser.newContext({ locale: 'en-GB' });
    const page = await ctx.newPage();
    const problems = watchPage(page);
    await signUp(page, s.base, email);
    await signIn(page, email, GOOD_PASSWORD);
    await onPage(page, '/account');

    await page.locator('summary', { hasText: 'Change email address' }).click();
    await page.locator('main').getByLabel('New email address').fill(next);
    await page.locator('#email-form').getByLabel('Current password', { exact: true }).fill('not my password at all');
    await page.getByRole('button', { name: 'Send confirmation link' }).click();
    await page.locator('#email-form [data-error-for="current_password"]').filter({ hasText: 'The current password is incorrect.' }).waitFor();
    await page.locator('#email-form').getByLabel('Current password', { exact: true }).fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Send confirmation link' }).click();
    await page.locator('#email-change-status').filter({ hasText: `We sent a confirmation link to ${next}` }).waitFor();
    assert.equal(await inViewport(page, '#email-change-status'), true);
    assert.match(await page.locator('#email-current').innerText(), new RegExp(email.replace(/[.+]/g, '\\$&')), 'nothing changes before the link is used');

    const link = await mailedLink(s, next, '/confirm-email');
    await page.goto(link);
    await onPage(page, '/confirm-email');
    await page.locator('#confirm-done').filter({ hasText: 'Your email address has been changed.' }).waitFor();
    assert.equal(await page.evaluate(() => location.hash), '');
    await screenshot(page, 'confirm-email');
    await page.locator('#confirm-done').getByRole('link', { name: 'Your account' }).click();
    await onPage(page, '/account');
    assert.match(await page.locator('#email-current').innerText(), new RegExp(next.replace(/[.+]/g, '\\$&')));
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  test('the forgot page in Korean: every text translated, the same answer message', async () => {
    const ctx = await browser.newContext({ locale: 'ko-KR', extraHTTPHeaders: { 'accept-language': 'ko-KR,ko;q=0.9' } });
    const page = await ctx.newPage();
    const problems = watchPage(page);
    await page.goto(`${s.base}/signin`);
    await onPage(page, '/signin');
    await page.getByRole('link', { name: '비밀번호를 잊으셨나요?' }).click();
    await onPage(page, '/forgot');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'ko');
    assert.equal(await page.locator('main h1').innerText(), '비밀번호 재설정');
    assert.deepEqual(await untranslated(page), []);
    await page.locator('main').getByLabel('이메일 주소').fill(uniqueEmail('ko'));
    await page.getByRole('button', { name: '재설정 링크 보내기' }).click();
    await page.locator('#forgot-sent').filter({ hasText: '해당 주소의 계정이 있으면' }).waitFor();
    await screenshot(page, 'forgot-ko');
    assert.deepEqual(await lowContrast(page), [], 'forgot-ko');
    assert.deepEqual(problems, []);
    await ctx.close();
  });
});

describe('web UI when sign-in needs a verified address', { skip: browserSkip() }, () => {
  let s: MailServer;
  let browser: Browser;
  before(async () => {
    s = await startServer({ lifecycle: { requireVerifiedEmail: true } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('an unverified sign-in points to password reset, whose link also verifies the address; the old verification link then says verified', async () => {
    const email = uniqueEmail('webgate');
    const ctx = await browser.newContext({ locale: 'en-GB' });
    const page = await ctx.newPage();
    const problems = watchPage(page);
    await signUp(page, s.base, email);
    const verifyLink = await mailedLink(s, email, '/verify-email');
    await signIn(page, email, GOOD_PASSWORD);
    const msg = page.locator('[data-error-for="_form"]');
    await msg.filter({ hasText: 'not verified yet' }).waitFor();
    assert.equal(await msg.getAttribute('data-code'), 'email_unverified');
    await screenshot(page, 'signin-unverified');
    assert.deepEqual(await lowContrast(page), [], 'signin-unverified');

    await msg.getByRole('link', { name: 'Reset your password' }).click();
    await onPage(page, '/forgot');
    assert.equal(await page.locator('main').getByLabel('Email address').inputValue(), email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.locator('#forgot-sent').waitFor();

    await page.goto(await mailedLink(s, email, '/reset'));
    await onPage(page, '/reset');
    await page.locator('main').getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.locator('#reset-done').waitFor();
    await page.locator('#reset-done').getByRole('link', { name: 'Sign in' }).click();
    await onPage(page, '/signin');
    await signIn(page, email, NEW_PASSWORD);
    await onPage(page, '/account');
    await page.locator('#email-state').filter({ hasText: /^verified$/ }).waitFor();

    // The verification link from sign-up, opened after the reset verified the address (the link itself is
    // void: it was made for the old password): the signed-in owner is told it has nothing left to do,
    // not to "use Resend".
    await page.goto(verifyLink);
    await onPage(page, '/verify-email');
    await page.locator('#verify-already').filter({ hasText: 'already verified' }).waitFor();
    assert.equal(await page.locator('#verify-invalid').isVisible(), false);
    // Signed out, the page cannot know whose link it was: it says what to do in either case.
    const fresh = await browser.newContext({ locale: 'en-GB' });
    const other = await fresh.newPage();
    await other.goto(verifyLink);
    await onPage(other, '/verify-email');
    await other.locator('#verify-invalid').filter({ hasText: 'If your address is already verified (a password reset verifies it too), there is nothing more to do.' }).waitFor();
    await fresh.close();
    assert.deepEqual(problems, []);
    await ctx.close();
  });
});

/** Email verification over real SMTP: the link in the mail, single use, expiry, resend limits, login gate. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/server.js';
import { cookieLogin, registerAndVerifyMail, startMailServer, tokenFrom, type MailTestServer } from '../support/smtp.js';

describe('email verification', () => {
  let s: MailTestServer;
  before(async () => {
    s = await startMailServer({ lifecycle: { resendPerAccount: 2 }, rateLimits: { enabled: true } });
  });
  after(() => s.close());

  test('registering mails a verification link (text and HTML); the link verifies the address once', async () => {
    const email = uniqueEmail('verify');
    const { verifyToken, mail } = await registerAndVerifyMail(s, email);
    assert.match(mail.subject, /Verify your email address/);
    assert.match(mail.text, /http:\/\/localhost:3000\/verify-email#token=/);
    assert.ok(mail.html.includes(`verify-email#token=${verifyToken}`), 'the HTML part carries the same link');
    assert.match(mail.headers['content-type'] ?? '', /multipart\/alternative/);
    assert.equal(verifyToken.length, 66, '128-bit id + 256-bit secret');

    const c = await cookieLogin(s, email);
    assert.equal((await c.req('GET', '/auth/me')).body.user.email_verified, false);

    const ok = await c.req('POST', '/auth/verify-email', { json: { token: verifyToken } });
    assert.equal(ok.status, 204, ok.text);
    assert.equal((await c.req('GET', '/auth/me')).body.user.email_verified, true);

    const again = await c.req('POST', '/auth/verify-email', { json: { token: verifyToken } });
    assert.equal(again.status, 400);
    assert.equal(again.body.code, 'invalid_link');
    assert.equal(again.body.field, 'token');
  });

  test('the message is in Korean when the request prefers Korean', async () => {
    const email = uniqueEmail('ko');
    await new Client(s.t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD }, headers: { 'accept-language': 'ko-KR,ko;q=0.9,en;q=0.5' } });
    const mail = await s.smtp.waitFor((m) => m.to.includes(email));
    assert.match(mail.subject, /이메일 주소를 인증해 주세요/);
    assert.match(mail.text, /링크는 한 번만 사용할 수 있으며 24시간 후에 만료됩니다/);
    assert.match(mail.html, /<html lang="ko">/);
    tokenFrom(mail, '/verify-email');
  });

  test('an expired verification link is refused and leaves the address unverified', async () => {
    const email = uniqueEmail('expired');
    const { verifyToken } = await registerAndVerifyMail(s, email);
    s.t.clock.advance(24 * 3_600_000 + 1);
    const r = await new Client(s.t.url).req('POST', '/auth/verify-email', { json: { token: verifyToken } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_link');
    const c = await cookieLogin(s, email);
    assert.equal((await c.req('GET', '/auth/me')).body.user.email_verified, false);
  });

  test('malformed, unknown and tampered tokens get the same 400', async () => {
    const email = uniqueEmail('tamper');
    const { verifyToken } = await registerAndVerifyMail(s, email);
    const tampered = verifyToken.slice(0, -1) + (verifyToken.endsWith('A') ? 'B' : 'A');
    for (const token of ['', 'x', 'a'.repeat(22) + '.' + 'b'.repeat(43), tampered]) {
      const r = await new Client(s.t.url).req('POST', '/auth/verify-email', { json: { token } });
      assert.equal(r.status, 400, token);
      assert.equal(r.body.code, 'invalid_link', token);
    }
    const huge = await new Client(s.t.url).req('POST', '/auth/verify-email', { json: { token: 'a'.repeat(5000) } });
    assert.equal(huge.status, 400);
    const c = await cookieLogin(s, email);
    assert.equal((await c.req('POST', '/auth/verify-email', { json: { token: verifyToken } })).status, 204, 'the genuine link still works');
  });

  test('resend needs a session, mails a fresh link, and is rate-limited per account (429 + Retry-After)', async () => {
    assert.equal((await new Client(s.t.url).req('POST', '/auth/verify-email/resend')).status, 401);
    const email = uniqueEmail('resend');
    const { verifyToken: first } = await registerAndVerifyMail(s, email);
    const c = await cookieLogin(s, email);
    const r1 = await c.req('POST', '/auth/verify-email/resend');
    assert.equal(r1.status, 202, r1.text);
    assert.deepEqual(r1.body, { status: 'accepted', email_verified: false });
    const second = await s.smtp.waitFor((m) => m.to.includes(email) && !m.text.includes(first));
    const fresh = tokenFrom(second, '/verify-email');
    assert.notEqual(fresh, first);
    assert.equal((await c.req('POST', '/auth/verify-email/resend')).status, 202);
    const limited = await c.req('POST', '/auth/verify-email/resend');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    // Either link verifies; the other is then void.
    assert.equal((await c.req('POST', '/auth/verify-email', { json: { token: fresh } })).status, 204);
    assert.equal((await c.req('POST', '/auth/verify-email', { json: { token: first } })).status, 400);
    const events = await s.t.stores.audit.listEvents({ limit: 1000 });
    assert.ok(events.some((e) => e.type === 'email.verification_sent' && e.detail?.reason === 'resend'));
    assert.ok(events.some((e) => e.type === 'email.verified'));
  });

  test('a link verifies only for someone who holds the account: signed in to it, or giving its password', async () => {
    const email = uniqueEmail('holder');
    const { verifyToken } = await registerAndVerifyMail(s, email);
    const stranger = new Client(s.t.url);
    const anon = await stranger.req('POST', '/auth/verify-email', { json: { token: verifyToken } });
    assert.equal(anon.status, 401, 'the mailbox alone verifies nothing');
    assert.equal(anon.body.code, 'unauthenticated');
    const other = uniqueEmail('other');
    await registerAndVerifyMail(s, other);
    const otherClient = await cookieLogin(s, other);
    assert.equal((await otherClient.req('POST', '/auth/verify-email', { json: { token: verifyToken } })).status, 401, 'signed in to another account');
    const wrong = await stranger.req('POST', '/auth/verify-email', { json: { token: verifyToken, password: 'a wrong password here' } });
    assert.equal(wrong.status, 401);
    assert.deepEqual([wrong.body.code, wrong.body.field], ['invalid_credentials', 'password']);
    const c = await cookieLogin(s, email);
    assert.equal((await c.req('GET', '/auth/me')).body.user.email_verified, false, 'none of that verified it');
    assert.equal((await stranger.req('POST', '/auth/verify-email', { json: { token: verifyToken, password: GOOD_PASSWORD } })).status, 204, 'the link was not spent');
    assert.equal((await c.req('GET', '/auth/me')).body.user.email_verified, true);
  });

  test('registering an address that has an account: the same 201, and its owner gets a reset link that takes the account back', async () => {
    const email = uniqueEmail('squat');
    // Someone registers the owner's address first, with their own password, and signs in.
    const squatter = await registerAndVerifyMail(s, email, 'the squatter passphrase');
    const squatterClient = await cookieLogin(s, email, 'the squatter passphrase');
    await s.quiet();
    const before = s.inbox(email).length;
    // The owner registers: the answer has the same shape and status as for a new address.
    const r = await new Client(s.t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(Object.keys(r.body.user).sort(), ['created_at', 'email', 'email_verified', 'id']);
    assert.notEqual(r.body.user.id, squatter.userId);
    await s.quiet();
    const notice = s.inbox(email).slice(before);
    assert.equal(notice.length, 1, 'one message to the address');
    assert.match(notice[0]!.subject, /tried to create/);
    const reset = tokenFrom(notice[0]!, '/reset');
    // The owner still cannot sign in with their password; the reset makes the account theirs.
    assert.equal((await new Client(s.t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 401);
    assert.equal((await new Client(s.t.url).req('POST', '/auth/password-reset/confirm', { json: { token: reset, new_password: GOOD_PASSWORD } })).status, 204);
    assert.equal((await squatterClient.req('GET', '/auth/me')).status, 401, "the squatter's session ended");
    const owner = await cookieLogin(s, email);
    const me = (await owner.req('GET', '/auth/me')).body.user;
    assert.deepEqual([me.id, me.email_verified], [squatter.userId, true], 'the reset proved the mailbox');
    // The squatter's unused verification link is void: it was made for the old password.
    assert.equal((await owner.req('POST', '/auth/verify-email', { json: { token: squatter.verifyToken } })).status, 400);
  });

  test('repeated registrations of one address mail its owner within the per-address budget', async () => {
    const t = await startMailServer({ lifecycle: { resetPerEmail: 2 }, rateLimits: { enabled: true, accountAttempts: 100 } });
    try {
      const email = uniqueEmail('flood');
      await registerAndVerifyMail(t, email);
      for (let i = 0; i < 6; i++) assert.equal((await new Client(t.t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
      await t.quiet();
      assert.equal(t.inbox(email).filter((m) => /tried to create/.test(m.subject)).length, 2);
    } finally {
      await t.close();
    }
  });

  test('no token reaches the logs or an API response', async () => {
    const email = uniqueEmail('secret');
    const c = new Client(s.t.url);
    const reg = await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
    const login = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    const resend = await c.req('POST', '/auth/verify-email/resend');
    await s.quiet();
    const tokens = s.inbox(email).map((m) => tokenFrom(m));
    assert.equal(tokens.length, 2);
    const verify = await c.req('POST', '/auth/verify-email', { json: { token: tokens[1] } });
    await new Promise((r) => setImmediate(r));
    const logs = s.t.logs.join('');
    const bodies = [reg, login, resend, verify].map((r) => r.text + JSON.stringify([...r.headers])).join('');
    for (const tk of tokens) {
      const secret = tk.split('.')[1]!;
      assert.ok(!logs.includes(secret), 'token secret in the logs');
      assert.ok(!logs.includes(tk.split('.')[0]!), 'token id in the logs');
      assert.ok(!bodies.includes(secret), 'token in an API response');
    }
    const audit = JSON.stringify(await s.t.stores.audit.listEvents({ limit: 1000 }));
    for (const tk of tokens) assert.ok(!audit.includes(tk.split('.')[1]!), 'token in the audit trail');
  });
});

describe('GATEHOUSE_REQUIRE_VERIFIED_EMAIL', () => {
  let s: MailTestServer;
  before(async () => {
    s = await startMailServer({ lifecycle: { requireVerifiedEmail: true } });
  });
  after(() => s.close());

  test('refuses login with 403 email_unverified until verified, only after the password is right', async () => {
    const email = uniqueEmail('gate');
    const { verifyToken, userId } = await registerAndVerifyMail(s, email);
    const wrong = await new Client(s.t.url).req('POST', '/auth/login', { json: { email, password: 'not the password at all' } });
    assert.equal(wrong.status, 401, 'a wrong password is still just invalid_credentials');
    assert.equal(wrong.body.code, 'invalid_credentials');
    for (const mode of ['session', 'token']) {
      const r = await new Client(s.t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode } });
      assert.equal(r.status, 403, mode);
      assert.equal(r.body.code, 'email_unverified', mode);
      assert.equal(r.headers.get('set-cookie'), null, 'no session was created');
    }
    const failed = (await s.t.stores.audit.listEvents({ userId, limit: 100 })).filter((e) => e.type === 'login.failed');
    assert.ok(failed.some((e) => e.detail?.reason === 'email_unverified'));
    assert.equal((await s.t.stores.sessions.listSessionsByUser(userId, s.t.clock.now())).length, 0);

    // Sign-in is refused until the address is verified, so the link takes the account's password instead.
    assert.equal((await new Client(s.t.url).req('POST', '/auth/verify-email', { json: { token: verifyToken } })).status, 401);
    assert.equal((await new Client(s.t.url).req('POST', '/auth/verify-email', { json: { token: verifyToken, password: GOOD_PASSWORD } })).status, 204);
    const ok = await new Client(s.t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.user.email_verified, true);
  });
});

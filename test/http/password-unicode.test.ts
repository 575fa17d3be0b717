/**
 * A password holding a lone UTF-16 surrogate is not text: UTF-8 turns each lone half into U+FFFD, so
 * distinct strings would become one password. Every place that sets a new password refuses it with a
 * 400 naming the field; a login with one is just a wrong password.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { cookieLogin, registerAndVerifyMail, startMailServer, tokenFrom, type MailTestServer } from '../support/smtp.js';

/** 18 code units, one of them the high half of a pair with no low half after it. */
const LONE_HIGH = 'a long passphrase \uD83D';
/** The same with a lone low half in the middle. */
const LONE_LOW = 'a long \uDC00 passphrase';
/** What either turns into once encoded as UTF-8. */
const REPLACED = 'a long passphrase \uFFFD';

function assertRefused(r: { status: number; body: any; text: string }, field: string): void {
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.code, 'invalid_field', r.text);
  assert.equal(r.body.field, field, r.text);
}

describe('passwords with a lone surrogate', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ config: { reauthWindow: '10m' } });
  });
  after(() => t?.close());

  test('register refuses a lone high or low surrogate with 400 naming password, and stores no user', async () => {
    for (const pw of [LONE_HIGH, LONE_LOW]) {
      const email = uniqueEmail('surrogate');
      const r = await new Client(t.url).req('POST', '/auth/register', { json: { email, password: pw } });
      assertRefused(r, 'password');
      assert.equal(await t.stores.users.getUserByEmail(email), null, 'no account was created');
    }
  });

  test('a well-formed pair (an emoji) is accepted as usual', async () => {
    const r = await new Client(t.url).req('POST', '/auth/register', { json: { email: uniqueEmail('emoji'), password: 'a long passphrase \uD83D\uDD11' } });
    assert.equal(r.status, 201, r.text);
  });

  test('changing the password to one with a lone surrogate is refused naming new_password; the old one still works', async () => {
    const email = uniqueEmail('surrchange');
    assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    const c = new Client(t.url);
    assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
    const r = await c.req('POST', '/auth/password', { json: { current_password: GOOD_PASSWORD, new_password: LONE_HIGH } });
    assertRefused(r, 'new_password');
    assert.equal((await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
  });

  test('a login whose password holds a lone surrogate is invalid_credentials, even where U+FFFD is the password', async () => {
    const email = uniqueEmail('surrlogin');
    assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password: REPLACED } })).status, 201);
    assert.equal((await new Client(t.url).req('POST', '/auth/login', { json: { email, password: REPLACED } })).status, 200);
    const r = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: LONE_HIGH } });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.body.code, 'invalid_credentials');
  });
});

describe('password reset with a lone surrogate', () => {
  let s: MailTestServer;
  before(async () => {
    s = await startMailServer();
  });
  after(() => s?.close());

  test('the new password is refused naming new_password, and the link is not spent', async () => {
    const email = uniqueEmail('surrreset');
    await registerAndVerifyMail(s, email);
    await new Client(s.t.url).req('POST', '/auth/password-reset', { json: { email } });
    const mail = await s.smtp.waitFor((m) => m.to.includes(email) && /\/reset#token=/.test(m.text));
    const token = tokenFrom(mail, '/reset');
    const r = await new Client(s.t.url).req('POST', '/auth/password-reset/confirm', { json: { token, new_password: LONE_LOW } });
    assertRefused(r, 'new_password');
    await cookieLogin(s, email); // the old password still signs in
    const ok = await new Client(s.t.url).req('POST', '/auth/password-reset/confirm', { json: { token, new_password: 'a fresh long passphrase' } });
    assert.equal(ok.status, 204, ok.text);
  });
});

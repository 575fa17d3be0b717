/** Email change: re-authentication, a confirmation to the new address, a notice to the old, nothing changes until confirmed. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/server.js';
import { cookieLogin, registerAndVerifyMail, startMailServer, tokenFrom, tokenLogin, type MailTestServer } from '../support/smtp.js';

describe('email change', () => {
  let s: MailTestServer;
  before(async () => {
    s = await startMailServer();
  });
  after(() => s.close());

  test('mails a confirmation to the new address and a notice to the old; the account moves only when confirmed', async () => {
    const oldEmail = uniqueEmail('old');
    const newEmail = uniqueEmail('new');
    const { userId } = await registerAndVerifyMail(s, oldEmail);
    const c = await cookieLogin(s, oldEmail);
    const r = await c.req('POST', '/auth/email', { json: { new_email: newEmail } });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.body, { status: 'accepted' });

    const confirmMail = await s.smtp.waitFor((m) => m.to.includes(newEmail));
    const token = tokenFrom(confirmMail, '/confirm-email');
    const notice = await s.smtp.waitFor((m) => m.to.includes(oldEmail) && /about to change/.test(m.subject));
    assert.doesNotMatch(notice.text, /#token=/, 'the notice to the old address carries no link');
    assert.ok(!notice.text.includes(newEmail), 'the new address is masked in the notice');
    assert.match(notice.text, new RegExp(`${newEmail[0]}•••@example\\.com`));

    // Nothing changed yet.
    assert.equal((await c.req('GET', '/auth/me')).body.user.email, oldEmail);
    assert.equal((await new Client(s.t.url).req('POST', '/auth/login', { json: { email: newEmail, password: GOOD_PASSWORD } })).status, 401);

    const ok = await new Client(s.t.url).req('POST', '/auth/email/confirm', { json: { token } });
    assert.equal(ok.status, 204, ok.text);
    const me = await c.req('GET', '/auth/me');
    assert.equal(me.body.user.email, newEmail);
    assert.equal(me.body.user.email_verified, true, 'confirming the link verified the new address');
    assert.equal((await new Client(s.t.url).req('POST', '/auth/login', { json: { email: newEmail, password: GOOD_PASSWORD } })).status, 200);
    assert.equal((await new Client(s.t.url).req('POST', '/auth/login', { json: { email: oldEmail, password: GOOD_PASSWORD } })).status, 401);
    assert.equal((await new Client(s.t.url).req('POST', '/auth/email/confirm', { json: { token } })).status, 400, 'single use');

    const types = (await s.t.stores.audit.listEvents({ userId, limit: 100 })).map((e) => e.type);
    assert.ok(types.includes('email.change_requested') && types.includes('email.changed'));
  });

  test('needs a recent authentication', async () => {
    const email = uniqueEmail('stale');
    await registerAndVerifyMail(s, email);
    const c = await cookieLogin(s, email);
    const bearer = await tokenLogin(s, email);
    s.t.clock.advance(11 * 60_000);
    const r = await c.req('POST', '/auth/email', { json: { new_email: uniqueEmail('x') } });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'reauth_required');
    assert.equal((await new Client(s.t.url).req('POST', '/auth/email', { json: { new_email: uniqueEmail('x') } })).status, 401);
    assert.equal((await c.req('POST', '/auth/reauth', { json: { password: GOOD_PASSWORD } })).status, 200);
    assert.equal((await c.req('POST', '/auth/email', { json: { new_email: uniqueEmail('x') } })).status, 202);
    void bearer;
  });

  test('an address held by another account gets no mail and the same 202; an invalid one is a 400', async () => {
    const mine = uniqueEmail('mine');
    const theirs = uniqueEmail('theirs');
    await registerAndVerifyMail(s, mine);
    await registerAndVerifyMail(s, theirs);
    const c = await cookieLogin(s, mine);
    const before = s.inbox(theirs).length;
    const r = await c.req('POST', '/auth/email', { json: { new_email: theirs.toUpperCase() } });
    assert.equal(r.status, 202);
    assert.deepEqual(r.body, { status: 'accepted' });
    await s.quiet();
    assert.equal(s.inbox(theirs).length, before, 'the other account is not mailed');
    const bad = await c.req('POST', '/auth/email', { json: { new_email: 'nope' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'invalid_email');
  });

  test('if another account takes the address before confirmation, confirming answers 409 email_taken', async () => {
    const mine = uniqueEmail('racer');
    const wanted = uniqueEmail('wanted');
    await registerAndVerifyMail(s, mine);
    const c = await cookieLogin(s, mine);
    assert.equal((await c.req('POST', '/auth/email', { json: { new_email: wanted } })).status, 202);
    const token = tokenFrom(await s.smtp.waitFor((m) => m.to.includes(wanted)), '/confirm-email');
    await registerAndVerifyMail(s, wanted);
    const r = await new Client(s.t.url).req('POST', '/auth/email/confirm', { json: { token } });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'email_taken');
    assert.equal((await c.req('GET', '/auth/me')).body.user.email, mine);
  });

  test('a confirmation link dies when the password changes', async () => {
    const email = uniqueEmail('pwchange');
    const target = uniqueEmail('target');
    await registerAndVerifyMail(s, email);
    const c = await cookieLogin(s, email);
    assert.equal((await c.req('POST', '/auth/email', { json: { new_email: target } })).status, 202);
    const token = tokenFrom(await s.smtp.waitFor((m) => m.to.includes(target)), '/confirm-email');
    assert.equal((await c.req('POST', '/auth/password', { json: { current_password: GOOD_PASSWORD, new_password: 'another fine passphrase' } })).status, 204);
    const r = await new Client(s.t.url).req('POST', '/auth/email/confirm', { json: { token } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_link');
  });
});

/**
 * Email change: the current password, a confirmation to the new address, a notice to the old, nothing
 * changes until confirmed; optionally every other session ends; no answer or event tells whether the
 * new address has an account; per-account and per-address limits.
 */
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
    const r = await c.req('POST', '/auth/email', { json: { new_email: newEmail, current_password: GOOD_PASSWORD } });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.body, { status: 'accepted', sessions_ended: 0 });

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

  test('needs the current password, not just a recent sign-in; a wrong one is 401 and counts as a failed guess', async () => {
    const email = uniqueEmail('pw');
    await registerAndVerifyMail(s, email);
    const c = await cookieLogin(s, email);
    const missing = await c.req('POST', '/auth/email', { json: { new_email: uniqueEmail('x') } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.field, 'current_password');
    const wrong = await c.req('POST', '/auth/email', { json: { new_email: uniqueEmail('x'), current_password: 'not my password at all' } });
    assert.equal(wrong.status, 401);
    assert.deepEqual([wrong.body.code, wrong.body.field], ['invalid_credentials', 'current_password']);
    assert.equal((await new Client(s.t.url).req('POST', '/auth/email', { json: { new_email: uniqueEmail('x'), current_password: GOOD_PASSWORD } })).status, 401, 'signed out');
    // A sign-in older than the re-authentication window is fine: the password itself is the proof.
    s.t.clock.advance(20 * 60_000);
    assert.equal((await c.req('POST', '/auth/email', { json: { new_email: uniqueEmail('x'), current_password: GOOD_PASSWORD } })).status, 202);
  });

  test('end_other_sessions ends every other session of the account, in both modes, at once', async () => {
    const email = uniqueEmail('others');
    await registerAndVerifyMail(s, email);
    const here = await cookieLogin(s, email);
    const laptop = await cookieLogin(s, email);
    const phone = await tokenLogin(s, email);
    const r = await here.req('POST', '/auth/email', { json: { new_email: uniqueEmail('moved'), current_password: GOOD_PASSWORD, end_other_sessions: true } });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.body.sessions_ended, 2);
    assert.equal((await laptop.req('GET', '/auth/me')).status, 401);
    assert.equal((await new Client(s.t.url).req('GET', '/auth/me', { bearer: phone.access })).status, 401);
    assert.equal((await new Client(s.t.url).req('POST', '/auth/refresh', { json: { refresh_token: phone.refresh } })).status, 400);
    assert.equal((await here.req('GET', '/auth/me')).status, 200, 'this session carries on');
    const bad = await here.req('POST', '/auth/email', { json: { new_email: uniqueEmail('y'), current_password: GOOD_PASSWORD, end_other_sessions: 'yes' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'end_other_sessions');
  });

  test('an address held by another account gets no mail and the same 202; an invalid one is a 400', async () => {
    const mine = uniqueEmail('mine');
    const theirs = uniqueEmail('theirs');
    await registerAndVerifyMail(s, mine);
    await registerAndVerifyMail(s, theirs);
    const c = await cookieLogin(s, mine);
    const before = s.inbox(theirs).length;
    const r = await c.req('POST', '/auth/email', { json: { new_email: theirs.toUpperCase(), current_password: GOOD_PASSWORD } });
    assert.equal(r.status, 202);
    assert.deepEqual(r.body, { status: 'accepted', sessions_ended: 0 });
    await s.quiet();
    assert.equal(s.inbox(theirs).length, before, 'the other account is not mailed');
    const bad = await c.req('POST', '/auth/email', { json: { new_email: 'nope', current_password: GOOD_PASSWORD } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'invalid_email');
  });

  test('if another account takes the address before confirmation, confirming answers 409 email_taken', async () => {
    const mine = uniqueEmail('racer');
    const wanted = uniqueEmail('wanted');
    await registerAndVerifyMail(s, mine);
    const c = await cookieLogin(s, mine);
    assert.equal((await c.req('POST', '/auth/email', { json: { new_email: wanted, current_password: GOOD_PASSWORD } })).status, 202);
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
    assert.equal((await c.req('POST', '/auth/email', { json: { new_email: target, current_password: GOOD_PASSWORD } })).status, 202);
    const token = tokenFrom(await s.smtp.waitFor((m) => m.to.includes(target)), '/confirm-email');
    assert.equal((await c.req('POST', '/auth/password', { json: { current_password: GOOD_PASSWORD, new_password: 'another fine passphrase' } })).status, 204);
    const r = await new Client(s.t.url).req('POST', '/auth/email/confirm', { json: { token } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_link');
  });

  test("the requester's own events do not say whether the new address has an account", async () => {
    const mine = uniqueEmail('oracle');
    const taken = uniqueEmail('taken');
    const free = uniqueEmail('free');
    await registerAndVerifyMail(s, taken);
    await registerAndVerifyMail(s, mine);
    const c = await cookieLogin(s, mine);
    for (const target of [taken, free]) {
      assert.equal((await c.req('POST', '/auth/email', { json: { new_email: target, current_password: GOOD_PASSWORD } })).status, 202);
    }
    const events = (await c.req('GET', '/auth/events?limit=100')).body.events as Array<{ type: string; detail: unknown }>;
    const requested = events.filter((e) => e.type === 'email.change_requested');
    assert.equal(requested.length, 2);
    assert.deepEqual(requested[0]!.detail, requested[1]!.detail, 'the two events are alike');
    assert.ok(!JSON.stringify(requested).includes('sent'), 'no delivery flag in the events');
  });

  test('is limited per account and per new address (429 + Retry-After), whether or not the address is taken', async () => {
    const t = await startMailServer({ rateLimits: { enabled: true }, lifecycle: { emailChangePerAccount: 3, emailChangePerAddress: 2 } });
    try {
      const target = uniqueEmail('victim');
      const a = uniqueEmail('a');
      const b = uniqueEmail('b');
      await registerAndVerifyMail(t, a);
      await registerAndVerifyMail(t, b);
      const ca = await cookieLogin(t, a);
      const cb = await cookieLogin(t, b);
      const ask = (c: Client, to: string) => c.req('POST', '/auth/email', { json: { new_email: to, current_password: GOOD_PASSWORD } });
      assert.equal((await ask(ca, target)).status, 202);
      assert.equal((await ask(cb, target)).status, 202);
      const third = await ask(ca, target);
      assert.equal(third.status, 429, 'a third request naming the same address, from anyone');
      assert.ok(Number(third.headers.get('retry-after')) > 0);
      assert.equal((await ask(ca, uniqueEmail('other'))).status, 202);
      assert.equal((await ask(ca, uniqueEmail('other'))).status, 429, 'the account spent its three requests');
      await t.quiet();
      assert.equal(t.inbox(target).length, 2, 'two messages reached the address, not more');
    } finally {
      await t.close();
    }
  });
});

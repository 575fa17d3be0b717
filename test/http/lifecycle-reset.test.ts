/** Password reset over real SMTP: same answer for every address, single-use bound links, every session ends. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openSqliteStores } from '../../src/stores/sqlite/index.js';
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/server.js';
import { cookieLogin, registerAndVerifyMail, startMailServer, tokenFrom, tokenLogin, type MailTestServer, type ReceivedMail } from '../support/smtp.js';

const NEW_PASSWORD = 'a brand new passphrase 42';

async function requestReset(s: MailTestServer, email: string, headers: Record<string, string> = {}) {
  return new Client(s.t.url).req('POST', '/auth/password-reset', { json: { email }, headers });
}

async function resetMail(s: MailTestServer, email: string, not: string[] = []): Promise<ReceivedMail> {
  return s.smtp.waitFor((m) => m.to.includes(email) && /\/reset#token=/.test(m.text) && !not.some((t) => m.text.includes(t)));
}

function confirm(s: MailTestServer, token: string, password = NEW_PASSWORD) {
  return new Client(s.t.url).req('POST', '/auth/password-reset/confirm', { json: { token, new_password: password } });
}

describe('password reset', () => {
  let s: MailTestServer;
  before(async () => {
    s = await startMailServer();
  });
  after(() => s.close());

  test('the mailed link sets a new password and ends every session in both modes', async () => {
    const email = uniqueEmail('reset');
    const { userId } = await registerAndVerifyMail(s, email);
    const cookie = await cookieLogin(s, email);
    const bearer = await tokenLogin(s, email);
    assert.equal((await cookie.req('GET', '/auth/me')).status, 200);
    assert.equal((await new Client(s.t.url).req('GET', '/auth/me', { bearer: bearer.access })).status, 200);

    const r = await requestReset(s, email);
    assert.equal(r.status, 202);
    assert.deepEqual(r.body, { status: 'accepted' });
    const mail = await resetMail(s, email);
    assert.match(mail.subject, /Reset your .* password/);
    assert.match(mail.text, /expires in 30 minutes/);
    const token = tokenFrom(mail, '/reset');

    const ok = await confirm(s, token);
    assert.equal(ok.status, 204, ok.text);
    assert.equal((await cookie.req('GET', '/auth/me')).status, 401, 'the cookie session is over');
    assert.equal((await new Client(s.t.url).req('GET', '/auth/me', { bearer: bearer.access })).status, 401, 'the access token is dead at once');
    assert.equal((await new Client(s.t.url).req('POST', '/auth/refresh', { json: { refresh_token: bearer.refresh } })).status, 400, 'the refresh token is dead');

    assert.equal((await new Client(s.t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 401, 'the old password no longer works');
    assert.equal((await new Client(s.t.url).req('POST', '/auth/login', { json: { email, password: NEW_PASSWORD } })).status, 200);

    const events = await s.t.stores.audit.listEvents({ userId, limit: 100 });
    const reset = events.find((e) => e.type === 'password.reset');
    assert.ok(reset, 'password.reset is in the audit trail');
    assert.equal(reset.detail?.sessions_ended, 2);
    assert.ok(events.some((e) => e.type === 'password.reset_requested' && e.detail?.sent === true));
    const notice = await s.smtp.waitFor((m) => m.to.includes(email) && /password was reset/.test(m.subject));
    assert.doesNotMatch(notice.text, /#token=/, 'the notice carries no link');

    const secret = token.split('.')[1]!;
    const seen = [r.text, ok.text, JSON.stringify([...r.headers, ...ok.headers]), s.t.logs.join(''), JSON.stringify(events)].join('\n');
    assert.ok(!seen.includes(secret) && !seen.includes(token.split('.')[0]!), 'the token is in no response, log line or audit event');
  });

  test('a used link is refused the second time', async () => {
    const email = uniqueEmail('reuse');
    await registerAndVerifyMail(s, email);
    await requestReset(s, email);
    const token = tokenFrom(await resetMail(s, email), '/reset');
    assert.equal((await confirm(s, token)).status, 204);
    const again = await confirm(s, token, 'yet another passphrase 7');
    assert.equal(again.status, 400);
    assert.equal(again.body.code, 'invalid_link');
    assert.equal((await new Client(s.t.url).req('POST', '/auth/login', { json: { email, password: NEW_PASSWORD } })).status, 200, 'the second attempt changed nothing');
  });

  test('a link older than 30 minutes is refused', async () => {
    const email = uniqueEmail('late');
    await registerAndVerifyMail(s, email);
    await requestReset(s, email);
    const token = tokenFrom(await resetMail(s, email), '/reset');
    s.t.clock.advance(30 * 60_000);
    const r = await confirm(s, token);
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_link');
  });

  test('a token is good only for its own purpose', async () => {
    const email = uniqueEmail('purpose');
    const { verifyToken } = await registerAndVerifyMail(s, email);
    await requestReset(s, email);
    const resetToken = tokenFrom(await resetMail(s, email), '/reset');
    const wrong1 = await confirm(s, verifyToken);
    assert.equal(wrong1.status, 400, 'a verification token cannot reset a password');
    const wrong2 = await new Client(s.t.url).req('POST', '/auth/verify-email', { json: { token: resetToken } });
    assert.equal(wrong2.status, 400, 'a reset token cannot verify an address');
    const wrong3 = await new Client(s.t.url).req('POST', '/auth/email/confirm', { json: { token: resetToken } });
    assert.equal(wrong3.status, 400, 'a reset token cannot confirm an email change');
    // Neither misuse spent them.
    assert.equal((await confirm(s, resetToken)).status, 204);
  });

  test('a link made before a password change dies with the old password', async () => {
    const email = uniqueEmail('stale');
    await registerAndVerifyMail(s, email);
    await requestReset(s, email);
    const token = tokenFrom(await resetMail(s, email), '/reset');
    const c = await cookieLogin(s, email);
    const changed = await c.req('POST', '/auth/password', { json: { current_password: GOOD_PASSWORD, new_password: 'changed the usual way 9' } });
    assert.equal(changed.status, 204, changed.text);
    const r = await confirm(s, token);
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_link');
    assert.equal((await new Client(s.t.url).req('POST', '/auth/login', { json: { email, password: 'changed the usual way 9' } })).status, 200);
  });

  test('a new password that breaks the rules is refused without spending the link', async () => {
    const email = uniqueEmail('policy');
    await registerAndVerifyMail(s, email);
    await requestReset(s, email);
    const token = tokenFrom(await resetMail(s, email), '/reset');
    const short = await confirm(s, token, 'short');
    assert.equal(short.status, 400);
    assert.equal(short.body.code, 'password_too_short');
    assert.equal(short.body.field, 'new_password');
    assert.equal((await confirm(s, token, 'password')).body.code, 'password_breached');
    assert.equal((await confirm(s, token)).status, 204);
  });

  test('20 parallel confirmations of one link: exactly one succeeds', async () => {
    const email = uniqueEmail('race');
    await registerAndVerifyMail(s, email);
    await requestReset(s, email);
    const token = tokenFrom(await resetMail(s, email), '/reset');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => confirm(s, token, `parallel passphrase number ${i}`)));
    const ok = results.map((r, i) => ({ status: r.status, i })).filter((r) => r.status === 204);
    assert.equal(ok.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    for (const r of results) assert.ok(r.status === 204 || (r.status === 400 && r.body.code === 'invalid_link'));
    const winner = `parallel passphrase number ${ok[0]!.i}`;
    assert.equal((await new Client(s.t.url).req('POST', '/auth/login', { json: { email, password: winner } })).status, 200, 'the winning password is the one set');
  });

  test('a disabled account gets no mail and the same 202', async () => {
    const email = uniqueEmail('disabled');
    const { userId } = await registerAndVerifyMail(s, email);
    await s.t.srv.gatehouse.core.admin.setDisabled(userId, true);
    const r = await requestReset(s, email);
    assert.equal(r.status, 202);
    await s.quiet();
    assert.equal(s.inbox(email).filter((m) => /\/reset#token=/.test(m.text)).length, 0);
  });
});

describe('password reset: no account-existence oracle', () => {
  let s: MailTestServer;
  before(async () => {
    s = await startMailServer();
  });
  after(() => s.close());

  test('known and unknown addresses get the same status, body and headers (Date aside)', async () => {
    const known = uniqueEmail('known');
    await registerAndVerifyMail(s, known);
    const a = await requestReset(s, known);
    const b = await requestReset(s, uniqueEmail('nobody'));
    const c = await requestReset(s, 'not even an address');
    for (const r of [a, b, c]) {
      assert.equal(r.status, 202);
      assert.equal(r.text, a.text);
    }
    const headers = (r: typeof a) => [...r.headers].filter(([k]) => k !== 'date');
    assert.deepEqual(headers(b), headers(a));
    assert.deepEqual(headers(c), headers(a));
  });

  test('known and unknown addresses take about the same time (medians over interleaved requests)', async () => {
    const known = uniqueEmail('timed');
    await registerAndVerifyMail(s, known);
    const times: { known: number[]; unknown: number[] } = { known: [], unknown: [] };
    const one = async (email: string) => {
      const t0 = process.hrtime.bigint();
      const r = await requestReset(s, email);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      assert.equal(r.status, 202);
      // Let the mail of one request go out before the next is timed, so each measures its own answer.
      await s.quiet();
      return ms;
    };
    for (let i = 0; i < 5; i++) await one(uniqueEmail('warm')); // JIT warm-up
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    // A real difference shows in every series; a burst of load on a shared machine rarely spoils
    // three in a row. So: up to three series of 30 interleaved pairs, and one must be within bounds.
    const series: string[] = [];
    let mk = 0;
    let mu = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      times.known = [];
      times.unknown = [];
      for (let i = 0; i < 30; i++) {
        times.known.push(await one(known));
        times.unknown.push(await one(uniqueEmail('ghost')));
      }
      mk = median(times.known);
      mu = median(times.unknown);
      const ratio = Math.max(mk, mu) / Math.min(mk, mu);
      series.push(`known ${mk.toFixed(2)} ms vs unknown ${mu.toFixed(2)} ms (ratio ${ratio.toFixed(2)})`);
      if (ratio < 2 || Math.abs(mk - mu) < 2) break;
      assert.ok(attempt < 2, `every series differs: ${series.join('; ')}`);
    }
    console.log(`# reset timing: median known ${mk.toFixed(2)} ms, unknown ${mu.toFixed(2)} ms`);
  });
});

describe('password reset: rate limits', () => {
  let s: MailTestServer;
  before(async () => {
    s = await startMailServer({ lifecycle: { resetPerIp: 6, resetPerEmail: 2 }, rateLimits: { enabled: true } });
  });
  after(() => s.close());

  test('one address gets at most resetPerEmail mails, with the same 202 for the rest; one IP gets 429 past resetPerIp', async () => {
    const email = uniqueEmail('flood');
    await registerAndVerifyMail(s, email);
    for (let i = 0; i < 4; i++) {
      const r = await requestReset(s, email);
      assert.equal(r.status, 202, `request ${i + 1}`);
    }
    await s.quiet();
    assert.equal(s.inbox(email).filter((m) => /\/reset#token=/.test(m.text)).length, 2, 'two reset mails, not four');
    assert.equal((await requestReset(s, uniqueEmail('other'))).status, 202, 'the fifth request from this IP passes');
    assert.equal((await requestReset(s, uniqueEmail('other'))).status, 202, 'the sixth too');
    const limited = await requestReset(s, uniqueEmail('other'));
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  });
});

describe('password reset on the SQLite store', () => {
  let s: MailTestServer;
  before(async () => {
    s = await startMailServer({}, 0, openSqliteStores({ path: ':memory:' }));
  });
  after(async () => {
    await s.close();
    await s.t.stores.close();
  });

  test('20 parallel confirmations of one link: exactly one succeeds, and the link then stays dead', async () => {
    const email = uniqueEmail('sqlite');
    await registerAndVerifyMail(s, email);
    await requestReset(s, email);
    const token = tokenFrom(await resetMail(s, email), '/reset');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => confirm(s, token, `sqlite passphrase number ${i}`)));
    assert.equal(results.filter((r) => r.status === 204).length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    assert.equal((await confirm(s, token)).status, 400);
  });
});

/**
 * Password + authenticator app (TOTP) and recovery codes over HTTP, on every store: the mfa_token
 * step, replay protection, token reuse and expiry, five wrong codes, brute-force budgets, sealed
 * secrets, recovery-code reuse, and the assurance recorded on the session in both transports.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { storeKinds } from '../support/store-matrix.js';
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/server.js';
import { register } from '../support/flows.js';
import { enrolTotp, passwordStep, SECRET } from '../support/mfa.js';
import { startMailServer, type MailTestServer } from '../support/smtp.js';
import { totpCode } from '../support/webauthn.js';
import type { OpenedStores } from '../support/store-matrix.js';

for (const kind of await storeKinds()) {
  describe(`password + TOTP (${kind.name})`, { skip: kind.skip }, () => {
    let opened: OpenedStores;
    let s: MailTestServer;
    before(async () => {
      opened = await kind.open();
      s = await startMailServer({ secret: SECRET }, 0, opened.stores);
    });
    after(async () => {
      await s.close();
      await opened.cleanup();
    });
    const t = () => s.t;

    test('a correct password answers 401 mfa_required with an mfa_token and the methods; no session exists until the code', async () => {
      const email = uniqueEmail('totp');
      const userId = await register(t(), email);
      const { secret } = await enrolTotp(t(), email);
      const before = (await opened.stores.sessions.listSessionsByUser(userId, t().clock.now())).length;
      const c = new Client(t().url);
      const step = await passwordStep(c, email);
      assert.deepEqual(step.methods, ['totp', 'recovery_code']);
      assert.equal(step.expires_in, 300);
      assert.match(step.mfa_token, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      assert.equal(c.jar.size, 0, 'no cookie yet');
      assert.equal((await opened.stores.sessions.listSessionsByUser(userId, t().clock.now())).length, before, 'no new session');
      // The store keeps only the hash of the token's secret.
      const [id, tokenSecret] = step.mfa_token.split('.');
      const rec = await opened.stores.challenges.getChallenge(id);
      assert.ok(rec && rec.purpose === 'mfa' && rec.userId === userId);
      assert.ok(!Buffer.from(rec.secretHash).toString('base64url').includes(tokenSecret));

      const done = await c.req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, totp: totpCode(secret, t().clock.now()) } });
      assert.equal(done.status, 200, done.text);
      assert.deepEqual(done.body.session.amr, ['pwd', 'otp', 'mfa']);
      assert.equal(done.body.session.acr, 'aal2');
      const me = await c.req('GET', '/auth/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.session.acr, 'aal2');
      const list = await c.req('GET', '/auth/sessions');
      assert.deepEqual(list.body.sessions.find((x: any) => x.current).amr, ['pwd', 'otp', 'mfa']);
    });

    test('token mode: the completion answers with access + refresh tokens carrying amr/acr/auth_time, kept through refresh', async () => {
      const email = uniqueEmail('totptok');
      await register(t(), email);
      const { secret } = await enrolTotp(t(), email);
      const c = new Client(t().url);
      const step = await passwordStep(c, email, { mode: 'token' });
      const done = await c.req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, totp: totpCode(secret, t().clock.now()) } });
      assert.equal(done.status, 200, done.text);
      const claims = decodeJwt(done.body.access_token);
      assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
      assert.equal(claims.acr, 'aal2');
      assert.equal(typeof claims.auth_time, 'number');
      t().clock.advance(60_000);
      const r = await new Client(t().url).req('POST', '/auth/refresh', { json: { refresh_token: done.body.refresh_token } });
      assert.equal(r.status, 200, r.text);
      const after = decodeJwt(r.body.access_token);
      assert.equal(after.acr, 'aal2');
      assert.equal(after.auth_time, claims.auth_time);
      assert.equal((await new Client(t().url).req('GET', '/auth/me', { bearer: r.body.access_token })).body.session.acr, 'aal2');
    });

    test('the TOTP secret is sealed at rest: the store holds an envelope, not the base32 secret', async () => {
      const email = uniqueEmail('sealed');
      const userId = await register(t(), email);
      const { secret } = await enrolTotp(t(), email);
      const rec = await opened.stores.totp.getTotp(userId);
      assert.ok(rec);
      assert.equal(rec.encrypted, true);
      assert.ok(!rec.secret.includes(secret));
      assert.match(rec.secret, /"ct":/);
    });

    test('a code accepted once is refused again inside its window (replay) — at login and at step-up', async () => {
      const email = uniqueEmail('replay');
      await register(t(), email);
      const { secret } = await enrolTotp(t(), email);
      const code = totpCode(secret, t().clock.now());
      const a = new Client(t().url);
      const first = await passwordStep(a, email);
      assert.equal((await a.req('POST', '/auth/login/mfa', { json: { mfa_token: first.mfa_token, totp: code } })).status, 200);
      const b = new Client(t().url);
      const second = await passwordStep(b, email);
      const replay = await b.req('POST', '/auth/login/mfa', { json: { mfa_token: second.mfa_token, totp: code } });
      assert.equal(replay.status, 401);
      assert.equal(replay.body.code, 'invalid_otp');
      // An older step inside the drift window is refused too once a later one was used.
      const older = await b.req('POST', '/auth/login/mfa', { json: { mfa_token: second.mfa_token, totp: totpCode(secret, t().clock.now(), -1) } });
      assert.equal(older.body.code, 'invalid_otp');
      const stepUp = await a.req('POST', '/auth/reauth', { json: { totp: code } });
      assert.equal(stepUp.status, 401);
      assert.equal(stepUp.body.code, 'invalid_otp');
      // The next step's code works.
      const next = await b.req('POST', '/auth/login/mfa', { json: { mfa_token: second.mfa_token, totp: totpCode(secret, t().clock.now(), 1) } });
      assert.equal(next.status, 200, next.text);
    });

    test('two parallel completions with one code: exactly one signs in', async () => {
      const email = uniqueEmail('race');
      await register(t(), email);
      const { secret } = await enrolTotp(t(), email);
      const steps = await Promise.all([0, 1, 2, 3].map(() => passwordStep(new Client(t().url), email)));
      const code = totpCode(secret, t().clock.now());
      const out = await Promise.all(steps.map((st) => new Client(t().url).req('POST', '/auth/login/mfa', { json: { mfa_token: st.mfa_token, totp: code } })));
      assert.deepEqual(out.map((r) => r.status).sort(), [200, 401, 401, 401]);
    });

    test('an mfa_token is single use and expires after five minutes', async () => {
      const email = uniqueEmail('tokenuse');
      await register(t(), email);
      const { secret } = await enrolTotp(t(), email);
      const c = new Client(t().url);
      const step = await passwordStep(c, email);
      assert.equal((await c.req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, totp: totpCode(secret, t().clock.now()) } })).status, 200);
      t().clock.advance(30_000);
      const reuse = await new Client(t().url).req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, totp: totpCode(secret, t().clock.now()) } });
      assert.equal(reuse.status, 401);
      assert.equal(reuse.body.code, 'invalid_mfa_token');

      t().clock.advance(30_000);
      const late = await passwordStep(new Client(t().url), email);
      t().clock.advance(5 * 60_000 + 1);
      const expired = await new Client(t().url).req('POST', '/auth/login/mfa', { json: { mfa_token: late.mfa_token, totp: totpCode(secret, t().clock.now()) } });
      assert.equal(expired.status, 401);
      assert.equal(expired.body.code, 'invalid_mfa_token');
      const forged = await new Client(t().url).req('POST', '/auth/login/mfa', { json: { mfa_token: late.mfa_token.slice(0, -2) + 'AA', totp: '123456' } });
      assert.equal(forged.body.code, 'invalid_mfa_token');
    });

    test('five wrong codes kill the mfa_token: the right code is refused afterwards', async () => {
      const email = uniqueEmail('five');
      await register(t(), email);
      const { secret } = await enrolTotp(t(), email);
      const c = new Client(t().url);
      const step = await passwordStep(c, email);
      const right = totpCode(secret, t().clock.now());
      const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
      for (let i = 0; i < 5; i++) {
        const r = await c.req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, totp: wrong } });
        assert.equal(r.status, 401);
        assert.equal(r.body.code, 'invalid_otp', `attempt ${i + 1}`);
      }
      const dead = await c.req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, totp: right } });
      assert.equal(dead.status, 401);
      assert.equal(dead.body.code, 'invalid_mfa_token');
    });

    test('a wrong password answers invalid_credentials for a user with a second factor, with no mfa_token', async () => {
      const email = uniqueEmail('wrongpw');
      await register(t(), email);
      await enrolTotp(t(), email);
      const r = await new Client(t().url).req('POST', '/auth/login', { json: { email, password: 'not the password at all' } });
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'invalid_credentials');
      assert.equal(r.body.mfa_token, undefined);
    });

    test('a recovery code signs in once, is audited and mailed to the owner; reusing it is refused', async () => {
      const email = uniqueEmail('recovery');
      const userId = await register(t(), email);
      const { codes } = await enrolTotp(t(), email);
      assert.equal(codes.length, 10);
      assert.equal(new Set(codes).size, 10);
      for (const code of codes) assert.match(code, /^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
      const c = new Client(t().url);
      const step = await passwordStep(c, email);
      const ok = await c.req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, recovery_code: codes[0]!.toLowerCase() } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.session.acr, 'aal2');
      const events = await opened.stores.audit.listEvents({ userId, limit: 50 });
      const used = events.find((e) => e.type === 'recovery_code.used');
      assert.equal(used?.detail?.remaining, 9);
      const mail = await s.smtp.waitFor((m) => m.to.includes(email) && /recovery code/i.test(m.subject));
      assert.match(mail.text, /9 unused codes/);
      const again = await passwordStep(new Client(t().url), email);
      const reuse = await new Client(t().url).req('POST', '/auth/login/mfa', { json: { mfa_token: again.mfa_token, recovery_code: codes[0] } });
      assert.equal(reuse.status, 401);
      assert.equal(reuse.body.code, 'invalid_otp');
      // The store holds hashes only.
      assert.equal(await opened.stores.recoveryCodes.countRecoveryCodes(userId), 9);
    });

    test('regenerated recovery codes void the old ones', async () => {
      const email = uniqueEmail('regen');
      await register(t(), email);
      const { codes, client } = await enrolTotp(t(), email);
      const r = await client.req('POST', '/auth/mfa/recovery-codes', { json: {} });
      assert.equal(r.status, 200, r.text);
      const fresh = r.body.recovery_codes as string[];
      assert.equal(fresh.length, 10);
      const step = await passwordStep(new Client(t().url), email);
      const old = await new Client(t().url).req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, recovery_code: codes[1] } });
      assert.equal(old.body.code, 'invalid_otp');
      const ok = await new Client(t().url).req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, recovery_code: fresh[1] } });
      assert.equal(ok.status, 200, ok.text);
    });

    test('removing the authenticator app (recent aal2) ends the second step; a pending enrolment protects nothing', async () => {
      const email = uniqueEmail('remove');
      const userId = await register(t(), email);
      const { client, secret } = await enrolTotp(t(), email);
      // The confirming code stepped this session up to aal2 just now.
      const del = await client.req('DELETE', '/auth/mfa/totp');
      assert.equal(del.status, 204, del.text);
      assert.equal(await opened.stores.totp.getTotp(userId), null);
      assert.equal(await opened.stores.recoveryCodes.countRecoveryCodes(userId), 0);
      const login = await new Client(t().url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      assert.equal(login.status, 200, 'password alone signs in again');
      assert.equal(login.body.session.acr, 'aal1');
      // Pending (not confirmed): still password only.
      assert.equal((await client.req('POST', '/auth/mfa/totp', { json: {} })).status, 200);
      assert.equal((await new Client(t().url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
      void secret;
    });

    test('confirming with a wrong code keeps it pending; a second enrolment while one is confirmed is refused', async () => {
      const email = uniqueEmail('confirm');
      await register(t(), email);
      const c = new Client(t().url);
      assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
      const begin = await c.req('POST', '/auth/mfa/totp', { json: {} });
      assert.match(begin.body.uri, /^otpauth:\/\/totp\//);
      assert.match(begin.body.uri, /secret=/);
      assert.match(begin.body.qr_svg, /^data:image\/svg\+xml;base64,/);
      const right = totpCode(begin.body.secret, t().clock.now());
      const wrong = String((Number(right) + 7) % 1_000_000).padStart(6, '0');
      const bad = await c.req('POST', '/auth/mfa/totp/confirm', { json: { code: wrong } });
      assert.equal(bad.status, 401);
      assert.equal(bad.body.code, 'invalid_otp');
      assert.equal((await c.req('POST', '/auth/mfa/totp/confirm', { json: { code: right } })).status, 200);
      const again = await c.req('POST', '/auth/mfa/totp', { json: {} });
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'totp_exists');
    });
  });
}

describe('brute force on second-factor codes', () => {
  test('wrong codes spend the account’s login budget: once spent, even the right password and code get 429', async () => {
    const s = await startMailServer({ secret: SECRET, rateLimits: { enabled: true, accountAttempts: 6 } });
    try {
      const t = s.t;
      const email = uniqueEmail('budget');
      await register(t, email);
      const { secret } = await enrolTotp(t, email); // one password attempt (reset by the success) and one confirm
      const c = new Client(t.url);
      const step = await passwordStep(c, email); // 1
      const right = totpCode(secret, t.clock.now());
      const wrong = String((Number(right) + 3) % 1_000_000).padStart(6, '0');
      for (let i = 0; i < 4; i++) assert.equal((await c.req('POST', '/auth/login/mfa', { json: { mfa_token: step.mfa_token, totp: wrong } })).status, 401); // 2..5
      const fresh = await passwordStep(new Client(t.url), email); // 6: a right password does not reset the count
      const limited = await new Client(t.url).req('POST', '/auth/login/mfa', { json: { mfa_token: fresh.mfa_token, totp: right } });
      assert.equal(limited.status, 429, limited.text);
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      const pw = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      assert.equal(pw.status, 429);
    } finally {
      await s.close();
    }
  });

  test('bad input on the second step is a 400 problem, never a 500', async () => {
    const s = await startMailServer({ secret: SECRET });
    try {
      const c = new Client(s.t.url);
      for (const json of [{}, { mfa_token: 'x' }, { mfa_token: 'x', totp: 1 }, { mfa_token: 'x', totp: '1', recovery_code: '2' }, { mfa_token: 'x', webauthn: 'no' }, { mfa_token: ['x'], totp: '1' }]) {
        const r = await c.req('POST', '/auth/login/mfa', { json });
        assert.equal(r.status, 400, JSON.stringify(json) + r.text);
        assert.match(r.headers.get('content-type') ?? '', /problem\+json/);
      }
      const r = await c.req('POST', '/auth/login/mfa', { json: { mfa_token: 'not-a-token', totp: '123456' } });
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'invalid_mfa_token');
    } finally {
      await s.close();
    }
  });
});

/**
 * A sign-in that overlaps a change of the user's credentials leaves nothing behind: whatever order a
 * login with the old password and a password change, a password reset or a disable land in, no
 * session minted from the old credentials stays live — its cookie, access token and refresh token
 * all fail, the store holds no such session, and every such session is on the revocation list other
 * services read. Four parallel login loops race the change, many rounds, on every store.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/server.js';
import { startMailServer, tokenFrom, type MailTestServer } from '../support/smtp.js';
import { storeKinds, type OpenedStores } from '../support/store-matrix.js';

const ROUNDS = 12;
const LOOPS = 4;
const NEW_PASSWORD = 'a brand new passphrase';

interface Minted {
  cookie?: Client;
  access?: string;
  refresh?: string;
  sessionId: string;
}

const sidHash = (sid: string) => createHash('sha256').update(sid).digest().subarray(0, 16).toString('base64url');

/** Logs in with `password` in a loop (alternating modes) until `stop()`; collects every credential it got. */
function loginLoops(url: string, email: string, password: string): { started(n: number): Promise<void>; stop(): Promise<Minted[]> } {
  let running = true;
  const minted: Minted[] = [];
  const loop = async (n: number) => {
    for (let i = 0; running; i++) {
      const mode = (i + n) % 2 === 0 ? 'session' : 'token';
      const c = new Client(url);
      const r = await c.req('POST', '/auth/login', { json: { email, password, mode } });
      if (r.status !== 200) continue;
      minted.push(mode === 'session' ? { cookie: c, sessionId: r.body.session.id } : { access: r.body.access_token, refresh: r.body.refresh_token, sessionId: r.body.session.id });
    }
  };
  const loops = Array.from({ length: LOOPS }, (_, n) => loop(n));
  return {
    /** Resolves once `n` logins have succeeded, so the change lands among logins in flight. */
    async started(n) {
      while (minted.length < n) await new Promise((r) => setTimeout(r, 1));
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      return minted;
    },
  };
}

/** The credentials minted from the old password that still work anywhere (must be none). */
async function survivors(s: MailTestServer, userId: string, minted: Minted[], keep: string | null): Promise<string[]> {
  const out: string[] = [];
  const live = new Set((await s.t.stores.sessions.listSessionsByUser(userId, s.t.clock.now())).map((x) => x.id));
  // The list may be served from a build up to a second old while it changes quickly (routes/well-known.ts):
  // wait, boundedly, until it has caught up with the sessions this round ended.
  const wanted = minted.filter((m) => m.access && m.sessionId !== keep).map((m) => sidHash(m.sessionId));
  let revoked = new Set<string>();
  for (const until = Date.now() + 3000; ; ) {
    const list = await new Client(s.t.url).req('GET', '/.well-known/gatehouse-revocations');
    assert.equal(list.status, 200);
    revoked = new Set(list.body.revoked as string[]);
    if (wanted.every((h) => revoked.has(h)) || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const m of minted) {
    if (m.sessionId === keep) continue;
    if (live.has(m.sessionId)) out.push(`session ${m.sessionId} is still in the store`);
    if (m.cookie && (await m.cookie.req('GET', '/auth/me')).status !== 401) out.push(`cookie of ${m.sessionId} still accepted`);
    if (m.access) {
      if ((await new Client(s.t.url).req('GET', '/auth/me', { bearer: m.access })).status !== 401) out.push(`access token of ${m.sessionId} still accepted`);
      if (!revoked.has(sidHash(m.sessionId))) out.push(`session ${m.sessionId} is not on the revocation list`);
      if ((await new Client(s.t.url).req('POST', '/auth/refresh', { json: { refresh_token: m.refresh } })).status !== 400) out.push(`refresh token of ${m.sessionId} still rotates`);
    }
  }
  return out;
}

async function registered(s: MailTestServer): Promise<{ email: string; userId: string }> {
  const email = uniqueEmail('race');
  const r = await new Client(s.t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
  assert.equal(r.status, 201, r.text);
  return { email, userId: r.body.user.id };
}


for (const kind of await storeKinds()) {
  describe(`a sign-in racing a credential change leaves no session (${kind.name})`, { skip: kind.skip }, () => {
    let opened: OpenedStores;
    let s: MailTestServer;
    before(async () => {
      opened = await kind.open();
      s = await startMailServer({}, 0, opened.stores);
    });
    after(async () => {
      await s?.close();
      await opened?.cleanup();
    });

    test(`password change: no survivor over ${ROUNDS} rounds of ${LOOPS} parallel login loops`, async (t) => {
      let logins = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const { email, userId } = await registered(s);
        const owner = new Client(s.t.url);
        assert.equal((await owner.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
        const ownerSession = (await owner.req('GET', '/auth/me')).body.session.id as string;
        const loops = loginLoops(s.t.url, email, GOOD_PASSWORD);
        await loops.started(2);
        const r = await owner.req('POST', '/auth/password', { json: { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD } });
        assert.equal(r.status, 204, `${r.text}\n${s.t.logs.slice(-5).join('')}`);
        const minted = await loops.stop();
        logins += minted.length;
        assert.deepEqual(await survivors(s, userId, minted, ownerSession), [], `round ${round}`);
        assert.equal((await owner.req('GET', '/auth/me')).status, 200, 'the session that changed the password carries on');
      }
      t.diagnostic(`${logins} racing logins succeeded; none survived the change`);
    });

    test(`password reset: no survivor over ${ROUNDS} rounds`, async (t) => {
      let logins = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const { email, userId } = await registered(s);
        await new Client(s.t.url).req('POST', '/auth/password-reset', { json: { email } });
        const token = tokenFrom(await s.smtp.waitFor((m) => m.to.includes(email) && /\/reset#token=/.test(m.text)), '/reset');
        const loops = loginLoops(s.t.url, email, GOOD_PASSWORD);
        await loops.started(2);
        const r = await new Client(s.t.url).req('POST', '/auth/password-reset/confirm', { json: { token, new_password: NEW_PASSWORD } });
        assert.equal(r.status, 204, r.text);
        const minted = await loops.stop();
        logins += minted.length;
        assert.deepEqual(await survivors(s, userId, minted, null), [], `round ${round}`);
      }
      t.diagnostic(`${logins} racing logins succeeded; none survived the reset`);
    });

    test(`disabling the user: no survivor, every racing session on the revocation list, over ${ROUNDS} rounds`, async (t) => {
      let logins = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const { email, userId } = await registered(s);
        const loops = loginLoops(s.t.url, email, GOOD_PASSWORD);
        await loops.started(2);
        assert.equal(await s.t.srv.gatehouse.core.admin.setDisabled(userId, true), true);
        const minted = await loops.stop();
        logins += minted.length;
        assert.deepEqual(await survivors(s, userId, minted, null), [], `round ${round}`);
      }
      t.diagnostic(`${logins} racing logins succeeded; none survived the disable`);
    });
  });
}

/**
 * Every admin action over HTTP on every store (memory, SQLite, PostgreSQL, PostgreSQL + Redis, MySQL,
 * MySQL + Redis): what it answers, what the store holds afterwards, that the user's credentials
 * stop (or start) working, and that the trail records it with the administrator's id as `actor`.
 * Search and audit pages are followed by their cursors: every user and event exactly once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent } from '../../src/ports.js';
import { makeUser } from '../contract/fixtures.js';
import { bearerStatus, cookieLogin, cookieStatus, refreshStatus, register, tokenLogin } from '../support/flows.js';
import { enrolTotp, SECRET } from '../support/mfa.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { storeKinds, type OpenedStores } from '../support/store-matrix.js';

const ORIGIN = { origin: 'http://localhost:3000' };
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';

for (const kind of await storeKinds()) {
  describe(`admin actions (${kind.name})`, { skip: kind.skip }, () => {
    let opened: OpenedStores;
    let t: TestServer;
    let admin: Client;
    let adminId: string;

    /** An admin request with the admin's cookie session (and a same-origin Origin for unsafe methods). */
    const call = (method: string, path: string) => admin.req(method, path, { headers: ORIGIN, ...(method === 'POST' ? { json: {} } : {}) });

    /** The trail's events about `userId` of `type`, straight from the store. */
    const trail = (userId: string, type: AuditEvent['type']) => t.stores.audit.listEvents({ userId, types: [type], limit: 10 });

    before(async () => {
      opened = await kind.open();
      t = await startTestServer({ config: { secret: SECRET }, stores: opened.stores });
      const email = uniqueEmail('admin');
      adminId = await register(t, email);
      assert.equal(await t.srv.gatehouse.core.admin.setAdmin(adminId, true), true);
      admin = (await cookieLogin(t, email)).client;
    });
    after(async () => {
      await t?.close();
      await opened?.cleanup();
    });

    test('search pages follow the cursor: every matching user exactly once, filters by email prefix, status and creation time', async () => {
      const tag = `s${randomBytes(4).toString('hex')}`;
      const t0 = t.clock.now() - 100_000;
      const made = [];
      // Ties on creation time across page boundaries, and a few disabled or verified users.
      for (let i = 0; i < 23; i++) {
        const u = makeUser({ emailCanonical: `${tag}-${i}@example.test`, email: `${tag}-${i}@example.test`, createdAt: t0 + Math.floor(i / 3), emailVerifiedAt: i % 4 === 0 ? t0 : null, disabledAt: i % 5 === 0 ? t0 : null });
        assert.equal(await t.stores.users.createUser(u), true);
        made.push(u);
      }
      const expected = [...made].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).map((u) => u.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r = await call('GET', `/admin/api/users?email=${tag.toUpperCase()}&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(r.status, 200, r.text);
        assert.ok(r.body.users.length <= 5);
        seen.push(...r.body.users.map((u: { id: string }) => u.id));
        cursor = r.body.next_cursor;
        pages++;
      } while (cursor && pages < 20);
      assert.deepEqual(seen, expected, 'every user once, in creation order');
      assert.equal(pages, 5);

      const ids = async (q: string) => ((await call('GET', `/admin/api/users?email=${tag}&limit=100&${q}`)).body.users as Array<{ id: string; status: string }>);
      const disabled = await ids('status=disabled');
      assert.deepEqual(disabled.map((u) => u.id).sort(), made.filter((u) => u.disabledAt !== null).map((u) => u.id).sort());
      assert.ok(disabled.every((u) => u.status === 'disabled'));
      const active = await ids('status=active');
      assert.deepEqual(active.map((u) => u.id).sort(), made.filter((u) => u.disabledAt === null && u.emailVerifiedAt !== null).map((u) => u.id).sort());
      const unverified = await ids('status=unverified');
      assert.equal(disabled.length + active.length + unverified.length, made.length, 'the three statuses partition the users');
      const from = new Date(t0 + 2).toISOString();
      const to = new Date(t0 + 4).toISOString();
      const ranged = await ids(`created_from=${from}&created_to=${to}`);
      assert.deepEqual(ranged.map((u) => u.id).sort(), made.filter((u) => u.createdAt >= t0 + 2 && u.createdAt < t0 + 4).map((u) => u.id).sort());
      const wild = await call('GET', `/admin/api/users?email=${tag}%25`);
      assert.deepEqual(wild.body.users, [], 'a wildcard character matches itself only');
    });

    test('a user\'s view: sessions in both modes with methods, level and device; second factors as metadata only; linked identities', async () => {
      const email = uniqueEmail('viewed');
      const id = await register(t, email);
      const cookie = await cookieLogin(t, email, { headers: { 'user-agent': FIREFOX } });
      const token = await tokenLogin(t, email);
      await enrolTotp(t, email);
      await t.stores.identities.createIdentity({ id: `idn${randomBytes(6).toString('hex')}`, userId: id, provider: 'google', subject: `sub-${id}`, email, emailVerified: true, createdAt: t.clock.now(), lastUsedAt: null });
      const r = await call('GET', `/admin/api/users/${id}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.user.email, email);
      assert.equal(r.body.user.admin, false);
      const byId = new Map((r.body.sessions as any[]).map((s) => [s.id, s]));
      assert.equal(byId.get(cookie.id)?.mode, 'session');
      assert.equal(byId.get(cookie.id)?.device.browser, 'Firefox');
      assert.deepEqual(byId.get(cookie.id)?.amr, ['pwd']);
      assert.equal(byId.get(cookie.id)?.acr, 'aal1');
      assert.equal(byId.get(token.id)?.mode, 'token');
      assert.deepEqual(r.body.second_factors, { totp: true, recovery_codes: 10, passkeys: [] });
      assert.deepEqual(r.body.identities.map((i: any) => [i.provider, i.email]), [['google', email]]);
      const keys: string[] = [];
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (keys.push(k), walk(x));
      };
      walk(r.body);
      assert.deepEqual(keys.filter((k) => /secret|hash|public_?key|password|counter|handle/i.test(k)), [], 'no secret, hash or key material');
      assert.ok(!r.text.includes((await t.stores.users.getUserById(id))!.passwordHash), 'not the password hash');
      assert.ok(!r.text.includes((await t.stores.totp.getTotp(id))!.secret), 'not the TOTP secret');
    });

    test('ending one session and then all of them stops the cookie, the access token and the refresh token; audited with the actor', async () => {
      const email = uniqueEmail('ended');
      const id = await register(t, email);
      const cookie = await cookieLogin(t, email);
      const token = await tokenLogin(t, email);
      assert.equal(await cookieStatus(cookie), 200);
      assert.equal((await call('DELETE', `/admin/api/users/${id}/sessions/${encodeURIComponent(cookie.id)}`)).status, 204);
      assert.equal(await cookieStatus(cookie), 401);
      assert.equal(await t.stores.sessions.getSession(cookie.id, t.clock.now()), null);
      assert.equal(await bearerStatus(t, token), 200, 'the other session lives');
      const one = await trail(id, 'session.revoked');
      assert.equal(one[0]?.detail?.actor, adminId);
      assert.equal(one[0]?.detail?.revoked, cookie.id);
      assert.equal((await call('DELETE', `/admin/api/users/${id}/sessions/${encodeURIComponent(cookie.id)}`)).status, 404, 'an ended session is gone');

      const all = await call('DELETE', `/admin/api/users/${id}/sessions`);
      assert.equal(all.status, 200, all.text);
      assert.equal(all.body.ended, 1);
      assert.equal(await bearerStatus(t, token), 401);
      assert.notEqual(await refreshStatus(t, token), 200);
      assert.deepEqual(await t.stores.sessions.listSessionsByUser(id, t.clock.now()), []);
      const ev = await trail(id, 'sessions.revoked_all');
      assert.equal(ev[0]?.detail?.actor, adminId);
      assert.equal(ev[0]?.detail?.count, 1);
    });

    test('disable ends every session and refuses sign-in; enable lets the user back in; both audited with the actor', async () => {
      const email = uniqueEmail('disabled');
      const id = await register(t, email);
      const token = await tokenLogin(t, email);
      assert.equal((await call('POST', `/admin/api/users/${id}/disable`)).status, 204);
      assert.notEqual((await t.stores.users.getUserById(id))?.disabledAt, null);
      assert.equal(await bearerStatus(t, token), 401);
      const refused = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      assert.notEqual(refused.status, 200);
      assert.equal((await trail(id, 'user.disabled'))[0]?.detail?.actor, adminId);
      const view = await call('GET', `/admin/api/users/${id}`);
      assert.equal(view.body.user.status, 'disabled');
      assert.deepEqual(view.body.sessions, []);

      assert.equal((await call('POST', `/admin/api/users/${id}/enable`)).status, 204);
      assert.equal((await t.stores.users.getUserById(id))?.disabledAt, null);
      assert.equal((await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
      assert.equal((await trail(id, 'user.enabled'))[0]?.detail?.actor, adminId);
    });

    test('resetting second factors removes them and ends the sessions; resend verification mails an unverified user only; audited', async () => {
      const email = uniqueEmail('lost2fa');
      const id = await register(t, email);
      const { client } = await enrolTotp(t, email);
      const r = await call('POST', `/admin/api/users/${id}/mfa/reset`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { totp: true, recovery_codes: 10, passkeys: 0 });
      assert.equal(await t.stores.totp.getTotp(id), null);
      assert.equal(await t.stores.recoveryCodes.countRecoveryCodes(id), 0);
      assert.equal(await cookieStatus({ client }), 401);
      assert.equal((await trail(id, 'mfa.reset'))[0]?.detail?.actor, adminId);

      const sent = await call('POST', `/admin/api/users/${id}/verification`);
      assert.deepEqual(sent.body, { sent: true });
      const ev = (await trail(id, 'email.verification_sent')).find((e) => e.detail?.reason === 'admin');
      assert.equal(ev?.detail?.actor, adminId);
      assert.ok(await t.stores.oneTimeTokens.deleteOneTimeTokensByUser(id) >= 1, 'a verification link was issued');
      await t.stores.users.markEmailVerified(id, t.clock.now());
      assert.deepEqual((await call('POST', `/admin/api/users/${id}/verification`)).body, { sent: false });
    });

    test('delete removes the user and everything of theirs; the trail keeps the deletion with the admin', async () => {
      const email = uniqueEmail('deleted');
      const id = await register(t, email);
      const cookie = await cookieLogin(t, email);
      assert.equal((await call('DELETE', `/admin/api/users/${id}`)).status, 204);
      assert.equal(await t.stores.users.getUserById(id), null);
      assert.equal(await cookieStatus(cookie), 401);
      assert.equal((await trail(id, 'account.deleted'))[0]?.detail?.by_admin, adminId);
      assert.equal((await call('GET', `/admin/api/users/${id}`)).status, 404);
      assert.equal((await call('DELETE', `/admin/api/users/${id}`)).status, 404);
    });

    test('audit search across users by user, type, address and time; its pages hold every event exactly once, newest first', async () => {
      const email = uniqueEmail('audited');
      const id = await register(t, email);
      for (let i = 0; i < 3; i++) await new Client(t.url).req('POST', '/auth/login', { json: { email, password: 'wrong password here' } });
      await cookieLogin(t, email);
      await call('POST', `/admin/api/users/${id}/disable`);
      const stored = await t.stores.audit.listEvents({ userId: id, limit: 100 });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const r = await call('GET', `/admin/api/audit?user=${id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(r.status, 200, r.text);
        seen.push(...r.body.events.map((e: { id: string }) => e.id));
        cursor = r.body.next_cursor;
      } while (cursor);
      assert.deepEqual(seen, stored.map((e) => e.id));

      const failed = await call('GET', `/admin/api/audit?user=${id}&type=login.failed`);
      assert.equal(failed.body.events.length, 3);
      const disabled = await call('GET', `/admin/api/audit?type=user.disabled&user=${id}`);
      assert.equal(disabled.body.events[0].actor, adminId);
      const ip = stored.find((e) => e.ip !== null)!.ip!;
      const byIp = await call('GET', `/admin/api/audit?ip=${encodeURIComponent(ip)}&user=${id}&limit=100`);
      assert.deepEqual(byIp.body.events.map((e: { id: string }) => e.id), stored.filter((e) => e.ip === ip).map((e) => e.id));
      const later = new Date(t.clock.now() + 1).toISOString();
      assert.deepEqual((await call('GET', `/admin/api/audit?user=${id}&since=${later}`)).body.events, []);
      assert.equal((await call('GET', `/admin/api/audit?user=${id}&until=${later}&limit=100`)).body.events.length, stored.length);
    });

    test('stats: sign-ins by result in the window from the trail, and live sessions per mode', async () => {
      const before = (await call('GET', '/admin/api/stats?window=5')).body;
      const email = uniqueEmail('counted');
      await register(t, email);
      await new Client(t.url).req('POST', '/auth/login', { json: { email, password: 'wrong password here' } });
      await tokenLogin(t, email);
      t.clock.advance(10_001); // the sampled session count is reused for 10 s
      const now = await call('GET', '/admin/api/stats?window=5');
      assert.equal(now.status, 200, now.text);
      assert.equal(now.body.logins.failed, before.logins.failed + 1);
      assert.equal(now.body.logins.succeeded, before.logins.succeeded + 1);
      assert.equal(now.body.logins.window_seconds, 300);
      assert.deepEqual(now.body.sessions.token, (await t.stores.sessions.countLiveSessions(t.clock.now())).token);
      assert.equal(now.body.sessions.token, before.sessions.token + 1);
      assert.equal(now.body.revocation_feed.trusted, true);
      assert.ok(now.body.store.ping_ms >= 0);
    });
  });
}

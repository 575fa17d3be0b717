/**
 * The admin API's gate, asserted over HTTP: every route of its table refuses anyone but an
 * administrator (401 signed out, 403 `admin_required` for a signed-in user, in both transports), an
 * administrator without a recent authentication at their highest level gets `reauth_required`, a
 * revoked role counts at once, and the network allow-list and the off switch hold.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { resolveConfig } from '../../src/config.js';
import { checkProductionConfig } from '../../src/server/preflight.js';
import { cookieLogin, register, tokenLogin } from '../support/flows.js';
import { enrolTotp, SECRET } from '../support/mfa.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { totpCode } from '../support/webauthn.js';

const WINDOW = 5 * 60_000;

/** Every route of the admin table as a request, its parameters filled with real ids. */
function everyRoute(t: TestServer, ids: { user: string; session: string }): Array<{ method: string; path: string }> {
  const routes = t.srv.gatehouse.adminRoutes.all();
  assert.ok(routes.length >= 11, 'the admin table has its routes');
  return routes.map((r) => ({ method: r.method, path: '/admin/api' + r.path.replace(':id', ids.user).replace(':sid', encodeURIComponent(ids.session)) }));
}

const send = (c: Client, r: { method: string; path: string }, bearer?: string) =>
  c.req(r.method, r.path, { ...(bearer ? { bearer } : {}), ...(r.method === 'POST' ? { json: {} } : {}), headers: { origin: 'http://localhost:3000' } });

describe('the admin API gate', () => {
  let t: TestServer;
  let target: string;
  let targetSession: string;
  const adminEmail = uniqueEmail('admin');
  let adminId: string;

  before(async () => {
    t = await startTestServer({ config: { secret: SECRET, reauthWindow: WINDOW } });
    adminId = await register(t, adminEmail);
    assert.equal(await t.srv.gatehouse.core.admin.setAdmin(adminId, true), true);
    const email = uniqueEmail('target');
    target = await register(t, email);
    targetSession = (await cookieLogin(t, email)).id;
  });
  after(async () => {
    await t?.close();
  });

  test('signed out, every admin route answers 401 and changes nothing', async () => {
    for (const r of everyRoute(t, { user: target, session: targetSession })) {
      const res = await send(new Client(t.url), r);
      assert.equal(res.status, 401, `${r.method} ${r.path}: ${res.text}`);
    }
    assert.notEqual(await t.stores.users.getUserById(target), null);
    assert.notEqual(await t.stores.sessions.getSession(targetSession, t.clock.now()), null);
  });

  test('a signed-in user without the role gets 403 admin_required on every admin route, cookie or bearer, and changes nothing', async () => {
    const email = uniqueEmail('plain');
    await register(t, email);
    const cookie = await cookieLogin(t, email);
    const token = await tokenLogin(t, email);
    for (const r of everyRoute(t, { user: target, session: targetSession })) {
      for (const [how, res] of [['cookie', await send(cookie.client, r)], ['bearer', await send(new Client(t.url), r, token.access)]] as const) {
        assert.equal(res.status, 403, `${how} ${r.method} ${r.path}: ${res.text}`);
        assert.equal(res.body.code, 'admin_required', `${how} ${r.method} ${r.path}`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      }
    }
    const u = await t.stores.users.getUserById(target);
    assert.ok(u && u.disabledAt === null, 'the target is neither deleted nor disabled');
    assert.notEqual(await t.stores.sessions.getSession(targetSession, t.clock.now()), null, 'its session lives');
    const trail = await t.stores.audit.listEvents({ userId: target, limit: 50 });
    assert.ok(!trail.some((e) => e.detail?.actor !== undefined), 'no admin action was recorded');
  });

  test('an administrator signed in recently gets in, with either transport', async () => {
    const cookie = await cookieLogin(t, adminEmail);
    const token = await tokenLogin(t, adminEmail);
    assert.equal((await cookie.client.req('GET', '/admin/api/stats')).status, 200);
    const r = await new Client(t.url).req('GET', `/admin/api/users/${target}`, { bearer: token.access });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.user.id, target);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });

  test('past the re-authentication window every admin route answers reauth_required (aal1) until the admin steps up', async () => {
    const admin = await cookieLogin(t, adminEmail);
    t.clock.advance(WINDOW + 1);
    for (const r of everyRoute(t, { user: target, session: targetSession })) {
      const res = await send(admin.client, r);
      assert.equal(res.status, 403, `${r.method} ${r.path}: ${res.text}`);
      assert.equal(res.body.code, 'reauth_required');
      assert.equal(res.body.acr, 'aal1');
    }
    assert.notEqual(await t.stores.sessions.getSession(targetSession, t.clock.now()), null);
    const step = await admin.client.req('POST', '/auth/reauth', { json: { password: GOOD_PASSWORD }, headers: { origin: 'http://localhost:3000' } });
    assert.equal(step.status, 200, step.text);
    assert.equal((await admin.client.req('GET', '/admin/api/stats')).status, 200);
  });

  test('an administrator with a second factor needs aal2: once stale, a password step-up is not enough, a TOTP one is', async () => {
    const email = uniqueEmail('admin2fa');
    const id = await register(t, email);
    await t.srv.gatehouse.core.admin.setAdmin(id, true);
    const { client, secret } = await enrolTotp(t, email);
    t.clock.advance(WINDOW + 1);
    const refused = await client.req('GET', '/admin/api/users');
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.code, 'reauth_required');
    assert.equal(refused.body.acr, 'aal2');
    const pw = await client.req('POST', '/auth/reauth', { json: { password: GOOD_PASSWORD }, headers: { origin: 'http://localhost:3000' } });
    assert.equal(pw.status, 403, 'the password alone does not reach aal2');
    const step = await client.req('POST', '/auth/reauth', { json: { totp: totpCode(secret, t.clock.now()) }, headers: { origin: 'http://localhost:3000' } });
    assert.equal(step.status, 200, step.text);
    assert.equal((await client.req('GET', '/admin/api/users')).status, 200);
  });

  test('a revoked role is refused at once, on the next request of a live session', async () => {
    const email = uniqueEmail('ex-admin');
    const id = await register(t, email);
    await t.srv.gatehouse.core.admin.setAdmin(id, true);
    const s = await cookieLogin(t, email);
    assert.equal((await s.client.req('GET', '/admin/api/stats')).status, 200);
    await t.srv.gatehouse.core.admin.setAdmin(id, false);
    const r = await s.client.req('GET', '/admin/api/stats');
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'admin_required');
    const trail = await t.stores.audit.listEvents({ userId: id, types: ['admin.granted', 'admin.revoked'], limit: 10 });
    assert.deepEqual(trail.map((e) => e.type), ['admin.revoked', 'admin.granted']);
  });

  test('a cookie request from another site is refused (csrf_rejected) and changes nothing', async () => {
    const admin = await cookieLogin(t, adminEmail);
    const r = await admin.client.req('POST', `/admin/api/users/${target}/disable`, { json: {}, headers: { origin: 'https://evil.example' } });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'csrf_rejected');
    assert.equal((await t.stores.users.getUserById(target))?.disabledAt, null);
  });

  test('bad input is a 400 problem naming the field, an unknown user a 404', async () => {
    const admin = await cookieLogin(t, adminEmail);
    for (const [q, field] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['status=gone', 'status'], ['cursor=%25%25', 'cursor'], ['cursor=bm90LWEtY3Vyc29y', 'cursor'], ['created_from=yesterday', 'created_from']] as const) {
      const r = await admin.client.req('GET', `/admin/api/users?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.field, field, q);
    }
    for (const [q, field] of [['cursor=zzz', 'cursor'], ['type=DROP%20TABLE', 'type'], ['until=soon', 'until'], ['user=a%2Fb', 'user']] as const) {
      const r = await admin.client.req('GET', `/admin/api/audit?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.field, field, q);
    }
    assert.equal((await admin.client.req('GET', '/admin/api/stats?window=0')).status, 400);
    assert.equal((await admin.client.req('GET', '/admin/api/users/no-such-user')).status, 404);
    const self = await admin.client.req('POST', `/admin/api/users/${adminId}/disable`, { json: {}, headers: { origin: 'http://localhost:3000' } });
    assert.equal(self.status, 403, 'an admin cannot disable their own account here');
    assert.equal(self.body.code, 'forbidden');
    assert.equal((await t.stores.users.getUserById(adminId))?.disabledAt, null);
  });
});

describe('where the admin API answers', () => {
  test('outside GATEHOUSE_ADMIN_ALLOW_IPS even an administrator gets 403 forbidden; inside, the API answers', async () => {
    for (const [allow, status] of [[['10.0.0.0/8', '2001:db8::/32'], 403], [['127.0.0.0/8'], 200]] as const) {
      const t = await startTestServer({ config: { admin: { allowIps: [...allow] } } });
      try {
        const email = uniqueEmail('admin');
        const id = await register(t, email);
        await t.srv.gatehouse.core.admin.setAdmin(id, true);
        const s = await cookieLogin(t, email);
        const r = await s.client.req('GET', '/admin/api/stats');
        assert.equal(r.status, status, `${allow.join(',')}: ${r.text}`);
        if (status === 403) assert.equal(r.body.code, 'forbidden');
        // Signed out from outside the list: refused before authentication, the same answer.
        if (status === 403) assert.equal((await new Client(t.url).req('GET', '/admin/api/users')).status, 403);
      } finally {
        await t.close();
      }
    }
  });

  test('with GATEHOUSE_ADMIN_API off the server has no admin API (404)', async () => {
    const t = await startTestServer({ config: { admin: { enabled: false } } });
    try {
      const email = uniqueEmail('admin');
      const id = await register(t, email);
      await t.srv.gatehouse.core.admin.setAdmin(id, true);
      const s = await cookieLogin(t, email);
      const r = await s.client.req('GET', '/admin/api/stats', { headers: { accept: 'application/json' } });
      assert.equal(r.status, 404);
    } finally {
      await t.close();
    }
  });
});

test('a deployment whose admin API answers any address is warned at start; an allow-list or the off switch silences it; a bad CIDR is refused', () => {
  const warn = (admin: object) => checkProductionConfig(resolveConfig({ publicUrl: 'https://auth.example.com', mail: { smtpUrl: 'smtp://smtp.example.com:587' }, admin })).filter((w) => w.includes('/admin/api'));
  assert.equal(warn({}).length, 1);
  assert.deepEqual(warn({ allowIps: ['10.0.0.0/8'] }), []);
  assert.deepEqual(warn({ enabled: false }), []);
  assert.deepEqual(resolveConfig({ admin: { allowIps: [' 10.0.0.0/8', '2001:db8::/32', '192.0.2.7'] } }).admin.allowIps, ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
  for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/8', '::1/129', '']) assert.throws(() => resolveConfig({ admin: { allowIps: [bad] } }), /allowIps|IP address/, bad);
});

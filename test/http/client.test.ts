/**
 * gatehouse/client against the real server: single-flight refresh under 50 parallel calls, both
 * refresh transports, session mode through a cookie jar, and errors typed from problem codes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GatehouseClient, GatehouseClientError, type Tokens } from '../../src/client/index.js';
import { startPopServer } from '../support/pop.js';
import { GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

/** A fetch that counts requests by `METHOD /path` and, optionally, keeps cookies like a browser would. */
function recordingFetch(opts: { jar?: boolean; before?: (key: string, n: number) => Promise<void> | void } = {}) {
  const counts = new Map<string, number>();
  const jar = new Map<string, string>();
  const f: typeof fetch = async (input, init = {}) => {
    const url = new URL(String(input));
    const key = `${init.method ?? 'GET'} ${url.pathname}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    const held = opts.before?.(key, n);
    const headers = new Headers(init.headers);
    if (opts.jar && jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(input, { ...init, headers });
    await held;
    if (opts.jar) {
      for (const sc of res.headers.getSetCookie()) {
        const pair = sc.split(';')[0]!;
        const eq = pair.indexOf('=');
        const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
        if (value === '' || /Max-Age=0/i.test(sc)) jar.delete(name);
        else jar.set(name, value);
      }
    }
    return res;
  };
  return { fetch: f, count: (k: string) => counts.get(k) ?? 0, jar };
}

const ACCESS_TTL_MS = 10 * 60_000;

describe('gatehouse/client', () => {
  let t: TestServer;
  const email = uniqueEmail('client');

  before(async () => {
    t = await startPopServer({ config: { token: { accessTtl: ACCESS_TTL_MS } } });
    await new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now() }).register(email, GOOD_PASSWORD);
  });
  after(async () => {
    await t?.close();
  });

  test('50 parallel calls with an expired access token cause exactly one refresh, and all 50 succeed', async () => {
    const rec = recordingFetch();
    const gh = new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now(), mode: 'token', fetch: rec.fetch });
    await gh.login(email, GOOD_PASSWORD);
    const before = gh.accessToken;
    t.clock.advance(ACCESS_TTL_MS + 60_000); // the access token is now expired (beyond any clock skew)

    const results = await Promise.allSettled(Array.from({ length: 50 }, () => gh.me()));
    const failed = results.filter((r) => r.status === 'rejected');
    assert.deepEqual(failed, [], 'every call succeeded');
    assert.equal(rec.count('POST /auth/refresh'), 1, 'exactly one refresh request');
    assert.equal(rec.count('GET /auth/me'), 100, 'each call: one 401, then one retry');
    assert.notEqual(gh.accessToken, before);
    for (const r of results) assert.equal((r as PromiseFulfilledResult<Awaited<ReturnType<typeof gh.me>>>).value.user.email, email);
  });

  test('parallel calls through client.fetch and the API methods share the same single refresh', async () => {
    const rec = recordingFetch();
    const gh = new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now(), mode: 'token', fetch: rec.fetch });
    await gh.login(email, GOOD_PASSWORD);
    t.clock.advance(ACCESS_TTL_MS + 60_000);
    const calls = [
      ...Array.from({ length: 10 }, () => gh.fetch(`${t.url}/auth/me`).then((r) => r.status)),
      ...Array.from({ length: 10 }, () => gh.sessions().then(() => 200)),
    ];
    assert.deepEqual(await Promise.all(calls), Array(20).fill(200));
    assert.equal(rec.count('POST /auth/refresh'), 1);
  });

  test('with the cookie transport the refresh token never reaches JavaScript, and refresh still works single-flight', async () => {
    const rec = recordingFetch({ jar: true });
    const seen: Array<Tokens | null> = [];
    const gh = new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now(), mode: 'token', refreshTransport: 'cookie', fetch: rec.fetch, onTokens: (tk) => seen.push(tk) });
    const login = await gh.login(email, GOOD_PASSWORD);
    assert.equal(login.mode, 'token');
    assert.equal(login.mode === 'token' && login.refresh_token, undefined);
    assert.equal(seen.at(-1)?.refreshToken, undefined);
    assert.ok(rec.jar.has('__Secure-gatehouse-refresh'), 'the refresh cookie is in the jar');
    t.clock.advance(ACCESS_TTL_MS + 60_000);
    const all = await Promise.all(Array.from({ length: 20 }, () => gh.me()));
    assert.equal(all.length, 20);
    assert.equal(rec.count('POST /auth/refresh'), 1);
    assert.equal(seen.length, 2, 'login, then one refresh');
  });

  test('session mode works through a cookie jar: login, me, sessions, logout, then unauthenticated', async () => {
    const rec = recordingFetch({ jar: true });
    const gh = new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now(), fetch: rec.fetch });
    const login = await gh.login(email, GOOD_PASSWORD);
    assert.equal(login.mode, 'session');
    assert.equal(gh.accessToken, null);
    assert.ok(rec.jar.has('__Host-gatehouse'));
    const me = await gh.me();
    assert.equal(me.session.mode, 'session');
    assert.ok((await gh.sessions()).some((s) => s.current && s.id === me.session.id));
    await gh.logout();
    await assert.rejects(gh.me(), (e: unknown) => e instanceof GatehouseClientError && e.code === 'unauthenticated' && e.status === 401);
    assert.equal(rec.count('POST /auth/refresh'), 0, 'session mode never refreshes');
  });

  test('the device and account calls: reauth, revoke, logout-others, events, password, logout-all', async () => {
    const owner = uniqueEmail('clientdev');
    const gh = new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now(), mode: 'token' });
    await gh.register(owner, GOOD_PASSWORD);
    await gh.login(owner, GOOD_PASSWORD);
    const other = new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now(), mode: 'token' });
    const otherLogin = await other.login(owner, GOOD_PASSWORD);
    assert.ok(otherLogin.mode !== 'mfa_required');
    const third = new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now(), mode: 'token' });
    await third.login(owner, GOOD_PASSWORD);

    t.clock.advance(11 * 60_000); // past the re-authentication window (the access token too: refreshed)
    await assert.rejects(gh.revokeSession(otherLogin.session.id), (e: unknown) => e instanceof GatehouseClientError && e.code === 'reauth_required' && e.status === 403);
    await assert.rejects(gh.reauth('wrong password entirely'), (e: unknown) => e instanceof GatehouseClientError && e.code === 'invalid_credentials');
    const re = await gh.reauth(GOOD_PASSWORD);
    assert.ok(re.valid_for > 0);
    await gh.revokeSession(otherLogin.session.id);
    await assert.rejects(other.me(), (e: unknown) => e instanceof GatehouseClientError && (e.code === 'invalid_grant' || e.code === 'invalid_token'));
    assert.equal(await gh.logoutOthers(), 1);
    const page = await gh.events({ limit: 2 });
    assert.equal(page.events.length, 2);
    assert.ok(page.next_cursor);
    const next = await gh.events({ limit: 2, cursor: page.next_cursor! });
    assert.notEqual(next.events[0]!.id, page.events[0]!.id);
    await gh.changePassword(GOOD_PASSWORD, 'a brand new passphrase');
    await gh.logoutAll();
    assert.equal(gh.accessToken, null);
  });

  test('errors are typed from problem codes, with status, field and Retry-After', async () => {
    const gh = new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now() });
    await assert.rejects(gh.login(email, 'definitely not it'), (e: unknown) => {
      assert.ok(e instanceof GatehouseClientError);
      assert.equal(e.code, 'invalid_credentials');
      assert.equal(e.status, 401);
      assert.equal(e.problem?.type, 'https://gatehouse.dev/problems/invalid_credentials');
      return true;
    });
    await assert.rejects(gh.register('not an email', GOOD_PASSWORD), (e: unknown) => e instanceof GatehouseClientError && e.code === 'invalid_email' && e.field === 'email');
    const limited = await startPopServer({ config: { rateLimits: { enabled: true }, lifecycle: { resetPerIp: 1 } } });
    try {
      const c = new GatehouseClient({ baseUrl: limited.url });
      await c.requestPasswordReset(email);
      await assert.rejects(c.requestPasswordReset(email), (e: unknown) => {
        assert.ok(e instanceof GatehouseClientError);
        assert.equal(e.code, 'rate_limited');
        assert.equal(e.status, 429);
        assert.ok(typeof e.retryAfter === 'number' && e.retryAfter > 0);
        return true;
      });
    } finally {
      await limited.close();
    }
  });

  test('a refused refresh (revoked session) rejects every waiting call with invalid_grant and forgets the tokens', async () => {
    const rec = recordingFetch();
    const seen: Array<Tokens | null> = [];
    const gh = new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now(), mode: 'token', fetch: rec.fetch, onTokens: (tk) => seen.push(tk) });
    await gh.login(email, GOOD_PASSWORD);
    const killer = new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now(), mode: 'token' });
    await killer.login(email, GOOD_PASSWORD);
    await killer.reauth(GOOD_PASSWORD);
    const mine = (await gh.me()).session.id;
    await killer.revokeSession(mine);
    t.clock.advance(ACCESS_TTL_MS + 60_000); // expired as well, so no call can slip through before the revocation lands
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => gh.me()));
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      const e = (r as PromiseRejectedResult).reason;
      assert.ok(e instanceof GatehouseClientError);
      assert.equal(e.code, 'invalid_grant');
    }
    assert.equal(rec.count('POST /auth/refresh'), 1);
    assert.equal(gh.accessToken, null);
    assert.equal(seen.at(-1), null);
  });

  test('a call whose 401 arrives only after the refresh was refused gets the same invalid_grant, and no second refresh', async () => {
    let refused!: () => void;
    const refusalSeen = new Promise<void>((r) => (refused = r));
    // The second GET /auth/me answer is held back until the refresh answer has been handed to the client.
    const rec = recordingFetch({
      before: (key, n) => {
        if (key === 'GET /auth/me' && n === 3) return refusalSeen.then(() => new Promise((r) => setTimeout(r, 20)));
        return undefined;
      },
    });
    const gh = new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now(), mode: 'token', fetch: rec.fetch });
    await gh.login(email, GOOD_PASSWORD);
    const killer = new GatehouseClient({ baseUrl: t.url, now: () => t.clock.now(), mode: 'token' });
    await killer.login(email, GOOD_PASSWORD);
    await killer.reauth(GOOD_PASSWORD);
    const mine = (await gh.me()).session.id; // GET /auth/me #1
    await killer.revokeSession(mine);
    t.clock.advance(ACCESS_TTL_MS + 60_000);
    const early = gh.me(); // #2: 401, starts the refresh, which is refused
    const late = gh.me(); // #3: its 401 is held until after the refusal
    const earlyResult = await early.then(() => null, (e: unknown) => e);
    refused();
    const lateResult = await late.then(() => null, (e: unknown) => e);
    for (const e of [earlyResult, lateResult]) {
      assert.ok(e instanceof GatehouseClientError, String(e));
      assert.equal(e.code, 'invalid_grant');
    }
    assert.equal(rec.count('POST /auth/refresh'), 1);
    assert.equal(gh.accessToken, null);
  });
});

describe('gatehouse/client fetch sends the access token only where it belongs', () => {
  let t: TestServer;
  let other: import('node:http').Server;
  let otherUrl: string;
  const seen: Array<{ path: string; authorization: string | undefined }> = [];
  const email = uniqueEmail('clientorigin');

  before(async () => {
    t = await startPopServer();
    await new GatehouseClient({ baseUrl: t.url }).register(email, GOOD_PASSWORD);
    const { createServer } = await import('node:http');
    // Another origin (same host, another port): records what reaches it.
    other = createServer((req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      res.statusCode = 401;
      res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      res.end();
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherUrl = `http://127.0.0.1:${(other.address() as import('node:net').AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => other?.close(r));
    await t?.close();
  });

  test('a URL on another origin gets no Authorization header and triggers no refresh', async () => {
    const rec = recordingFetch();
    const gh = new GatehouseClient({ baseUrl: t.url, mode: 'token', fetch: rec.fetch });
    await gh.login(email, GOOD_PASSWORD);
    seen.length = 0;
    const r = await gh.fetch(`${otherUrl}/steal?x=1`);
    assert.equal(r.status, 401);
    const viaUrl = await gh.fetch(new URL('/steal-too', otherUrl));
    assert.equal(viaUrl.status, 401);
    assert.deepEqual(seen, [
      { path: '/steal?x=1', authorization: undefined },
      { path: '/steal-too', authorization: undefined },
    ]);
    assert.equal(rec.count('POST /auth/refresh'), 0, 'a foreign 401 does not spend the refresh token');
    // Gatehouse's own origin still gets the token.
    assert.equal((await gh.fetch(`${t.url}/auth/me`)).status, 200);
  });

  test('an origin listed in apiOrigins gets the token; a malformed entry is a TypeError at construction', async () => {
    const gh = new GatehouseClient({ baseUrl: t.url, mode: 'token', apiOrigins: [`${otherUrl}/`] });
    await gh.login(email, GOOD_PASSWORD);
    seen.length = 0;
    const token = gh.accessToken;
    await gh.fetch(`${otherUrl}/notes`);
    // The client's tokens are DPoP-bound by default: the listed API gets the token as DPoP (with its proof).
    assert.equal(seen[0]?.authorization, `DPoP ${token}`);
    assert.throws(() => new GatehouseClient({ baseUrl: t.url, apiOrigins: ['api.example.com'] }), /apiOrigins/);
  });
});

test('the client imports nothing from Node or the server at run time (it runs in browsers)', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const dir = new URL('../../src/client/', import.meta.url);
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const src = readFileSync(new URL(f, dir), 'utf8');
    for (const m of src.matchAll(/^(import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)) {
      // Its own modules, and jose (browser-safe, no dependencies) for DPoP proofs.
      assert.match(m[2]!, /^(\.\/[a-z-]+\.js|jose)$/, `${f}: run-time import of ${m[2]}`);
    }
  }
});

describe('gatehouse/client: second factors and passkeys', () => {
  test('TOTP enrolment, the mfa_required step in token mode, step-up with a code (tokens refreshed), passkeys and passwordless sign-in', async () => {
    const { SoftAuthenticator, totpCode } = await import('../support/webauthn.js');
    const { ORIGIN } = await import('../support/mfa.js');
    const t = await startTestServer();
    try {
      const email = uniqueEmail('climfa');
      // Plain bearer tokens: this server's public URL is the passkeys' origin, not the address the client calls.
      const gh = new GatehouseClient({ baseUrl: t.url, mode: 'token', dpop: false });
      await gh.register(email, GOOD_PASSWORD);
      const first = await gh.login(email, GOOD_PASSWORD);
      assert.equal(first.mode, 'token');
      const e = await gh.beginTotp();
      assert.match(e.uri, /^otpauth:\/\/totp\//);
      const codes = await gh.confirmTotp(totpCode(e.secret, t.clock.now()));
      assert.equal(codes.length, 10);
      assert.deepEqual(await gh.mfaStatus(), { totp: true, recovery_codes_left: 10, passkeys: 0 });
      await gh.logout();

      t.clock.advance(30_000);
      const step = await gh.login(email, GOOD_PASSWORD);
      assert.equal(step.mode, 'mfa_required');
      if (step.mode !== 'mfa_required') return;
      assert.deepEqual(step.methods, ['totp', 'recovery_code']);
      await assert.rejects(gh.completeMfa(step.mfaToken, { totp: 'abcdef' }), (x: unknown) => x instanceof GatehouseClientError && x.code === 'invalid_otp');
      const done = await gh.completeMfa(step.mfaToken, { totp: totpCode(e.secret, t.clock.now()) });
      assert.equal(done.mode, 'token');
      assert.equal((await gh.me()).session.acr, 'aal2');

      // Past the window, the password is not enough; the next code is, and the new token carries the new auth_time.
      t.clock.advance(11 * 60_000);
      await gh.refresh();
      const before = (await gh.me()).session.auth_time;
      await assert.rejects(gh.logoutOthers(), (x: unknown) => x instanceof GatehouseClientError && x.code === 'reauth_required' && x.problem?.acr === 'aal2');
      await assert.rejects(gh.reauth(GOOD_PASSWORD), (x: unknown) => x instanceof GatehouseClientError && x.code === 'reauth_required');
      await gh.reauth({ totp: totpCode(e.secret, t.clock.now()) });
      assert.ok((await gh.me()).session.auth_time > before, 'the refreshed access token carries the step-up');
      assert.equal(await gh.logoutOthers(), 0);

      const auth = new SoftAuthenticator(ORIGIN);
      const pk = await gh.registerPasskey(auth.create(await gh.passkeyRegistrationOptions()), 'Key');
      await gh.renamePasskey(pk.id, 'Desk key');
      assert.deepEqual((await gh.passkeys()).map((p) => p.name), ['Desk key']);
      const anon = new GatehouseClient({ baseUrl: t.url, mode: 'token', dpop: false });
      const pl = await anon.passkeyLogin(auth.get(await anon.passkeyLoginOptions()));
      assert.equal(pl.mode, 'token');
      assert.deepEqual((await anon.me()).session.amr, ['hwk', 'user']);
      await anon.reauth({ webauthn: auth.get(await anon.reauthOptions()) });
      await anon.removePasskey(pk.id);
      assert.deepEqual(await anon.passkeys(), []);
      await anon.regenerateRecoveryCodes();
      await anon.removeTotp();
      assert.deepEqual(await anon.mfaStatus(), { totp: false, recovery_codes_left: 0, passkeys: 0 });
    } finally {
      await t.close();
    }
  });
});

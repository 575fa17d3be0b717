import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.close());

describe('request logs', () => {
  test('a full register/login/me/logout/token-login/refresh flow logs no password, cookie, session secret or token, and one line per request with status and ms', async () => {
    const email = uniqueEmail('logs');
    const password = 'log-test passphrase Zq81!';
    const c = new Client(t.url);
    const secrets: Array<[string, string]> = [['password', password]];
    let requests = 0;
    const call = async (...args: Parameters<Client['req']>) => {
      requests++;
      return c.req(...args);
    };

    assert.equal((await call('POST', '/auth/register', { json: { email, password } })).status, 201);
    assert.equal((await call('POST', '/auth/login', { json: { email, password: 'a wrong password, also secret' } })).status, 401);
    secrets.push(['wrong password', 'a wrong password, also secret']);
    const login = await call('POST', '/auth/login', { json: { email, password } });
    assert.equal(login.status, 200);
    const cookie = c.jar.get('__Host-gatehouse')!;
    secrets.push(['session cookie', cookie], ['session secret', cookie.split('.')[1]!]);
    assert.equal((await call('GET', '/auth/me')).status, 200);
    assert.equal((await call('POST', '/auth/logout')).status, 204);

    const tok = await call('POST', '/auth/login', { json: { email, password, mode: 'token' } });
    assert.equal(tok.status, 200);
    secrets.push(['access token', tok.body.access_token], ['refresh token', tok.body.refresh_token]);
    assert.equal((await call('GET', '/auth/me', { bearer: tok.body.access_token })).status, 200);
    const ref = await call('POST', '/auth/refresh', { json: { refresh_token: tok.body.refresh_token } });
    assert.equal(ref.status, 200);
    secrets.push(['refreshed access token', ref.body.access_token], ['rotated refresh token', ref.body.refresh_token]);
    // Reuse of the spent refresh token (past the grace window), and a bogus bearer token.
    t.clock.advance(11_000);
    assert.equal((await call('POST', '/auth/refresh', { json: { refresh_token: tok.body.refresh_token } })).status, 400);
    assert.equal((await call('GET', '/auth/me', { bearer: tok.body.access_token + 'x' })).status, 401);

    const cookieTok = await call('POST', '/auth/login', { json: { email, password, mode: 'token', refresh_transport: 'cookie' } });
    assert.equal(cookieTok.status, 200);
    const refreshCookie = c.jar.get('__Secure-gatehouse-refresh')!;
    assert.ok(refreshCookie);
    secrets.push(['refresh cookie', refreshCookie]);
    assert.equal((await call('POST', '/auth/refresh')).status, 200);
    secrets.push(['rotated refresh cookie', c.jar.get('__Secure-gatehouse-refresh')!]);

    // Let 'finish' handlers of the last response run.
    await new Promise((r) => setImmediate(r));
    const all = t.logs.join('');
    for (const [what, value] of secrets) {
      assert.ok(value && value.length >= 16, `${what} captured`);
      assert.ok(!all.includes(value), `${what} appears in the logs`);
    }
    const lines = t.logs.flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l));
    const reqLines = lines.filter((l) => l.msg === 'request');
    assert.equal(reqLines.length, requests, 'one line per request');
    for (const l of reqLines) {
      assert.equal(typeof l.status, 'number');
      assert.equal(typeof l.ms, 'number');
      assert.ok(l.ms >= 0);
      assert.equal(typeof l.method, 'string');
    }
    assert.deepEqual(
      reqLines.map((l) => l.status),
      [201, 401, 200, 200, 204, 200, 200, 200, 400, 401, 200, 200],
    );
    assert.ok(!all.toLowerCase().includes('authorization'), 'no request headers logged');
  });
});

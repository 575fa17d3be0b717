/**
 * Admission control of password hashing: when more logins wait for argon2id than can start within
 * GATEHOUSE_PASSWORD_HASH_MAX_WAIT, the surplus is refused at once with 503 `password_hashing_busy`
 * and Retry-After (an RFC 9457 problem), known and unknown addresses alike, while authenticated
 * requests keep being served; the admitted logins succeed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OWASP_ARGON2 } from '../../src/config.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

describe('password hashing admission control', () => {
  let t: TestServer;
  const email = uniqueEmail('admit');
  let signedIn: Client;
  before(async () => {
    // One hashing thread and no waiting at all: a login arriving while another is hashed is refused.
    t = await startTestServer({ config: { passwordHashing: { ...OWASP_ARGON2, unsafeAllowWeak: false, workers: 1, maxWait: 0 } } });
    signedIn = new Client(t.url);
    assert.equal((await signedIn.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    assert.equal((await signedIn.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
  });
  after(() => t.close());

  test('a burst beyond the bound is refused at once with 503, Retry-After and a problem body; the rest sign in', async () => {
    const burst = await Promise.all(
      Array.from({ length: 8 }, (_, i) => {
        const c = new Client(t.url);
        // Half of them name no account: the refusal must not depend on whether the address exists.
        const json = i % 2 === 0 ? { email, password: GOOD_PASSWORD } : { email: uniqueEmail('nobody'), password: GOOD_PASSWORD };
        const t0 = performance.now();
        return c.req('POST', '/auth/login', { json }).then((r) => ({ i, r, ms: performance.now() - t0 }));
      }),
    );
    const refused = burst.filter((b) => b.r.status === 503);
    const answered = burst.filter((b) => b.r.status !== 503);
    assert.ok(refused.length >= 1, `statuses: ${burst.map((b) => b.r.status).join(' ')}`);
    assert.ok(answered.length >= 1, 'the admitted logins are answered');
    for (const b of answered) assert.equal(b.r.status, b.i % 2 === 0 ? 200 : 401, `login ${b.i}`);
    for (const { r } of refused) {
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(r.body.code, 'password_hashing_busy');
      assert.equal(r.body.status, 503);
      assert.equal(r.body.type, 'https://gatehouse.dev/problems/password_hashing_busy');
      assert.ok(Number(r.headers.get('retry-after')) >= 1, `Retry-After: ${r.headers.get('retry-after')}`);
      assert.equal(r.headers.get('set-cookie'), null, 'no session was started');
      assert.doesNotMatch(r.text, /argon|stack|Error/);
    }
    // Authenticated traffic is unaffected, and the refused user can sign in once the burst is over.
    assert.equal((await signedIn.req('GET', '/auth/me')).status, 200);
    assert.equal((await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
  });
});

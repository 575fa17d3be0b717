/**
 * Account enumeration: registering an existing address looks like a new registration, and a login
 * for an unknown address takes about as long as one with a wrong password (the core runs a dummy
 * hash), measured over interleaved requests with production argon2id parameters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OWASP_ARGON2 } from '../../src/config.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

/** The shape of a JSON value: keys and types, not values. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, shape(x)]));
  return v === null ? 'null' : typeof v;
}

const VOLATILE = new Set(['date', 'content-length', 'keep-alive', 'connection']);
const headerNames = (h: Headers) => [...h.keys()].filter((k) => !VOLATILE.has(k)).sort();

describe('registration of an existing email', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  test('is 201 with the same body shape and the same headers as a new registration', async () => {
    const existing = uniqueEmail('enum');
    assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email: existing, password: GOOD_PASSWORD } })).status, 201);

    const fresh = await new Client(t.url).req('POST', '/auth/register', { json: { email: uniqueEmail('enum'), password: GOOD_PASSWORD } });
    const again = await new Client(t.url).req('POST', '/auth/register', { json: { email: existing, password: 'another good passphrase' } });
    assert.equal(again.status, fresh.status);
    assert.equal(again.status, 201);
    assert.deepEqual(shape(again.body), shape(fresh.body));
    assert.deepEqual(headerNames(again.headers), headerNames(fresh.headers));
    for (const h of ['content-type', 'cache-control']) assert.equal(again.headers.get(h), fresh.headers.get(h));
    assert.deepEqual(again.headers.getSetCookie(), []);
    assert.equal(again.body.user.email, existing, 'the address is echoed as for a new one');
    assert.equal(again.body.user.id.length, fresh.body.user.id.length);
    assert.equal(again.body.user.email_verified, false);
  });

  test("the repeated registration's password does not sign in to the existing account", async () => {
    const email = uniqueEmail('enum');
    const c = new Client(t.url);
    await c.req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
    await c.req('POST', '/auth/register', { json: { email, password: 'attacker chosen passphrase' } });
    assert.equal((await c.req('POST', '/auth/login', { json: { email, password: 'attacker chosen passphrase' } })).status, 401);
    assert.equal((await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } })).status, 200);
  });
});

describe('login timing', () => {
  let t: TestServer;
  before(async () => {
    // Production argon2id parameters: the cost a dummy hash must match is the real one.
    t = await startTestServer({ config: { passwordHashing: { ...OWASP_ARGON2, unsafeAllowWeak: false } } });
  });
  after(() => t.close());

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)]!;
  };

  test('an unknown email and a wrong password take about the same time (medians within 1.5x over interleaved requests)', async () => {
    const email = uniqueEmail('timing');
    assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    const c = new Client(t.url);
    const time = async (e: string) => {
      const start = process.hrtime.bigint();
      const r = await c.req('POST', '/auth/login', { json: { email: e, password: 'wrong password here' }, noCookies: true });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      assert.equal(r.status, 401);
      return ms;
    };
    await time(email); // warm-up
    await time(uniqueEmail('nobody'));
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 25; i++) {
      // Alternate which goes first, so drift in machine load hits both alike.
      if (i % 2) {
        known.push(await time(email));
        unknown.push(await time(uniqueEmail('nobody')));
      } else {
        unknown.push(await time(uniqueEmail('nobody')));
        known.push(await time(email));
      }
    }
    const mk = median(known);
    const mu = median(unknown);
    const ratio = Math.max(mk, mu) / Math.min(mk, mu);
    assert.ok(mu > 5, `an unknown email must still pay for a hash (median ${mu.toFixed(1)} ms)`);
    assert.ok(ratio <= 1.5, `medians: wrong password ${mk.toFixed(1)} ms, unknown email ${mu.toFixed(1)} ms (ratio ${ratio.toFixed(2)})`);
    console.log(`# login timing medians: wrong password ${mk.toFixed(1)} ms, unknown email ${mu.toFixed(1)} ms, ratio ${ratio.toFixed(2)}`);
  });
});

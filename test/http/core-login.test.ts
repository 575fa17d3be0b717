import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.close());

const COOKIE = '__Host-gatehouse';

async function newUser(): Promise<{ email: string; id: string }> {
  const email = uniqueEmail('login');
  const r = await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
  assert.equal(r.status, 201);
  return { email, id: r.body.user.id };
}

async function signedIn(): Promise<{ c: Client; email: string; id: string; res: Awaited<ReturnType<Client['req']>> }> {
  const u = await newUser();
  const c = new Client(t.url);
  const res = await c.req('POST', '/auth/login', { json: { email: u.email, password: GOOD_PASSWORD } });
  assert.equal(res.status, 200);
  return { c, ...u, res };
}

function b64urlBits(s: string): number {
  return Buffer.from(s, 'base64url').length * 8;
}

describe('session login', () => {
  test('200 with {user, session:{id, expires_at, idle_expires_at}}', async () => {
    const { res, email, id } = await signedIn();
    assert.equal(res.body.user.id, id);
    assert.equal(res.body.user.email, email);
    const s = res.body.session;
    assert.equal(typeof s.id, 'string');
    const now = Date.now();
    const exp = Date.parse(s.expires_at);
    const idle = Date.parse(s.idle_expires_at);
    assert.ok(Math.abs(exp - now - 12 * 3_600_000) < 60_000, 'absolute expiry defaults to 12 h');
    assert.ok(Math.abs(idle - now - 30 * 60_000) < 60_000, 'idle expiry defaults to 30 min');
  });

  test('Set-Cookie is __Host-gatehouse with Path=/, HttpOnly, Secure, SameSite=Lax and no Domain', async () => {
    const { res } = await signedIn();
    const cookies = res.headers.getSetCookie();
    assert.equal(cookies.length, 1);
    const sc = cookies[0]!;
    assert.match(sc, new RegExp(`^${COOKIE}=[^;]+;`));
    const attrs = sc.split(';').slice(1).map((a) => a.trim());
    assert.ok(attrs.includes('Path=/'), sc);
    assert.ok(attrs.includes('HttpOnly'), sc);
    assert.ok(attrs.includes('Secure'), sc);
    assert.ok(attrs.includes('SameSite=Lax'), sc);
    assert.ok(!attrs.some((a) => /^domain=/i.test(a)), `no Domain: ${sc}`);
  });

  test('the token is id.secret with at least 128 bits, and the body session.id is not the token', async () => {
    const { c, res } = await signedIn();
    const token = c.jar.get(COOKIE)!;
    const [id, secret, ...rest] = token.split('.');
    assert.equal(rest.length, 0);
    assert.ok(b64urlBits(secret!) >= 128, `secret has ${b64urlBits(secret!)} bits`);
    assert.notEqual(res.body.session.id, token);
    assert.ok(!res.text.includes(secret!), 'the secret never appears in the body');
    assert.equal(res.body.session.id, id, 'the public handle is the id part');
  });

  test('the store keeps only a 32-byte hash of the secret, never the token or secret in clear', async () => {
    const { c, res } = await signedIn();
    const token = c.jar.get(COOKIE)!;
    const secret = token.split('.')[1]!;
    const rec = await t.stores.sessions.getSession(res.body.session.id, t.clock.now());
    assert.ok(rec);
    assert.equal(rec.secretHash.byteLength, 32);
    assert.notEqual(Buffer.from(rec.secretHash).toString('base64url'), secret);
    const dump = JSON.stringify(rec, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64url') : v));
    assert.ok(!dump.includes(secret), 'no secret in the stored record');
    assert.ok(!dump.includes(token), 'no token in the stored record');
  });

  test('every login makes a new session: an attacker-chosen cookie sent before login is not the one after (fixation)', async () => {
    const u = await newUser();
    // An attacker plants a real, valid session of their own, and a made-up one.
    const attacker = await signedIn();
    const planted = attacker.c.jar.get(COOKIE)!;
    for (const fixed of [planted, 'AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB']) {
      const victim = new Client(t.url);
      victim.jar.set(COOKIE, fixed);
      const r = await victim.req('POST', '/auth/login', { json: { email: u.email, password: GOOD_PASSWORD } });
      assert.equal(r.status, 200);
      const after = victim.jar.get(COOKIE)!;
      assert.notEqual(after, fixed);
      assert.notEqual(r.body.session.id, fixed.split('.')[0]);
      const me = await victim.req('GET', '/auth/me');
      assert.equal(me.body.user.id, u.id);
      // The planted cookie still belongs to the attacker only.
      const attackerMe = await new Client(t.url).req('GET', '/auth/me', { headers: { cookie: `${COOKIE}=${planted}` } });
      assert.equal(attackerMe.body.user.id, attacker.id);
    }
    const a = await new Client(t.url).req('POST', '/auth/login', { json: { email: u.email, password: GOOD_PASSWORD } });
    const b = await new Client(t.url).req('POST', '/auth/login', { json: { email: u.email, password: GOOD_PASSWORD } });
    assert.notEqual(a.body.session.id, b.body.session.id);
  });

  test('a well-formed token the server never issued gets 401', async () => {
    const forged = Buffer.alloc(16, 7).toString('base64url') + '.' + Buffer.alloc(32, 9).toString('base64url');
    const r = await new Client(t.url).req('GET', '/auth/me', { headers: { cookie: `${COOKIE}=${forged}` } });
    assert.equal(r.status, 401);
    // A real id with a wrong secret is refused too.
    const { res } = await signedIn();
    const wrongSecret = `${res.body.session.id}.${Buffer.alloc(32, 1).toString('base64url')}`;
    assert.equal((await new Client(t.url).req('GET', '/auth/me', { headers: { cookie: `${COOKIE}=${wrongSecret}` } })).status, 401);
  });
});

describe('failed login', () => {
  function comparable(r: { status: number; headers: Headers; text: string }) {
    const headers: string[] = [];
    r.headers.forEach((v, k) => {
      if (k !== 'date') headers.push(`${k}: ${v}`);
    });
    headers.sort();
    return { status: r.status, text: r.text, headers };
  }

  test('unknown email, wrong password and disabled user get the identical answer (status, body, headers except Date)', async () => {
    const wrong = await newUser();
    const disabled = await newUser();
    await t.srv.gatehouse.core.admin.setDisabled(disabled.id, true);
    const unknownR = await new Client(t.url).req('POST', '/auth/login', { json: { email: uniqueEmail('nobody'), password: GOOD_PASSWORD } });
    const wrongR = await new Client(t.url).req('POST', '/auth/login', { json: { email: wrong.email, password: 'not the password at all' } });
    const disabledR = await new Client(t.url).req('POST', '/auth/login', { json: { email: disabled.email, password: GOOD_PASSWORD } });
    assert.equal(unknownR.status, 401);
    assert.equal(unknownR.body.code, 'invalid_credentials');
    assert.match(unknownR.headers.get('content-type')!, /^application\/problem\+json/);
    assert.deepEqual(comparable(wrongR), comparable(unknownR));
    assert.deepEqual(comparable(disabledR), comparable(unknownR));
    assert.equal(unknownR.headers.getSetCookie().length, 0);
  });

  test('an unknown email still costs a password hash (medians of interleaved timings within 3x)', async () => {
    // Real hashing cost here so that the hash dominates the request time.
    const s = await startTestServer({ config: { passwordHashing: { memoryCost: 8192, timeCost: 2, parallelism: 1, unsafeAllowWeak: true } } });
    try {
      // Several accounts, so that per-account attempt limits never answer before the hash does.
      const emails: string[] = [];
      for (let i = 0; i < 6; i++) {
        const email = uniqueEmail('timing');
        assert.equal((await new Client(s.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
        emails.push(email);
      }
      const time = async (e: string) => {
        const t0 = process.hrtime.bigint();
        const r = await new Client(s.url).req('POST', '/auth/login', { json: { email: e, password: 'wrong password here' } });
        assert.equal(r.status, 401);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      };
      const known: number[] = [];
      const unknown: number[] = [];
      await time(uniqueEmail('warmup'));
      for (let i = 0; i < 15; i++) {
        known.push(await time(emails[i % emails.length]!));
        unknown.push(await time(uniqueEmail('ghost')));
      }
      const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
      const k = median(known);
      const u = median(unknown);
      assert.ok(u > k / 3 && u < k * 3, `known ${k.toFixed(2)} ms, unknown ${u.toFixed(2)} ms`);
    } finally {
      await s.close();
    }
  });
});

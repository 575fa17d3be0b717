/**
 * Revocation awareness in `gatehouse/verify`: the issuer publishes hashes of revoked session ids at
 * /.well-known/gatehouse-revocations, a verifier with `revocations` on polls it and refuses tokens of
 * revoked sessions, and fails closed (RevocationsUnavailableError, 503 in the middleware) when the list
 * is stale. Real servers, real HTTP.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { createVerifier, requireGatehouseToken, RevocationsUnavailableError, type Verifier } from '../../src/verify/index.js';
import { switchableFeed } from '../support/feeds.js';
import { Client, startTestServer, type TestServer } from '../support/server.js';
import { tokenLogin } from './token-kit.js';

const LIST = '/.well-known/gatehouse-revocations';
const DEADLINE_MS = 15_000;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const pause = (ms = 20) => new Promise((r) => setTimeout(r, ms));

/** Calls `probe` until `done` holds for its result or the deadline passes; returns the last result. */
async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await probe();
  for (const end = Date.now() + DEADLINE_MS; !done(v) && Date.now() < end; v = await probe()) await pause();
  return v;
}

/** Outcome of verify(): the claims, null, or the error it threw. */
async function outcome(v: Verifier, token: string): Promise<'accepted' | 'refused' | Error> {
  try {
    return (await v.verify(token)) ? 'accepted' : 'refused';
  } catch (e) {
    return e as Error;
  }
}

const sidHash = (sid: string) => createHash('sha256').update(sid).digest().subarray(0, 16).toString('base64url');

describe('gatehouse/verify with revocations', () => {
  let gh: TestServer;
  let issuer: string;
  let feed: ReturnType<typeof switchableFeed>;
  const verifiers: Array<{ close(): void }> = [];
  const verifier = (opts: Parameters<typeof createVerifier>[0]['revocations'] = { pollMs: 50 }, extra: Partial<Parameters<typeof createVerifier>[0]> = {}) => {
    const v = createVerifier({ issuer, audience: 'gatehouse', now: () => gh.clock.now(), revocations: opts, ...extra });
    verifiers.push(v);
    return v;
  };

  before(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    feed = switchableFeed();
    gh = await startTestServer({ port, config: { publicUrl: issuer }, stores: createMemoryStores({ feed }) });
  });
  after(async () => {
    for (const v of verifiers) v.close();
    await gh.close();
  });

  test('a token is refused soon after its session is revoked through the API; other sessions of the user stay accepted', async () => {
    const v = verifier();
    const a = await tokenLogin(gh);
    const b = await tokenLogin(gh, { email: a.email });
    const c = await tokenLogin(gh, { email: a.email });
    for (const s of [a, b, c]) assert.equal(await outcome(v, s.access), 'accepted');

    assert.equal((await new Client(gh.url).req('POST', '/auth/logout', { bearer: a.access })).status, 204);
    assert.equal(await until(() => outcome(v, a.access), (o) => o !== 'accepted'), 'refused', 'logged out');

    const del = await new Client(gh.url).req('DELETE', `/auth/sessions/${encodeURIComponent(b.body.session.id)}`, { bearer: c.access });
    assert.equal(del.status, 204, del.text);
    assert.equal(await until(() => outcome(v, b.access), (o) => o !== 'accepted'), 'refused', 'revoked from another device');

    assert.equal(await outcome(v, c.access), 'accepted', 'the live session of the same user');
    assert.equal(await outcome(verifier(false), a.access), 'accepted', 'without the option a token is trusted until it expires');
  });

  test('the list holds 22-character base64url hashes, sorted, and no session id or user id', async () => {
    const a = await tokenLogin(gh);
    const sid: string = a.body.session.id;
    const userId: string = a.body.user.id;
    assert.equal((await new Client(gh.url).req('POST', '/auth/logout', { bearer: a.access })).status, 204);
    // A large list may be served from the last build for a moment (at most 1 s): poll until it is listed.
    const r = await until(() => new Client(gh.url).req('GET', LIST), (x) => x.status !== 200 || x.body.revoked.includes(sidHash(sid)));
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(r.headers.get('cache-control') ?? '', /^no-cache$|max-age=[01]\b/);
    assert.ok(r.headers.get('etag'));
    assert.equal(r.body.hash, 'sha256-128');
    assert.ok(Number.isInteger(r.body.window_seconds) && r.body.window_seconds >= 600, `window ${r.body.window_seconds}`);
    assert.ok(r.body.revoked.length >= 1);
    for (const h of r.body.revoked) assert.match(h, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(r.body.revoked, [...r.body.revoked].sort());
    assert.ok(r.body.revoked.includes(sidHash(sid)), 'the revoked session is listed by its hash');
    assert.ok(!r.text.includes(sid), 'no session id');
    assert.ok(!r.text.includes(sid.slice(0, 22)), 'not even its random half');
    assert.ok(!r.text.includes(userId), 'no user id');
  });

  test('an unchanged list is a 304 for its ETag; a new revocation changes the ETag', async () => {
    const first = await new Client(gh.url).req('GET', LIST);
    const etag = first.headers.get('etag')!;
    assert.ok(etag);
    const same = await new Client(gh.url).req('GET', LIST, { headers: { 'if-none-match': etag } });
    assert.equal(same.status, 304);
    assert.equal(same.text, '');
    assert.equal(same.headers.get('etag'), etag);
    assert.equal((await new Client(gh.url).req('GET', LIST, { headers: { 'if-none-match': `"other", W/${etag}` } })).status, 304, 'weak comparison in a list');
    assert.equal((await new Client(gh.url).req('GET', LIST, { headers: { 'if-none-match': '"other"' } })).status, 200);

    const a = await tokenLogin(gh);
    assert.equal((await new Client(gh.url).req('POST', '/auth/logout', { bearer: a.access })).status, 204);
    const changed = await until(() => new Client(gh.url).req('GET', LIST, { headers: { 'if-none-match': etag } }), (x) => x.status !== 304);
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), etag);
    assert.ok(changed.body.revoked.includes(sidHash(a.body.session.id)));
  });

  test('503 problem+json with Retry-After while the revocation set is not trusted (feed down), 200 again once it has replayed', async () => {
    feed.down();
    try {
      const r = await new Client(gh.url).req('GET', LIST);
      assert.equal(r.status, 503, r.text);
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
      assert.equal(r.body.code, 'store_unavailable');
      assert.ok(!('revoked' in r.body));
    } finally {
      feed.up();
    }
    const back = await until(() => new Client(gh.url).req('GET', LIST), (r) => r.status === 200);
    assert.equal(back.status, 200);
  });

  test('verify() throws RevocationsUnavailableError once the list is stale beyond maxStaleMs, and recovers', async () => {
    const v = verifier({ pollMs: 50, maxStaleMs: 300 });
    const { access } = await tokenLogin(gh);
    assert.equal(await outcome(v, access), 'accepted');
    feed.down();
    try {
      const o = await until(() => outcome(v, access), (x) => x !== 'accepted');
      assert.ok(o instanceof RevocationsUnavailableError, `expected RevocationsUnavailableError, got ${String(o)}`);
      assert.equal(await outcome(v, 'not.a.token'), 'refused', 'a bad token is still just refused');
    } finally {
      feed.up();
    }
    assert.equal(await until(() => outcome(v, access), (x) => x === 'accepted'), 'accepted');
  });

  test('a list that was never fetched fails closed: verify() throws, the middleware answers 503 problem+json', async () => {
    const dead = `http://127.0.0.1:${await freePort()}${LIST}`;
    const v = verifier({ url: dead, pollMs: 50, maxStaleMs: 300 });
    const { access } = await tokenLogin(gh);
    const o = await outcome(v, access);
    assert.ok(o instanceof RevocationsUnavailableError, `expected RevocationsUnavailableError, got ${String(o)}`);

    const app = express();
    app.get('/api', requireGatehouseToken(v), (_req, res) => void res.json({ ok: true }));
    const svc: Server = createServer(app);
    await new Promise<void>((r) => svc.listen(0, '127.0.0.1', r));
    try {
      const r = await new Client(`http://127.0.0.1:${(svc.address() as AddressInfo).port}`).req('GET', '/api', { bearer: access });
      assert.equal(r.status, 503, r.text);
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
      assert.equal(r.body.status, 503);
      assert.equal(r.body.code, 'store_unavailable');
      assert.equal(r.headers.get('www-authenticate'), null);
    } finally {
      await new Promise((r) => svc.close(r));
    }
  });

  // Moves the server clock past the window, so it runs last.
  test('an entry leaves the list once its window has passed (the memoized list is rebuilt)', async () => {
    const a = await tokenLogin(gh);
    assert.equal((await new Client(gh.url).req('POST', '/auth/logout', { bearer: a.access })).status, 204);
    const before = await new Client(gh.url).req('GET', LIST);
    assert.ok(before.body.revoked.includes(sidHash(a.body.session.id)));
    gh.clock.advance(before.body.window_seconds * 1000 - 1000);
    const inside = await new Client(gh.url).req('GET', LIST, { headers: { 'if-none-match': before.headers.get('etag')! } });
    assert.equal(inside.status, 304, 'still inside the window');
    gh.clock.advance(2000);
    const later = await until(() => new Client(gh.url).req('GET', LIST, { headers: { 'if-none-match': before.headers.get('etag')! } }), (x) => x.status !== 304);
    assert.equal(later.status, 200);
    assert.ok(!later.body.revoked.includes(sidHash(a.body.session.id)));
  });

  test('createVerifier refuses bad revocation options at construction', () => {
    const bad: unknown[] = [{ pollMs: 0 }, { pollMs: Number.NaN }, { maxStaleMs: -1 }, { pollMs: 1000, maxStaleMs: 1000 }, { url: 'ftp://example.com/list' }, 'yes'];
    for (const r of bad) {
      assert.throws(() => createVerifier({ issuer, audience: 'gatehouse', revocations: r as boolean }), TypeError, JSON.stringify(r));
    }
  });
});

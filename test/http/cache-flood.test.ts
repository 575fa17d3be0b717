/**
 * A flood of distinct invalid credentials must not grow memory without bound: only validated sessions
 * and verified tokens are cached (negative results never are), and every cache has a size bound.
 *
 * Documented limit: after 10,000 distinct invalid bearer tokens and 10,000 distinct invalid session
 * cookies through the request authenticator, the heap (after a full GC) has grown by less than
 * FLOOD_HEAP_LIMIT_BYTES (2 MiB). Caching them
 * would cost several MB (each entry holds a ~300-character token or a record), so the limit fails if
 * they were kept, while leaving room for the noise of a live HTTP server.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { ExpiringCache } from '../../src/core/cache.js';
import type { Authenticator } from '../../src/http/middleware.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { b64, tokenLogin } from './token-kit.js';

const FLOOD = 10_000;
export const FLOOD_HEAP_LIMIT_BYTES = 2 * 1024 * 1024;

// A full GC without restarting Node with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Runs `count` credentials through the request authenticator, 64 at a time: the code every adapter
 * runs for a request (header parsing, caches, verification), without the HTTP server's own
 * allocations blurring the heap figure. Every one must be refused.
 */
async function flood(authenticator: Authenticator, count: number, headersOf: (i: number) => Record<string, string>): Promise<void> {
  let refused = 0;
  for (let i = 0; i < count; i += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, count - i) }, async (_, j) => {
        const req = { headers: headersOf(i + j) } as unknown as IncomingMessage;
        await authenticator.authenticate(req);
        if (req.auth === undefined && req.authFailure !== undefined) refused++;
      }),
    );
  }
  assert.equal(refused, count, 'every invalid credential is refused');
}

describe('memory under a flood of distinct invalid credentials', () => {
  let t: TestServer;
  let forged: (i: number) => string;
  before(async () => {
    t = await startTestServer();
    // Well-formed tokens with the server's real kid and alg and a wrong signature: they get as far as
    // the signature check, the most work an invalid token can cause.
    const real = await tokenLogin(t);
    const [header, payload] = real.access.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    forged = (i) => `${header}.${b64({ ...claims, jti: `flood-${i}` })}.${randomBytes(64).toString('base64url')}`;
  });
  after(() => t.close());

  test(`${FLOOD} distinct invalid bearer tokens and ${FLOOD} invalid session cookies leave the caches as they were and the heap within its limit`, async (ctx) => {
    const core = t.srv.gatehouse.core;
    const auth = t.srv.gatehouse.authenticator;
    const cookieName = core.config.session.cookieName;
    const cookie = () => ({ cookie: `${cookieName}=${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}` });
    const bearer = (i: number) => ({ authorization: `Bearer ${forged(i)}` });
    // Warm up the server's own allocations (sockets, parsers, JIT) before the baseline.
    await flood(auth, 500, bearer);
    await flood(auth, 500, cookie);
    const { cachedTokens: tokens, cachedSessions: sessions } = core.diagnostics();
    const baseline = heapAfterGc();

    await flood(auth, FLOOD, bearer);
    await flood(auth, FLOOD, cookie);

    assert.equal(core.diagnostics().cachedTokens, tokens, 'no invalid token was cached');
    assert.equal(core.diagnostics().cachedSessions, sessions, 'no unknown session id was cached');
    const grown = heapAfterGc() - baseline;
    ctx.diagnostic(`heap growth after ${2 * FLOOD} invalid credentials: ${(grown / 1024).toFixed(0)} KiB`);
    assert.ok(grown < FLOOD_HEAP_LIMIT_BYTES, `heap grew by ${(grown / 1024).toFixed(0)} KiB (limit ${FLOOD_HEAP_LIMIT_BYTES / 1024} KiB)`);
  });

  test('every cache is bounded: beyond its bound the oldest entries go', () => {
    const c = new ExpiringCache<string, number>(1000);
    for (let i = 0; i < FLOOD; i++) c.set(`k${i}`, i, Number.MAX_SAFE_INTEGER);
    assert.equal(c.size, 1000);
    assert.equal(c.get('k0', 0), undefined, 'the oldest entry was evicted');
    assert.equal(c.get(`k${FLOOD - 1}`, 0), FLOOD - 1);
  });
});

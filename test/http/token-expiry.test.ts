/**
 * Access-token expiry on the issuer's clock: Gatehouse signs and checks its own tokens with one
 * clock, so a token is refused the moment its `exp` is reached — no leeway. Another service verifying
 * through gatehouse/verify keeps a tolerance for its clock, configurable with `clockToleranceSeconds`.
 * Time moves on the injected clock; no sleeping.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createVerifier } from '../../src/verify/index.js';
import { Client, startTestServer, type TestServer } from '../support/server.js';
import { decode, tokenLogin } from './token-kit.js';

const TTL_MS = 3000;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('access-token expiry', () => {
  let t: TestServer;
  before(async () => {
    const port = await freePort();
    t = await startTestServer({ port, config: { publicUrl: `http://127.0.0.1:${port}`, token: { accessTtl: TTL_MS } } });
  });
  after(() => t?.close());

  const me = (access: string) => new Client(t.url).req('GET', '/auth/me', { bearer: access });

  test('the issuer accepts its token until exp and refuses it from exp on, without any leeway', async () => {
    const login = await tokenLogin(t);
    assert.equal(login.status, 200);
    const { payload } = decode(login.access);
    assert.equal(payload.exp - payload.iat, TTL_MS / 1000);
    // One millisecond before exp: still good.
    t.clock.set(payload.exp * 1000 - 1);
    assert.equal((await me(login.access)).status, 200);
    // At exp, and 1 s and 5 s after it: refused (formerly accepted for 30 s past exp).
    for (const late of [0, 1000, 5000]) {
      t.clock.set(payload.exp * 1000 + late);
      const r = await me(login.access);
      assert.equal(r.status, 401, `${late} ms after exp: ${r.text}`);
      assert.equal(r.body.code, 'invalid_token');
    }
  });

  test('a token never verified before is refused past exp too (no cache involved)', async () => {
    const login = await tokenLogin(t);
    const { payload } = decode(login.access);
    t.clock.set(payload.exp * 1000 + 2000);
    assert.equal((await me(login.access)).status, 401);
  });

  test('gatehouse/verify keeps its tolerance: 30 s by default, configurable, 0 refuses at exp', async () => {
    const login = await tokenLogin(t);
    const { payload } = decode(login.access);
    const late = payload.exp * 1000 + 5000;
    const lenient = createVerifier({ issuer: t.srv.gatehouse.config.publicUrl, audience: 'gatehouse', now: () => late });
    const strict = createVerifier({ issuer: t.srv.gatehouse.config.publicUrl, audience: 'gatehouse', clockToleranceSeconds: 0, now: () => late });
    const beforeExp = createVerifier({ issuer: t.srv.gatehouse.config.publicUrl, audience: 'gatehouse', clockToleranceSeconds: 0, now: () => payload.exp * 1000 - 1 });
    try {
      assert.equal((await lenient.verify(login.access))?.sub, payload.sub, 'default tolerance: 5 s late is accepted');
      assert.equal(await strict.verify(login.access), null, 'tolerance 0: 5 s late is refused');
      assert.equal((await beforeExp.verify(login.access))?.sub, payload.sub, 'tolerance 0: before exp is accepted');
      assert.throws(() => createVerifier({ issuer: 'http://127.0.0.1:1', audience: 'gatehouse', clockToleranceSeconds: -1 }), /clockToleranceSeconds/);
    } finally {
      lenient.close();
      strict.close();
      beforeExp.close();
    }
  });
});

/**
 * A password change made through one instance keeps the session that made it signed in on every
 * instance, including one that had cached the session before the change (two servers on one store,
 * as behind a load balancer), while the user's other sessions end everywhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { bearerStatus, cookieLogin, cookieStatus, register, tokenLogin } from '../support/flows.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

describe('a password change seen from another instance', () => {
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    const stores = createMemoryStores();
    a = await startTestServer({ stores });
    b = await startTestServer({ stores });
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  test('the cookie session that changed the password stays signed in on the instance that had cached it; the others end there too', async () => {
    const email = uniqueEmail('pw-inst');
    await register(a, email);
    const laptop = await cookieLogin(a, email);
    const phone = await tokenLogin(a, email);
    const other = await cookieLogin(a, email);
    // Instance B validates (and caches) all three before the change.
    const onB = (s: { client: Client }) => {
      const c = new Client(b.url);
      c.jar = s.client.jar;
      return { client: c };
    };
    assert.equal(await cookieStatus(onB(laptop)), 200);
    assert.equal(await cookieStatus(onB(other)), 200);
    assert.equal(await bearerStatus(b, phone), 200);
    const r = await laptop.client.req('POST', '/auth/password', { json: { current_password: GOOD_PASSWORD, new_password: 'a brand new passphrase' } });
    assert.equal(r.status, 204, r.text);
    assert.equal(await cookieStatus(laptop), 200, 'on the instance that changed it');
    assert.equal(await cookieStatus(onB(laptop)), 200, 'on the instance holding a copy cached before the change');
    assert.equal(await cookieStatus(onB(other)), 401, 'the other cookie session ended');
    assert.equal(await bearerStatus(b, phone), 401, 'the token session ended');
  });
});

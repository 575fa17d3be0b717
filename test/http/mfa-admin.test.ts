/** `gatehouse user mfa reset EMAIL`: an operator removes a user's second factors; audited, the owner told, sessions ended. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStores } from '../../src/stores/open.js';
import { cliEnv, runCli } from '../support/cli.js';
import { register } from '../support/flows.js';
import { addPasskey, enrolTotp, ORIGIN, SECRET } from '../support/mfa.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail } from '../support/server.js';
import { SoftAuthenticator } from '../support/webauthn.js';

test('mfa reset removes the authenticator, recovery codes and passkeys, ends every session, audits it and mails the owner', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-mfa-reset-'));
  const path = join(dir, 'gh.db');
  const stores = await openStores({ databaseUrl: `sqlite:${path}`, feedPollMs: 50 } as never);
  const t = await startTestServer({ config: { secret: SECRET }, stores });
  try {
    const email = uniqueEmail('reset');
    const userId = await register(t, email);
    const { client } = await enrolTotp(t, email);
    await addPasskey(client, new SoftAuthenticator(ORIGIN));
    assert.equal((await client.req('GET', '/auth/me')).status, 200);

    const run = await runCli(['user', 'mfa', 'reset', email], { env: { ...cliEnv(dir, 'info'), GATEHOUSE_SECRET: SECRET } });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const line = JSON.parse(run.stdout.split('\n').find((l) => l.startsWith('{"email"'))!);
    assert.deepEqual(line, { email, totp: true, recovery_codes: 10, passkeys: 1 });
    assert.match(run.stdout + run.stderr, /Two-step sign-in was turned off/, 'the owner is mailed (development mailer: the log): ' + run.stderr);

    assert.equal(await stores.totp.getTotp(userId), null);
    assert.equal(await stores.recoveryCodes.countRecoveryCodes(userId), 0);
    assert.deepEqual(await stores.passkeys.listPasskeys(userId), []);
    const events = await stores.audit.listEvents({ userId, limit: 20 });
    assert.ok(events.some((e) => e.type === 'mfa.reset' && e.detail?.passkeys === 1));

    // The session from before is dead (another process ended it: the shared feed carries it here).
    const deadline = Date.now() + 5000;
    let status = 200;
    while (Date.now() < deadline && (status = (await client.req('GET', '/auth/me')).status) === 200) await new Promise((r) => setTimeout(r, 50));
    assert.equal(status, 401);
    // The password alone signs in again.
    const again = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    assert.equal(again.status, 200, again.text);

    const unknown = await runCli(['user', 'mfa', 'reset', 'nobody@example.com'], { env: { ...cliEnv(dir, 'info'), GATEHOUSE_SECRET: SECRET } });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no user with email/);
  } finally {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

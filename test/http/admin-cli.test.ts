/** `gatehouse user grant-admin` / `revoke-admin`: the role in the store, audited; an unknown address fails. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStores } from '../../src/stores/open.js';
import { cliEnv, runCli } from '../support/cli.js';
import { GOOD_PASSWORD } from '../support/server.js';

test('grant-admin and revoke-admin change the role in the database and record it in the trail', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-admin-cli-'));
  const env = cliEnv(dir, 'warn');
  try {
    const add = await runCli(['user', 'add', 'Ops@Example.com'], { env, stdin: `${GOOD_PASSWORD}\n` });
    assert.equal(add.code, 0, add.stderr);
    const { id } = JSON.parse(add.stdout.trim().split('\n')[0]!);
    const role = async () => {
      const stores = await openStores({ databaseUrl: `sqlite:${join(dir, 'gh.db')}` });
      try {
        return { admin: (await stores.users.getUserById(id))?.admin, trail: (await stores.audit.listEvents({ userId: id, types: ['admin.granted', 'admin.revoked'], limit: 10 })).map((e) => e.type) };
      } finally {
        await stores.close();
      }
    };
    assert.deepEqual(await role(), { admin: false, trail: [] });
    const grant = await runCli(['user', 'grant-admin', 'ops@example.com'], { env });
    assert.equal(grant.code, 0, grant.stderr);
    assert.match(grant.stdout, /granted the administrator role to Ops@Example.com/);
    assert.deepEqual(await role(), { admin: true, trail: ['admin.granted'] });
    const list = await runCli(['user', 'list'], { env });
    assert.equal(JSON.parse(list.stdout.trim()).admin, true);
    const revoke = await runCli(['user', 'revoke-admin', 'Ops@Example.com'], { env });
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.deepEqual(await role(), { admin: false, trail: ['admin.revoked', 'admin.granted'] });
    const unknown = await runCli(['user', 'grant-admin', 'nobody@example.com'], { env });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no user with email/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

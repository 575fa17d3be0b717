import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { platform } from 'node:os';
import { HashPool } from '../../src/hashing/pool.js';
import { PasswordHasher } from '../../src/core/passwords.js';
import { isGatehouseError } from '../../src/errors.js';

const cheap = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const owasp = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** Nice value of every thread of a process (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('HashPool', () => {
  it('hashes and verifies argon2id in its helper process, through PasswordHasher', async () => {
    const pool = new HashPool({ threads: 1, maxWaitMs: 5000 });
    try {
      const hasher = new PasswordHasher(cheap, pool);
      const h = await hasher.hash('violet-otter-canyon-57');
      assert.match(h, /^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
      assert.equal(await hasher.verify(h, 'violet-otter-canyon-57'), true);
      assert.equal(await hasher.verify(h, 'violet-otter-canyon-58'), false);
      assert.equal(await hasher.verify('$argon2id$garbage', 'x'), false, 'an unreadable hash is a failed check, not an error');
      assert.ok(pool.pid !== undefined && pool.pid !== process.pid, 'the work ran in another process');
    } finally {
      await pool.close();
    }
  });

  it('runs the hashing threads at the lowest CPU priority (Linux: nice 19 on each of them)', { skip: platform() !== 'linux' ? 'thread priorities are read from /proc' : false }, async () => {
    const pool = new HashPool({ threads: 2, maxWaitMs: 5000 });
    try {
      await Promise.all([pool.hash('a-password-here', cheap), pool.hash('another-password', cheap)]);
      const nices = threadNices(pool.pid!);
      // The main thread and the two thread-pool threads (created after it reniced itself) run at 19;
      // V8's own helper threads, started before, may not.
      assert.ok(nices.filter((n) => n === 19).length >= 3, `nice values of the helper's threads: ${nices.join(' ')}`);
      assert.equal(threadNices(process.pid)[0], 0, 'the server itself is not reniced');
    } finally {
      await pool.close();
    }
  });

  it('refuses at once with password_hashing_busy and Retry-After when a job would wait longer than the bound', async () => {
    const pool = new HashPool({ threads: 1, maxWaitMs: 0, initialHashMs: 40 });
    try {
      const first = pool.hash('occupies-the-thread', owasp);
      const t0 = performance.now();
      const refused = await pool.hash('must-wait', owasp).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(performance.now() - t0 < 20, 'the refusal does not wait');
      assert.ok(isGatehouseError(refused) && refused.code === 'password_hashing_busy', String(refused));
      assert.ok(refused.retryAfter !== undefined && refused.retryAfter >= 1);
      assert.match(await first, /^\$argon2id\$/, 'the admitted job completes');
      assert.equal(pool.stats.refused, 1);
      assert.match(await pool.hash('thread-free-again', cheap), /^\$argon2id\$/, 'a free thread admits again');
    } finally {
      await pool.close();
    }
  });

  it('queues within the bound: jobs beyond the threads wait their turn and all complete', async () => {
    const pool = new HashPool({ threads: 1, maxWaitMs: 60_000, initialHashMs: 5 });
    try {
      const hashes = await Promise.all(Array.from({ length: 5 }, (_, i) => pool.hash(`password-number-${i}`, cheap)));
      assert.equal(new Set(hashes).size, 5);
      assert.equal(pool.stats.refused, 0);
    } finally {
      await pool.close();
    }
  });

  it('a crashed helper fails the jobs it held with password_hashing_busy, and the next job starts a new one', async () => {
    const pool = new HashPool({ threads: 1, maxWaitMs: 60_000 });
    try {
      await pool.hash('start-the-helper', cheap);
      const pid = pool.pid!;
      const held = pool.hash('in-flight', owasp);
      process.kill(pid, 'SIGKILL');
      const err = await held.then(() => null, (e: unknown) => e);
      assert.ok(isGatehouseError(err) && err.code === 'password_hashing_busy', String(err));
      assert.match(await pool.hash('after-the-crash', cheap), /^\$argon2id\$/);
      assert.notEqual(pool.pid, pid);
    } finally {
      await pool.close();
    }
  });

  it('close() stops the helper and fails what was still waiting', async () => {
    const pool = new HashPool({ threads: 1, maxWaitMs: 60_000 });
    await pool.hash('start-the-helper', cheap);
    const pid = pool.pid!;
    const waiting = [pool.hash('a', owasp), pool.hash('b', owasp)].map((p) => p.then(() => 'done', () => 'failed'));
    await pool.close();
    assert.deepEqual(await Promise.all(waiting), ['failed', 'failed']);
    assert.throws(() => process.kill(pid, 0), 'the helper process is gone');
    await assert.rejects(pool.hash('after-close', cheap));
  });
});

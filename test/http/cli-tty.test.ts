/**
 * `gatehouse user add` on a real terminal: the CLI runs on a pseudo-terminal made by `script`
 * (util-linux), and what the terminal shows is everything written to it — prompts and any echo. The
 * password typed at the prompt must never appear there.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveConfig } from '../../src/config.js';
import { PasswordHasher } from '../../src/core/passwords.js';
import { openSqliteStores } from '../../src/stores/sqlite/index.js';
import { CLI_ENTRY, CLI_ROOT, cliEnv, runCli } from '../support/cli.js';
import { CHEAP_HASHING } from '../support/server.js';

const SCRIPT = '/usr/bin/script';
const haveScript = spawnSync(SCRIPT, ['--version']).status === 0;
const skip = haveScript ? false : `needs ${SCRIPT} (util-linux) for a pseudo-terminal`;
if (skip && process.env.CI === 'true') throw new Error(`${skip} (required under CI=true)`);

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface TtyRun {
  /** Everything the terminal showed. */
  screen: string;
  code: number | null;
}

/**
 * Runs `gatehouse ARGS` on a pseudo-terminal; each time the screen shows `answers[i].after`, types
 * `answers[i].keys`. Killed after 30 s.
 */
function onTerminal(args: string[], env: NodeJS.ProcessEnv, answers: Array<{ after: string; keys: string }>): Promise<TtyRun> {
  const command = [process.execPath, '--import', 'tsx', CLI_ENTRY, ...args].map(sh).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(SCRIPT, ['-qec', command, '/dev/null'], { cwd: CLI_ROOT, env: { ...env, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let next = 0;
    let seen = 0; // the screen up to here has been answered
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout!.on('data', (d) => {
      screen += d;
      // Answer each prompt once it has been shown (so the keys are typed after the prompt, as a person would).
      for (let at; next < answers.length && (at = screen.indexOf(answers[next]!.after, seen)) >= 0; next++) {
        seen = at + answers[next]!.after.length;
        child.stdin!.write(answers[next]!.keys);
      }
    });
    child.stderr!.on('data', (d) => (screen += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ screen, code });
    });
  });
}

describe('gatehouse user add on a terminal', { skip }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-tty-'));
    env = cliEnv(dir, 'warn');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the password is typed twice without echo, with Backspace honoured, and is the one stored', async () => {
    const r = await onTerminal(['user', 'add', 'tty@example.com'], env, [
      { after: 'password: ', keys: 'hidden passphrase 9X\u007f7\r' },
      { after: 'repeat password: ', keys: 'hidden passphrase 97\r' },
    ]);
    assert.equal(r.code, 0, r.screen);
    for (const fragment of ['hidden', 'passphrase', 'phrase 9', '97']) assert.ok(!r.screen.includes(fragment), `the terminal showed "${fragment}": ${JSON.stringify(r.screen)}`);
    assert.match(r.screen, /"email":"tty@example.com"/);
    // The password stored is the one typed, after the Backspace.
    const stores = openSqliteStores({ path: join(dir, 'gh.db') });
    try {
      const user = await stores.users.getUserByEmail('tty@example.com');
      assert.ok(user);
      const hasher = new PasswordHasher(resolveConfig({ passwordHashing: CHEAP_HASHING }).passwordHashing);
      assert.equal(await hasher.verify(user.passwordHash, 'hidden passphrase 97'), true);
    } finally {
      await stores.close();
    }
  });

  test('two different entries create nothing', async () => {
    const r = await onTerminal(['user', 'add', 'typo@example.com'], env, [
      { after: 'password: ', keys: 'first long passphrase\r' },
      { after: 'repeat password: ', keys: 'frist long passphrase\r' },
    ]);
    assert.equal(r.code, 1, r.screen);
    assert.match(r.screen, /differ/);
    assert.ok(!r.screen.includes('long passphrase'));
    const list = await runCli(['user', 'list'], { env });
    assert.ok(!list.stdout.includes('typo@example.com'));
  });

  test('GATEHOUSE_NEW_USER_PASSWORD is refused rather than read', async () => {
    const r = await runCli(['user', 'add', 'envpw@example.com'], { env: { ...env, GATEHOUSE_NEW_USER_PASSWORD: 'from the environment' }, stdin: 'a piped long passphrase\n' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /GATEHOUSE_NEW_USER_PASSWORD/);
    assert.ok(!(await runCli(['user', 'list'], { env })).stdout.includes('envpw@example.com'));
  });
});

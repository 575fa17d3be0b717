/** Mail delivery: a down SMTP server never fails a request; sends are retried and failures audited; mailer choice at start. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveConfig } from '../../src/config.js';
import { Outbox, categorize, pickLocale } from '../../src/mail/index.js';
import { checkProductionConfig } from '../../src/server/preflight.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail } from '../support/server.js';
import { freePort, startSmtp, tokenFrom } from '../support/smtp.js';

/** Retry timers are unref'd (they never hold a process open), so the test holds it open while it waits. */
async function idle(outbox: Outbox): Promise<void> {
  const keep = setInterval(() => {}, 1000);
  try {
    await outbox.idle();
  } finally {
    clearInterval(keep);
  }
}

describe('delivery through the outbox', () => {
  test('with the SMTP server down, register and reset still answer at once; the send is retried and arrives once the server is up', async () => {
    const port = await freePort();
    const t = await startTestServer({ config: { mail: { smtpUrl: `smtp://127.0.0.1:${port}`, unsafeAllowPlaintext: true, retryBase: 100, maxAttempts: 10 } } });
    try {
      const email = uniqueEmail('down');
      const reg = await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
      assert.equal(reg.status, 201);
      const reset = await new Client(t.url).req('POST', '/auth/password-reset', { json: { email } });
      assert.equal(reset.status, 202);

      // Wait (bounded) for the first failures to be audited.
      const userId = reg.body.user.id as string;
      const deadline = Date.now() + 5000;
      let failed: Awaited<ReturnType<typeof t.stores.audit.listEvents>> = [];
      while (Date.now() < deadline) {
        failed = (await t.stores.audit.listEvents({ userId, limit: 100 })).filter((e) => e.type === 'mail.failed');
        if (failed.length >= 2) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(failed.length >= 2, 'mail.failed recorded');
      for (const e of failed) {
        assert.equal(e.detail?.category, 'connection');
        assert.equal(e.detail?.final, false);
        assert.ok(['verify_email', 'password_reset'].includes(String(e.detail?.kind)));
      }

      const smtp = await startSmtp(port);
      try {
        const verify = await smtp.waitFor((m) => m.to.includes(email) && /verify-email#token=/.test(m.text), 20_000);
        const resetMail = await smtp.waitFor((m) => m.to.includes(email) && /\/reset#token=/.test(m.text), 20_000);
        const token = tokenFrom(resetMail, '/reset');
        const dump = JSON.stringify(await t.stores.audit.listEvents({ limit: 1000 })) + t.logs.join('');
        for (const tk of [token, tokenFrom(verify)]) assert.ok(!dump.includes(tk.split('.')[1]!), 'no link in the audit trail or logs');
        assert.ok(t.logs.some((l) => l.includes('mail failed; will retry')), 'the failure is logged (without the message)');
      } finally {
        await smtp.close();
      }
    } finally {
      await t.close();
    }
  });

  test('a message is given up after maxAttempts, the last failure marked final', async () => {
    const attempts: number[] = [];
    const failures: Array<{ attempt: number; final: boolean; category: string }> = [];
    const outbox = new Outbox({
      mailer: {
        async send() {
          attempts.push(Date.now());
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNECTION' });
        },
      },
      render: () => ({ to: 'a@example.com', subject: 's', text: 't', html: 'h' }),
      maxAttempts: 3,
      baseDelayMs: 20,
      jitter: () => 0.999, // delays of (almost exactly) 20 ms, then 40 ms
      onFailure: (_m, f) => void failures.push({ attempt: f.attempt, final: f.final, category: f.category }),
    });
    outbox.enqueue({ kind: 'verify_email', to: 'a@example.com', userId: 'u', acceptLanguage: null, link: 'x' });
    await idle(outbox);
    assert.equal(attempts.length, 3);
    assert.deepEqual(failures, [
      { attempt: 1, final: false, category: 'connection' },
      { attempt: 2, final: false, category: 'connection' },
      { attempt: 3, final: true, category: 'connection' },
    ]);
    // Lower bounds only: a loaded machine can make timers late, never early.
    assert.ok(attempts[1]! - attempts[0]! >= 19, `first retry after ${attempts[1]! - attempts[0]!} ms`);
    assert.ok(attempts[2]! - attempts[1]! >= 39, `second retry after ${attempts[2]! - attempts[1]!} ms (doubled)`);
  });

  test('a permanent rejection (5xx) is not retried', async () => {
    let n = 0;
    const failures: boolean[] = [];
    const outbox = new Outbox({
      mailer: {
        async send() {
          n++;
          throw Object.assign(new Error('550 no such user'), { code: 'EENVELOPE', responseCode: 550 });
        },
      },
      render: () => ({ to: 'a@example.com', subject: 's', text: 't', html: 'h' }),
      maxAttempts: 5,
      baseDelayMs: 10,
      onFailure: (_m, f) => void failures.push(f.final),
    });
    outbox.enqueue({ kind: 'password_reset', to: 'a@example.com', userId: 'u', acceptLanguage: null });
    await idle(outbox);
    assert.equal(n, 1);
    assert.deepEqual(failures, [true]);
    assert.equal(categorize({ code: 'EAUTH', responseCode: 535 }).category, 'auth');
    assert.equal(categorize({ responseCode: 451 }).category, 'temporary');
  });
});

describe('choosing a mailer', () => {
  test('without SMTP on a localhost URL, mail goes to the log (link included) and the server says so at start', async () => {
    const t = await startTestServer();
    try {
      assert.ok(t.logs.some((l) => l.includes('development mailer')), 'the start-up line names the development mailer');
      const email = uniqueEmail('devmail');
      await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
      await t.srv.gatehouse.outbox.idle();
      const line = t.logs.find((l) => l.includes('development mailer: message not sent') && l.includes(email));
      assert.ok(line, 'the message is in the log');
      assert.match(line, /verify-email#token=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/);
    } finally {
      await t.close();
    }
  });

  test('with SMTP, the start-up line names the server but never its credentials', async () => {
    const smtp = await startSmtp();
    const t = await startTestServer({ config: { mail: { smtpUrl: `smtp://mailer:hunter2secret@127.0.0.1:${smtp.port}` } } });
    try {
      const line = t.logs.find((l) => l.includes('mail is sent through'));
      assert.ok(line);
      assert.ok(line.includes(`127.0.0.1:${smtp.port}`));
      assert.ok(!t.logs.join('').includes('hunter2secret'));
    } finally {
      await t.close();
      await smtp.close();
    }
  });

  test('start-up refuses a public URL that is not localhost without GATEHOUSE_SMTP_URL', () => {
    const cfg = resolveConfig({ publicUrl: 'https://auth.example.com' });
    assert.throws(() => checkProductionConfig(cfg), /GATEHOUSE_SMTP_URL/);
    assert.doesNotThrow(() => checkProductionConfig(resolveConfig({ publicUrl: 'https://auth.example.com', mail: { smtpUrl: 'smtp://smtp.example.com:587' } })));
    assert.doesNotThrow(() => checkProductionConfig(resolveConfig({ publicUrl: 'http://127.0.0.1:3000' })));
  });

  test('the language follows Accept-Language weights, English by default', () => {
    assert.equal(pickLocale('ko-KR,ko;q=0.9,en;q=0.8'), 'ko');
    assert.equal(pickLocale('en;q=0.9,ko;q=0.4'), 'en');
    assert.equal(pickLocale('fr-FR,ko;q=0.5'), 'ko');
    assert.equal(pickLocale('fr-FR'), 'en');
    assert.equal(pickLocale(null), 'en');
    assert.equal(pickLocale('ko;q=0'), 'en');
  });
});

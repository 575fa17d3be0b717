/**
 * SMTP transport security: `smtp://` requires STARTTLS. A server that does not offer it (or a man in
 * the middle that strips it from the EHLO answer) receives neither the SMTP credentials nor the
 * message; only the loudly named opt-out sends in clear. Real SMTP server (smtp-server) on loopback.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveConfig } from '../../src/config.js';
import { createSmtpMailer } from '../../src/mail/index.js';
import { checkProductionConfig } from '../../src/server/preflight.js';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { startSmtp } from '../support/smtp.js';

const USER = 'mailer';
const PASS = 'hunter2secret';

async function auditedFailures(t: TestServer, userId: string, atLeast: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const failed = (await t.stores.audit.listEvents({ userId, limit: 100 })).filter((e) => e.type === 'mail.failed');
    if (failed.length >= atLeast || Date.now() > deadline) return failed;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SMTP requires STARTTLS', () => {
  test('smtp:// to a server without STARTTLS: no AUTH, no message, and a final tls failure in the audit trail', async () => {
    const smtp = await startSmtp(0, { auth: true });
    const t = await startTestServer({ config: { mail: { smtpUrl: `smtp://${USER}:${PASS}@127.0.0.1:${smtp.port}`, maxAttempts: 1 } } });
    try {
      const email = uniqueEmail('starttls');
      const reg = await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
      assert.equal(reg.status, 201, 'the request never waits on mail');
      const failed = await auditedFailures(t, reg.body.user.id, 1);
      assert.equal(failed.length, 1, 'the verification mail failed once and was given up');
      assert.equal(failed[0]!.detail?.category, 'tls');
      assert.equal(failed[0]!.detail?.final, true);
      await t.srv.gatehouse.outbox.idle();
      assert.deepEqual(smtp.auths, [], 'the credentials never went out');
      assert.deepEqual(smtp.messages, [], 'the message (and its link) never went out');
    } finally {
      await t.close();
      await smtp.close();
    }
  });

  test('with GATEHOUSE_UNSAFE_SMTP_PLAINTEXT the same server gets AUTH and the message in clear (the opt-out works, and the server above would have taken them)', async () => {
    const smtp = await startSmtp(0, { auth: true });
    const t = await startTestServer({ config: { mail: { smtpUrl: `smtp://${USER}:${PASS}@127.0.0.1:${smtp.port}`, unsafeAllowPlaintext: true, maxAttempts: 1 } } });
    try {
      const email = uniqueEmail('plaintext');
      assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
      await smtp.waitFor((m) => m.to.includes(email), 10_000);
      assert.deepEqual(smtp.auths.map((a) => [a.username, a.password]), [[USER, PASS]]);
    } finally {
      await t.close();
      await smtp.close();
    }
  });

  test('the opt-out is named at start: the server warns when it is set for smtp://', () => {
    const on = checkProductionConfig(resolveConfig({ publicUrl: 'https://auth.example.com', mail: { smtpUrl: 'smtp://relay.internal:25', unsafeAllowPlaintext: true } }));
    assert.ok(on.some((w) => w.includes('GATEHOUSE_UNSAFE_SMTP_PLAINTEXT')), JSON.stringify(on));
    const off = checkProductionConfig(resolveConfig({ publicUrl: 'https://auth.example.com', mail: { smtpUrl: 'smtp://relay.internal:587' } }));
    assert.ok(!off.some((w) => w.includes('SMTP')));
  });

  test('URL query options (which could turn TLS off) are refused at start; smtps:// is accepted', () => {
    for (const q of ['ignoreTLS=true', 'requireTLS=false', 'secure=false', 'tls.rejectUnauthorized=false', 'opportunisticTLS=true']) {
      assert.throws(() => createSmtpMailer(`smtp://relay.example.com:587?${q}`, 'a@example.com'), /no query options/, q);
    }
    createSmtpMailer('smtps://u:p@smtp.example.com:465', 'a@example.com').close();
  });

  test('credentials with reserved characters reach the server decoded', async () => {
    const smtp = await startSmtp(0, { auth: true });
    const m = createSmtpMailer(`smtp://us%40er:p%3Ass%2Fw@127.0.0.1:${smtp.port}`, 'a@example.com', { unsafeAllowPlaintext: true });
    try {
      await m.send({ to: 'b@example.com', subject: 's', text: 't', html: '<p>t</p>' });
      assert.deepEqual(smtp.auths.map((a) => [a.username, a.password]), [['us@er', 'p:ss/w']]);
    } finally {
      m.close();
      await smtp.close();
    }
  });
});

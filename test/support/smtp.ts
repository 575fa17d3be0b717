/**
 * A real SMTP server on a loopback port (the `smtp-server` package), collecting every message it
 * receives, with a small MIME reader to get the text, HTML and links back out of the raw message.
 */
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { GatehouseConfigInput } from '../../src/config.js';
import type { Stores } from '../../src/ports.js';
import { Client, GOOD_PASSWORD, startTestServer, type TestServer } from './server.js';

export interface ReceivedMail {
  to: string[];
  from: string;
  raw: string;
  headers: Record<string, string>;
  subject: string;
  text: string;
  html: string;
}

export interface TestSmtp {
  port: number;
  url: string;
  messages: ReceivedMail[];
  /** AUTH attempts received (only with `auth: true`), with the credentials as sent. */
  auths: Array<{ method: string; username: string; password: string }>;
  /** Resolves the first message (received or yet to come) matching `pred`; rejects after `timeoutMs`. */
  waitFor(pred: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/** A loopback port that is free right now (nothing listens on it). */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * The test server offers no STARTTLS (Gatehouse is configured with `mail.unsafeAllowPlaintext` to
 * reach it; see `startMailServer`). With `auth: true` it also takes AUTH in clear, like a careless
 * server would, and records what it was sent.
 */
export async function startSmtp(port = 0, opts: { auth?: boolean } = {}): Promise<TestSmtp> {
  const messages: ReceivedMail[] = [];
  const auths: TestSmtp['auths'] = [];
  let waiters: Array<{ pred: (m: ReceivedMail) => boolean; resolve: (m: ReceivedMail) => void }> = [];
  const server = new SMTPServer({
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    ...(opts.auth
      ? {
          allowInsecureAuth: true,
          authOptional: true,
          onAuth(auth, _session, callback) {
            auths.push({ method: auth.method, username: auth.username ?? '', password: auth.password ?? '' });
            callback(null, { user: auth.username ?? '' });
          },
        }
      : {}),
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail = parseMail(raw, session.envelope.rcptTo.map((r) => r.address), session.envelope.mailFrom ? session.envelope.mailFrom.address : '');
        messages.push(mail);
        const still: typeof waiters = [];
        for (const w of waiters) (w.pred(mail) ? w.resolve(mail) : still.push(w));
        waiters = still;
        callback();
      });
    },
  });
  server.listen(port, '127.0.0.1');
  await once(server.server, 'listening');
  const bound = (server.server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `smtp://127.0.0.1:${bound}`,
    messages,
    auths,
    waitFor(pred, timeoutMs = 5000) {
      const hit = messages.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve: (m: ReceivedMail) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((x) => x !== w);
          reject(new Error(`no matching mail within ${timeoutMs} ms (received ${messages.length})`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

// ------------------------------------------------------------------------------ a small MIME reader

function splitHead(part: string): { headers: Record<string, string>; body: string } {
  const i = part.search(/\r?\n\r?\n/);
  const head = i < 0 ? part : part.slice(0, i);
  const body = i < 0 ? '' : part.slice(i).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const c = line.indexOf(':');
    if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  return { headers, body };
}

function decodeQp(s: string): Buffer {
  const noSoft = s.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < noSoft.length; i++) {
    const ch = noSoft[i]!;
    if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(noSoft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(noSoft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(ch, 'utf8'));
  }
  return Buffer.from(bytes);
}

function decodeBody(body: string, encoding: string | undefined): string {
  const enc = (encoding ?? '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') return decodeQp(body).toString('utf8');
  return body;
}

/** RFC 2047 encoded words (`=?UTF-8?B?…?=` / `=?UTF-8?Q?…?=`) in a header. */
function decodeWords(v: string): string {
  return v.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*(?==\?)/g, '=?$1?$2?$3?=').replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _cs, enc: string, data: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQp(data.replace(/_/g, ' ')).toString('utf8'),
  );
}

function collect(part: string, out: { text: string; html: string }): void {
  const { headers, body } = splitHead(part);
  const ct = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(ct)?.[1];
  if (/^multipart\//i.test(ct) && boundary) {
    const pieces = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?`));
    for (const p of pieces.slice(1)) if (p.trim()) collect(p.replace(/^\r?\n/, ''), out);
    return;
  }
  const decoded = decodeBody(body, headers['content-transfer-encoding']);
  if (/^text\/html/i.test(ct)) out.html += decoded;
  else if (/^text\/plain/i.test(ct)) out.text += decoded;
}

export function parseMail(raw: string, to: string[] = [], from = ''): ReceivedMail {
  const { headers } = splitHead(raw);
  const out = { text: '', html: '' };
  collect(raw, out);
  return { to, from, raw, headers, subject: decodeWords(headers.subject ?? ''), text: out.text, html: out.html };
}

/** The token in a `…#token=<id.secret>` link of the message's plain text. */
export function tokenFrom(mail: ReceivedMail, path?: string): string {
  const re = /(https?:\/\/[^\s#]+)#token=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/;
  const m = re.exec(mail.text);
  if (!m) throw new Error(`no link in mail "${mail.subject}"`);
  if (path !== undefined && !m[1]!.endsWith(path)) throw new Error(`link ${m[1]} does not point to ${path}`);
  return m[2]!;
}

// ------------------------------------------------------------------------------ server + mailbox


export interface MailTestServer {
  t: TestServer;
  smtp: TestSmtp;
  /** The messages to one address, in arrival order. */
  inbox(address: string): ReceivedMail[];
  /** Resolves once the lifecycle's background work and the outbox are both done. */
  quiet(): Promise<void>;
  close(): Promise<void>;
}

/** A Gatehouse server whose mail goes over SMTP to a test server on loopback (fast retries). */
export async function startMailServer(config: GatehouseConfigInput = {}, smtpPort = 0, stores?: Stores): Promise<MailTestServer> {
  const smtp = await startSmtp(smtpPort);
  // The test server offers no STARTTLS, so these tests opt out of requiring it (test only).
  const base: GatehouseConfigInput = { mail: { smtpUrl: smtp.url, unsafeAllowPlaintext: true, retryBase: 50, maxAttempts: 8 } };
  const t = await startTestServer({ config: mergeConfig(base, config), ...(stores ? { stores } : {}) });
  return {
    t,
    smtp,
    inbox: (address) => smtp.messages.filter((m) => m.to.includes(address)),
    async quiet() {
      await t.srv.gatehouse.core.lifecycle.settled();
      await t.srv.gatehouse.outbox.idle();
    },
    async close() {
      await t.close();
      await smtp.close();
    },
  };
}

export function mergeConfig(a: GatehouseConfigInput, b: GatehouseConfigInput): GatehouseConfigInput {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' ? { ...(prev as object), ...(v as object) } : v;
  }
  return out as GatehouseConfigInput;
}

/** Registers `email` and resolves its user id and the token of the verification mail it received. */
export async function registerAndVerifyMail(s: MailTestServer, email: string, password = GOOD_PASSWORD): Promise<{ userId: string; verifyToken: string; mail: ReceivedMail }> {
  const r = await new Client(s.t.url).req('POST', '/auth/register', { json: { email, password } });
  if (r.status !== 201) throw new Error(`register: ${r.status} ${r.text}`);
  const mail = await s.smtp.waitFor((m) => m.to.includes(email) && /verify-email#token=/.test(m.text));
  return { userId: r.body.user.id, verifyToken: tokenFrom(mail, '/verify-email'), mail };
}

export async function cookieLogin(s: MailTestServer, email: string, password = GOOD_PASSWORD): Promise<Client> {
  const c = new Client(s.t.url);
  const r = await c.req('POST', '/auth/login', { json: { email, password } });
  if (r.status !== 200) throw new Error(`login: ${r.status} ${r.text}`);
  return c;
}

export async function tokenLogin(s: MailTestServer, email: string, password = GOOD_PASSWORD): Promise<{ access: string; refresh: string }> {
  const r = await new Client(s.t.url).req('POST', '/auth/login', { json: { email, password, mode: 'token' } });
  if (r.status !== 200) throw new Error(`token login: ${r.status} ${r.text}`);
  return { access: r.body.access_token, refresh: r.body.refresh_token };
}

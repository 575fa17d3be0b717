/**
 * A real OpenID Provider for tests: `oidc-provider` on a loopback port with its development
 * interactions (a login form that accepts any login; consent is granted by an existing-grant hook),
 * back-channel logout and RP-initiated logout, and a signing key the test knows, so attack tests can
 * also sign tokens as this provider would (a replayed logout token) or alter what its token endpoint
 * answers (an ID token for another audience, issuer or nonce) on the way out.
 *
 * `runOpFlow` drives a browser's part of the code flow with fetch: it follows the redirects to the
 * provider, fills the login form, and stops at the redirect back to the relying party's callback.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, decodeJwt, type JWK, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';

export interface OpAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface OpClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  backchannel_logout_uri?: string;
  token_endpoint_auth_method?: string;
}

export interface TestOp {
  issuer: string;
  port: number;
  accounts: Map<string, OpAccount>;
  /** Alters the claims of the next ID tokens the token endpoint answers with (re-signed with the provider's key). */
  tamperIdToken: ((claims: JWTPayload) => JWTPayload) | null;
  /** Signs a JWT with the provider's key (kid and alg as the provider's own tokens). */
  sign(claims: JWTPayload, typ?: string): Promise<string>;
  /** Back-channel logout deliveries the provider made (the target and the status it got). */
  logouts: Array<{ uri: string; status: number; error?: string }>;
  close(): Promise<void>;
}

export async function startTestOp(opts: { clients: OpClient[]; port?: number }): Promise<TestOp> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `k${Math.random().toString(36).slice(2, 10)}`;
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const accounts = new Map<string, OpAccount>();
  const logouts: TestOp['logouts'] = [];
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({ grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: c.client_secret ? 'client_secret_post' : 'none', ...c, ...(c.backchannel_logout_uri ? { backchannel_logout_session_required: true } : {}) })),
    jwks: { keys: [jwk] },
    cookies: { keys: ['test-op-cookie-key-0123456789'] },
    // The provider refuses to call special-use addresses (SSRF protection) through its dispatcher;
    // here the relying party is on loopback by design, so its back-channel logouts go out without it.
    fetch: (url: string, options: RequestInit & { dispatcher?: unknown }) => {
      delete options.dispatcher;
      return globalThis.fetch(url, options);
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true }, backchannelLogout: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    findAccount: async (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: async () => ({ sub: id, ...(accounts.get(id) ?? {}) }),
    }),
    // Consent is taken as given: a grant of what the client asked for.
    loadExistingGrant: async (ctx: any) => {
      const existing = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(String(ctx.oidc.params.scope ?? 'openid'));
      await grant.save();
      return grant;
    },
  } as any);
  provider.on('backchannel.success', (_ctx: unknown, client: { backchannelLogoutUri: string }) => logouts.push({ uri: client.backchannelLogoutUri, status: 200 }));
  provider.on('backchannel.error', (_ctx: unknown, err: Error, client: { backchannelLogoutUri: string }) => logouts.push({ uri: client.backchannelLogoutUri, status: 0, error: String(err) }));
  const op: TestOp = {
    issuer,
    port,
    accounts,
    tamperIdToken: null,
    logouts,
    sign: (claims, typ = 'JWT') => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ }).sign(privateKey),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!(op.tamperIdToken && req.method === 'POST' && req.url === '/token')) return void callback(req, res);
    // The provider's own answer, with its ID token's claims altered and signed again with its key.
    const chunks: Buffer[] = [];
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    res.write = ((c: Buffer) => (chunks.push(Buffer.from(c)), true)) as typeof res.write;
    res.end = ((c?: Buffer | string) => {
      if (c) chunks.push(Buffer.from(c));
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const tamper = op.tamperIdToken;
      const finish = (text: string) => {
        res.removeHeader('content-length');
        res.setHeader('content-length', Buffer.byteLength(text));
        write(text);
        return end();
      };
      if (typeof body.id_token !== 'string' || !tamper) return finish(JSON.stringify(body));
      void op.sign(tamper(decodeJwt(body.id_token))).then((t) => finish(JSON.stringify({ ...body, id_token: t })));
      return res;
    }) as typeof res.end;
    callback(req, res);
  });
  return op;
}

/** A cookie jar for the provider's own cookies (the test's browser at the provider). */
export class OpBrowser {
  jar = new Map<string, string>();

  async get(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, redirect: 'manual', ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}) });
    for (const sc of res.headers.getSetCookie()) {
      const [pair] = sc.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(sc) || /max-age=0/i.test(sc) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }
}

/**
 * Follows an authorization URL at the provider as `login` and resolves the URL the provider sends the
 * browser back to (the relying party's callback with code, state and iss), without visiting it.
 */
export async function runOpFlow(authorizationUrl: string, login: string, browser = new OpBrowser()): Promise<string> {
  let url = authorizationUrl;
  const origin = new URL(authorizationUrl).origin;
  for (let i = 0; i < 10; i++) {
    const res = await browser.get(url);
    const loc = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && loc) {
      const next = new URL(loc, url).href;
      if (new URL(next).origin !== origin) return next;
      url = next;
      continue;
    }
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (res.status !== 200 || !action) throw new Error(`the provider answered ${res.status}: ${html.slice(0, 300)}`);
    const post = await browser.get(new URL(action, url).href, { form: { prompt: 'login', login, password: 'any' } });
    const after = post.headers.get('location');
    if (!after) throw new Error(`the login form answered ${post.status}`);
    url = new URL(after, url).href;
  }
  throw new Error('too many redirects at the provider');
}

/** Ends the person's session at the provider (RP-initiated logout, confirmed): the provider then sends back-channel logouts. */
export async function logoutAtOp(op: TestOp, browser: OpBrowser): Promise<void> {
  const page = await browser.get(`${op.issuer}/session/end`);
  const html = await page.text();
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !xsrf) throw new Error(`no logout form at the provider (${page.status})`);
  const done = await browser.get(new URL(action, op.issuer).href, { form: { xsrf, logout: 'yes' } });
  if (done.status >= 400) throw new Error(`the provider's logout answered ${done.status}`);
}

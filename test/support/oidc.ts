/**
 * Gatehouse and a real OpenID Provider side by side for the identity-provider tests: the provider
 * (test/support/oidc-op.ts) knows Gatehouse's callback and back-channel logout URLs, and Gatehouse is
 * configured with the provider by discovery (plain http allowed for this loopback provider only).
 */
import assert from 'node:assert/strict';
import type { GatehouseConfigInput } from '../../src/config.js';
import type { Stores } from '../../src/ports.js';
import { freePort } from './redis-cluster.js';
import { OpBrowser, runOpFlow, startTestOp, type OpAccount, type TestOp } from './oidc-op.js';
import { Client, startTestServer, type TestServer } from './server.js';

export const CLIENT_ID = 'gatehouse-test';
export const CLIENT_SECRET = 'a-client-secret-of-the-test-provider-0123456789';

export interface OidcBed {
  gh: TestServer;
  op: TestOp;
  /** Gatehouse's public URL and provider settings, for another instance of the same deployment. */
  publicUrl: string;
  providers: unknown[];
  close(): Promise<void>;
}

export interface ProviderOverrides {
  signUp?: boolean;
  [k: string]: unknown;
}

/** Starts a provider and a Gatehouse that signs in with it as provider `op`. */
export async function startOidcBed(opts: { provider?: ProviderOverrides; extraProviders?: (op: TestOp) => unknown[]; config?: GatehouseConfigInput; stores?: Stores; port?: number } = {}): Promise<OidcBed> {
  const port = opts.port ?? (await freePort());
  const base = `http://127.0.0.1:${port}`;
  const op = await startTestOp({
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: ['op', 'op2', 'closed', 'plain'].map((id) => `${base}/auth/oidc/${id}/callback`), backchannel_logout_uri: `${base}/auth/oidc/op/backchannel-logout` }],
  });
  const provider = { id: 'op', name: 'Test OP', issuer: op.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, signUp: true, unsafeAllowHttp: true, ...opts.provider };
  const providers = [provider, ...(opts.extraProviders?.(op) ?? [])];
  const gh = await startTestServer({
    port,
    ...(opts.stores ? { stores: opts.stores } : {}),
    config: { publicUrl: base, ...(opts.config ?? {}), oidc: { providers } } as GatehouseConfigInput,
  });
  return {
    gh,
    op,
    publicUrl: base,
    providers,
    close: async () => {
      await gh.close();
      await op.close();
    },
  };
}

let seq = 0;
/** A new account at the provider: its login (= subject) and claims. */
export function opAccount(op: TestOp, claims: OpAccount = {}): string {
  const login = `person-${process.pid}-${++seq}-${Math.floor(Math.random() * 1e6)}`;
  op.accounts.set(login, claims);
  return login;
}

/** GET start in `client`'s browser: the provider URL it redirects to (the flow cookie is in the jar). */
export async function startAt(client: Client, query = 'mode=session', provider = 'op'): Promise<string> {
  const r = await client.req('GET', `/auth/oidc/${provider}/start?${query}`);
  assert.equal(r.status, 302, r.text);
  return r.headers.get('location')!;
}

/** The callback path (relative to Gatehouse) of a provider redirect URL. */
export const pathOf = (url: string) => {
  const u = new URL(url);
  return u.pathname + u.search;
};

/** A full sign-in: start, the provider's login as `login`, the callback. Resolves the callback's answer. */
export async function signInWith(gh: TestServer, login: string, opts: { client?: Client; query?: string; browser?: OpBrowser } = {}) {
  const client = opts.client ?? new Client(gh.url);
  const authUrl = await startAt(client, opts.query ?? 'mode=session');
  const back = await runOpFlow(authUrl, login, opts.browser);
  const r = await client.req('GET', pathOf(back));
  return { client, r, back };
}

export { OpBrowser, runOpFlow };

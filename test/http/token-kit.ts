/** Shared steps of the token-mode HTTP tests: register and log in, decode, sign with the server's own key. */
import assert from 'node:assert/strict';
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { register } from '../support/flows.js';
import { Client, GOOD_PASSWORD, uniqueEmail, type TestServer } from '../support/server.js';

export interface TokenLogin {
  client: Client;
  email: string;
  status: number;
  headers: Headers;
  body: any;
  access: string;
  refresh: string;
}

export async function registerUser(t: TestServer, email = uniqueEmail('tok')): Promise<string> {
  await register(t, email);
  return email;
}

/** Logs in with mode "token" (registering first unless an email is given). */
export async function tokenLogin(t: TestServer, opts: { email?: string; extra?: Record<string, unknown>; password?: string } = {}): Promise<TokenLogin> {
  const email = opts.email ?? (await registerUser(t));
  const client = new Client(t.url);
  const r = await client.req('POST', '/auth/login', { json: { email, password: opts.password ?? GOOD_PASSWORD, mode: 'token', ...(opts.extra ?? {}) } });
  return { client, email, status: r.status, headers: r.headers, body: r.body, access: r.body?.access_token, refresh: r.body?.refresh_token };
}

export function decode(token: string): { header: Record<string, unknown>; payload: Record<string, any> } {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')),
  };
}

export const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** The server's current signing key, read from its key store (the memory store keeps it unsealed). */
export async function serverSigningKey(t: TestServer): Promise<{ kid: string; alg: string; key: CryptoKey | Uint8Array }> {
  const recs = (await t.stores.keys.listKeys()).filter((k) => k.retiredAt === null).sort((a, b) => b.createdAt - a.createdAt);
  const rec = recs[0]!;
  assert.equal(rec.encrypted, false, 'test signing needs an unsealed key');
  const key = await importJWK(JSON.parse(rec.privateJwk), rec.alg);
  return { kid: rec.kid, alg: rec.alg, key: key as CryptoKey | Uint8Array };
}

/** Signs arbitrary claims with the server's own key: a correctly signed token whose claims are what the test says. */
export async function signAsServer(t: TestServer, payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const k = await serverSigningKey(t);
  return new SignJWT(payload).setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'at+jwt', ...header }).sign(k.key);
}

export function me(t: TestServer, token: string, headers: Record<string, string> = {}) {
  return new Client(t.url).req('GET', '/auth/me', { headers: { authorization: `Bearer ${token}`, ...headers } });
}

/** RFC 6750 refusal: 401, WWW-Authenticate invalid_token, problem+json. */
export function assertInvalidToken(r: { status: number; headers: Headers; body: any; text: string }, what = ''): void {
  assert.equal(r.status, 401, `${what}: expected 401, got ${r.status} ${r.text.slice(0, 200)}`);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer error="invalid_token"', what);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, what);
  assert.equal(r.body.code, 'invalid_token', what);
}

export function refresh(t: TestServer, token: string) {
  return new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: token } });
}

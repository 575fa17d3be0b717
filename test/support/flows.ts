/**
 * The common steps of the HTTP tests, driven black-box over a real server: register, log in by
 * cookie or by token, and probe whether a session's credentials are still accepted.
 */
import assert from 'node:assert/strict';
import { Client, GOOD_PASSWORD, type TestServer } from './server.js';

export interface LoginOptions {
  /** Defaults to GOOD_PASSWORD. */
  password?: string;
  /** Extra request headers for the login, e.g. a user agent or X-Forwarded-For. */
  headers?: Record<string, string>;
}

export interface CookieSession {
  /** The client holding the session cookie in its jar. */
  client: Client;
  /** The session handle. */
  id: string;
  /** The session cookie's value as the server set it. */
  cookie: string;
}

export interface TokenSession {
  client: Client;
  id: string;
  access: string;
  refresh: string;
}

/** Registers `email` (answer 201) and returns the new user's id. */
export async function register(t: TestServer, email: string, password = GOOD_PASSWORD): Promise<string> {
  const r = await new Client(t.url).req('POST', '/auth/register', { json: { email, password } });
  assert.equal(r.status, 201, r.text);
  return r.body.user.id as string;
}

/** Logs in with a session cookie (answer 200). */
export async function cookieLogin(t: TestServer, email: string, opts: LoginOptions = {}): Promise<CookieSession> {
  const c = new Client(t.url);
  const r = await c.req('POST', '/auth/login', { json: { email, password: opts.password ?? GOOD_PASSWORD }, headers: opts.headers ?? {} });
  assert.equal(r.status, 200, r.text);
  return { client: c, id: r.body.session.id as string, cookie: [...c.jar.values()][0]! };
}

/** Logs in with mode "token" (answer 200). */
export async function tokenLogin(t: TestServer, email: string, opts: LoginOptions = {}): Promise<TokenSession> {
  const c = new Client(t.url);
  const r = await c.req('POST', '/auth/login', { json: { email, password: opts.password ?? GOOD_PASSWORD, mode: 'token' }, headers: opts.headers ?? {} });
  assert.equal(r.status, 200, r.text);
  return { client: c, id: r.body.session.id as string, access: r.body.access_token as string, refresh: r.body.refresh_token as string };
}

/** GET /auth/me with the session's cookie. */
export const cookieStatus = async (s: { client: Client }): Promise<number> => (await s.client.req('GET', '/auth/me')).status;

/** GET /auth/me with the session's access token. */
export const bearerStatus = async (t: TestServer, s: { access: string }): Promise<number> =>
  (await new Client(t.url).req('GET', '/auth/me', { bearer: s.access })).status;

/** POST /auth/refresh with the session's refresh token. */
export const refreshStatus = async (t: TestServer, s: { refresh: string }): Promise<number> =>
  (await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: s.refresh } })).status;

/** The sorted handles of GET /auth/sessions, asked with a cookie session or with a bearer access token. */
export async function listIds(t: TestServer, as: { client: Client } | string): Promise<string[]> {
  const r = typeof as === 'string' ? await new Client(t.url).req('GET', '/auth/sessions', { bearer: as }) : await as.client.req('GET', '/auth/sessions');
  assert.equal(r.status, 200);
  return (r.body.sessions as any[]).map((x) => x.id).sort();
}

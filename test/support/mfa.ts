/** Steps of the second-factor tests: enrol an authenticator app, register a passkey, sign in through mfa_required. */
import assert from 'node:assert/strict';
import { Client, GOOD_PASSWORD, type TestServer } from './server.js';
import { SoftAuthenticator, totpCode } from './webauthn.js';

/** The origin the test server's WebAuthn settings accept (its default public URL). */
export const ORIGIN = 'http://localhost:3000';
export const SECRET = 'a test secret of at least thirty-two characters';

/** Signs in with a password (cookie) and enrols TOTP; resolves the secret, the recovery codes and the client. */
export async function enrolTotp(t: TestServer, email: string): Promise<{ secret: string; codes: string[]; client: Client }> {
  const client = new Client(t.url);
  const login = await client.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
  assert.equal(login.status, 200, login.text);
  const begin = await client.req('POST', '/auth/mfa/totp', { json: {} });
  assert.equal(begin.status, 200, begin.text);
  const secret = begin.body.secret as string;
  const confirm = await client.req('POST', '/auth/mfa/totp/confirm', { json: { code: totpCode(secret, t.clock.now()) } });
  assert.equal(confirm.status, 200, confirm.text);
  // The next code must be of a later step than the confirming one.
  t.clock.advance(30_000);
  return { secret, codes: confirm.body.recovery_codes as string[], client };
}

/** Registers a passkey from a signed-in client with the soft authenticator; resolves the credential id. */
export async function addPasskey(client: Client, auth: SoftAuthenticator, name = 'Laptop'): Promise<string> {
  const opts = await client.req('POST', '/auth/passkeys/register/options', { json: {} });
  assert.equal(opts.status, 200, opts.text);
  const reg = await client.req('POST', '/auth/passkeys/register', { json: { response: auth.create(opts.body), name } });
  assert.equal(reg.status, 201, reg.text);
  return reg.body.passkey.id as string;
}

/** POST /auth/login expecting 401 mfa_required; resolves the body. */
export async function passwordStep(client: Client, email: string, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await client.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, ...extra } });
  assert.equal(r.status, 401, r.text);
  assert.equal(r.body.code, 'mfa_required');
  assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
  return r.body;
}

/** Identity providers in the configuration: presets, discovery, plain OAuth 2.0, errors naming the variable, secrets never echoed. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfigFromEnv, resolveConfig } from '../../src/config.js';

const SECRET = 'super-secret-client-value-0123456789';

function envError(providers: unknown, extra: Record<string, string> = {}): string {
  try {
    loadConfigFromEnv({ GATEHOUSE_OIDC_PROVIDERS: typeof providers === 'string' ? providers : JSON.stringify(providers), ...extra });
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
  assert.fail('the configuration was accepted');
}

describe('identity provider configuration', () => {
  test('presets settle to their issuer or endpoints; the client secret comes from its own variable', () => {
    const c = loadConfigFromEnv({
      GATEHOUSE_OIDC_PROVIDERS: JSON.stringify([
        { id: 'google', preset: 'google', clientId: 'g' },
        { id: 'work', preset: 'microsoft', tenant: 'contoso.example', clientId: 'm' },
        { id: 'gitlab', preset: 'gitlab', clientId: 'l', signUp: true },
        { id: 'gh', preset: 'github', clientId: 'h' },
        { id: 'forge', authorizationEndpoint: 'https://f.example/a', tokenEndpoint: 'https://f.example/t', userinfoEndpoint: 'https://f.example/u', clientId: 'f', claims: { id: 'uid', email: 'mail' } },
      ]),
      GATEHOUSE_OIDC_GOOGLE_CLIENT_SECRET: SECRET,
    });
    const [g, m, l, h, f] = c.oidc.providers;
    assert.deepEqual([g!.protocol, g!.name, g!.protocol === 'oidc' && g!.issuer, g!.clientSecret, g!.signUp], ['oidc', 'Google', 'https://accounts.google.com', SECRET, false]);
    assert.equal(m!.protocol === 'oidc' && m!.issuer, 'https://login.microsoftonline.com/contoso.example/v2.0');
    assert.equal(l!.signUp, true);
    assert.equal(h!.protocol, 'oauth2');
    assert.equal(h!.protocol === 'oauth2' && h!.emailsEndpoint, 'https://api.github.com/user/emails');
    assert.equal(h!.claims.emailVerified, null);
    assert.deepEqual(f!.claims, { id: 'uid', email: 'mail', emailVerified: 'email_verified', name: 'name' });
    assert.equal(h!.clientSecret, null);
    // A resolved configuration resolves to itself (compose validates what it is given again).
    assert.deepEqual(resolveConfig(c).oidc, c.oidc);
  });

  test('bad values are named by variable and path, and never quote the secret', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['not json', /GATEHOUSE_OIDC_PROVIDERS: is not valid JSON/],
      [{ id: 'x' }, /must be a JSON array/],
      [[{ id: 'Bad Id', issuer: 'https://i.example', clientId: 'c', clientSecret: SECRET }], /GATEHOUSE_OIDC_PROVIDERS \(oidc\.providers\.0\.id\)/],
      [[{ id: 'x', issuer: 'http://i.example', clientId: 'c', clientSecret: SECRET }], /oidc\.providers\.0\.issuer\): must be an https URL/],
      [[{ id: 'x', clientId: 'c', clientSecret: SECRET }], /oidc\.providers\.0\.issuer\)/],
      [[{ id: 'x', preset: 'microsoft', tenant: 'common', clientId: 'c' }], /oidc\.providers\.0\.tenant\): "common" is a multi-tenant endpoint/],
      [[{ id: 'x', preset: 'microsoft', clientId: 'c' }], /oidc\.providers\.0\.tenant\)/],
      [[{ id: 'x', authorizationEndpoint: 'https://a.example', clientId: 'c', clientSecret: SECRET }], /oidc\.providers\.0\.tokenEndpoint\)/],
      [[{ id: 'x', issuer: 'https://i.example', clientId: 'c', scopes: ['email'] }], /oidc\.providers\.0\.scopes\): an OpenID Connect provider needs the openid scope/],
      [[{ id: 'x', issuer: 'https://i.example', clientId: 'c' }, { id: 'x', issuer: 'https://j.example', clientId: 'd' }], /oidc\.providers\.1\.id\): provider id "x" is used twice/],
      [[{ id: 'x', issuer: 'https://i.example', clientId: 'c', unknown: SECRET }], /oidc\.providers\.0\)/],
    ];
    for (const [input, re] of cases) {
      const msg = envError(input);
      assert.match(msg, re);
      assert.ok(!msg.includes(SECRET), msg);
    }
  });

  test('plain http needs the loudly named unsafeAllowHttp', () => {
    const c = resolveConfig({ oidc: { providers: [{ id: 'dev', issuer: 'http://127.0.0.1:9000', clientId: 'c', unsafeAllowHttp: true }] } });
    assert.equal(c.oidc.providers[0]!.unsafeAllowHttp, true);
  });
});

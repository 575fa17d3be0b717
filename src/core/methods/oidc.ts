/**
 * The identity-provider way in on `openid-client` (OpenID Connect and OAuth 2.0 relying party): the
 * library does discovery, the authorization URL, the RFC 9207 `iss` check, the code exchange with
 * PKCE, and the ID token's signature (the provider's JWKS), `iss`, `aud`, `exp`, `iat` and `nonce`.
 * Nothing of that is written here. This module turns a verified callback into the claims a sign-in
 * needs (subject, email and whether it is verified, name, the provider's session id and `amr`), reads
 * them from the userinfo endpoint through a claims mapping for plain OAuth 2.0 providers, and verifies
 * back-channel `logout_token`s (OpenID Connect Back-Channel Logout 1.0) with `jose`.
 */
import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import type { ProviderConfig } from '../../oidc-config.js';

/** What a provider said about the person who signed in there. */
export interface ProviderClaims {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** The provider's session id (`sid`), when it gave one: what a back-channel logout names. */
  sid: string | null;
  /** RFC 8176 methods the ID token says the provider used (sanitised), beside `fed`. */
  amr: string[];
}

/** The values that bind one authorization request to its callback. */
export interface FlowSecrets {
  state: string;
  nonce: string;
  verifier: string;
}

export type CallbackFailure =
  /** The provider answered with an error (the person declined, or the request was refused). */
  | { reason: 'denied'; error: string }
  /** The callback, the code exchange or the ID token failed a check. */
  | { reason: 'invalid'; detail: string }
  /** The provider could not be reached or answered nonsense. */
  | { reason: 'unavailable' };

export type CallbackResult = { ok: true; claims: ProviderClaims } | ({ ok: false } & CallbackFailure);

export type LogoutTokenResult = { ok: true; jti: string; sid: string | null; sub: string | null; iat: number } | { ok: false; detail: string };

export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** How old a logout token may be: its `jti` is remembered this long (plus the skew). */
export const LOGOUT_TOKEN_MAX_AGE_S = 300;
const SKEW_S = 30;
const TIMEOUT_S = 10;
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const AMR = /^[A-Za-z0-9_-]{1,32}$/;
const MAX_CLAIM = 1024;

function at(obj: unknown, path: string): unknown {
  let v = obj;
  for (const k of path.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 && v.length <= MAX_CLAIM ? v : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : null);
const truthy = (v: unknown) => v === true || v === 'true';
/** OpenID Connect Core §2: a subject is at most 255 ASCII characters (the stores index it as such). */
const subjectOf = (v: unknown): string | null => {
  const s = text(v);
  return s !== null && s.length <= 255 ? s : null;
};

/** Expected failures of the library, as what to tell the client; anything else is the provider being unreachable. */
function describe(e: unknown): CallbackFailure {
  if (e instanceof client.AuthorizationResponseError) return { reason: 'denied', error: /^[a-z_]{1,64}$/.test(e.error) ? e.error : 'error' };
  if (e instanceof client.ResponseBodyError) {
    // invalid_grant: the code was used already, expired, or was issued to another client or verifier.
    return e.error === 'invalid_grant' ? { reason: 'invalid', detail: 'The provider refused the authorization code (used already, expired, or not issued for this sign-in).' } : { reason: 'unavailable' };
  }
  if (e instanceof client.ClientError) {
    // openid-client wraps oauth4webapi's error; its message and the claim it names say which check failed (never a value).
    const inner = (e as { cause?: { message?: unknown; code?: unknown; cause?: { claim?: unknown } } }).cause;
    const code = String((e as { code?: unknown }).code ?? inner?.code ?? '');
    const claim = inner?.cause?.claim;
    const msg = `${e.message} ${typeof inner?.message === 'string' ? inner.message : ''}`;
    if (claim === 'nonce' || /"nonce"/.test(msg)) return { reason: 'invalid', detail: 'The ID token was not issued for this sign-in (nonce).' };
    if (claim === 'aud' || claim === 'azp' || /"aud"|"azp"/.test(msg)) return { reason: 'invalid', detail: 'The ID token was issued to another client (aud).' };
    if (/"iss" \(issuer\) response parameter/.test(msg)) return { reason: 'invalid', detail: 'The response names another issuer than this provider (RFC 9207 iss).' };
    if (claim === 'iss' || /"iss"/.test(msg)) return { reason: 'invalid', detail: 'The ID token was issued by another issuer (iss).' };
    if (claim === 'exp' || claim === 'iat' || /expired|"exp"|"iat"|timestamp/i.test(msg)) return { reason: 'invalid', detail: 'The ID token is expired or not yet valid.' };
    if (/state/i.test(msg)) return { reason: 'invalid', detail: 'The state parameter does not match this sign-in.' };
    if (/signature|JWS|JWK|"alg"/i.test(msg)) return { reason: 'invalid', detail: 'The ID token signature could not be verified with the provider’s keys.' };
    if (code === 'OAUTH_HTTP_REQUEST_FORBIDDEN' || code === 'OAUTH_RESPONSE_IS_NOT_JSON' || code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') return { reason: 'unavailable' };
    if (/"code"/.test(msg)) return { reason: 'invalid', detail: 'The callback carries no authorization code.' };
    return { reason: 'invalid', detail: 'The provider’s response failed a check.' };
  }
  return { reason: 'unavailable' };
}

export class OidcMethod {
  readonly #configs = new Map<string, Promise<client.Configuration>>();
  readonly #jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  readonly #byId: Map<string, ProviderConfig>;

  constructor(providers: readonly ProviderConfig[]) {
    this.#byId = new Map(providers.map((p) => [p.id, p]));
  }

  provider(id: string): ProviderConfig | null {
    return this.#byId.get(id) ?? null;
  }

  list(): ProviderConfig[] {
    return [...this.#byId.values()];
  }

  /** The provider's configuration: discovered once (and again after a failure), or built from its endpoints. */
  private configuration(p: ProviderConfig): Promise<client.Configuration> {
    let c = this.#configs.get(p.id);
    if (!c) {
      c = this.build(p);
      this.#configs.set(p.id, c);
      c.catch(() => this.#configs.delete(p.id));
    }
    return c;
  }

  private async build(p: ProviderConfig): Promise<client.Configuration> {
    const auth = p.clientSecret === null ? client.None() : client.ClientSecretPost(p.clientSecret);
    let config: client.Configuration;
    if (p.protocol === 'oidc') {
      config = await client.discovery(new URL(p.issuer), p.clientId, undefined, auth, { timeout: TIMEOUT_S, ...(p.unsafeAllowHttp ? { execute: [client.allowInsecureRequests] } : {}) });
    } else {
      // A plain OAuth 2.0 provider has no issuer identifier; its authorization endpoint stands in for
      // one, so an `iss` parameter naming any other server is still refused.
      config = new client.Configuration(
        { issuer: p.authorizationEndpoint, authorization_endpoint: p.authorizationEndpoint, token_endpoint: p.tokenEndpoint, userinfo_endpoint: p.userinfoEndpoint },
        p.clientId,
        undefined,
        auth,
      );
      if (p.unsafeAllowHttp) client.allowInsecureRequests(config);
    }
    config.timeout = TIMEOUT_S;
    return config;
  }

  /** The URL to send the browser to; null when the provider cannot be reached (discovery failed). */
  async authorizationUrl(p: ProviderConfig, redirectUri: string, s: FlowSecrets): Promise<URL | null> {
    let config: client.Configuration;
    try {
      config = await this.configuration(p);
    } catch {
      return null;
    }
    const params: Record<string, string> = {
      redirect_uri: redirectUri,
      response_type: 'code',
      state: s.state,
      code_challenge: await client.calculatePKCECodeChallenge(s.verifier),
      code_challenge_method: 'S256',
    };
    if (p.scopes.length > 0) params.scope = p.scopes.join(' ');
    if (p.protocol === 'oidc') params.nonce = s.nonce;
    return client.buildAuthorizationUrl(config, params);
  }

  /**
   * Completes the authorization code flow for the callback `url` (the redirect URI with the query the
   * provider sent): checks and exchange by the library, then the claims.
   */
  async complete(p: ProviderConfig, url: URL, s: FlowSecrets): Promise<CallbackResult> {
    try {
      const config = await this.configuration(p);
      if (p.protocol === 'oidc') {
        const tokens = await client.authorizationCodeGrant(config, url, { expectedState: s.state, expectedNonce: s.nonce, pkceCodeVerifier: s.verifier, idTokenExpected: true });
        const id = tokens.claims();
        if (!id) return { ok: false, reason: 'invalid', detail: 'The provider returned no ID token.' };
        let source: Record<string, unknown> = { ...id };
        // Providers that keep the address out of the ID token give it at the userinfo endpoint.
        if (at(id, p.claims.email) === undefined && config.serverMetadata().userinfo_endpoint) {
          const info = await client.fetchUserInfo(config, tokens.access_token, id.sub);
          source = { ...info, ...id };
        }
        const subject = subjectOf(at(source, p.claims.id));
        if (!subject) return { ok: false, reason: 'invalid', detail: 'The ID token names no subject.' };
        const amr = Array.isArray(id.amr) ? id.amr.filter((m): m is string => typeof m === 'string' && AMR.test(m)).slice(0, 8) : [];
        return { ok: true, claims: this.mapped(p, source, subject, subjectOf(id.sid), amr) };
      }
      const tokens = await client.authorizationCodeGrant(config, url, { expectedState: s.state, pkceCodeVerifier: s.verifier });
      const info = await this.getJson(config, tokens.access_token, p.userinfoEndpoint);
      const subject = subjectOf(at(info, p.claims.id));
      if (!subject) return { ok: false, reason: 'invalid', detail: `The userinfo response has no "${p.claims.id}".` };
      const claims = this.mapped(p, info, subject, null, []);
      if (p.emailsEndpoint) {
        const verified = await this.verifiedEmail(config, tokens.access_token, p.emailsEndpoint);
        if (verified) Object.assign(claims, { email: verified, emailVerified: true });
      }
      return { ok: true, claims };
    } catch (e) {
      return { ok: false, ...describe(e) };
    }
  }

  private mapped(p: ProviderConfig, source: unknown, subject: string, sid: string | null, amr: string[]): ProviderClaims {
    const email = text(at(source, p.claims.email));
    return {
      subject,
      email,
      emailVerified: email !== null && p.claims.emailVerified !== null && truthy(at(source, p.claims.emailVerified)),
      name: text(at(source, p.claims.name)),
      sid,
      amr,
    };
  }

  private async getJson(config: client.Configuration, accessToken: string, url: string): Promise<unknown> {
    const res = await client.fetchProtectedResource(config, accessToken, new URL(url), 'GET', undefined, new Headers({ accept: 'application/json' }));
    if (!res.ok) throw new Error(`userinfo answered ${res.status}`);
    return res.json();
  }

  /** GitHub-style `[{ email, primary, verified }]`: the primary verified address, else the first verified one. */
  private async verifiedEmail(config: client.Configuration, accessToken: string, url: string): Promise<string | null> {
    const list = await this.getJson(config, accessToken, url);
    if (!Array.isArray(list)) return null;
    const ok = list.filter((e): e is { email: string; primary?: unknown } => typeof e === 'object' && e !== null && e.verified === true && typeof e.email === 'string' && e.email.length <= MAX_CLAIM);
    return (ok.find((e) => e.primary === true) ?? ok[0])?.email ?? null;
  }

  /**
   * Verifies a back-channel `logout_token` (OpenID Connect Back-Channel Logout 1.0 §2.6): signed by
   * the provider's keys with an asymmetric algorithm, `iss` the provider, `aud` this client, `iat`
   * recent, a `jti`, the back-channel logout event, `sid` or `sub`, and no `nonce`. Whether the
   * `jti` was seen before is the caller's check.
   */
  async verifyLogoutToken(p: ProviderConfig, token: string, now: number): Promise<LogoutTokenResult> {
    if (p.protocol !== 'oidc') return { ok: false, detail: 'This provider does not send back-channel logouts.' };
    let config: client.Configuration;
    try {
      config = await this.configuration(p);
    } catch {
      return { ok: false, detail: 'The provider’s keys could not be fetched.' };
    }
    const meta = config.serverMetadata();
    if (!meta.jwks_uri) return { ok: false, detail: 'The provider publishes no keys.' };
    let jwks = this.#jwks.get(p.id);
    if (!jwks) this.#jwks.set(p.id, (jwks = createRemoteJWKSet(new URL(meta.jwks_uri), { timeoutDuration: TIMEOUT_S * 1000 })));
    let payload: JWTPayload;
    try {
      const out = await jwtVerify(token, jwks, {
        issuer: meta.issuer,
        audience: p.clientId,
        algorithms: ASYMMETRIC,
        currentDate: new Date(now),
        maxTokenAge: LOGOUT_TOKEN_MAX_AGE_S,
        clockTolerance: SKEW_S,
        requiredClaims: ['iat', 'jti'],
      });
      payload = out.payload;
      const typ = out.protectedHeader.typ;
      if (typ !== undefined && !/^(application\/)?(logout\+jwt|jwt)$/i.test(typ)) return { ok: false, detail: 'The token is not a logout token (typ).' };
    } catch (e) {
      if (e instanceof joseErrors.JWTClaimValidationFailed) return { ok: false, detail: `The logout token's "${e.claim}" claim is not valid.` };
      if (e instanceof joseErrors.JWTExpired) return { ok: false, detail: 'The logout token is expired.' };
      return { ok: false, detail: 'The logout token could not be verified with the provider’s keys.' };
    }
    const events = payload.events as unknown;
    if (typeof events !== 'object' || events === null || typeof (events as Record<string, unknown>)[BACKCHANNEL_EVENT] !== 'object') {
      return { ok: false, detail: 'The logout token has no back-channel logout event.' };
    }
    if ('nonce' in payload) return { ok: false, detail: 'A logout token must not carry a nonce.' };
    const sid = subjectOf(payload.sid);
    const sub = subjectOf(payload.sub);
    if (!sid && !sub) return { ok: false, detail: 'The logout token names neither a session (sid) nor a subject (sub).' };
    const jti = text(payload.jti);
    if (!jti) return { ok: false, detail: 'The logout token has no jti.' };
    return { ok: true, jti, sid, sub, iat: payload.iat! };
  }
}

/**
 * `gatehouse/client`: a typed client of Gatehouse's HTTP API for browsers and Node (fetch only).
 *
 * - Session mode: the server keeps the session; the browser carries the `__Host-gatehouse` cookie
 *   (requests go out with `credentials: 'include'`).
 * - Token mode: the access token lives in memory only; the refresh token in memory too (`body`
 *   transport) or in an HttpOnly cookie scoped to the refresh path (`cookie` transport).
 * - Refresh is automatic and single-flight: however many requests meet an expired access token at
 *   once (tabs of one client, parallel calls), exactly one refresh request goes out, and each of them
 *   retries once with the new token. Refresh tokens are single-use, so two racing refreshes would
 *   otherwise make one of them look like a stolen token — the classic cause of random logouts.
 * - Errors are `GatehouseClientError`s typed by the server's problem `code`.
 * - DPoP (RFC 9449), on by default where WebCrypto exists: token logins and refreshes carry a proof
 *   of the client's P-256 key (created non-extractable, kept in IndexedDB in browsers), the tokens are
 *   bound to it (`token_type: "DPoP"`), and every authenticated call signs a fresh proof, retrying once
 *   with the server's nonce when it asks for one (`use_dpop_nonce`).
 *
 * @example
 * ```ts
 * import { GatehouseClient } from 'gatehouse/client';
 *
 * const gh = new GatehouseClient({ baseUrl: 'https://auth.example.com', mode: 'token' });
 * await gh.login('ada@example.com', 'correct horse battery staple');
 * const { user } = await gh.me();
 * // The access token goes only to Gatehouse's origin and the origins listed in `apiOrigins`:
 * const api = new GatehouseClient({ baseUrl: 'https://auth.example.com', mode: 'token', apiOrigins: ['https://api.example.com'] });
 * const res = await api.fetch('https://api.example.com/notes'); // bearer attached, refreshed when needed
 * ```
 */
import { defaultKeyStore, DpopSigner, wantsNonce, type DpopKeyStore } from './dpop.js';
import { errorFromResponse, GatehouseClientError } from './errors.js';
import type {
  Device,
  IdentityProvider,
  LinkedIdentity,
  EventPage,
  Me,
  MfaAnswer,
  MfaRequired,
  MfaStatus,
  Passkey,
  SessionLogin,
  SessionMode,
  TokenGrant,
  Tokens,
  TotpEnrolment,
  User,
  WebAuthnCreationOptions,
  WebAuthnRequestOptions,
  WebAuthnResponse,
} from './types.js';

export { GatehouseClientError, isGatehouseClientError, type ErrorCode, type Problem } from './errors.js';
export { indexedDbKeyStore, memoryKeyStore, type DpopKeyStore } from './dpop.js';
export type * from './types.js';

export type RefreshTransport = 'body' | 'cookie';

export interface GatehouseClientOptions {
  /** Origin of the Gatehouse server, e.g. `https://auth.example.com`; empty for the page's own origin. */
  baseUrl?: string;
  /** Where the auth routes are mounted. Default `/auth`. */
  basePath?: string;
  /** How `login` signs in unless told otherwise. Default `session`. */
  mode?: SessionMode;
  /** Token mode: where the refresh token travels. Default `body` (kept in memory). */
  refreshTransport?: RefreshTransport;
  /** The fetch to use (a cookie-aware one in Node, a wrapped one in tests). Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Sent with every request so that the browser carries Gatehouse's cookies. Default `include`. */
  credentials?: RequestCredentials;
  /** Tokens to start with (token mode), e.g. restored by the application. */
  tokens?: Tokens;
  /** Called whenever the tokens change (login, refresh, logout, failed refresh → null). */
  onTokens?: (tokens: Tokens | null) => void;
  /**
   * Origins of the application's own APIs (e.g. `https://api.example.com`) that `fetch` may send the
   * access token to, besides Gatehouse's own origin (that of `baseUrl`, or the page's when `baseUrl`
   * is empty). A request to any other origin goes out as a plain fetch: no token, no refresh.
   */
  apiOrigins?: readonly string[];
  /**
   * DPoP: bind token-mode sessions to a key this client holds. Default on where WebCrypto exists
   * (`{ store }` chooses where the key pair is kept; default IndexedDB in browsers, memory elsewhere);
   * `false` for plain bearer tokens.
   */
  dpop?: boolean | { store?: DpopKeyStore };
  /** The time DPoP proofs are dated with (ms), e.g. corrected for a skewed device clock. Default `Date.now`. */
  now?: () => number;
}

/** `https://api.example.com` from an origin or URL string; a TypeError naming the option otherwise. */
function originOf(v: string, option: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new TypeError(`GatehouseClient: ${option} "${v}" is not an absolute URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`GatehouseClient: ${option} "${v}" is not an http(s) origin`);
  return u.origin;
}

/** The page's location in a browser; undefined in Node. */
const pageHref = (): string | undefined => (globalThis as { location?: { href?: unknown } }).location?.href as string | undefined;


export type SignedIn = ({ mode: 'session' } & SessionLogin) | ({ mode: 'token' } & TokenGrant);

/** A sign-in, or (a correct password of a user with a second factor) what finishes it. */
export type LoginResult = SignedIn | MfaRequired;

interface Call {
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  path: string;
  body?: unknown;
  /** Attach the bearer token and refresh it when it has expired. */
  auth?: boolean;
  /** A token request (token login): sign a DPoP proof for it. */
  tokenRequest?: boolean;
}

/** A body that can be sent twice (for the nonce retry). */
const resendable = (b: unknown) => b === undefined || b === null || typeof b === 'string' || b instanceof URLSearchParams;

export class GatehouseClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;
  private readonly credentials: RequestCredentials;
  private readonly onTokens: ((t: Tokens | null) => void) | undefined;
  /** Where `fetch` may send the access token. */
  private readonly tokenOrigins: ReadonlySet<string>;
  private mode: SessionMode;
  private transport: RefreshTransport;
  private tokens: Tokens | null;
  private refreshing: Promise<void> | null = null;
  /** The mode and transport a login that answered `mfa_required` asked for. */
  private pending: { mode: SessionMode; transport: RefreshTransport } | null = null;
  /** The last refused refresh, so that late callers holding the same stale token get the same error. */
  private refused: { from: string | null; err: GatehouseClientError } | null = null;
  private readonly signer: DpopSigner | null;

  constructor(opts: GatehouseClientOptions = {}) {
    const basePath = (opts.basePath ?? '/auth').replace(/\/+$/, '');
    this.base = (opts.baseUrl ?? '').replace(/\/+$/, '') + basePath;
    const origins = (opts.apiOrigins ?? []).map((o) => originOf(o, 'apiOrigins'));
    const own = opts.baseUrl ? originOf(opts.baseUrl, 'baseUrl') : pageHref() ? new URL(pageHref()!).origin : null;
    if (own) origins.push(own);
    this.tokenOrigins = new Set(origins);
    const f = opts.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('GatehouseClient needs fetch (pass options.fetch)');
    // Bound, so that a browser's window.fetch is never called with the client as `this`.
    this.doFetch = (input, init) => f(input, init);
    this.credentials = opts.credentials ?? 'include';
    this.onTokens = opts.onTokens;
    this.mode = opts.mode ?? (opts.tokens ? 'token' : 'session');
    this.transport = opts.refreshTransport ?? (opts.tokens && !opts.tokens.refreshToken ? 'cookie' : 'body');
    this.tokens = opts.tokens ? { ...opts.tokens } : null;
    const dpop = opts.dpop ?? true;
    this.signer = dpop !== false && typeof globalThis.crypto?.subtle?.generateKey === 'function' ? new DpopSigner((typeof dpop === 'object' && dpop.store) || defaultKeyStore(), opts.now) : null;
  }

  /** The current access token (token mode), or null. */
  get accessToken(): string | null {
    return this.tokens?.accessToken ?? null;
  }

  /** Replaces the tokens (token mode), e.g. after restoring them; null forgets them. */
  setTokens(tokens: Tokens | null): void {
    this.tokens = tokens ? { ...tokens } : null;
    if (tokens) {
      this.mode = 'token';
      this.refused = null;
    }
    this.onTokens?.(this.tokens ? { ...this.tokens } : null);
  }

  // ---------------------------------------------------------------------------- account

  /** Creates an account. The answer is the same for a new and a taken address. */
  async register(email: string, password: string): Promise<{ user: User }> {
    return this.call({ method: 'POST', path: '/register', body: { email, password } });
  }

  /**
   * Signs in. Session mode sets the session cookie (in a browser); token mode keeps the tokens in
   * memory (and, with the cookie transport, the refresh token in an HttpOnly cookie).
   */
  async login(email: string, password: string, opts: { mode?: SessionMode; refreshTransport?: RefreshTransport } = {}): Promise<LoginResult> {
    const mode = opts.mode ?? this.mode;
    const transport = opts.refreshTransport ?? this.transport;
    const body: Record<string, string> = { email, password, mode };
    if (mode === 'token') body.refresh_transport = transport;
    let res: SessionLogin | TokenGrant;
    try {
      res = await this.call<SessionLogin | TokenGrant>({ method: 'POST', path: '/login', body, tokenRequest: mode === 'token' });
    } catch (e) {
      if (!(e instanceof GatehouseClientError) || e.code !== 'mfa_required' || !e.problem) throw e;
      const p = e.problem;
      this.pending = { mode, transport };
      return {
        mode: 'mfa_required',
        mfaToken: String(p.mfa_token),
        methods: (p.methods as MfaRequired['methods']) ?? [],
        expiresIn: Number(p.expires_in),
        webauthn: (p.webauthn as WebAuthnRequestOptions | undefined) ?? null,
      };
    }
    return this.signedIn(res, mode, transport);
  }

  /**
   * Finishes a sign-in that answered `mfa_required`, in the mode the login asked for, with a TOTP code,
   * a recovery code or a passkey assertion. Five wrong answers kill the token (`invalid_mfa_token`).
   */
  async completeMfa(mfaToken: string, answer: MfaAnswer): Promise<SignedIn> {
    const { mode, transport } = this.pending ?? { mode: this.mode, transport: this.transport };
    const res = await this.call<SessionLogin | TokenGrant>({ method: 'POST', path: '/login/mfa', body: { mfa_token: mfaToken, ...answer }, tokenRequest: mode === 'token' });
    this.pending = null;
    return this.signedIn(res, mode, transport);
  }

  /** Fresh passkey options for a pending sign-in (each passkey try spends its challenge). */
  async mfaPasskeyOptions(mfaToken: string): Promise<WebAuthnRequestOptions> {
    return this.call({ method: 'POST', path: '/login/mfa/options', body: { mfa_token: mfaToken } });
  }

  /** Options for a passwordless sign-in: pass to `PublicKeyCredential.parseRequestOptionsFromJSON`. */
  async passkeyLoginOptions(): Promise<WebAuthnRequestOptions> {
    return this.call({ method: 'POST', path: '/passkeys/login/options', body: {} });
  }

  /** Passwordless sign-in with the assertion (`credential.toJSON()`) of `navigator.credentials.get()`. */
  async passkeyLogin(response: WebAuthnResponse, opts: { mode?: SessionMode; refreshTransport?: RefreshTransport } = {}): Promise<SignedIn> {
    const mode = opts.mode ?? this.mode;
    const transport = opts.refreshTransport ?? this.transport;
    const body: Record<string, unknown> = { response, mode };
    if (mode === 'token') body.refresh_transport = transport;
    return this.signedIn(await this.call<SessionLogin | TokenGrant>({ method: 'POST', path: '/passkeys/login', body, tokenRequest: mode === 'token' }), mode, transport);
  }

  private signedIn(res: SessionLogin | TokenGrant, mode: SessionMode, transport: RefreshTransport): SignedIn {
    this.mode = mode;
    if (mode === 'token') {
      const grant = res as TokenGrant;
      this.transport = transport;
      this.setTokens(tokensOf(grant));
      return { mode: 'token', ...grant };
    }
    if (this.tokens) this.setTokens(null);
    return { mode: 'session', ...(res as SessionLogin) };
  }

  async me(): Promise<Me> {
    return this.call({ method: 'GET', path: '/me', auth: true });
  }

  /** Exchanges the refresh token for new tokens now. Concurrent calls share one request. */
  async refresh(): Promise<void> {
    await this.refreshOnce(this.tokens?.accessToken ?? null, true);
  }

  /** Ends this session and forgets the tokens. */
  async logout(): Promise<void> {
    try {
      await this.call({ method: 'POST', path: '/logout', body: {}, auth: true });
    } finally {
      if (this.tokens) this.setTokens(null);
    }
  }

  async sessions(): Promise<Device[]> {
    return (await this.call<{ sessions: Device[] }>({ method: 'GET', path: '/sessions', auth: true })).sessions;
  }

  /** Revokes one session (another one needs a recent `reauth`). */
  async revokeSession(id: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/sessions/${encodeURIComponent(id)}`, auth: true });
  }

  /** Revokes every other session; resolves how many. Needs a recent `reauth`. */
  async logoutOthers(): Promise<number> {
    return (await this.call<{ revoked: number }>({ method: 'POST', path: '/logout-others', body: {}, auth: true })).revoked;
  }

  /** Revokes every session, this one included, and forgets the tokens. Needs a recent `reauth`. */
  async logoutAll(): Promise<void> {
    await this.call({ method: 'POST', path: '/logout-all', body: {}, auth: true });
    if (this.tokens) this.setTokens(null);
  }

  /**
   * Step-up for sensitive actions with the password, a TOTP code or a passkey assertion; resolves how
   * long it lasts (seconds). A user with a second factor must use it (the password alone answers
   * `reauth_required` with `acr: 'aal2'`). In token mode, the tokens are refreshed afterwards so that
   * the access token carries the new `acr` and `auth_time`.
   */
  async reauth(proof: string | { password?: string; totp?: string; webauthn?: WebAuthnResponse }): Promise<{ reauthenticated_at: string; valid_for: number }> {
    const body = typeof proof === 'string' ? { password: proof } : proof;
    const out = await this.call<{ reauthenticated_at: string; valid_for: number }>({ method: 'POST', path: '/reauth', body, auth: true });
    if (this.tokens) await this.refresh();
    return out;
  }

  /** Passkey options for a step-up of this session. */
  async reauthOptions(): Promise<WebAuthnRequestOptions> {
    return this.call({ method: 'POST', path: '/reauth/options', body: {}, auth: true });
  }

  // ---------------------------------------------------------------------------- second factors

  async mfaStatus(): Promise<MfaStatus> {
    return this.call({ method: 'GET', path: '/mfa', auth: true });
  }

  /** Starts setting up an authenticator app (needs a recent authentication). */
  async beginTotp(): Promise<TotpEnrolment> {
    return this.call({ method: 'POST', path: '/mfa/totp', body: {}, auth: true });
  }

  /** Confirms the authenticator app with a first code; resolves the ten recovery codes (show them once). */
  async confirmTotp(code: string): Promise<string[]> {
    return (await this.call<{ recovery_codes: string[] }>({ method: 'POST', path: '/mfa/totp/confirm', body: { code }, auth: true })).recovery_codes;
  }

  async removeTotp(): Promise<void> {
    await this.call({ method: 'DELETE', path: '/mfa/totp', auth: true });
  }

  /** Ten new recovery codes; the old ones stop working. */
  async regenerateRecoveryCodes(): Promise<string[]> {
    return (await this.call<{ recovery_codes: string[] }>({ method: 'POST', path: '/mfa/recovery-codes', body: {}, auth: true })).recovery_codes;
  }

  // ---------------------------------------------------------------------------- passkeys

  /** Options for `navigator.credentials.create()` (pass to `PublicKeyCredential.parseCreationOptionsFromJSON`). */
  async passkeyRegistrationOptions(): Promise<WebAuthnCreationOptions> {
    return this.call({ method: 'POST', path: '/passkeys/register/options', body: {}, auth: true });
  }

  /** Registers the new credential (`credential.toJSON()`). */
  async registerPasskey(response: WebAuthnResponse, name?: string): Promise<Passkey> {
    return (await this.call<{ passkey: Passkey }>({ method: 'POST', path: '/passkeys/register', body: { response, ...(name ? { name } : {}) }, auth: true })).passkey;
  }

  async passkeys(): Promise<Passkey[]> {
    return (await this.call<{ passkeys: Passkey[] }>({ method: 'GET', path: '/passkeys', auth: true })).passkeys;
  }

  async renamePasskey(id: string, name: string): Promise<void> {
    await this.call({ method: 'PATCH', path: `/passkeys/${encodeURIComponent(id)}`, body: { name }, auth: true });
  }

  /** Removes a passkey (needs a recent authentication). */
  async removePasskey(id: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/passkeys/${encodeURIComponent(id)}`, auth: true });
  }

  // ---------------------------------------------------------------- identity providers

  /** The configured identity providers ("Continue with …" buttons). */
  async identityProviders(): Promise<IdentityProvider[]> {
    return (await this.call<{ providers: IdentityProvider[] }>({ method: 'GET', path: '/oidc/providers' })).providers;
  }

  /**
   * Finishes a token-mode sign-in at a provider: `code` is the single-use value the callback put in
   * the fragment of `return_to` (`#code=…`), good once for 60 seconds.
   *
   * @example
   *   const code = new URLSearchParams(location.hash.slice(1)).get('code');
   *   if (code) { history.replaceState(null, '', location.pathname); await gh.exchangeProviderCode(code); }
   */
  async exchangeProviderCode(code: string, opts: { refreshTransport?: RefreshTransport } = {}): Promise<SignedIn> {
    const transport = opts.refreshTransport ?? this.transport;
    return this.signedIn(await this.call<TokenGrant>({ method: 'POST', path: '/oidc/exchange', body: { code, refresh_transport: transport }, tokenRequest: true }), 'token', transport);
  }

  /** The user's linked identities, and whether the account has a password. */
  async identities(): Promise<{ identities: LinkedIdentity[]; hasPassword: boolean }> {
    const r = await this.call<{ identities: LinkedIdentity[]; has_password: boolean }>({ method: 'GET', path: '/identities', auth: true });
    return { identities: r.identities, hasPassword: r.has_password };
  }

  /** Starts linking a provider (recent authentication required): send the browser to the URL it resolves. */
  async linkIdentity(provider: string, returnTo = '/account'): Promise<string> {
    return (await this.call<{ authorization_url: string }>({ method: 'POST', path: '/identities/link', body: { provider, return_to: returnTo }, auth: true })).authorization_url;
  }

  /** Unlinks an identity (refused with `last_way_in` when it is the account's only way to sign in). */
  async unlinkIdentity(id: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/identities/${encodeURIComponent(id)}`, auth: true });
  }

  /** Changes the password; every other session ends. */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.call({ method: 'POST', path: '/password', body: { current_password: currentPassword, new_password: newPassword }, auth: true });
  }

  /** The user's security events, newest first; pass `next_cursor` as `cursor` for the next page. */
  async events(opts: { limit?: number; cursor?: string } = {}): Promise<EventPage> {
    const q = new URLSearchParams();
    if (opts.limit !== undefined) q.set('limit', String(opts.limit));
    if (opts.cursor !== undefined) q.set('cursor', opts.cursor);
    const qs = q.toString();
    return this.call({ method: 'GET', path: `/events${qs ? `?${qs}` : ''}`, auth: true });
  }

  /** Deletes the account and every session. Needs a recent `reauth`. */
  async deleteAccount(): Promise<void> {
    await this.call({ method: 'DELETE', path: '/account', auth: true });
    if (this.tokens) this.setTokens(null);
  }

  async verifyEmail(token: string): Promise<void> {
    await this.call({ method: 'POST', path: '/verify-email', body: { token } });
  }

  async resendVerification(): Promise<{ status: 'accepted'; email_verified: boolean }> {
    return this.call({ method: 'POST', path: '/verify-email/resend', body: {}, auth: true });
  }

  async requestPasswordReset(email: string): Promise<void> {
    await this.call({ method: 'POST', path: '/password-reset', body: { email } });
  }

  async confirmPasswordReset(token: string, newPassword: string): Promise<void> {
    await this.call({ method: 'POST', path: '/password-reset/confirm', body: { token, new_password: newPassword } });
  }

  async requestEmailChange(newEmail: string): Promise<void> {
    await this.call({ method: 'POST', path: '/email', body: { new_email: newEmail }, auth: true });
  }

  async confirmEmailChange(token: string): Promise<void> {
    await this.call({ method: 'POST', path: '/email/confirm', body: { token } });
  }

  /**
   * fetch for the application's own API: attaches the bearer token (token mode) and, when the answer
   * is 401 `invalid_token`, refreshes (single-flight) and retries once. Resolves the Response as is.
   * Only for Gatehouse's origin and `apiOrigins`: a URL on any other origin is fetched as it is,
   * without the token (or the client's `credentials`), so a URL taken from elsewhere cannot leak it.
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    if (!this.mayCarryToken(input)) return this.doFetch(input, init);
    const send = (token: string | null) => {
      const headers = new Headers(init.headers);
      const dpop = token !== null && this.tokens?.tokenType === 'DPoP';
      if (token) headers.set('authorization', `${dpop ? 'DPoP' : 'Bearer'} ${token}`);
      return this.exchange(String(input), { credentials: this.credentials, ...init, headers }, dpop ? { token: token! } : null);
    };
    const token = this.tokens?.accessToken ?? null;
    const res = await send(token);
    if (!(await this.shouldRefresh(res, token))) return res;
    await this.refreshOnce(token, false);
    return send(this.tokens?.accessToken ?? null);
  }

  // ---------------------------------------------------------------------------- internals

  /** Whether `input` resolves (against the page, in a browser) to an origin the token may go to. */
  private mayCarryToken(input: string | URL): boolean {
    let url: URL;
    try {
      url = input instanceof URL ? input : new URL(String(input), pageHref());
    } catch {
      return false;
    }
    return this.tokenOrigins.has(url.origin);
  }

  private send(c: Call, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (c.body !== undefined) headers['content-type'] = 'application/json';
    const dpop = c.auth && token !== null && this.tokens?.tokenType === 'DPoP';
    if (c.auth && token) headers.authorization = `${dpop ? 'DPoP' : 'Bearer'} ${token}`;
    const init: RequestInit = { method: c.method, headers, credentials: this.credentials, ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}) };
    return this.exchange(this.base + c.path, init, dpop ? { token: token! } : c.tokenRequest ? {} : null);
  }

  /** The absolute URL a request goes to (proofs name it), or null when there is no base to resolve against. */
  private absolute(url: string): string | null {
    try {
      return new URL(url, (globalThis as { location?: { href: string } }).location?.href).href;
    } catch {
      return null;
    }
  }

  /**
   * One request; with `proof`, a DPoP proof (for `proof.token` when one is presented) signed for it,
   * and one retry with a new proof when the server answers with a nonce to use.
   */
  private async exchange(url: string, init: RequestInit, proof: { token?: string } | null): Promise<Response> {
    const signer = this.signer;
    const abs = proof && signer ? this.absolute(url) : null;
    if (!signer || abs === null) return this.doFetch(url, init);
    const attempt = async () => {
      const headers = new Headers(init.headers);
      headers.set('dpop', await signer.proof(init.method ?? 'GET', abs, proof!.token));
      return this.doFetch(url, { ...init, headers });
    };
    const res = await attempt();
    if (signer.remember(abs, res) && resendable(init.body) && (await wantsNonce(res))) {
      await res.body?.cancel().catch(() => undefined);
      const again = await attempt();
      signer.remember(abs, again);
      return again;
    }
    return res;
  }

  /** A 401 `invalid_token` to a bearer request in token mode with a way to refresh. Consumes nothing else. */
  private async shouldRefresh(res: Response, token: string | null): Promise<boolean> {
    if (res.status !== 401 || token === null || this.mode !== 'token') return false;
    // WWW-Authenticate: Bearer error="invalid_token" marks an expired or revoked access token.
    if (!/invalid_token/.test(res.headers.get('www-authenticate') ?? '')) return false;
    // A caller whose 401 arrives after the refresh for its token was refused (and the tokens were
    // forgotten) still goes through refreshOnce, which hands it that same refusal.
    const refusedForThis = this.refused !== null && this.refused.from === token;
    if (!refusedForThis && !this.tokens?.refreshToken && this.transport !== 'cookie') return false;
    await res.body?.cancel().catch(() => undefined);
    return true;
  }

  private async call<T>(c: Call): Promise<T> {
    const token = c.auth ? (this.tokens?.accessToken ?? null) : null;
    let res = await this.send(c, token);
    if (c.auth && (await this.shouldRefresh(res, token))) {
      await this.refreshOnce(token, false);
      res = await this.send(c, this.tokens?.accessToken ?? null);
    }
    if (!res.ok) throw await errorFromResponse(res);
    if (res.status === 204) return undefined as T;
    const type = res.headers.get('content-type') ?? '';
    if (!/json/i.test(type)) {
      await res.body?.cancel().catch(() => undefined);
      return undefined as T;
    }
    return (await res.json()) as T;
  }

  /**
   * One refresh for everyone who saw `stale` fail. A caller whose token was already replaced just
   * retries with the new one; callers arriving while a refresh is in flight wait for it.
   */
  private refreshOnce(stale: string | null, force: boolean): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (!force && this.refused && this.refused.from === stale) return Promise.reject(this.refused.err);
    if (!force && stale !== null && this.tokens?.accessToken !== stale) return Promise.resolve();
    this.refreshing = this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const from = this.tokens?.accessToken ?? null;
    const refreshToken = this.tokens?.refreshToken;
    const viaCookie = !refreshToken;
    if (viaCookie && this.transport !== 'cookie') throw new GatehouseClientError('invalid_grant', 400, { message: 'no refresh token' });
    const res = await this.exchange(
      `${this.base}/refresh`,
      { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json' }, credentials: this.credentials, body: JSON.stringify(viaCookie ? {} : { refresh_token: refreshToken }) },
      {},
    );
    if (!res.ok) {
      const err = await errorFromResponse(res);
      // A refused refresh token will not work again: forget the tokens (the user must sign in).
      if (err.code === 'invalid_grant') {
        this.setTokens(null);
        this.refused = { from, err };
      }
      throw err;
    }
    const grant = (await res.json()) as TokenGrant;
    this.mode = 'token';
    this.setTokens(tokensOf(grant));
  }
}

function tokensOf(grant: TokenGrant): Tokens {
  return { accessToken: grant.access_token, tokenType: grant.token_type, ...(grant.refresh_token ? { refreshToken: grant.refresh_token } : {}) };
}

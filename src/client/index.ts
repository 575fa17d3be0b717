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
 * const res = await gh.fetch('https://api.example.com/notes'); // bearer attached, refreshed when needed
 * ```
 */
import { defaultKeyStore, DpopSigner, wantsNonce, type DpopKeyStore } from './dpop.js';
import { errorFromResponse, GatehouseClientError } from './errors.js';
import type { Device, EventPage, Me, SessionLogin, SessionMode, TokenGrant, Tokens, User } from './types.js';

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
   * DPoP: bind token-mode sessions to a key this client holds. Default on where WebCrypto exists
   * (`{ store }` chooses where the key pair is kept; default IndexedDB in browsers, memory elsewhere);
   * `false` for plain bearer tokens.
   */
  dpop?: boolean | { store?: DpopKeyStore };
  /** The time DPoP proofs are dated with (ms), e.g. corrected for a skewed device clock. Default `Date.now`. */
  now?: () => number;
}

export type LoginResult = ({ mode: 'session' } & SessionLogin) | ({ mode: 'token' } & TokenGrant);

interface Call {
  method: 'GET' | 'POST' | 'DELETE';
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
  private mode: SessionMode;
  private transport: RefreshTransport;
  private tokens: Tokens | null;
  private refreshing: Promise<void> | null = null;
  /** The last refused refresh, so that late callers holding the same stale token get the same error. */
  private refused: { from: string | null; err: GatehouseClientError } | null = null;
  private readonly signer: DpopSigner | null;

  constructor(opts: GatehouseClientOptions = {}) {
    const basePath = (opts.basePath ?? '/auth').replace(/\/+$/, '');
    this.base = (opts.baseUrl ?? '').replace(/\/+$/, '') + basePath;
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
    const res = await this.call<SessionLogin | TokenGrant>({ method: 'POST', path: '/login', body, tokenRequest: mode === 'token' });
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

  /** Confirms the password for sensitive actions; resolves how long the confirmation lasts (seconds). */
  async reauth(password: string): Promise<{ reauthenticated_at: string; valid_for: number }> {
    return this.call({ method: 'POST', path: '/reauth', body: { password }, auth: true });
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
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
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

/**
 * Signing in with an identity provider, as use cases: start a sign-in (or a link from the account
 * page), finish it at the callback, trade a token-mode exchange code for tokens, list and unlink a
 * user's identities, and end sessions on the provider's back-channel logout.
 *
 * - The flow is bound to the browser: a single-use secret in a short-lived `__Host-` cookie names a
 *   stored record (its hash only), and `state`, `nonce` and the PKCE verifier are derived from that
 *   secret, so the store holds none of them and a callback without the cookie that started it is refused.
 * - A known identity signs in to its user. A new identity creates a user only when the provider allows
 *   sign-up, and only with an address the provider says is verified and no account holds: an
 *   existing account is never linked by email (pre-account takeover); its owner signs in and links.
 * - A link is bound to the session that asked for it (recent authentication required) and finishes
 *   only in the browser that started it, with that session still live (no login CSRF).
 * - A way in like the others: it proves, then calls the one session start (`amr` `fed` plus what the
 *   ID token's `amr` says) and records the provider session beside the session.
 */
import type { ProviderConfig } from '../oidc-config.js';
import type { Clock, IdentityRecord, IdentityStore, ProofMarkStore, Random, SessionMode, UserRecord } from '../ports.js';
import type { ErrorCode } from '../errors.js';
import { GatehouseError } from '../errors.js';
import type { Assurance } from './assurance.js';
import type { Audit, RequestMeta } from './audit.js';
import type { Challenges } from './challenges.js';
import { b64url, hmacSha256, randomId, safeEqual, sha256 } from './crypto.js';
import { normalizeEmail } from './email.js';
import { LOGOUT_TOKEN_MAX_AGE_S, type FlowSecrets, type OidcMethod, type ProviderClaims } from './methods/oidc.js';
import type { PasskeyMethod } from './methods/passkey.js';
import { hasPassword, NO_PASSWORD } from './methods/password.js';
import { mergeMethods, type Proof } from './methods/proof.js';
import type { AuthContext, SessionControl, Started } from './session-control.js';
import type { UserDirectory } from './users.js';

/** How long a sign-in at the provider may take: the flow cookie's and record's life. */
export const FLOW_TTL_MS = 10 * 60_000;
/** How long a token-mode exchange code lives. */
export const EXCHANGE_TTL_MS = 60_000;

/** Where to land after the callback: a same-origin path (`/…`, not `//…`, no backslash or control character). */
export function safeReturnTo(v: string | null | undefined): string | null {
  if (v === null || v === undefined || v === '') return null;
  // eslint-disable-next-line no-control-regex
  if (v.length > 1024 || !v.startsWith('/') || v.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(v)) return null;
  // Resolved against a placeholder origin, the path must stay on it (catches `/\x`, encoded tricks).
  const u = new URL(v, 'https://gatehouse.invalid');
  return u.origin === 'https://gatehouse.invalid' ? u.pathname + u.search + u.hash : null;
}

interface FlowBinding {
  /** provider id */
  p: string;
  m: SessionMode;
  /** return_to */
  r: string;
  /** what the flow is for */
  k: 'signin' | 'link' | 'reauth';
  /** the session a link or re-authentication was asked from, or null for a sign-in */
  l: string | null;
  /** RFC 9449 `dpop_jkt`: the key the token-mode exchange must prove */
  j: string | null;
}

interface ExchangeBinding {
  p: string;
  s: string;
  sid: string | null;
  amr: string[];
  cv: number;
  j: string | null;
}

export interface StartedFlow {
  /** Where to send the browser. */
  url: string;
  /** The flow cookie's value (single use, `FLOW_TTL_MS`). */
  cookie: string;
}

export type Refusal = { ok: false; code: ErrorCode; detail: string };

export type CallbackOutcome =
  | { ok: true; kind: 'session'; started: Extract<Started, { mode: 'session' }>; returnTo: string }
  | { ok: true; kind: 'code'; code: string; returnTo: string }
  | { ok: true; kind: 'linked'; identity: IdentityRecord; returnTo: string }
  | { ok: true; kind: 'reauthenticated'; returnTo: string }
  | Refusal;

export type ExchangeOutcome = { ok: true; started: Extract<Started, { mode: 'token' }> } | Refusal;

export interface FederationDeps {
  oidc: OidcMethod;
  challenges: Challenges;
  identities: IdentityStore;
  users: UserDirectory;
  sessions: SessionControl;
  assurance: Assurance;
  passkeys: PasskeyMethod;
  proofs: ProofMarkStore;
  audit: Audit;
  clock: Clock;
  random: Random;
  requireVerifiedEmail: boolean;
}

const refuse = (code: ErrorCode, detail: string): Refusal => ({ ok: false, code, detail });
const derive = (secret: string, what: string) => b64url(hmacSha256(Buffer.from(secret), `gatehouse/oidc/${what}`));
const secretsOf = (secret: string): FlowSecrets => ({ state: derive(secret, 'state'), nonce: derive(secret, 'nonce'), verifier: derive(secret, 'pkce') });
const sameText = (a: string, b: string) => safeEqual(sha256(a), sha256(b));

/** A provider as the public API shows it. */
export interface ProviderInfo {
  id: string;
  name: string;
  signUp: boolean;
}

export class Federation {
  constructor(private readonly d: FederationDeps) {}

  providers(): ProviderInfo[] {
    return this.d.oidc.list().map((p) => ({ id: p.id, name: p.name, signUp: p.signUp }));
  }

  /**
   * Starts a sign-in at `providerId`: the URL to send the browser to and the flow cookie binding the
   * callback to this browser. `dpopJkt` (token mode) binds the exchange to a key (RFC 9449 §10).
   */
  async start(providerId: string, req: { mode: SessionMode; returnTo: string; redirectUri: string; dpopJkt: string | null }): Promise<StartedFlow | Refusal> {
    return this.begin(providerId, { p: providerId, m: req.mode, r: req.returnTo, k: 'signin', l: null, j: req.dpopJkt }, null, req.redirectUri);
  }

  /** Starts linking an identity at `providerId` to the signed-in user (recent authentication required). */
  async startLink(ctx: AuthContext, providerId: string, req: { returnTo: string; redirectUri: string }): Promise<StartedFlow | Refusal> {
    await this.d.assurance.requireRecent(ctx);
    return this.begin(providerId, { p: providerId, m: ctx.mode, r: req.returnTo, k: 'link', l: ctx.sessionId, j: null }, ctx.user.id, req.redirectUri);
  }

  /**
   * Starts a re-authentication of the current session at a provider linked to the user (step-up for
   * an account that signs in only through providers): the session's auth time moves, `fed` is added.
   */
  async startReauth(ctx: AuthContext, providerId: string, req: { returnTo: string; redirectUri: string }): Promise<StartedFlow | Refusal> {
    return this.begin(providerId, { p: providerId, m: ctx.mode, r: req.returnTo, k: 'reauth', l: ctx.sessionId, j: null }, ctx.user.id, req.redirectUri);
  }

  private async begin(providerId: string, binding: FlowBinding, userId: string | null, redirectUri: string): Promise<StartedFlow | Refusal> {
    const p = this.d.oidc.provider(providerId);
    if (!p) return refuse('not_found', `No identity provider "${providerId}" is configured.`);
    const { token, secret } = await this.d.challenges.issueSecret('oidc.flow', userId, JSON.stringify(binding), FLOW_TTL_MS);
    const url = await this.d.oidc.authorizationUrl(p, redirectUri, secretsOf(secret));
    if (!url) return refuse('oidc_provider_unavailable', `${p.name} could not be reached.`);
    return { url: url.href, cookie: token };
  }

  /**
   * The provider sent the browser back. `flowCookie` is the cookie the start set (null when the
   * browser has none); `current` the cookie session of the request, if any.
   */
  async callback(providerId: string, req: { query: URLSearchParams; redirectUri: string; flowCookie: string | null; current: AuthContext | null; meta: RequestMeta }): Promise<CallbackOutcome> {
    const d = this.d;
    const p = d.oidc.provider(providerId);
    if (!p) return refuse('not_found', `No identity provider "${providerId}" is configured.`);
    const out = await this.finish(p, req);
    if (!out.ok) await d.audit.record('login.failed', { userId: req.current?.user.id ?? null }, req.meta, { reason: `oidc_${out.code}`, provider: p.id });
    return out;
  }

  private async finish(p: ProviderConfig, req: { query: URLSearchParams; redirectUri: string; flowCookie: string | null; current: AuthContext | null; meta: RequestMeta }): Promise<CallbackOutcome> {
    const d = this.d;
    const state = req.query.get('state');
    if (!state) return refuse('oidc_callback_invalid', 'The callback carries no state parameter.');
    const taken = req.flowCookie ? await d.challenges.takeSecret(req.flowCookie, 'oidc.flow') : null;
    if (!taken) return refuse('oidc_callback_invalid', 'No sign-in with this provider was started in this browser, or it expired or was used already.');
    const flow = JSON.parse(taken.record.binding) as FlowBinding;
    // The flow was started for another provider: a mix-up (a response meant for one provider sent to another's callback).
    if (flow.p !== p.id) return refuse('oidc_callback_invalid', 'This sign-in was started with another provider.');
    const secrets = secretsOf(taken.secret);
    if (!sameText(state, secrets.state)) return refuse('oidc_callback_invalid', 'The state parameter does not match the sign-in started in this browser.');
    const url = new URL(req.redirectUri);
    url.search = req.query.toString();
    const r = await d.oidc.complete(p, url, secrets);
    if (!r.ok) {
      if (r.reason === 'denied') return refuse('oidc_denied', `${p.name} answered "${r.error}".`);
      if (r.reason === 'unavailable') return refuse('oidc_provider_unavailable', `${p.name} could not be reached.`);
      return refuse('oidc_callback_invalid', r.detail);
    }
    if (flow.k === 'link') return this.link(p, flow, taken.record.userId, r.claims, req.current, req.meta);
    if (flow.k === 'reauth') return this.reauth(p, flow, taken.record.userId, r.claims, req.current, req.meta);
    return this.signIn(p, flow, r.claims, req.meta);
  }

  /**
   * Only the session that asked may finish a link or re-authentication, in the browser that asked: a
   * callback URL carried into another browser (another person's session) changes nothing.
   */
  private async asking(flow: FlowBinding, userId: string | null, current: AuthContext | null) {
    const asking = flow.l ? await this.d.sessions.fresh(flow.l) : null;
    if (!asking || asking.userId !== userId || (current !== null && current.sessionId !== flow.l)) return null;
    return asking;
  }

  private async reauth(p: ProviderConfig, flow: FlowBinding, userId: string | null, c: ProviderClaims, current: AuthContext | null, meta: RequestMeta): Promise<CallbackOutcome> {
    const d = this.d;
    const asking = await this.asking(flow, userId, current);
    if (!asking) return refuse('oidc_callback_invalid', 'This re-authentication was started by another session.');
    const identity = await d.identities.getIdentity(p.id, c.subject);
    if (!identity || identity.userId !== asking.userId) {
      await d.audit.record('reauth.failed', { userId: asking.userId, sessionId: asking.id }, meta, { provider: p.id });
      return refuse('oidc_callback_invalid', `This ${p.name} account is not the one linked to the signed-in account.`);
    }
    if (!(await d.sessions.stepUp(asking.id, ['fed']))) return refuse('unauthenticated', 'The session ended.');
    await d.identities.recordIdentityUse(identity.id, d.clock.now(), c.email, c.emailVerified);
    await d.audit.record('reauth.succeeded', { userId: asking.userId, sessionId: asking.id }, meta, { provider: p.id });
    return { ok: true, kind: 'reauthenticated', returnTo: flow.r };
  }

  private async link(p: ProviderConfig, flow: FlowBinding, userId: string | null, c: ProviderClaims, current: AuthContext | null, meta: RequestMeta): Promise<CallbackOutcome> {
    const d = this.d;
    const asking = await this.asking(flow, userId, current);
    if (!asking) return refuse('oidc_callback_invalid', 'This link was started by another session.');
    const existing = await d.identities.getIdentity(p.id, c.subject);
    if (existing) {
      if (existing.userId !== asking.userId) return refuse('identity_taken', `This ${p.name} account is linked to another account.`);
      return { ok: true, kind: 'linked', identity: existing, returnTo: flow.r };
    }
    const now = d.clock.now();
    const rec: IdentityRecord = { id: randomId(d.random), userId: asking.userId, provider: p.id, subject: c.subject, email: c.email, emailVerified: c.emailVerified, createdAt: now, lastUsedAt: now };
    if ((await d.identities.createIdentity(rec)) !== 'ok') {
      const again = await d.identities.getIdentity(p.id, c.subject);
      return refuse('identity_taken', again && again.userId !== asking.userId ? `This ${p.name} account is linked to another account.` : `Another ${p.name} account is linked to this account; unlink it first.`);
    }
    await d.audit.record('identity.linked', { userId: asking.userId, sessionId: asking.id }, meta, { provider: p.id });
    return { ok: true, kind: 'linked', identity: rec, returnTo: flow.r };
  }

  private async signIn(p: ProviderConfig, flow: FlowBinding, c: ProviderClaims, meta: RequestMeta): Promise<CallbackOutcome> {
    const d = this.d;
    let user: UserRecord | null;
    const identity = await d.identities.getIdentity(p.id, c.subject);
    if (identity) {
      user = await d.users.record(identity.userId);
      if (!user) return refuse('oidc_callback_invalid', 'The account linked to this identity is gone.');
      await d.identities.recordIdentityUse(identity.id, d.clock.now(), c.email, c.emailVerified);
    } else {
      const made = await this.signUp(p, c, meta);
      if (!made.ok) return made;
      user = made.user;
    }
    if (user.disabledAt !== null) return refuse('forbidden', 'This account is disabled.');
    if (d.requireVerifiedEmail && user.emailVerifiedAt === null) return refuse('email_unverified', 'Verify the account’s email address to sign in.');
    const amr = mergeMethods(['fed'], c.amr.filter((m) => m !== 'fed'));
    if (flow.m === 'token') {
      const binding: ExchangeBinding = { p: p.id, s: c.subject, sid: c.sid, amr, cv: user.credentialVersion, j: flow.j };
      const { token } = await d.challenges.issueSecret('oidc.exchange', user.id, JSON.stringify(binding), EXCHANGE_TTL_MS);
      return { ok: true, kind: 'code', code: token, returnTo: flow.r };
    }
    const out = await this.startSession(p.id, { user, amr, acr: this.level(amr) }, 'session', meta, c.subject, c.sid);
    if (!out.ok) return out;
    return { ok: true, kind: 'session', started: out.started as Extract<Started, { mode: 'session' }>, returnTo: flow.r };
  }

  /**
   * A provider's claim of `mfa` is recorded in `amr`, but the level stays aal1: Gatehouse's own
   * sensitive actions ask its own second factor of users who have one (see Assurance).
   */
  private level(_amr: string[]): 'aal1' {
    return 'aal1';
  }

  private async signUp(p: ProviderConfig, c: ProviderClaims, meta: RequestMeta): Promise<{ ok: true; user: UserRecord } | Refusal> {
    const d = this.d;
    if (!p.signUp) return refuse('oidc_sign_up_closed', `No account is linked to this ${p.name} account, and sign-up with ${p.name} is closed.`);
    if (!c.email || !c.emailVerified) return refuse('oidc_email_unverified', `${p.name} did not confirm the email address of this account; sign up with email and password, then link ${p.name} from the account page.`);
    const email = normalizeEmail(c.email);
    if (!email) return refuse('oidc_email_unverified', `${p.name} gave no usable email address.`);
    // Never linked by email: the owner of an existing account signs in to it and links from there.
    if (await d.users.byEmail(email.canonical)) return refuse('oidc_account_exists', `An account with this email address exists: sign in to it, then link ${p.name} from the account page.`);
    const now = d.clock.now();
    const user: UserRecord = { id: randomId(d.random), email: email.email, emailCanonical: email.canonical, passwordHash: NO_PASSWORD, createdAt: now, disabledAt: null, emailVerifiedAt: now, credentialVersion: 0, admin: false };
    if (!(await d.users.create(user))) return refuse('oidc_account_exists', `An account with this email address exists: sign in to it, then link ${p.name} from the account page.`);
    const rec: IdentityRecord = { id: randomId(d.random), userId: user.id, provider: p.id, subject: c.subject, email: c.email, emailVerified: true, createdAt: now, lastUsedAt: now };
    if ((await d.identities.createIdentity(rec)) !== 'ok') {
      // The same new identity signed up twice at once: the other sign-up won; this user goes again.
      await d.users.delete(user.id);
      const winner = await d.identities.getIdentity(p.id, c.subject);
      const owner = winner ? await d.users.record(winner.userId) : null;
      return owner ? { ok: true, user: owner } : refuse('oidc_callback_invalid', 'The sign-up could not be completed; try again.');
    }
    await d.audit.record('user.registered', { userId: user.id }, meta, { provider: p.id });
    return { ok: true, user };
  }

  private async startSession(provider: string, proof: Proof, mode: SessionMode, meta: RequestMeta, subject: string, sid: string | null, dpopJkt?: string): Promise<{ ok: true; started: Started } | Refusal> {
    const d = this.d;
    const out = await d.sessions.start({ proof, mode, meta, ...(dpopJkt !== undefined ? { dpopJkt } : {}), event: { type: 'login.succeeded', detail: { provider } } });
    if (!out.ok) return refuse('oidc_callback_invalid', 'The account’s credentials changed during the sign-in; sign in again.');
    const s = out.started.session;
    await d.identities.putFederatedSession({ sessionId: s.id, userId: s.userId, provider, subject, sid, createdAt: s.createdAt, expiresAt: s.expiresAt });
    return { ok: true, started: out.started };
  }

  /** Trades a token-mode exchange code for tokens; `dpopJkt` is the key of the request's verified DPoP proof. */
  async exchange(code: string, meta: RequestMeta, dpopJkt: string | null): Promise<ExchangeOutcome> {
    const d = this.d;
    const taken = await d.challenges.takeSecret(code, 'oidc.exchange');
    if (!taken || !taken.record.userId) return refuse('invalid_exchange_code', 'The code is invalid, expired or was used already.');
    const b = JSON.parse(taken.record.binding) as ExchangeBinding;
    if (b.j !== null && b.j !== dpopJkt) return refuse('invalid_dpop_proof', 'The sign-in was started for another DPoP key (dpop_jkt).');
    const user = await d.users.record(taken.record.userId);
    if (!user || user.disabledAt !== null || user.credentialVersion !== b.cv) return refuse('invalid_exchange_code', 'The account changed since the sign-in; sign in again.');
    const out = await this.startSession(b.p, { user, amr: b.amr, acr: this.level(b.amr) }, 'token', meta, b.s, b.sid, dpopJkt ?? undefined);
    if (!out.ok) return out;
    return { ok: true, started: out.started as Extract<Started, { mode: 'token' }> };
  }

  // ------------------------------------------------------------------ the account page

  /** The signed-in user's identities, and whether they have a password (an account with none signs in only through these or a passkey). */
  async identities(ctx: AuthContext): Promise<{ identities: IdentityRecord[]; hasPassword: boolean }> {
    const [identities, user] = await Promise.all([this.d.identities.listIdentities(ctx.user.id), this.d.users.record(ctx.user.id)]);
    return { identities, hasPassword: user !== null && hasPassword(user) };
  }

  /** Unlinks one of the user's identities (recent authentication), never the last way in of an account without a password or passkey. */
  async unlink(ctx: AuthContext, id: string, meta: RequestMeta): Promise<void> {
    const d = this.d;
    await d.assurance.requireRecent(ctx);
    const user = await d.users.record(ctx.user.id);
    if (!user) throw new GatehouseError('unauthenticated', 'user gone');
    const otherWayIn = hasPassword(user) || (await d.passkeys.has(user.id));
    const out = await d.identities.deleteIdentity(user.id, id, !otherWayIn);
    if (out === 'missing') throw new GatehouseError('not_found', 'no such identity', { detail: 'No such linked identity.' });
    if (out === 'last') throw new GatehouseError('last_way_in', 'last way in', { detail: 'This is the only way to sign in to this account: set a password or add a passkey first.' });
    await d.audit.record('identity.unlinked', { userId: user.id, sessionId: ctx.sessionId }, meta, { identity: id.slice(0, 16) });
  }

  /** Session id → provider id, for the device list. */
  async sessionProviders(userId: string): Promise<Map<string, string>> {
    return new Map((await this.d.identities.listFederatedSessions(userId)).map((f) => [f.sessionId, f.provider]));
  }

  // ------------------------------------------------------------------ back-channel logout

  /**
   * A provider's back-channel logout: the token verified, its `jti` refused if seen before (on every
   * instance: the proof-mark store), then every session opened through that provider session (`sid`)
   * or, without a `sid`, for that subject, ended through the revocation every instance applies.
   */
  async backchannelLogout(providerId: string, token: string, meta: RequestMeta): Promise<{ ok: true; ended: number } | Refusal> {
    const d = this.d;
    const p = d.oidc.provider(providerId);
    if (!p) return refuse('not_found', `No identity provider "${providerId}" is configured.`);
    const now = d.clock.now();
    const v = await d.oidc.verifyLogoutToken(p, token, now);
    if (!v.ok) return refuse('invalid_logout_token', v.detail);
    const mark = b64url(sha256(`gatehouse/oidc-logout/${p.id}/${v.jti}`));
    const keep = (v.iat + LOGOUT_TOKEN_MAX_AGE_S + 60) * 1000;
    if (!(await d.proofs.putProofMark('jti', mark, Math.max(keep, now + 60_000), now))) return refuse('invalid_logout_token', 'This logout token was used already (jti).');
    const found = v.sid !== null ? await d.identities.findFederatedSessions(p.id, { sid: v.sid }) : await d.identities.findFederatedSessions(p.id, { subject: v.sub! });
    const mine = found.filter((f) => v.sub === null || f.subject === v.sub);
    let ended = 0;
    for (const f of mine) {
      if (await d.sessions.end(f.sessionId)) {
        ended++;
        await d.audit.record('session.revoked', { userId: f.userId, sessionId: f.sessionId }, meta, { reason: 'backchannel_logout', provider: p.id });
      }
    }
    return { ok: true, ended };
  }
}

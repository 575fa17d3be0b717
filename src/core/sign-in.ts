/**
 * Signing in: a way in proves who the user is, then the one session start opens the session in the
 * transport the client asked for.
 *
 * - `password`: email and password. For a user with a second factor the password alone opens
 *   nothing: it yields an `mfa_token` (single use, five minutes, bound to the user, the login's mode
 *   and the user's credential version) and the methods that can finish the sign-in.
 * - `completeMfa`: the mfa_token plus a TOTP code, a recovery code or a passkey assertion; five wrong
 *   answers kill the token.
 * - `passkey`: passwordless sign-in with a discoverable credential and user verification.
 */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { GatehouseError } from '../errors.js';
import type { SessionMode, UserRecord } from '../ports.js';
import type { Assurance } from './assurance.js';
import type { Audit, RequestMeta } from './audit.js';
import { CHALLENGE_TTL_MS, type Challenges } from './challenges.js';
import type { MailQueue } from './lifecycle.js';
import type { PasskeyFailure, PasskeyMethod } from './methods/passkey.js';
import type { PasswordFailure, PasswordMethod } from './methods/password.js';
import { assuranceOf, mergeMethods, type AuthMethod, type Proof } from './methods/proof.js';
import type { RecoveryCodes } from './methods/recovery.js';
import type { TotpMethod } from './methods/totp.js';
import type { SessionControl, Started } from './session-control.js';
import type { UserDirectory } from './users.js';

/** Why a sign-in failed; every reason is the same answer to the client. */
export type LoginFailure = PasswordFailure | 'credentials_changed';

export type SecondFactorMethod = 'totp' | 'webauthn' | 'recovery_code';

/** A correct password of a user with a second factor: what the client needs to finish. */
export interface MfaChallenge {
  /** Opaque (`id.secret`, 256-bit secret); the store keeps its hash. */
  token: string;
  methods: SecondFactorMethod[];
  expiresIn: number;
  /** Request options for a passkey as the second factor, when the user has one. */
  webauthn: PublicKeyCredentialRequestOptionsJSON | null;
}

export type LoginResult = ({ ok: true } & Started) | { ok: false; reason: LoginFailure } | { ok: false; reason: 'mfa_required'; mfa: MfaChallenge };

export type MfaAnswer = { totp: string } | { recovery_code: string } | { webauthn: unknown };

export type MfaFailure = 'invalid_mfa_token' | 'invalid_otp' | 'invalid_webauthn' | 'credentials_changed';

export type MfaResult = ({ ok: true } & Started) | { ok: false; reason: MfaFailure };

export type PasskeyLoginResult = ({ ok: true } & Started) | { ok: false; reason: PasskeyFailure | 'credentials_changed' };

export interface SignInDeps {
  password: PasswordMethod;
  totp: TotpMethod;
  recovery: RecoveryCodes;
  passkeys: PasskeyMethod;
  challenges: Challenges;
  assurance: Assurance;
  sessions: SessionControl;
  users: UserDirectory;
  audit: Audit;
  mail: MailQueue;
  /** Refuse sign-in (email_unverified) until the address is verified. */
  requireVerifiedEmail: boolean;
}

export interface SignInOptions {
  /** Kept with an mfa_token and handed back at its completion (the refresh-token transport). */
  carry?: string;
  /** The thumbprint of the request's verified DPoP proof key: a token session is bound to it. */
  dpopJkt?: string;
}

const bind = (opts: SignInOptions) => (opts.dpopJkt !== undefined ? { dpopJkt: opts.dpopJkt } : {});

interface MfaBinding {
  mode: SessionMode;
  cv: number;
  /** What the transport wants carried from the login to its completion (the refresh-token transport). */
  t: string;
}

export class SignIn {
  constructor(private readonly d: SignInDeps) {}

  /**
   * Email and password, in either transport. `opts.carry` is kept with an mfa_token for the completion;
   * `opts.dpopJkt` is the key of the request's verified DPoP proof, to bind a token session to.
   */
  async password(email: string, password: string, mode: SessionMode, meta: RequestMeta, opts: SignInOptions = {}): Promise<LoginResult> {
    const carry = opts.carry ?? '';
    const check = await this.d.password.verify(email, password);
    if (!check.ok) {
      await this.d.audit.record('login.failed', { userId: check.userId ?? null }, meta, { reason: check.reason, mode });
      return { ok: false, reason: check.reason };
    }
    const { user } = check.proof;
    await this.requireVerified(user, meta, mode);
    const f = await this.d.assurance.factors(user.id);
    if (f.totp || f.passkeys) {
      const binding: MfaBinding = { mode, cv: user.credentialVersion, t: carry };
      const { token, record } = await this.d.challenges.issueToken(user.id, JSON.stringify(binding));
      const methods: SecondFactorMethod[] = [];
      if (f.totp) methods.push('totp');
      if (f.passkeys) methods.push('webauthn');
      if ((await this.d.recovery.count(user.id)) > 0) methods.push('recovery_code');
      const webauthn = f.passkeys ? await this.d.passkeys.requestOptions('webauthn.mfa', user.id, record.id) : null;
      await this.d.audit.record('mfa.required', { userId: user.id }, meta, { mode, methods: methods.join(' ') });
      return { ok: false, reason: 'mfa_required', mfa: { token, methods, expiresIn: CHALLENGE_TTL_MS / 1000, webauthn } };
    }
    const out = await this.d.sessions.start({ proof: check.proof, mode, meta, ...bind(opts) });
    return out.ok ? { ok: true, ...out.started } : { ok: false, reason: out.reason };
  }

  /** The user an mfa_token belongs to (for the account's brute-force budget), or null when it is not live. */
  async pendingMfa(token: string): Promise<{ userId: string; email: string; carry: string } | null> {
    const rec = await this.d.challenges.openToken(token);
    const user = rec?.userId ? await this.d.users.record(rec.userId) : null;
    if (!rec || !user) return null;
    return { userId: user.id, email: user.email, carry: (JSON.parse(rec.binding) as MfaBinding).t };
  }

  /** Fresh passkey options for a live mfa_token (the previous challenge is spent by any try). */
  async mfaWebAuthnOptions(token: string): Promise<PublicKeyCredentialRequestOptionsJSON | null> {
    const rec = await this.d.challenges.openToken(token);
    if (!rec?.userId || !(await this.d.passkeys.has(rec.userId))) return null;
    return this.d.passkeys.requestOptions('webauthn.mfa', rec.userId, rec.id);
  }

  /**
   * Finishes a password sign-in with the second factor, in the mode the login asked for; a token
   * session is bound to the key of this request's DPoP proof (`opts.dpopJkt`), if any.
   */
  async completeMfa(token: string, answer: MfaAnswer, meta: RequestMeta, opts: SignInOptions = {}): Promise<MfaResult> {
    const d = this.d;
    const rec = await d.challenges.openToken(token);
    if (!rec || !rec.userId) return { ok: false, reason: 'invalid_mfa_token' };
    const binding = JSON.parse(rec.binding) as MfaBinding;
    const user = await d.users.record(rec.userId);
    if (!user || user.disabledAt !== null || user.credentialVersion !== binding.cv) {
      await d.challenges.consume(rec.id);
      return { ok: false, reason: 'invalid_mfa_token' };
    }
    let added: AuthMethod[];
    let method: SecondFactorMethod;
    let ok: boolean;
    if ('totp' in answer) {
      method = 'totp';
      added = ['otp'];
      ok = await d.totp.verify(user.id, answer.totp);
    } else if ('recovery_code' in answer) {
      method = 'recovery_code';
      added = ['otp'];
      ok = await d.recovery.use(user.id, answer.recovery_code);
    } else {
      method = 'webauthn';
      const r = await d.passkeys.verify(answer.webauthn, 'webauthn.mfa', rec.id, user.id);
      ok = r.ok;
      added = r.ok ? r.amr : [];
      if (!r.ok) await d.audit.record('passkey.failed', { userId: user.id }, meta, { stage: 'mfa', reason: r.reason });
    }
    if (!ok) {
      const dead = await d.challenges.fail(rec.id);
      await d.audit.record('mfa.failed', { userId: user.id }, meta, { method, mode: binding.mode, ...(dead ? { token: 'killed' } : {}) });
      return { ok: false, reason: method === 'webauthn' ? 'invalid_webauthn' : 'invalid_otp' };
    }
    // A correct answer racing another on one token: only one of them signs in.
    if (!(await d.challenges.consume(rec.id))) return { ok: false, reason: 'invalid_mfa_token' };
    if (method === 'recovery_code') {
      const remaining = await d.recovery.count(user.id);
      await d.audit.record('recovery_code.used', { userId: user.id }, meta, { remaining });
      d.mail.enqueue({ kind: 'recovery_code_used', to: user.email, userId: user.id, acceptLanguage: meta.acceptLanguage ?? null, remaining });
    }
    const amr = mergeMethods(['pwd'], added);
    const proof: Proof = { user, amr, acr: assuranceOf(amr) };
    const out = await d.sessions.start({ proof, mode: binding.mode, meta, ...bind(opts), event: { type: 'login.succeeded', detail: { second_factor: method } } });
    return out.ok ? { ok: true, ...out.started } : { ok: false, reason: out.reason };
  }

  /** Options for a passwordless sign-in: any discoverable credential of this site may answer. */
  passkeyOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.d.passkeys.requestOptions('webauthn.login', null, '');
  }

  /** Passwordless sign-in with a passkey (user verification required), in either transport. */
  async passkey(response: unknown, mode: SessionMode, meta: RequestMeta, opts: SignInOptions = {}): Promise<PasskeyLoginResult> {
    const r = await this.d.passkeys.verify(response, 'webauthn.login', '', null);
    if (!r.ok) {
      await this.d.audit.record('login.failed', { userId: r.userId ?? null }, meta, { reason: `passkey_${r.reason}`, mode });
      return { ok: false, reason: r.reason };
    }
    await this.requireVerified(r.user, meta, mode);
    const proof: Proof = { user: r.user, amr: r.amr, acr: assuranceOf(r.amr) };
    const out = await this.d.sessions.start({ proof, mode, meta, ...bind(opts), event: { type: 'login.succeeded', detail: { passkey: r.passkey.id.slice(0, 16) } } });
    return out.ok ? { ok: true, ...out.started } : { ok: false, reason: out.reason };
  }

  /** Checked only after the credential, so the answer says nothing to someone without it. */
  private async requireVerified(user: UserRecord, meta: RequestMeta, mode: SessionMode): Promise<void> {
    if (this.d.requireVerifiedEmail && user.emailVerifiedAt === null) {
      await this.d.audit.record('login.failed', { userId: user.id }, meta, { reason: 'email_unverified', mode });
      throw new GatehouseError('email_unverified', 'email address not verified');
    }
  }
}

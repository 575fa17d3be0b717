/**
 * Signing in: a way in proves who the user is, then the one session start opens the session in the
 * transport the client asked for. Password sign-in is the first way in; every other one (passkeys,
 * second factors, identity providers) follows the same two steps.
 */
import { GatehouseError } from '../errors.js';
import type { SessionMode } from '../ports.js';
import type { Audit, RequestMeta } from './audit.js';
import type { PasswordFailure, PasswordMethod } from './methods/password.js';
import type { SessionControl, Started } from './session-control.js';

/** Why a sign-in failed; every reason is the same answer to the client. */
export type LoginFailure = PasswordFailure | 'credentials_changed';

export type LoginResult = ({ ok: true } & Started) | { ok: false; reason: LoginFailure };

export interface SignInDeps {
  password: PasswordMethod;
  sessions: SessionControl;
  audit: Audit;
  /** Refuse sign-in (email_unverified) until the address is verified. */
  requireVerifiedEmail: boolean;
}

export class SignIn {
  constructor(private readonly d: SignInDeps) {}

  /**
   * Email and password, in either transport. `opts.dpopJkt`: the key of the request's verified DPoP
   * proof, to bind a token session to.
   */
  async password(email: string, password: string, mode: SessionMode, meta: RequestMeta, opts: { dpopJkt?: string } = {}): Promise<LoginResult> {
    const check = await this.d.password.verify(email, password);
    if (!check.ok) {
      await this.d.audit.record('login.failed', { userId: check.userId ?? null }, meta, { reason: check.reason, mode });
      return { ok: false, reason: check.reason };
    }
    const { user } = check.proof;
    // Checked only after the password, so the answer says nothing to someone without it.
    if (this.d.requireVerifiedEmail && user.emailVerifiedAt === null) {
      await this.d.audit.record('login.failed', { userId: user.id }, meta, { reason: 'email_unverified', mode });
      throw new GatehouseError('email_unverified', 'email address not verified');
    }
    const out = await this.d.sessions.start({ proof: check.proof, mode, meta, ...(opts.dpopJkt !== undefined ? { dpopJkt: opts.dpopJkt } : {}) });
    return out.ok ? { ok: true, ...out.started } : { ok: false, reason: out.reason };
  }
}

/**
 * How sure a sensitive action must be of who is asking. A user without a second factor needs a recent
 * authentication of the current session (aal1: their password). A user who has one — an
 * authenticator app or a passkey — needs a recent authentication at aal2: a sign-in with both
 * factors or a passkey, or a step-up with the second factor, within the re-authentication window.
 */
import { GatehouseError } from '../errors.js';
import type { AssuranceLevel, Clock, SessionRecord } from '../ports.js';
import type { PasskeyMethod } from './methods/passkey.js';
import type { TotpMethod } from './methods/totp.js';
import type { AuthContext, SessionControl } from './session-control.js';

export class Assurance {
  constructor(
    private readonly d: {
      sessions: SessionControl;
      totp: TotpMethod;
      passkeys: PasskeyMethod;
      clock: Clock;
      /** How long a sign-in or re-authentication counts as recent (ms). */
      windowMs: number;
    },
  ) {}

  /** The second factors the user has set up. */
  async factors(userId: string): Promise<{ totp: boolean; passkeys: boolean }> {
    const [totp, passkeys] = await Promise.all([this.d.totp.enrolled(userId), this.d.passkeys.has(userId)]);
    return { totp, passkeys };
  }

  async hasSecondFactor(userId: string): Promise<boolean> {
    const f = await this.factors(userId);
    return f.totp || f.passkeys;
  }

  /** The level a sensitive action of this user needs. */
  async needed(userId: string): Promise<AssuranceLevel> {
    return (await this.hasSecondFactor(userId)) ? 'aal2' : 'aal1';
  }

  /**
   * Throws reauth_required (with the level needed) unless the current session proved the user within
   * the window at `level` (default: what this user's sensitive actions need). Resolves the fresh record.
   */
  async requireRecent(ctx: AuthContext, level?: AssuranceLevel): Promise<SessionRecord> {
    const need = level ?? (await this.needed(ctx.user.id));
    const s = await this.d.sessions.fresh(ctx.sessionId);
    if (!s) throw new GatehouseError('unauthenticated', 'session ended');
    if (this.d.clock.now() - s.authAt > this.d.windowMs || (need === 'aal2' && s.acr !== 'aal2')) {
      throw new GatehouseError('reauth_required', 'recent authentication required', { acr: need });
    }
    return s;
  }
}

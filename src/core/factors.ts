/**
 * What a signed-in user does with their second factors and passkeys: enrol an authenticator app
 * (pending until a first code confirms it), remove it, regenerate recovery codes, register, rename
 * and remove passkeys. Every change needs a recent authentication at the level the account needs
 * (see Assurance), and is audited.
 */
import { GatehouseError } from '../errors.js';
import type { PasskeyRecord } from '../ports.js';
import type { Assurance } from './assurance.js';
import type { Audit, RequestMeta } from './audit.js';
import type { PasskeyMethod } from './methods/passkey.js';
import type { RecoveryCodes } from './methods/recovery.js';
import type { TotpEnrolment, TotpMethod } from './methods/totp.js';
import type { AuthContext, SessionControl } from './session-control.js';

export interface FactorStatus {
  totp: boolean;
  recoveryCodes: number;
  passkeys: number;
}

export interface SecondFactorsDeps {
  totp: TotpMethod;
  recovery: RecoveryCodes;
  passkeys: PasskeyMethod;
  assurance: Assurance;
  sessions: SessionControl;
  audit: Audit;
}

export class SecondFactors {
  constructor(private readonly d: SecondFactorsDeps) {}

  async status(ctx: AuthContext): Promise<FactorStatus> {
    const [totp, recoveryCodes, passkeys] = await Promise.all([this.d.totp.enrolled(ctx.user.id), this.d.recovery.count(ctx.user.id), this.d.passkeys.list(ctx.user.id)]);
    return { totp, recoveryCodes, passkeys: passkeys.length };
  }

  // ------------------------------------------------------------------ authenticator app

  /** A new pending authenticator (secret and otpauth URI, shown once). */
  async beginTotp(ctx: AuthContext): Promise<TotpEnrolment> {
    await this.d.assurance.requireRecent(ctx);
    const e = await this.d.totp.begin(ctx.user.id, ctx.user.email);
    if (!e) throw new GatehouseError('totp_exists', 'an authenticator is already set up');
    return e;
  }

  /**
   * Confirms the pending authenticator with a first code and returns ten new recovery codes (shown
   * once). The code proves the factor now, so this session steps up with it.
   */
  async confirmTotp(ctx: AuthContext, code: string, meta: RequestMeta): Promise<string[] | null> {
    if (!(await this.d.totp.confirm(ctx.user.id, code))) {
      await this.d.audit.record('mfa.failed', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { method: 'totp', stage: 'enrol' });
      return null;
    }
    const codes = await this.d.recovery.generate(ctx.user.id);
    await this.d.sessions.stepUp(ctx.sessionId, ['otp']);
    await this.d.audit.record('totp.enrolled', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta);
    await this.d.audit.record('recovery_codes.generated', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { count: codes.length });
    return codes;
  }

  /** Removes the authenticator app and its recovery codes (passkeys stay). */
  async removeTotp(ctx: AuthContext, meta: RequestMeta): Promise<boolean> {
    await this.d.assurance.requireRecent(ctx);
    const removed = await this.d.totp.remove(ctx.user.id);
    if (!removed) return false;
    if (!(await this.d.passkeys.has(ctx.user.id))) await this.d.recovery.remove(ctx.user.id);
    await this.d.audit.record('totp.removed', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta);
    return true;
  }

  /** A new set of recovery codes; the old ones stop working. Needs a second factor to recover. */
  async regenerateRecoveryCodes(ctx: AuthContext, meta: RequestMeta): Promise<string[]> {
    await this.d.assurance.requireRecent(ctx);
    if (!(await this.d.assurance.hasSecondFactor(ctx.user.id))) throw new GatehouseError('no_second_factor', 'no second factor');
    const codes = await this.d.recovery.generate(ctx.user.id);
    await this.d.audit.record('recovery_codes.generated', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { count: codes.length });
    return codes;
  }

  // ------------------------------------------------------------------ passkeys

  async passkeyOptions(ctx: AuthContext) {
    await this.d.assurance.requireRecent(ctx);
    return this.d.passkeys.creationOptions(ctx.user, ctx.sessionId);
  }

  async addPasskey(ctx: AuthContext, response: unknown, name: string, meta: RequestMeta): Promise<PasskeyRecord> {
    await this.d.assurance.requireRecent(ctx);
    const r = await this.d.passkeys.register(ctx.user.id, ctx.sessionId, response, name);
    if (!r.ok) {
      await this.d.audit.record('passkey.failed', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { stage: 'register', reason: r.reason });
      if (r.reason === 'exists') throw new GatehouseError('passkey_exists', 'credential already registered');
      if (r.reason === 'too_many') throw new GatehouseError('invalid_request', 'too many passkeys', { detail: 'Remove a passkey before adding another (at most 20).' });
      throw new GatehouseError('invalid_webauthn', r.reason);
    }
    await this.d.audit.record('passkey.added', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { passkey: r.passkey.id.slice(0, 16), type: r.passkey.deviceType });
    return r.passkey;
  }

  listPasskeys(ctx: AuthContext): Promise<PasskeyRecord[]> {
    return this.d.passkeys.list(ctx.user.id);
  }

  async renamePasskey(ctx: AuthContext, id: string, name: string, meta: RequestMeta): Promise<void> {
    if (!(await this.d.passkeys.rename(ctx.user.id, id, name))) throw new GatehouseError('not_found', 'no such passkey');
    await this.d.audit.record('passkey.renamed', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { passkey: id.slice(0, 16) });
  }

  async removePasskey(ctx: AuthContext, id: string, meta: RequestMeta): Promise<void> {
    await this.d.assurance.requireRecent(ctx);
    if (!(await this.d.passkeys.remove(ctx.user.id, id))) throw new GatehouseError('not_found', 'no such passkey');
    if (!(await this.d.assurance.hasSecondFactor(ctx.user.id))) await this.d.recovery.remove(ctx.user.id);
    await this.d.audit.record('passkey.removed', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { passkey: id.slice(0, 16) });
  }
}

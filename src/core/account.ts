/**
 * What a signed-in user does with their account: devices, re-authentication, password change,
 * account deletion, and their own security events. Sensitive actions need a recent authentication.
 */
import { GatehouseError } from '../errors.js';
import type { AuditEvent, SessionRecord } from '../ports.js';
import type { AuthContext, AuthCore } from './auth.js';
import type { RequestMeta } from './audit.js';
import { checkPassword } from './password-policy.js';

export interface DeviceSession {
  id: string;
  current: boolean;
  mode: SessionRecord['mode'];
  device: SessionRecord['device'];
  ip: string | null;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export class Account {
  constructor(private readonly core: AuthCore) {}

  async listSessions(ctx: AuthContext): Promise<DeviceSession[]> {
    const list = await this.core.sessions.list(ctx.user.id);
    return list
      .filter((s) => !this.core.revocations.has(s.id))
      .map((s) => ({
        id: s.id,
        current: s.id === ctx.sessionId,
        mode: s.mode,
        device: s.device,
        ip: s.ip,
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        expiresAt: Math.min(s.idleExpiresAt, s.expiresAt),
      }));
  }

  /** Throws reauth_required unless the current session proved the password within the window. */
  async requireRecentAuth(ctx: AuthContext): Promise<void> {
    const s = await this.core.sessions.fresh(ctx.sessionId);
    if (!s) throw new GatehouseError('unauthenticated', 'session ended');
    if (this.core.clock.now() - s.authAt > this.core.config.reauthWindow) {
      throw new GatehouseError('reauth_required', 'recent authentication required');
    }
  }

  async reauth(ctx: AuthContext, password: string, meta: RequestMeta): Promise<boolean> {
    const u = await this.core.stores.users.getUserById(ctx.user.id);
    const ok = u !== null && Buffer.byteLength(password) <= 1024 && (await this.core.hasher.verify(u.passwordHash, password.normalize('NFKC')));
    if (!ok) {
      await this.core.audit.record('reauth.failed', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta);
      return false;
    }
    await this.core.sessions.markAuthenticated(ctx.sessionId);
    await this.core.audit.record('reauth.succeeded', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta);
    return true;
  }

  /**
   * Ends one of the user's sessions. The current one may always be ended; another needs recent auth.
   * An unknown handle and another user's handle are the same `not_found`.
   */
  async revokeSession(ctx: AuthContext, handle: string, meta: RequestMeta): Promise<void> {
    const target = await this.core.sessions.fresh(handle);
    if (!target || target.userId !== ctx.user.id) throw new GatehouseError('not_found', 'no such session');
    if (target.id !== ctx.sessionId) await this.requireRecentAuth(ctx);
    await this.core.revokeSession(target.id);
    await this.core.audit.record('session.revoked', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { revoked: target.id, mode: target.mode });
  }

  async logoutOthers(ctx: AuthContext, meta: RequestMeta): Promise<number> {
    await this.requireRecentAuth(ctx);
    const ids = await this.core.revokeUserSessions(ctx.user.id, ctx.sessionId);
    await this.core.audit.record('sessions.revoked_others', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { count: ids.length });
    return ids.length;
  }

  async logoutAll(ctx: AuthContext, meta: RequestMeta): Promise<number> {
    await this.requireRecentAuth(ctx);
    const ids = await this.core.revokeUserSessions(ctx.user.id);
    await this.core.audit.record('sessions.revoked_all', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { count: ids.length });
    return ids.length;
  }

  /** Changes the password (current one required, plus recent auth) and ends every other session. */
  async changePassword(ctx: AuthContext, current: string, next: string, meta: RequestMeta): Promise<void> {
    await this.requireRecentAuth(ctx);
    const pw = checkPassword(next);
    if (!pw.ok) throw new GatehouseError(pw.code, pw.code, { field: 'new_password' });
    const u = await this.core.stores.users.getUserById(ctx.user.id);
    const ok = u !== null && Buffer.byteLength(current) <= 1024 && (await this.core.hasher.verify(u.passwordHash, current.normalize('NFKC')));
    if (!ok) throw new GatehouseError('invalid_credentials', 'current password is wrong', { field: 'current_password' });
    await this.core.stores.users.setPasswordHash(ctx.user.id, await this.core.hasher.hash(pw.normalized));
    const ended = await this.core.revokeUserSessions(ctx.user.id, ctx.sessionId);
    await this.core.userChanged(ctx.user.id);
    await this.core.audit.record('password.changed', { userId: ctx.user.id, sessionId: ctx.sessionId }, meta, { sessions_ended: ended.length });
  }

  async deleteAccount(ctx: AuthContext, meta: RequestMeta): Promise<void> {
    await this.requireRecentAuth(ctx);
    await this.core.deleteUser(ctx.user.id, meta, ctx.sessionId);
  }

  /** The user's own events, newest first; `before` is the cursor from the previous page. */
  async events(ctx: AuthContext, opts: { before?: string; limit: number }): Promise<{ events: AuditEvent[]; next: string | null }> {
    const limit = Math.min(Math.max(opts.limit, 1), 100);
    const events = await this.core.audit.list({ userId: ctx.user.id, limit: limit + 1, ...(opts.before ? { before: opts.before } : {}) });
    const page = events.slice(0, limit);
    return { events: page, next: events.length > limit ? page[page.length - 1]!.id : null };
  }
}

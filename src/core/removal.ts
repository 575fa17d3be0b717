/**
 * Removing an account, the same way whoever asks (the user, an operator): every session ends in both
 * modes on every instance, the account and its tokens go, and the audit trail keeps its events but
 * forgets where they came from (IP address and user agent are erased; the events name only the
 * account id, which identifies no one once the account is gone).
 */
import type { AuditLog, ChallengeStore, IdentityStore, OneTimeTokenStore, PasskeyStore, RecoveryCodeStore, TotpStore } from '../ports.js';
import type { Audit } from './audit.js';
import type { SessionControl } from './session-control.js';
import type { UserDirectory } from './users.js';

export class AccountRemoval {
  constructor(
    private readonly d: {
      users: UserDirectory;
      sessions: SessionControl;
      oneTimeTokens: OneTimeTokenStore;
      /** Second factors, passkeys, pending challenges and linked identities go with the account (SQL stores also cascade). */
      factors: { totp: TotpStore; recoveryCodes: RecoveryCodeStore; passkeys: PasskeyStore; challenges: ChallengeStore; identities: IdentityStore };
      auditLog: AuditLog;
      audit: Audit;
    },
  ) {}

  async remove(userId: string, sessionId: string | null = null, by: { admin: string } | null = null): Promise<boolean> {
    const { d } = this;
    // Disabled first: a sign-in racing the deletion fails its credential re-check from here on.
    await d.users.setDisabled(userId, true);
    await d.sessions.endAllOfUser(userId);
    await d.oneTimeTokens.deleteOneTimeTokensByUser(userId);
    await d.factors.totp.deleteTotp(userId);
    await d.factors.recoveryCodes.deleteRecoveryCodes(userId);
    await d.factors.passkeys.deletePasskeysByUser(userId);
    await d.factors.challenges.deleteChallengesByUser(userId);
    await d.factors.identities.deleteIdentitiesByUser(userId);
    const ok = await d.users.delete(userId);
    await d.auditLog.redactUserEvents(userId);
    // The deletion itself is recorded without the request's address: it would be kept about an erased account.
    if (ok) await d.audit.record('account.deleted', { userId, sessionId }, null, by ? { by_admin: by.admin } : null);
    return ok;
  }
}

/**
 * Refresh tokens: opaque `id.secret`, stored as sha256(secret), spent on every use.
 *
 * A rotation's successor secret is HMAC-SHA256(key = presented secret, message = fresh random salt).
 * The store records only the salt and the successor's hash. So concurrent refreshes inside the grace
 * window (e.g. two tabs) can all be handed the same successor — each caller holds the old secret and
 * re-derives it — while the store never holds a usable token and a thief without the old secret
 * cannot compute the chain. Presenting a token spent before the grace window is reuse: the whole
 * session is revoked.
 */
import type { Clock, Random, RefreshTokenRecord, RefreshTokenStore, SessionRecord } from '../ports.js';
import { b64url, hmacSha256, newOwnedId, parseSplitToken, safeEqual, sha256 } from './crypto.js';

export interface RefreshOptions {
  idleTtlMs: number;
  graceMs: number;
}

export type RefreshOutcome =
  | { kind: 'ok'; token: string; record: RefreshTokenRecord }
  | { kind: 'invalid' }
  | { kind: 'reused'; sessionId: string; userId: string };

function deriveSuccessorSecret(secret: string, salt: Uint8Array): string {
  return b64url(hmacSha256(Buffer.from(secret, 'utf8'), salt));
}

export class RefreshTokens {
  constructor(
    private readonly store: RefreshTokenStore,
    private readonly opts: RefreshOptions,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  private newRecord(id: string, secret: string, session: SessionRecord, now: number): RefreshTokenRecord {
    return {
      id,
      sessionId: session.id,
      userId: session.userId,
      secretHash: sha256(secret),
      createdAt: now,
      expiresAt: Math.min(now + this.opts.idleTtlMs, session.expiresAt),
      spentAt: null,
      successorId: null,
      successorSalt: null,
    };
  }

  async issue(session: SessionRecord): Promise<string> {
    const id = newOwnedId(this.random, session.userId);
    const secret = b64url(this.random.bytes(32));
    await this.store.createRefreshToken(this.newRecord(id, secret, session, this.clock.now()));
    return `${id}.${secret}`;
  }

  /**
   * Spends `presented` and returns its successor. `session` resolves the live session of the token
   * (null if it is gone), checked before rotating.
   */
  async rotate(presented: string, session: (id: string) => Promise<SessionRecord | null>): Promise<RefreshOutcome> {
    const parsed = parseSplitToken(presented);
    if (!parsed) return { kind: 'invalid' };
    const rec = await this.store.getRefreshToken(parsed.id);
    // A wrong secret for a known id is someone guessing: invalid, and no reuse alarm (they hold nothing).
    if (!rec || !safeEqual(sha256(parsed.secret), rec.secretHash)) return { kind: 'invalid' };
    const now = this.clock.now();
    if (rec.spentAt !== null && now - rec.spentAt > this.opts.graceMs) {
      return { kind: 'reused', sessionId: rec.sessionId, userId: rec.userId };
    }
    if (rec.spentAt === null && rec.expiresAt <= now) return { kind: 'invalid' };
    const live = await session(rec.sessionId);
    if (!live) return { kind: 'invalid' };

    const salt = this.random.bytes(16);
    const successorId = newOwnedId(this.random, live.userId);
    const successor = this.newRecord(successorId, deriveSuccessorSecret(parsed.secret, salt), live, now);
    const r = await this.store.rotateRefreshToken(rec.id, successor, now, this.opts.graceMs, salt);
    switch (r.kind) {
      case 'rotated':
        return { kind: 'ok', token: `${successorId}.${deriveSuccessorSecret(parsed.secret, salt)}`, record: successor };
      case 'grace': {
        const t = r.token;
        if (!t.successorId || !t.successorSalt) return { kind: 'invalid' };
        const secret = deriveSuccessorSecret(parsed.secret, t.successorSalt);
        const succ = await this.store.getRefreshToken(t.successorId);
        if (!succ || !safeEqual(sha256(secret), succ.secretHash)) return { kind: 'invalid' };
        return { kind: 'ok', token: `${t.successorId}.${secret}`, record: succ };
      }
      case 'reused':
        return { kind: 'reused', sessionId: rec.sessionId, userId: rec.userId };
      case 'missing':
        return { kind: 'invalid' };
    }
  }

  deleteBySession(sessionId: string): Promise<number> {
    return this.store.deleteRefreshTokensBySession(sessionId);
  }

  deleteByUser(userId: string): Promise<number> {
    return this.store.deleteRefreshTokensByUser(userId);
  }
}

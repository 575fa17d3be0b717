/**
 * What an unfinished authentication waits on, kept hashed and single use for five minutes:
 *
 * - an `mfa_token` (`id.secret`, like every other bearer secret here) between a correct password and
 *   its second factor, bound to the user, the login's mode and the user's credential version; five
 *   wrong answers kill it;
 * - a WebAuthn challenge, bound to its ceremony (registration, sign-in, step-up, second factor) and to
 *   what asked for it (the session, the mfa_token). The challenge is the secret: the store keeps its
 *   SHA-256, and finds the record by an id derived from it, so the response alone names its challenge.
 */
import type { ChallengePurpose, ChallengeRecord, ChallengeStore, Clock, Random } from '../ports.js';
import { b64url, newSplitToken, parseSplitToken, safeEqual, secretMatches, sha256 } from './crypto.js';

export const CHALLENGE_TTL_MS = 5 * 60_000;
/** Wrong codes an mfa_token survives: the fifth kills it. */
export const MFA_MAX_FAILURES = 5;

const CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;

/** The record id of a WebAuthn challenge: derived, so the hash of the challenge never doubles as its key. */
const challengeId = (challenge: string) => 'w' + b64url(sha256(`gatehouse/webauthn-challenge/${challenge}`)).slice(0, 32);

export class Challenges {
  constructor(
    private readonly store: ChallengeStore,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  private record(id: string, purpose: ChallengePurpose, secretHash: Uint8Array, userId: string | null, binding: string): ChallengeRecord {
    const now = this.clock.now();
    return { id, purpose, secretHash, userId, binding, createdAt: now, expiresAt: now + CHALLENGE_TTL_MS, failures: 0, usedAt: null };
  }

  /** A new mfa_token for `userId`: the token (shown once) and its record. */
  async issueToken(userId: string, binding: string): Promise<{ token: string; record: ChallengeRecord }> {
    const t = newSplitToken(this.random);
    const record = this.record(t.id, 'mfa', t.secretHash, null, binding);
    record.userId = userId;
    await this.store.createChallenge(record);
    return { token: t.token, record };
  }

  /** The live mfa_token's record, or null (malformed, unknown, spent, expired or wrong secret). Does not spend it. */
  async openToken(token: string): Promise<ChallengeRecord | null> {
    const p = parseSplitToken(token);
    if (!p) return null;
    const rec = await this.store.getChallenge(p.id);
    if (!rec || rec.purpose !== 'mfa' || !secretMatches(p.secret, rec.secretHash)) return null;
    return this.live(rec) ? rec : null;
  }

  /** Counts a wrong answer; resolves true when that killed the token. */
  async fail(id: string): Promise<boolean> {
    const n = await this.store.failChallenge(id, MFA_MAX_FAILURES, this.clock.now());
    return n === null || n >= MFA_MAX_FAILURES;
  }

  /** Spends a challenge; false when another request spent it first (or it expired meanwhile). */
  consume(id: string): Promise<boolean> {
    return this.store.consumeChallenge(id, this.clock.now());
  }

  /** A new WebAuthn challenge (base64url of 32 random bytes) for one ceremony. */
  async issueWebAuthn(purpose: Exclude<ChallengePurpose, 'mfa'>, userId: string | null, binding: string): Promise<string> {
    const challenge = b64url(this.random.bytes(32));
    await this.store.createChallenge(this.record(challengeId(challenge), purpose, sha256(challenge), userId, binding));
    return challenge;
  }

  /**
   * Spends the WebAuthn challenge a response carries, if it was issued for this ceremony and binding
   * and is still live. Spent before the response is verified: a challenge is good for one try.
   */
  async takeWebAuthn(challenge: string, purpose: Exclude<ChallengePurpose, 'mfa'>, binding: string): Promise<ChallengeRecord | null> {
    if (!CHALLENGE_RE.test(challenge)) return null;
    const rec = await this.store.getChallenge(challengeId(challenge));
    if (!rec || rec.purpose !== purpose || !safeEqual(sha256(challenge), rec.secretHash)) return null;
    if (!safeEqual(sha256(rec.binding), sha256(binding))) return null;
    if (!(await this.store.consumeChallenge(rec.id, this.clock.now()))) return null;
    return rec;
  }

  /**
   * A single-use secret (`id.secret`) for another purpose (an identity provider's sign-in flow, its
   * exchange code), live for `ttlMs`: the secret (shown once) and its record.
   */
  async issueSecret(purpose: Extract<ChallengePurpose, 'oidc.flow' | 'oidc.exchange'>, userId: string | null, binding: string, ttlMs: number): Promise<{ token: string; secret: string; record: ChallengeRecord }> {
    const t = newSplitToken(this.random);
    const record = this.record(t.id, purpose, t.secretHash, userId, binding);
    record.expiresAt = record.createdAt + ttlMs;
    await this.store.createChallenge(record);
    return { token: t.token, secret: t.secret, record };
  }

  /** Spends a secret of `purpose` if it is live: exactly one of concurrent callers gets the record. */
  async takeSecret(token: string, purpose: Extract<ChallengePurpose, 'oidc.flow' | 'oidc.exchange'>): Promise<{ record: ChallengeRecord; secret: string } | null> {
    const p = parseSplitToken(token);
    if (!p) return null;
    const rec = await this.store.getChallenge(p.id);
    if (!rec || rec.purpose !== purpose || !secretMatches(p.secret, rec.secretHash) || !this.live(rec)) return null;
    if (!(await this.store.consumeChallenge(rec.id, this.clock.now()))) return null;
    return { record: rec, secret: p.secret };
  }

  private live(rec: ChallengeRecord): boolean {
    return rec.usedAt === null && this.clock.now() < rec.expiresAt;
  }
}

/** The public shape of a user, and a small cache of it (profiles change rarely; changes are fanned out). */
import type { Clock, UserRecord, UserStore } from '../ports.js';
import { ExpiringCache } from './cache.js';

export interface PublicUser {
  id: string;
  email: string;
  createdAt: number;
  emailVerified: boolean;
}

export function toPublicUser(u: UserRecord): PublicUser {
  return { id: u.id, email: u.email, createdAt: u.createdAt, emailVerified: u.emailVerifiedAt !== null };
}

/** Enabled users by id, cached for `ttlMs`; dropped at once when the change feed says a user changed. */
export class UserCache {
  private readonly cache: ExpiringCache<string, PublicUser>;

  constructor(
    private readonly store: UserStore,
    private readonly clock: Clock,
    maxEntries: number,
    private readonly ttlMs: number,
  ) {
    this.cache = new ExpiringCache(maxEntries);
  }

  /** The enabled user, or null if missing or disabled. */
  async get(id: string): Promise<PublicUser | null> {
    const now = this.clock.now();
    const hit = this.cache.get(id, now);
    if (hit) return hit;
    const u = await this.store.getUserById(id);
    if (!u || u.disabledAt !== null) return null;
    const p = toPublicUser(u);
    this.cache.set(id, p, now + this.ttlMs);
    return p;
  }

  /** The cached enabled user, or undefined on a miss (get must run). */
  getCached(id: string): PublicUser | undefined {
    return this.cache.get(id, this.clock.now());
  }

  forget(id: string): void {
    this.cache.delete(id);
  }
}

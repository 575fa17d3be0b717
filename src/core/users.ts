/**
 * Users: the public shape of a user, and the one place that changes user records.
 *
 * Every change goes through `UserDirectory`, which applies the rules that must never be forgotten:
 * the cached copy is dropped and every instance is told (`user.changed` on the feed), and the changes
 * that move the credential version (a new password, disable, enable) are made by the store atomically.
 */
import type { ChangeFeed, Clock, UserRecord, UserSearchQuery, UserStore } from '../ports.js';
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

/** An enabled user as cached for authentication: the public shape and the credential version. */
export interface ActiveUser {
  user: PublicUser;
  credentialVersion: number;
}

export interface UserListQuery {
  limit: number;
  after?: string;
}

export class UserDirectory {
  private readonly cache: ExpiringCache<string, ActiveUser>;

  constructor(
    private readonly store: UserStore,
    private readonly feed: ChangeFeed,
    private readonly clock: Clock,
    maxEntries: number,
    private readonly ttlMs: number,
  ) {
    this.cache = new ExpiringCache(maxEntries);
  }

  // ------------------------------------------------------------------ reads

  /** The enabled user (cached for `ttlMs`, dropped at once on `user.changed`), or null if missing or disabled. */
  async active(id: string): Promise<ActiveUser | null> {
    const now = this.clock.now();
    const hit = this.cache.get(id, now);
    if (hit) return hit;
    const u = await this.store.getUserById(id);
    if (!u || u.disabledAt !== null) return null;
    const a = { user: toPublicUser(u), credentialVersion: u.credentialVersion };
    this.cache.set(id, a, now + this.ttlMs);
    return a;
  }

  /** `active` from the cache alone; undefined on a miss. */
  activeCached(id: string): ActiveUser | undefined {
    return this.cache.get(id, this.clock.now());
  }

  /** The stored record, read fresh (never from the cache): for checks that must see the latest state. */
  record(id: string): Promise<UserRecord | null> {
    return this.store.getUserById(id);
  }

  byEmail(canonical: string): Promise<UserRecord | null> {
    return this.store.getUserByEmail(canonical);
  }

  list(q: UserListQuery): Promise<UserRecord[]> {
    return this.store.listUsers(q);
  }

  search(q: UserSearchQuery): Promise<UserRecord[]> {
    return this.store.searchUsers(q);
  }

  // ------------------------------------------------------------------ changes

  /** Inserts a new user; false when the canonical email is taken. */
  create(user: UserRecord): Promise<boolean> {
    return this.store.createUser(user);
  }

  /**
   * A new password: the credential version moves, so sessions started before it are dead. Resolves
   * the new version (null: no such user).
   */
  async setPassword(id: string, passwordHash: string): Promise<number | null> {
    const version = await this.store.setPasswordHash(id, passwordHash);
    await this.changed(id);
    return version;
  }

  /** The same password under new hashing parameters, unless it changed meanwhile. No other effect. */
  rehash(id: string, expected: string, passwordHash: string): Promise<boolean> {
    return this.store.rehashPassword(id, expected, passwordHash);
  }

  async setDisabled(id: string, disabled: boolean): Promise<boolean> {
    const ok = await this.store.setDisabled(id, disabled ? this.clock.now() : null);
    await this.changed(id);
    return ok;
  }

  /** Grants or revokes the administrator role (read fresh by every admin request, never cached). */
  async setAdmin(id: string, admin: boolean): Promise<boolean> {
    const ok = await this.store.setAdmin(id, admin);
    await this.changed(id);
    return ok;
  }

  async markEmailVerified(id: string): Promise<boolean> {
    const ok = await this.store.markEmailVerified(id, this.clock.now());
    await this.changed(id);
    return ok;
  }

  async changeEmail(id: string, email: string, canonical: string): Promise<'ok' | 'missing' | 'taken'> {
    const out = await this.store.changeEmail(id, email, canonical, this.clock.now());
    if (out === 'ok') await this.changed(id);
    return out;
  }

  async delete(id: string): Promise<boolean> {
    const ok = await this.store.deleteUser(id);
    await this.changed(id);
    return ok;
  }

  /** Drops the cached copy (the feed told us another instance changed the user). */
  forget(id: string): void {
    this.cache.delete(id);
  }

  private async changed(id: string): Promise<void> {
    this.cache.delete(id);
    await this.feed.publish({ type: 'user.changed', userId: id, at: this.clock.now() });
  }
}

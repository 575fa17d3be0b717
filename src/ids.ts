/**
 * Record ids that name their user.
 *
 * Session and refresh-token ids are `<22 random base64url characters><userId>`: 128 random bits,
 * then the id of the user they belong to. A store can therefore find everything of a user from one
 * of these ids alone — on Redis, the user's hash slot — without an id → user pointer per record.
 * The user id is not a secret (it is the `sub` of every access token); the random part keeps the
 * id unguessable, and the secret half of the token is what authenticates.
 *
 * This module imports nothing, so that the core and the stores can both use it.
 */

/** Length of the random part: base64url of 16 bytes. */
export const RANDOM_ID_LENGTH = 22;
/** Longest user id an owned id may carry (user ids Gatehouse makes are 22 characters). */
export const MAX_USER_ID_LENGTH = 64;

const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Whether ids can name this user: user ids Gatehouse makes always can (22 base64url characters). A user
 * id from elsewhere outside 1–64 base64url characters gets plain ids, which stores that do not route by
 * user (memory, SQLite, PostgreSQL) accept and the Redis store refuses.
 */
export function canOwn(userId: string): boolean {
  return userId.length > 0 && userId.length <= MAX_USER_ID_LENGTH && B64URL.test(userId);
}

/** `random` must be RANDOM_ID_LENGTH base64url characters; `userId` base64url, at most MAX_USER_ID_LENGTH. */
export function ownedId(random: string, userId: string): string {
  if (random.length !== RANDOM_ID_LENGTH || !B64URL.test(random)) throw new TypeError('ownedId: bad random part');
  if (!canOwn(userId)) throw new TypeError('ownedId: user ids must be 1–64 base64url characters');
  return random + userId;
}

/** The user an owned id names, or null when `id` is not an owned id. */
export function ownerOf(id: string): string | null {
  if (id.length <= RANDOM_ID_LENGTH || id.length > RANDOM_ID_LENGTH + MAX_USER_ID_LENGTH) return null;
  return B64URL.test(id) ? id.slice(RANDOM_ID_LENGTH) : null;
}

/** The random part of an owned id of `userId`, or null when `id` is not one. */
export function localPartOf(id: string, userId: string): string | null {
  return id.length === RANDOM_ID_LENGTH + userId.length && id.endsWith(userId) ? id.slice(0, RANDOM_ID_LENGTH) : null;
}

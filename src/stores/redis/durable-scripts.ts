/**
 * The Lua scripts of the confirmed revocations (durable.ts), run on the replica barrier's connection.
 * Each touches keys of one user only (the `{userId}` tag), like the stores' own (scripts.ts).
 */
import type { RedisClient } from './client.js';

/**
 * KEYS[1] user hash, KEYS[2] the user's tombstones. ARGV: exceptField ('' for none), dataPrefix, now,
 * tombstoneTtlMs. Deletes every session of the user but one, and records each one deleted in the
 * tombstones (field → now) in the same script: if the deletion survives a failover, so does the
 * record of what it deleted. Returns the deleted fields.
 */
export const DELETE_USER_SESSIONS_RECORDED = `
local ids = redis.call('HKEYS', KEYS[1])
local out = {}
for _, id in ipairs(ids) do
  if id ~= ARGV[1] then
    redis.call('HDEL', KEYS[1], id)
    redis.call('DEL', ARGV[2] .. id)
    redis.call('HSET', KEYS[2], id, ARGV[3])
    out[#out + 1] = id
  end
end
if #out > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
return out
`;

/**
 * KEYS[1] user hash, KEYS[2] the user's tombstones. ARGV: exceptField ('' for none), before (ms),
 * dataPrefix, now, tombstoneTtlMs. The repair of a deleteUserSessions whose reply was lost: deletes
 * the sessions created at or before `before` (field 2 of the text after the secret hash, base 36:
 * codec.ts) — what it meant, and nothing created since — and returns them together with every
 * session the tombstones record as deleted at or after `before` (the lost attempt's own deletions).
 */
export const REPAIR_USER_SESSIONS = `
local before = tonumber(ARGV[2])
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local id, v = all[i], all[i + 1]
  if id ~= ARGV[1] then
    local text = string.sub(v, 2 + string.byte(v, 1))
    local a = string.find(text, '|', 1, true)
    local b = a and string.find(text, '|', a + 1, true)
    local created = a and tonumber(string.sub(text, a + 1, (b or 0) - 1), 36)
    if created and created <= before then
      redis.call('HDEL', KEYS[1], id)
      redis.call('DEL', ARGV[3] .. id)
      redis.call('HSET', KEYS[2], id, ARGV[4])
      out[#out + 1] = id
    end
  end
end
if #out > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
local seen = {}
for _, id in ipairs(out) do seen[id] = true end
local tomb = redis.call('HGETALL', KEYS[2])
for i = 1, #tomb, 2 do
  if not seen[tomb[i]] and tonumber(tomb[i + 1]) >= before then out[#out + 1] = tomb[i] end
end
return out
`;

/** Defines the commands of its own the barrier connection runs (besides the stores' scripts). */
export function defineDurableScripts(r: RedisClient): void {
  if (!('deleteUserSessionsRecorded' in r)) r.defineCommand('deleteUserSessionsRecorded', { lua: DELETE_USER_SESSIONS_RECORDED, numberOfKeys: 2 });
  if (!('repairUserSessions' in r)) r.defineCommand('repairUserSessions', { lua: REPAIR_USER_SESSIONS, numberOfKeys: 2 });
}

/** How long the record of a user's deleted sessions is kept: long enough for any repair to read it. */
export const TOMBSTONE_TTL_MS = 3_600_000;
/** The user's tombstones: in the slot of the user's other keys. */
export const tombstones = (prefix: string, uid: string) => `${prefix}x:{${uid}}`;

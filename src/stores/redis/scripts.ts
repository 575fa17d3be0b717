/**
 * Lua scripts: each touches keys of one user only (one hash slot, via the `{userId}` tag), so
 * every multi-step change is atomic on a single Redis and on Redis Cluster alike.
 * Data-key names are built inside the scripts from a prefix that carries the same hash tag.
 */
const LIB = `
local function split(s)
  local t = {}
  local i = 1
  while true do
    local j = string.find(s, '|', i, true)
    if not j then t[#t + 1] = string.sub(s, i); return t end
    t[#t + 1] = string.sub(s, i, j - 1)
    i = j + 1
  end
end
local function parse(v)
  local n = string.byte(v, 1)
  return string.sub(v, 1, 1 + n), split(string.sub(v, 2 + n))
end
local function b36(s) return tonumber(s, 36) end
-- Signed base-36 offsets: session times after createdAt are stored relative to it (codec.ts).
local function o36(s)
  if string.sub(s, 1, 1) == '-' then return -tonumber(string.sub(s, 2), 36) end
  return tonumber(s, 36)
end
local DIG = '0123456789abcdefghijklmnopqrstuvwxyz'
local function to36(n)
  if n <= 0 then return '0' end
  local s = ''
  while n > 0 do
    local r = n % 36
    s = string.sub(DIG, r + 1, r + 1) .. s
    n = (n - r) / 36
  end
  return s
end
local function off36(n)
  if n < 0 then return '-' .. to36(-n) end
  return to36(n)
end
-- Session fields f: 1 mode, 2 createdAt, 3 lastSeenAt, 4 idleExpiresAt, 5 expiresAt, 6 authAt
-- (3–6 as offsets from 2), 7 ip, 8 browser, 9 os, 10 device type, 11 amr, 12 acr, 13 credential
-- version, 14 binding (codec.ts). at(f, i) is the absolute time of field i.
local function at(f, i) return b36(f[2]) + o36(f[i]) end
local function extend(key, at)
  local cur = redis.call('PEXPIRETIME', key)
  if cur < 0 or cur < at then redis.call('PEXPIREAT', key, at) end
end
`;

/** KEYS[1] user hash. ARGV: sid, encoded, max, now, mode, dataPrefix. Returns evicted [id, value]... */
export const CREATE_SESSION = LIB + `
local uh = KEYS[1]
local sid, enc, max, now, mode, dpre = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6]
local all = redis.call('HGETALL', uh)
local live = {}
local out = {}
local top = 0
for i = 1, #all, 2 do
  local id, v = all[i], all[i + 1]
  local _, f = parse(v)
  local idle, exp = at(f, 4), at(f, 5)
  if idle <= now or exp <= now then
    -- expired: forget it (and its data) while we hold the user's keys anyway
    redis.call('HDEL', uh, id)
    redis.call('DEL', dpre .. id)
  elseif id ~= sid then
    if f[1] == mode then live[#live + 1] = { id, b36(f[2]), v } end
    if idle > top then top = idle end
  end
end
table.sort(live, function(a, b) if a[2] ~= b[2] then return a[2] > b[2] end return a[1] > b[1] end)
for i = math.max(max, 1), #live do
  local e = live[i]
  redis.call('HDEL', uh, e[1])
  redis.call('DEL', dpre .. e[1])
  out[#out + 1] = e[1]
  out[#out + 1] = e[3]
end
redis.call('HSET', uh, sid, enc)
local _, nf = parse(enc)
local nidle = at(nf, 4)
if nidle > top then top = nidle end
redis.call('PEXPIREAT', uh, top)
return out
`;

/** KEYS[1] user hash. ARGV: sid, lastSeenAt, idleExpiresAt, dataPrefix. */
export const TOUCH_SESSION = LIB + `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local h, f = parse(v)
local seen, idle, exp, c = tonumber(ARGV[2]), tonumber(ARGV[3]), at(f, 5), b36(f[2])
if seen > at(f, 3) then f[3] = off36(seen - c) end
local cur = at(f, 4)
if idle > cur then
  if idle > exp then idle = exp end
  if idle > cur then
    f[4] = off36(idle - c)
    extend(KEYS[1], idle)
    local dk = ARGV[4] .. ARGV[1]
    if redis.call('EXISTS', dk) == 1 then redis.call('PEXPIREAT', dk, idle) end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], h .. table.concat(f, '|'))
return 1
`;

/** KEYS[1] user hash. ARGV: sid, authAt, encoded amr, acr and credential version (codec.ts). A step-up. */
export const SET_AUTH = LIB + `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local h, f = parse(v)
f[6] = off36(tonumber(ARGV[2]) - b36(f[2]))
-- Records written before fields 11–13 existed get them now (empty: their defaults).
for i = #f + 1, 13 do f[i] = '' end
f[11] = ARGV[3]
f[12] = ARGV[4]
f[13] = ARGV[5]
redis.call('HSET', KEYS[1], ARGV[1], h .. table.concat(f, '|'))
return 1
`;

/**
 * KEYS[1] user hash. ARGV: sid, encoded binding (codec.ts). Binds an unbound session; a binding is
 * never replaced. Returns 'ok', 'bound' or 'missing'.
 */
export const BIND_SESSION = LIB + `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 'missing' end
local h, f = parse(v)
if f[14] ~= nil and f[14] ~= '' then return 'bound' end
-- Fields 11–13 may have been left off as defaults: they must exist before field 14 can.
for i = #f + 1, 13 do f[i] = '' end
f[14] = ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], h .. table.concat(f, '|'))
return 'ok'
`;

/** KEYS[1] user hash. ARGV: sid, dataPrefix. Returns the deleted value or nil. */
export const DELETE_SESSION = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', ARGV[2] .. ARGV[1])
return v
`;

/** KEYS[1] user hash. ARGV: exceptId ('' for none), dataPrefix. Returns deleted ids. */
export const DELETE_USER_SESSIONS = `
local ids = redis.call('HKEYS', KEYS[1])
local out = {}
for _, id in ipairs(ids) do
  if id ~= ARGV[1] then
    redis.call('HDEL', KEYS[1], id)
    redis.call('DEL', ARGV[2] .. id)
    out[#out + 1] = id
  end
end
return out
`;

/** KEYS[1] user hash, KEYS[2] data hash. ARGV: sid. Returns false when the session is gone, else field/value pairs. */
export const GET_DATA = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
return redis.call('HGETALL', KEYS[2])
`;

/**
 * KEYS[1] user hash, KEYS[2] data hash. ARGV: sid, maxBytes, nSet, then nSet (jsonKey, jsonValue)
 * pairs, then jsonKeys to unset. The data hash holds each entry as JSON key -> JSON value, so the
 * size of the whole JSON object is 2 + sum(#k + 1 + #v) + (entries - 1): measured without parsing.
 */
export const PATCH_DATA = LIB + `
local sv = redis.call('HGET', KEYS[1], ARGV[1])
if not sv then return 'missing' end
local max, nset = tonumber(ARGV[2]), tonumber(ARGV[3])
local m = {}
local cur = redis.call('HGETALL', KEYS[2])
for i = 1, #cur, 2 do m[cur[i]] = cur[i + 1] end
local set = {}
for i = 0, nset - 1 do
  local k, v = ARGV[4 + 2 * i], ARGV[5 + 2 * i]
  m[k] = v
  set[k] = v
end
local unset = {}
for i = 4 + 2 * nset, #ARGV do
  m[ARGV[i]] = nil
  set[ARGV[i]] = nil
  unset[#unset + 1] = ARGV[i]
end
local size, n = 2, 0
for k, v in pairs(m) do size = size + #k + 1 + #v; n = n + 1 end
if n > 1 then size = size + n - 1 end
if size > max then return 'too_large' end
if #unset > 0 then redis.call('HDEL', KEYS[2], unpack(unset)) end
local args = {}
for k, v in pairs(set) do args[#args + 1] = k; args[#args + 1] = v end
if #args > 0 then
  redis.call('HSET', KEYS[2], unpack(args))
  local _, f = parse(sv)
  redis.call('PEXPIREAT', KEYS[2], at(f, 4))
end
return 'ok'
`;

/** KEYS[1] token hash. ARGV: id, encoded, now. Prunes expired tokens. */
export const CREATE_REFRESH = LIB + `
local now = tonumber(ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
local top = 0
for i = 1, #all, 2 do
  local _, f = parse(all[i + 1])
  local exp = b36(f[3])
  if exp <= now then redis.call('HDEL', KEYS[1], all[i]) elseif exp > top then top = exp end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local _, nf = parse(ARGV[2])
local exp = b36(nf[3])
if exp > top then top = exp end
redis.call('PEXPIREAT', KEYS[1], top)
return 1
`;

/**
 * KEYS[1] token hash. ARGV: id, now, graceMs, successorId (escaped), successorSalt (base64url),
 * successorEncoded, successorRawId. One script: spend-and-insert cannot interleave with another rotation.
 */
export const ROTATE_REFRESH = LIB + `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return { 'missing' } end
local now, grace = tonumber(ARGV[2]), tonumber(ARGV[3])
local h, f = parse(v)
if f[4] == '' then
  if b36(f[3]) <= now then return { 'missing' } end
  f[4] = to36(now)
  f[5] = ARGV[4]
  f[6] = ARGV[5]
  local nv = h .. table.concat(f, '|')
  redis.call('HSET', KEYS[1], ARGV[1], nv, ARGV[7], ARGV[6])
  local _, sf = parse(ARGV[6])
  extend(KEYS[1], b36(sf[3]))
  return { 'rotated', nv }
end
if now - b36(f[4]) <= grace then return { 'grace', v } end
return { 'reused', v }
`;

/** KEYS[1] token hash. ARGV: sessionId (escaped). Returns how many were deleted. */
export const DELETE_REFRESH_BY_SESSION = LIB + `
local all = redis.call('HGETALL', KEYS[1])
local n = 0
for i = 1, #all, 2 do
  local _, f = parse(all[i + 1])
  if f[1] == ARGV[1] then redis.call('HDEL', KEYS[1], all[i]); n = n + 1 end
end
return n
`;

/** KEYS[1] token hash. */
export const DELETE_REFRESH_BY_USER = `
local n = redis.call('HLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n
`;

/**
 * connect-redis's sessions (express-session on Redis) as a LegacySessionSource.
 *
 * connect-redis keeps one key per session, `${prefix}${sid}` (prefix `sess:` by default), holding the
 * session as JSON with `cookie.expires` (ISO) when the cookie has one, and a key TTL. A claim swaps
 * that value for a short-lived marker in one Lua script, so the old session is gone the moment one
 * request wins it and parallel requests see the marker instead.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { ConnectRedisSource } from 'gatehouse/stores/legacy';
 * const source = new ConnectRedisSource(new Redis('redis://127.0.0.1:6379'), { prefix: 'sess:' });
 * ```
 */
import { createHash } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import type { LegacyEntry, LegacySessionSource } from '../../ports.js';
import { guard } from '../redis/client.js';

const MARKER = 'gh_migrated';
/** Old session values larger than this are not parsed (a cookie could point at anything). */
const MAX_VALUE_BYTES = 256 * 1024;

// KEYS[1] the session key; ARGV: version (sha256 hex of the value), the marker, hold ms.
// The version is compared, not the value, so a request that read the value never resends it.
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if redis.sha1hex(v) ~= ARGV[1] then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
local marker = cjson.decode(ARGV[2])
marker['${MARKER}']['orig'] = v
marker['${MARKER}']['ttl'] = ttl
redis.call('SET', KEYS[1], cjson.encode(marker), 'PX', tonumber(ARGV[3]))
return 1
`;

// KEYS[1]; ARGV: claim id, the final marker, hold ms. Only the claim's owner may complete it.
const COMPLETE = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ok, m = pcall(cjson.decode, v)
if not ok or type(m) ~= 'table' or type(m['${MARKER}']) ~= 'table' or m['${MARKER}']['claim'] ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[3]))
return 1
`;

// KEYS[1]; ARGV: claim id. Restores the value the claim replaced, with what was left of its TTL.
const RELEASE = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ok, m = pcall(cjson.decode, v)
if not ok or type(m) ~= 'table' or type(m['${MARKER}']) ~= 'table' or m['${MARKER}']['claim'] ~= ARGV[1] then return 0 end
local orig = m['${MARKER}']['orig']
local ttl = tonumber(m['${MARKER}']['ttl'])
if type(orig) ~= 'string' then return 0 end
if ttl and ttl > 0 then redis.call('SET', KEYS[1], orig, 'PX', ttl) else redis.call('SET', KEYS[1], orig) end
return 1
`;

export interface ConnectRedisSourceOptions {
  /** connect-redis's `prefix` option. Default `sess:`. */
  prefix?: string;
  /** Keys per SCAN step when counting what is left. Default 1000. */
  scanCount?: number;
}

type Client = Redis | Cluster;

function sha1hex(s: string): string {
  return createHash('sha1').update(s, 'utf8').digest('hex');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class ConnectRedisSource implements LegacySessionSource {
  private readonly prefix: string;
  private readonly scanCount: number;

  constructor(
    private readonly redis: Client,
    opts: ConnectRedisSourceOptions = {},
  ) {
    this.prefix = opts.prefix ?? 'sess:';
    this.scanCount = opts.scanCount ?? 1000;
  }

  private key(sid: string): string {
    return this.prefix + sid;
  }

  async read(sid: string, now: number): Promise<LegacyEntry | null> {
    const key = this.key(sid);
    const [raw, pttl] = await guard(Promise.all([this.redis.get(key), this.redis.pttl(key)]));
    if (raw === null || Buffer.byteLength(raw, 'utf8') > MAX_VALUE_BYTES) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return null;
    }
    if (!isObject(parsed)) return null;
    const marker = parsed[MARKER];
    if (isObject(marker)) {
      if (typeof marker.claim !== 'string') return null;
      return {
        kind: 'migrated',
        claimId: marker.claim,
        sessionId: typeof marker.sessionId === 'string' ? marker.sessionId : null,
        userId: typeof marker.userId === 'string' ? marker.userId : null,
        at: typeof marker.at === 'number' ? marker.at : 0,
        seal: typeof marker.seal === 'string' ? marker.seal : null,
      };
    }
    // The earlier of the cookie's own expiry and the key's TTL: either one ends the old session.
    let expiresAt: number | null = null;
    const cookie = parsed.cookie;
    if (isObject(cookie) && typeof cookie.expires === 'string') {
      const t = Date.parse(cookie.expires);
      if (Number.isFinite(t)) expiresAt = t;
    }
    if (pttl > 0) expiresAt = Math.min(expiresAt ?? Infinity, now + pttl);
    return { kind: 'session', data: parsed, expiresAt, version: sha1hex(raw) };
  }

  async claim(sid: string, version: string, claimId: string, holdMs: number, now: number): Promise<boolean> {
    const marker = JSON.stringify({ [MARKER]: { claim: claimId, at: now } });
    const r = await guard(this.redis.eval(CLAIM, 1, this.key(sid), version, marker, Math.max(1, Math.ceil(holdMs))));
    return r === 1;
  }

  async complete(sid: string, claimId: string, replacement: { sessionId: string; userId: string; at: number; seal: string }, holdMs: number): Promise<void> {
    const marker = JSON.stringify({ [MARKER]: { claim: claimId, sessionId: replacement.sessionId, userId: replacement.userId, at: replacement.at, seal: replacement.seal } });
    await guard(this.redis.eval(COMPLETE, 1, this.key(sid), claimId, marker, Math.max(1, Math.ceil(holdMs))));
  }

  async release(sid: string, claimId: string): Promise<void> {
    await guard(this.redis.eval(RELEASE, 1, this.key(sid), claimId));
  }

  async remaining(): Promise<number> {
    const nodes = 'nodes' in this.redis && typeof this.redis.nodes === 'function' ? (this.redis as Cluster).nodes('master') : [this.redis as Redis];
    let n = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await guard(node.scan(cursor, 'MATCH', `${escapeGlob(this.prefix)}*`, 'COUNT', this.scanCount));
        cursor = next;
        if (keys.length === 0) continue;
        // A marker is not an old session; its value says so in its first bytes.
        const heads = await guard(Promise.all(keys.map((k) => node.getrange(k, 0, MARKER.length + 3))));
        for (const h of heads) if (h && !h.startsWith(`{"${MARKER}"`)) n++;
      } while (cursor !== '0');
    }
    return n;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** SCAN MATCH is a glob: a prefix with `*`, `?`, `[` or `\` must match itself only. */
function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * The cache of validated sessions, packed: one string per session, keyed by its id.
 *
 * A SessionRecord as objects costs about 900 bytes of heap (the record, a boxed number per time, the
 * device object and its strings, an amr array, a Uint8Array with its ArrayBuffer for the 32-byte hash,
 * the cache's own entry). At the default bound of 100,000 entries that is 90 MB. Packed into one
 * one-byte string — the hash as 32 Latin-1 characters, times in base 36, the rest as text — an entry
 * costs about a quarter of that. A hit unpacks it into a fresh record: a few short-lived allocations
 * (a microsecond), against a store read on a miss.
 *
 * Bounded and insertion-ordered like ExpiringCache (the oldest entry is evicted first, a hit does not
 * reorder). A record whose text holds the separator is simply not cached (it is read from the store).
 */
import type { AssuranceLevel, SessionBinding, SessionRecord } from '../ports.js';
import { ownerOf } from '../ids.js';

const SEP = '\u0001';
const HASH_CHARS = 32;

const t36 = (n: number): string => n.toString(36);
const n36 = (s: string): number => parseInt(s, 36);
/** Nullable text: null is empty, a string gets a leading '='. */
const optText = (s: string | null): string => (s === null ? '' : '=' + s);
const fromOpt = (s: string): string | null => (s === '' ? null : s.slice(1));

const whole = (n: number): boolean => Number.isSafeInteger(n);

function pack(rec: SessionRecord, cacheUntil: number): string | null {
  // Only what round-trips exactly is packed; anything else (a clock with fractions, an amr value
  // with a space) is simply not cached.
  if (rec.secretHash.length !== HASH_CHARS) return null;
  if (![cacheUntil, rec.createdAt, rec.lastSeenAt, rec.idleExpiresAt, rec.expiresAt, rec.authAt, rec.credentialVersion].every(whole)) return null;
  if (rec.amr.some((a) => a === '' || a.includes(' '))) return null;
  const b = rec.binding;
  const fields = [
    Buffer.from(rec.secretHash.buffer, rec.secretHash.byteOffset, HASH_CHARS).toString('latin1'),
    t36(cacheUntil),
    rec.mode === 'session' ? 's' : 't',
    // The id names its user (src/ids.ts) in all but foreign setups: then the user id is not repeated.
    ownerOf(rec.id) === rec.userId ? '' : '=' + rec.userId,
    t36(rec.createdAt),
    t36(rec.lastSeenAt),
    t36(rec.idleExpiresAt),
    t36(rec.expiresAt),
    t36(rec.authAt),
    rec.amr.join(' '),
    rec.acr === 'aal2' ? '2' : '1',
    t36(rec.credentialVersion),
    optText(rec.ip),
    optText(rec.device.browser),
    optText(rec.device.os),
    optText(rec.device.type),
    b === null ? '' : b.kind === 'dpop' ? 'p' : 'b',
    b === null ? '' : b.jkt,
    b !== null && b.kind === 'dbsc' ? b.key : '',
  ];
  // Another separator inside a field would shift the fields: such a record is not cached. (The hash,
  // first, has a fixed length and is never split.)
  for (let i = 1; i < fields.length; i++) if (fields[i]!.includes(SEP)) return null;
  // One join: a flat string (concatenation would keep a rope of the parts).
  return fields.join(SEP);
}

/**
 * A flat copy of `s`. An id sliced out of a cookie header by the parser is a view that keeps the
 * whole header alive; a map key outlives the request, so it gets its own characters.
 */
const own = (s: string): string => JSON.parse(JSON.stringify(s)) as string;

function unpack(id: string, packed: string): SessionRecord {
  const f = packed.slice(HASH_CHARS + 1).split(SEP);
  const kind = f[15]!;
  let binding: SessionBinding | null = null;
  if (kind === 'p') binding = { kind: 'dpop', jkt: f[16]! };
  else if (kind === 'b') binding = { kind: 'dbsc', jkt: f[16]!, key: f[17]! };
  return {
    id,
    userId: f[2] === '' ? ownerOf(id)! : f[2]!.slice(1),
    secretHash: Buffer.from(packed.slice(0, HASH_CHARS), 'latin1'),
    mode: f[1] === 's' ? 'session' : 'token',
    createdAt: n36(f[3]!),
    lastSeenAt: n36(f[4]!),
    idleExpiresAt: n36(f[5]!),
    expiresAt: n36(f[6]!),
    authAt: n36(f[7]!),
    amr: f[8] === '' ? [] : f[8]!.split(' '),
    acr: (f[9] === '2' ? 'aal2' : 'aal1') as AssuranceLevel,
    credentialVersion: n36(f[10]!),
    ip: fromOpt(f[11]!),
    device: { browser: fromOpt(f[12]!), os: fromOpt(f[13]!), type: fromOpt(f[14]!) },
    binding,
  };
}

/** When a packed entry stops being trusted (its first field). */
function cachedUntil(packed: string): number {
  return n36(packed.slice(HASH_CHARS + 1, packed.indexOf(SEP, HASH_CHARS + 1)));
}

export class SessionCache {
  private readonly map = new Map<string, string>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.map.size;
  }

  /** The cached record of `id` (a fresh object each time), or undefined when absent or past `cacheUntil`. */
  get(id: string, now: number): SessionRecord | undefined {
    const packed = this.map.get(id);
    if (packed === undefined) return undefined;
    if (cachedUntil(packed) <= now) {
      this.map.delete(id);
      return undefined;
    }
    return unpack(id, packed);
  }

  /** Caches `rec` until `cacheUntil` (ms). */
  set(rec: SessionRecord, cacheUntil: number): void {
    if (this.maxEntries <= 0) return;
    this.map.delete(rec.id);
    const packed = pack(rec, cacheUntil);
    if (packed === null) return;
    while (this.map.size >= this.maxEntries) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
    }
    this.map.set(own(rec.id), packed);
  }

  delete(id: string): boolean {
    return this.map.delete(id);
  }

  clear(): void {
    this.map.clear();
  }
}

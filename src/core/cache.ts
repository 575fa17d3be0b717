/**
 * A bounded map with per-entry expiry, evicting the least recently inserted entries first.
 * Map iteration order is insertion order, so the oldest entry is the first key: O(1) eviction
 * with no extra bookkeeping on the hot path (a hit does not reorder; for validation caches an
 * insertion-ordered bound is as good as LRU and costs nothing per request).
 */
export class ExpiringCache<K, V> {
  private readonly map = new Map<K, { value: V; expiresAt: number }>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K, now: number): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: K, value: V, expiresAt: number): void {
    if (this.maxEntries <= 0) return;
    this.map.delete(key);
    while (this.map.size >= this.maxEntries) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
    }
    this.map.set(key, { value, expiresAt });
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Deletes entries whose value matches. O(n); used on rare events such as a key rotation. */
  deleteWhere(pred: (value: V, key: K) => boolean): void {
    for (const [k, e] of this.map) if (pred(e.value, k)) this.map.delete(k);
  }

  clear(): void {
    this.map.clear();
  }
}

/**
 * Deep copies for records crossing the memory store's boundary, so a caller mutating a record (or
 * its secret-hash bytes) can never change stored state. Byte arrays are copied by view, not by their
 * whole backing buffer (a pooled Buffer would otherwise drag 8 KiB along).
 */
export function clone<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (Array.isArray(value)) return value.map(clone) as T;
  // fromEntries defines own properties, so a '__proto__' key stays data and never becomes a prototype.
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)])) as T;
}

/** A multimap from a key (user id, session id) to record ids, so deletes never scan every record. */
export class IdIndex {
  readonly #map = new Map<string, Set<string>>();

  add(key: string, id: string): void {
    let set = this.#map.get(key);
    if (!set) this.#map.set(key, (set = new Set()));
    set.add(id);
  }

  remove(key: string, id: string): void {
    const set = this.#map.get(key);
    if (!set) return;
    set.delete(id);
    if (set.size === 0) this.#map.delete(key);
  }

  get(key: string): string[] {
    return [...(this.#map.get(key) ?? [])];
  }
}

/**
 * Application data kept on a session, typed by the application. Changes are collected as a per-key
 * patch and written by `save()` only if something changed; the store merges per key atomically, so two
 * requests that change different keys never overwrite each other (the express-session `resave` race).
 * The data never leaves the server: it is not put in tokens or shown to other users.
 */
import { GatehouseError } from '../errors.js';
import type { SessionData, SessionDataPatch, SessionDataValue } from '../ports.js';

/** Where a handle writes its changes (the core's session operations). */
export interface SessionDataWriter {
  patchData(id: string, patch: SessionDataPatch): Promise<'ok' | 'missing' | 'too_large'>;
}

export class SessionDataHandle<T extends object = Record<string, SessionDataValue>> {
  private readonly set_ = new Map<string, SessionDataValue>();
  private readonly unset = new Set<string>();

  constructor(
    private readonly sessions: SessionDataWriter,
    private readonly sessionId: string,
    private readonly snapshot: SessionData,
    private readonly maxBytes: number,
  ) {}

  get<K extends keyof T & string>(key: K): T[K] | undefined {
    if (this.unset.has(key)) return undefined;
    if (this.set_.has(key)) return structuredClone(this.set_.get(key)) as T[K];
    const v = this.snapshot[key];
    return v === undefined ? undefined : (structuredClone(v) as T[K]);
  }

  set<K extends keyof T & string>(key: K, value: T[K]): void {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`session data "${key}" must be JSON-serialisable`);
    if (Buffer.byteLength(json) > this.maxBytes) throw new GatehouseError('session_data_too_large', 'session data too large');
    const prev = this.snapshot[key];
    this.unset.delete(key);
    if (prev !== undefined && JSON.stringify(prev) === json) {
      this.set_.delete(key); // unchanged: nothing to save
      return;
    }
    this.set_.set(key, JSON.parse(json) as SessionDataValue);
  }

  delete<K extends keyof T & string>(key: K): void {
    this.set_.delete(key);
    if (this.snapshot[key] !== undefined) this.unset.add(key);
  }

  /** Whether there are unsaved changes. */
  get dirty(): boolean {
    return this.set_.size > 0 || this.unset.size > 0;
  }

  /** Writes the changed keys (no write when nothing changed). */
  async save(): Promise<void> {
    if (!this.dirty) return;
    const patch = { set: Object.fromEntries(this.set_), unset: [...this.unset] };
    const r = await this.sessions.patchData(this.sessionId, patch);
    if (r === 'too_large') throw new GatehouseError('session_data_too_large', 'session data too large');
    if (r === 'missing') throw new GatehouseError('unauthenticated', 'session ended');
    for (const [k, v] of this.set_) this.snapshot[k] = v;
    for (const k of this.unset) delete this.snapshot[k];
    this.set_.clear();
    this.unset.clear();
  }
}

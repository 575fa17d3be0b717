import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the database with the settings every connection needs. A new file is
 * created readable by its owner only (0600) in a directory only its owner can enter (0700): it holds
 * password hashes and signing keys.
 */
export function openDatabase(path: string): Database.Database {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  }
  const db = new Database(path);
  try {
    if (!inMemory) db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    // FULL: a committed login or revocation survives a power loss, not only a process crash.
    db.pragma('synchronous = FULL');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** better-sqlite3 binds Buffers; a copy also keeps the caller's bytes out of the statement. */
export function toBlob(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}

export function fromBlob(blob: Buffer): Uint8Array {
  return new Uint8Array(blob);
}

export function blobOrNull(bytes: Uint8Array | null): Buffer | null {
  return bytes ? Buffer.from(bytes) : null;
}

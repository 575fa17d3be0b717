import type Database from 'better-sqlite3';
import type { KeyRecord, KeyStore, SigningAlg } from '../../ports.js';

interface KeyRow {
  kid: string;
  alg: SigningAlg;
  public_jwk: string | null;
  private_jwk: string;
  encrypted: number;
  created_at: number;
  retired_at: number | null;
  verify_until: number | null;
}

const toKey = (r: KeyRow): KeyRecord => ({
  kid: r.kid,
  alg: r.alg,
  publicJwk: r.public_jwk,
  privateJwk: r.private_jwk,
  encrypted: r.encrypted === 1,
  createdAt: r.created_at,
  retiredAt: r.retired_at,
  verifyUntil: r.verify_until,
});

export function createSqliteKeyStore(db: Database.Database): KeyStore {
  const list = db.prepare<[], KeyRow>('SELECT * FROM signing_keys ORDER BY created_at, kid');
  const insert = db.prepare(
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, encrypted, created_at, retired_at, verify_until)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const retire = db.prepare('UPDATE signing_keys SET retired_at = ?, verify_until = ? WHERE kid = ?');
  const remove = db.prepare('DELETE FROM signing_keys WHERE kid = ?');
  return {
    async listKeys() {
      return list.all().map(toKey);
    },
    async addKey(k) {
      insert.run(k.kid, k.alg, k.publicJwk, k.privateJwk, k.encrypted ? 1 : 0, k.createdAt, k.retiredAt, k.verifyUntil);
    },
    async retireKey(kid, retiredAt, verifyUntil) {
      return retire.run(retiredAt, verifyUntil, kid).changes === 1;
    },
    async deleteKey(kid) {
      return remove.run(kid).changes === 1;
    },
  };
}

import type { KeyRecord, KeyStore } from '../../ports.js';
import type { Db } from './db.js';

/** A signing_keys row as pg returns it. */
type KeyRow = {
  kid: string;
  alg: KeyRecord['alg'];
  public_jwk: string | null;
  private_jwk: string;
  encrypted: boolean;
  created_at: number;
  retired_at: number | null;
  verify_until: number | null;
};

const COLS = 'kid, alg, public_jwk, private_jwk, encrypted, created_at, retired_at, verify_until';

function toKey(r: KeyRow): KeyRecord {
  return {
    kid: r.kid,
    alg: r.alg,
    publicJwk: r.public_jwk,
    privateJwk: r.private_jwk,
    encrypted: r.encrypted,
    createdAt: r.created_at,
    retiredAt: r.retired_at,
    verifyUntil: r.verify_until,
  };
}

export function createPostgresKeyStore(db: Db): KeyStore {
  return {
    async listKeys() {
      return (await db.query<KeyRow>(`SELECT ${COLS} FROM signing_keys ORDER BY created_at, kid`)).rows.map(toKey);
    },
    async addKey(k) {
      await db.query(`INSERT INTO signing_keys (${COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
        k.kid, k.alg, k.publicJwk, k.privateJwk, k.encrypted, k.createdAt, k.retiredAt, k.verifyUntil,
      ]);
    },
    async retireKey(kid, retiredAt, verifyUntil) {
      const r = await db.query(`UPDATE signing_keys SET retired_at = $2, verify_until = $3 WHERE kid = $1`, [kid, retiredAt, verifyUntil]);
      return r.rowCount === 1;
    },
    async deleteKey(kid) {
      return (await db.query(`DELETE FROM signing_keys WHERE kid = $1`, [kid])).rowCount === 1;
    },
  };
}

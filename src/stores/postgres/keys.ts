import type { KeyRecord, KeyStore } from '../../ports.js';
import type { Db, Row } from './db.js';

const COLS = 'kid, alg, public_jwk, private_jwk, encrypted, created_at, retired_at, verify_until';

function toKey(r: Row): KeyRecord {
  return {
    kid: r.kid as string,
    alg: r.alg as KeyRecord['alg'],
    publicJwk: (r.public_jwk as string | null) ?? null,
    privateJwk: r.private_jwk as string,
    encrypted: r.encrypted as boolean,
    createdAt: r.created_at as number,
    retiredAt: (r.retired_at as number | null) ?? null,
    verifyUntil: (r.verify_until as number | null) ?? null,
  };
}

export function pgKeyStore(db: Db): KeyStore {
  return {
    async listKeys() {
      return (await db.query(`SELECT ${COLS} FROM signing_keys ORDER BY created_at, kid`)).rows.map(toKey);
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

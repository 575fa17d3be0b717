import type { KeyRecord, KeyStore } from '../../ports.js';
import type { Db, Row } from './db.js';

const COLS = 'kid, alg, public_jwk, private_jwk, encrypted, created_at, retired_at, verify_until';

function toKey(r: Row): KeyRecord {
  return {
    kid: r.kid as string,
    alg: r.alg as KeyRecord['alg'],
    publicJwk: (r.public_jwk as string | null) ?? null,
    privateJwk: r.private_jwk as string,
    encrypted: Number(r.encrypted) === 1,
    createdAt: r.created_at as number,
    retiredAt: (r.retired_at as number | null) ?? null,
    verifyUntil: (r.verify_until as number | null) ?? null,
  };
}

export function createMysqlKeyStore(db: Db): KeyStore {
  return {
    async listKeys() {
      return (await db.exec(`SELECT ${COLS} FROM signing_keys ORDER BY created_at, kid`)).rows.map(toKey);
    },
    async addKey(k) {
      await db.exec(`INSERT INTO signing_keys (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
        k.kid, k.alg, k.publicJwk, k.privateJwk, k.encrypted ? 1 : 0, k.createdAt, k.retiredAt, k.verifyUntil,
      ]);
    },
    async retireKey(kid, retiredAt, verifyUntil) {
      const r = await db.exec(`UPDATE signing_keys SET retired_at = ?, verify_until = ? WHERE kid = ?`, [retiredAt, verifyUntil, kid]);
      return r.affected === 1;
    },
    async deleteKey(kid) {
      return (await db.exec(`DELETE FROM signing_keys WHERE kid = ?`, [kid])).affected === 1;
    },
  };
}

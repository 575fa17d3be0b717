/**
 * Key layout. Everything of one user carries the hash tag `{userId}` and so lives in one slot:
 *   <p>u:{uid}            hash  session -> encoded session (the per-user index)
 *   <p>d:{uid}:<s>        hash  JSON key -> JSON value (session data, only when non-empty)
 *   <p>t:{uid}            hash  refresh token -> encoded token
 *   <p>feed, <p>feed:seq, <p>changes   change-feed log (sorted set), its sequence, pub/sub channel
 *   <p>pm:<kind>:<value>  string with a TTL: a proof mark (DPoP proof id seen, nonce, DBSC challenge)
 * Session and refresh-token ids name their user (src/ids.ts), so no id -> user pointer is kept;
 * inside a user's keys they appear as their 22-character random part <s>.
 */
export interface Keys {
  user(uid: string): string;
  dataPrefix(uid: string): string;
  data(uid: string, sid: string): string;
  tokens(uid: string): string;
  proof(kind: string, value: string): string;
  feedLog: string;
  feedSeq: string;
  channel: string;
}

export function keys(prefix: string): Keys {
  return {
    user: (uid) => `${prefix}u:{${uid}}`,
    dataPrefix: (uid) => `${prefix}d:{${uid}}:`,
    data: (uid, sid) => `${prefix}d:{${uid}}:${sid}`,
    tokens: (uid) => `${prefix}t:{${uid}}`,
    proof: (kind, value) => `${prefix}pm:${kind}:${value}`,
    feedLog: `${prefix}feed`,
    feedSeq: `${prefix}feed:seq`,
    channel: `${prefix}changes`,
  };
}

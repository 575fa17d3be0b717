/**
 * Key layout. Everything of one user carries the hash tag `{userId}` and so lives in one slot:
 *   <p>u:{uid}            hash  sid -> encoded session (the per-user index)
 *   <p>d:{uid}:<sid>      hash  JSON key -> JSON value (session data, only when non-empty)
 *   <p>t:{uid}            hash  refresh token id -> encoded token
 *   <p>x:<id>             string uid: pointer from a session or refresh-token id to its user
 *   <p>feed, <p>feed:seq, <p>changes   change-feed log (sorted set), its sequence, pub/sub channel
 */
export interface Keys {
  user(uid: string): string;
  dataPrefix(uid: string): string;
  data(uid: string, sid: string): string;
  tokens(uid: string): string;
  ptr(id: string): string;
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
    ptr: (id) => `${prefix}x:${id}`,
    feedLog: `${prefix}feed`,
    feedSeq: `${prefix}feed:seq`,
    channel: `${prefix}changes`,
  };
}

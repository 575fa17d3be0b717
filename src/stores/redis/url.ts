/**
 * What a Redis URL names: one server, a Cluster (seed nodes) or a Sentinel-monitored master.
 *
 *   redis://[user:pass@]host:6379[/db]              one server (parsed by ioredis itself)
 *   rediss://…                                      the same over TLS
 *   redis+cluster://[user:pass@]host:7000,host:7001 Redis Cluster; the credentials are every node's
 *   rediss+cluster://…                              the same over TLS
 *   redis+sentinel://[user:pass@]host:26379,host:26380/mymaster[/db][?sentinel_username=…&sentinel_password=…]
 *   rediss+sentinel://…                             the same, TLS to the Sentinels and to the servers
 *
 * In the Sentinel form the credentials in front of the hosts are those of the master and its
 * replicas, like in every other form; the Sentinels' own (Sentinels have their own `requirepass`
 * and ACL) go in the query. User names and passwords are percent-decoded, so a `@`, `:` or `/`
 * in a password is written `%40`, `%3A`, `%2F`.
 *
 * The host list is not a WHATWG URL (a comma-separated list of `host:port` is not a host), so it is
 * cut out and each part, and the rest of the URL, goes through the platform's URL parser. Messages
 * never repeat the URL: it may hold a password.
 */

export interface RedisNode {
  host: string;
  port: number;
}

export type RedisTarget =
  /** One server: the URL is handed to ioredis unchanged. */
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: RedisNode[]; username: string | null; password: string | null; tls: boolean }
  | {
      kind: 'sentinel';
      sentinels: RedisNode[];
      /** The master group name the Sentinels monitor (`sentinel monitor <name> …`). */
      name: string;
      db: number;
      username: string | null;
      password: string | null;
      sentinelUsername: string | null;
      sentinelPassword: string | null;
      tls: boolean;
    };

export class RedisUrlError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is;
const SENTINEL_PARAMS = new Set(['sentinel_username', 'sentinel_password']);

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RedisUrlError(`the Redis URL's ${what} is not validly percent-encoded`);
  }
}

function hostList(list: string, defaultPort: number, scheme: string): RedisNode[] {
  if (list.trim() === '') throw new RedisUrlError(`a ${scheme}:// URL needs at least one host:port`);
  return list.split(',').map((raw) => {
    const hp = raw.trim();
    let u: URL;
    try {
      u = new URL(`redis://${hp}`);
    } catch {
      throw new RedisUrlError(`"${hp}" in the ${scheme}:// host list is not a host:port`);
    }
    if (!u.hostname || u.username || u.password || u.pathname !== '' || u.search || u.hash) {
      throw new RedisUrlError(`"${hp}" in the ${scheme}:// host list is not a host:port`);
    }
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    return { host, port: u.port ? Number(u.port) : defaultPort };
  });
}

/** Parses a Redis URL; throws RedisUrlError with a message that names the problem (never the URL). */
export function parseRedisUrl(url: string): RedisTarget {
  const m = SCHEME.exec(url.trim());
  if (!m) throw new RedisUrlError('the Redis URL must look like redis://host:6379, redis+cluster://… or redis+sentinel://…');
  const scheme = m[1]!.toLowerCase();
  const authority = m[2]!;
  const rest = m[3]!;
  if (scheme === 'redis' || scheme === 'rediss') return { kind: 'single', url: url.trim() };
  const family = /^rediss?\+(cluster|sentinel)$/.exec(scheme)?.[1];
  if (!family) {
    throw new RedisUrlError(`unsupported Redis URL scheme "${scheme}:" (use redis://, rediss://, redis+cluster://, rediss+cluster://, redis+sentinel:// or rediss+sentinel://)`);
  }
  const tls = scheme.startsWith('rediss');
  // The last @ separates the credentials (WHATWG does the same); a password holding @ must be %40.
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at);
  const hosts = at < 0 ? authority : authority.slice(at + 1);
  let username: string | null = null;
  let password: string | null = null;
  if (userinfo !== '') {
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    username = user === '' ? null : decode(user, 'user name');
    password = colon < 0 ? null : decode(userinfo.slice(colon + 1), 'password');
    if (password === '') password = null;
  }
  // The path, query and fragment, parsed against a placeholder host.
  let tail: URL;
  try {
    tail = new URL(`redis://placeholder${rest}`);
  } catch {
    throw new RedisUrlError(`the path or query of the ${scheme}:// URL is not valid`);
  }
  if (tail.hash) throw new RedisUrlError(`a ${scheme}:// URL takes no #fragment`);

  if (family === 'cluster') {
    if (tail.pathname !== '' && tail.pathname !== '/') throw new RedisUrlError(`a ${scheme}:// URL takes no path: Redis Cluster has only database 0`);
    if (tail.search !== '') throw new RedisUrlError(`a ${scheme}:// URL takes no query parameters`);
    return { kind: 'cluster', nodes: hostList(hosts, 6379, scheme), username, password, tls };
  }

  const path = tail.pathname.split('/').filter((s) => s !== '');
  if (path.length === 0 || path.length > 2) {
    throw new RedisUrlError(`a ${scheme}:// URL names the monitored master: ${scheme}://host:26379,host:26380/mymaster[/db]`);
  }
  const name = decode(path[0]!, 'master name');
  let db = 0;
  if (path.length === 2) {
    if (!/^\d{1,5}$/.test(path[1]!)) throw new RedisUrlError(`the database in a ${scheme}:// URL must be a number`);
    db = Number(path[1]);
  }
  // Percent-decoded like the credentials in front of the hosts: a `+` in a password stays a `+`
  // (URLSearchParams would read it as a space).
  const params = new Map<string, string>();
  for (const pair of tail.search.slice(1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const k = decode(eq < 0 ? pair : pair.slice(0, eq), 'query');
    if (!SENTINEL_PARAMS.has(k)) throw new RedisUrlError(`unknown parameter "${k}" in a ${scheme}:// URL (known: ${[...SENTINEL_PARAMS].join(', ')})`);
    params.set(k, eq < 0 ? '' : decode(pair.slice(eq + 1), k));
  }
  const param = (k: string) => {
    const v = params.get(k);
    return v === undefined || v === '' ? null : v;
  };
  return {
    kind: 'sentinel',
    sentinels: hostList(hosts, 26379, scheme),
    name,
    db,
    username,
    password,
    sentinelUsername: param('sentinel_username'),
    sentinelPassword: param('sentinel_password'),
    tls,
  };
}

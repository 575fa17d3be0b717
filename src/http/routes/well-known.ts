/**
 * JWKS and OpenID discovery, so standard verifiers find the public keys; and the revocation list, so
 * `gatehouse/verify` in another service can refuse tokens of ended sessions without asking per token.
 */
import { hash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthCore } from '../../core/auth.js';
import { sendJson, sendProblem } from '../problem.js';
import type { Router } from '../router.js';

/** The list's hash: the first 128 bits of SHA-256 of the session id, base64url (22 characters). */
export const REVOCATION_HASH = 'sha256-128';

export function revokedSessionHash(sessionId: string): string {
  return hash('sha256', sessionId, 'buffer').subarray(0, 16).toString('base64url');
}

interface ListMemo {
  revision: number;
  until: number;
  /** performance.now() before which this build is served even if the set changed (large lists only). */
  holdUntil: number;
  body: string;
  etag: string;
}

/** A rebuild costing more than this (a list of many thousand entries) is held for a while afterwards… */
const HOLD_ABOVE_MS = 5;
/** …for this many times its cost, at most `MAX_HOLD_MS`: rebuilding then takes at most ~1/10 of a core. */
const HOLD_FACTOR = 9;
const MAX_HOLD_MS = 1000;

/** Merges two sorted lists of hashes. */
function merge(a: readonly string[], b: readonly string[]): string[] {
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/**
 * The list body and its ETag. A poll of an unchanged list costs a comparison: the body is rebuilt only
 * when the revocation set changed or an entry aged out, and then each session id is hashed once in its
 * life and the sorted list is updated by a merge rather than sorted again. A rebuild is still linear in
 * the list (about 50–100 ms for 100,000 entries here), so under a steady stream of revocations a large
 * list is rebuilt at most about every ten times its cost (at most 1 s later): polls cannot keep a core busy.
 */
function revocationList(core: AuthCore): () => ListMemo {
  const { published } = core;
  const hashes = new Map<string, { hash: string; seen: number }>(); // session id → its hash, last snapshot it was in
  let sorted: string[] = [];
  let generation = 0;
  let memo: ListMemo | null = null;
  return () => {
    if (memo && ((memo.revision === published.revocationRevision() && core.now() < memo.until) || performance.now() < memo.holdUntil)) return memo;
    const started = performance.now();
    const snap = published.revocations();
    generation += 1;
    const fresh: string[] = [];
    for (const id of snap.ids) {
      const known = hashes.get(id);
      if (known) known.seen = generation;
      else {
        const h = revokedSessionHash(id);
        hashes.set(id, { hash: h, seen: generation });
        fresh.push(h);
      }
    }
    const gone = new Set<string>();
    for (const [id, e] of hashes) {
      if (e.seen !== generation) {
        hashes.delete(id);
        gone.add(e.hash);
      }
    }
    sorted = merge(gone.size > 0 ? sorted.filter((h) => !gone.has(h)) : sorted, fresh.sort());
    // Entries are base64url: nothing to escape, so a join is the JSON encoding, and cheaper.
    const revoked = sorted.length > 0 ? `["${sorted.join('","')}"]` : '[]';
    const body = `{"revoked":${revoked},"hash":"${REVOCATION_HASH}","window_seconds":${Math.ceil(snap.windowMs / 1000)}}`;
    const etag = `"${hash('sha256', body, 'base64url').slice(0, 22)}"`;
    const cost = performance.now() - started;
    const holdUntil = cost > HOLD_ABOVE_MS ? started + cost + Math.min(MAX_HOLD_MS, cost * HOLD_FACTOR) : 0;
    memo = { revision: snap.revision, until: snap.until, holdUntil, body, etag };
    return memo;
  };
}

/** RFC 9110 §13.1.2: weak comparison; `*` matches any current representation. */
function notModified(req: IncomingMessage, etag: string): boolean {
  const h = req.headers['if-none-match'];
  if (typeof h !== 'string' || h.length > 4096) return false;
  return h.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || (v.startsWith('W/') ? v.slice(2) : v) === etag;
  });
}

function sendList(req: IncomingMessage, res: ServerResponse, list: ListMemo): void {
  // Verifiers revalidate every poll; an intermediary must not serve a stale list in between.
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('ETag', list.etag);
  if (notModified(req, list.etag)) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(list.body));
  res.end(list.body);
}

export function wellKnownRoutes(router: Router, core: AuthCore, basePath: string): void {
  const list = revocationList(core);
  router.add({
    method: 'GET',
    path: '/.well-known/jwks.json',
    handler: ({ res }) => {
      // Short enough that a rotation reaches verifiers well before the old key stops verifying.
      res.setHeader('Cache-Control', 'public, max-age=300, stale-while-revalidate=60');
      sendJson(res, 200, core.published.jwks(), 'application/jwk-set+json');
    },
  });
  router.add({
    method: 'GET',
    path: '/.well-known/openid-configuration',
    handler: ({ res }) => {
      const iss = core.config.publicUrl;
      res.setHeader('Cache-Control', 'public, max-age=3600');
      sendJson(res, 200, {
        issuer: iss,
        jwks_uri: `${iss}/.well-known/jwks.json`,
        token_endpoint: `${iss}${basePath}/refresh`,
        id_token_signing_alg_values_supported: [core.config.token.alg],
        token_endpoint_auth_methods_supported: ['none'],
        grant_types_supported: ['refresh_token'],
        response_types_supported: ['token'],
        subject_types_supported: ['public'],
      });
    },
  });
  router.add({
    method: 'GET',
    path: '/.well-known/gatehouse-revocations',
    handler: ({ req, res }) => {
      // While the feed is down or replaying, revocations made elsewhere may be missing: an incomplete
      // list must never pass for a complete one, so the verifier keeps its last list until it goes stale.
      if (!core.diagnostics().revocationsTrusted) return sendProblem(res, 'store_unavailable', { retryAfter: 1 });
      sendList(req, res, list());
    },
  });
}

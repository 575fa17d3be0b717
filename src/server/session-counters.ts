/**
 * Per-session counters of the standalone server: how many authenticated requests a session made on
 * this instance, and how many session- and refresh-store reads and writes were done for it. The web
 * UI's explorer shows them to the signed-in user for their own session only, so the claim "no store
 * round-trip per request in the steady state" can be watched rather than believed.
 *
 * Only the server composes this (a counting wrapper around the two stores, and one route); the core
 * and library use are untouched. The cost on the request path is one map update per authenticated
 * request; store calls are counted where they happen (they are I/O anyway).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response, Router } from 'express';
import express from 'express';
import type { RefreshTokenStore, SessionStore, Stores } from '../ports.js';

export interface SessionCounts {
  /** Authenticated requests of the session (its credential was accepted). */
  requests: number;
  /** Session- and refresh-store reads made for the session. */
  storeReads: number;
  /** Session- and refresh-store writes made for the session (sliding renewal, refresh rotation…). */
  storeWrites: number;
  /** When counting began for this session on this instance (epoch ms). */
  since: number;
}

/** The route that reads the counters (served by Express beside the auth routes). */
export const COUNTERS_PATH = '/auth/session/counters';

/** Sessions counted at most; beyond it the oldest entry is dropped (its counts start again). */
export const COUNTED_SESSIONS_MAX = 10_000;

export class SessionCounters {
  private readonly counts = new Map<string, SessionCounts>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly max = COUNTED_SESSIONS_MAX,
  ) {}

  private entry(sessionId: string): SessionCounts {
    let e = this.counts.get(sessionId);
    if (!e) {
      e = { requests: 0, storeReads: 0, storeWrites: 0, since: this.now() };
      this.counts.set(sessionId, e);
      if (this.counts.size > this.max) this.counts.delete(this.counts.keys().next().value!);
    }
    return e;
  }

  request(sessionId: string): void {
    this.entry(sessionId).requests += 1;
  }
  read(sessionId: string | null | undefined): void {
    if (sessionId) this.entry(sessionId).storeReads += 1;
  }
  write(sessionId: string | null | undefined): void {
    if (sessionId) this.entry(sessionId).storeWrites += 1;
  }

  get(sessionId: string): SessionCounts | null {
    const e = this.counts.get(sessionId);
    return e ? { ...e } : null;
  }

  get size(): number {
    return this.counts.size;
  }
}

/**
 * The session store, counting each call that names one session — once it has answered, and only for a
 * session that exists: ids from forged or stale credentials never take a place in the map.
 */
export function countedSessionStore(s: SessionStore, c: SessionCounters): SessionStore {
  return {
    createSession: (session, opts) => s.createSession(session, opts),
    async getSession(id, now) {
      const r = await s.getSession(id, now);
      if (r) c.read(id);
      return r;
    },
    async touchSession(id, lastSeenAt, idleExpiresAt) {
      const r = await s.touchSession(id, lastSeenAt, idleExpiresAt);
      if (r) c.write(id);
      return r;
    },
    async setSessionAuth(id, auth) {
      const r = await s.setSessionAuth(id, auth);
      if (r) c.write(id);
      return r;
    },
    bindSession: (id, binding) => s.bindSession(id, binding),
    listSessionsByUser: (userId, now) => s.listSessionsByUser(userId, now),
    deleteSession: (id) => s.deleteSession(id),
    deleteUserSessions: (userId, exceptId) => s.deleteUserSessions(userId, exceptId),
    deleteExpiredSessions: (now) => s.deleteExpiredSessions(now),
    countLiveSessions: (now) => s.countLiveSessions(now),
    async getSessionData(id) {
      const r = await s.getSessionData(id);
      if (r) c.read(id);
      return r;
    },
    async patchSessionData(id, patch, maxBytes) {
      const r = await s.patchSessionData(id, patch, maxBytes);
      if (r === 'ok') c.write(id);
      return r;
    },
  };
}

/** The refresh-token store, counting reads and rotations by the session they belong to. */
export function countedRefreshStore(s: RefreshTokenStore, c: SessionCounters): RefreshTokenStore {
  return {
    async createRefreshToken(token) {
      await s.createRefreshToken(token);
      c.write(token.sessionId);
    },
    async getRefreshToken(id) {
      const t = await s.getRefreshToken(id);
      c.read(t?.sessionId);
      return t;
    },
    async rotateRefreshToken(id, successor, now, graceMs, successorSalt) {
      const r = await s.rotateRefreshToken(id, successor, now, graceMs, successorSalt);
      // One atomic read-and-write in every store; an unknown token names no session.
      if (r.kind !== 'missing') {
        c.read(r.token.sessionId);
        c.write(r.token.sessionId);
      }
      return r;
    },
    deleteRefreshTokensBySession: (sessionId) => s.deleteRefreshTokensBySession(sessionId),
    deleteRefreshTokensByUser: (userId) => s.deleteRefreshTokensByUser(userId),
    deleteExpiredRefreshTokens: (now) => s.deleteExpiredRefreshTokens(now),
  };
}

export interface SessionCounting {
  counters: SessionCounters;
  /** The stores with their session and refresh stores counted (compose's `wrapStores`). */
  wrap(stores: Stores): Stores;
  /** Counts each authenticated request once it has been answered. */
  countRequests: RequestHandler;
  /** The same on node:http (the server's front door, for the requests it sends past Express). */
  countRequest(res: ServerResponse): void;
  /** `GET /auth/session/counters` for the signed-in session; mount before the auth routes. */
  routes(requireAuth: () => RequestHandler): Router;
}

/** Per-session counting for the standalone server: a store wrapper, a request counter and one route. */
export function sessionCounters(now: () => number = Date.now): SessionCounting {
  const counters = new SessionCounters(now);
  const onFinish = function (this: { req: IncomingMessage }) {
    const sid = this.req.auth?.sessionId;
    if (sid) counters.request(sid);
  };
  return {
    counters,
    wrap: (inner) => ({
      ...inner,
      sessions: countedSessionStore(inner.sessions, counters),
      refreshTokens: countedRefreshStore(inner.refreshTokens, counters),
      ping: () => inner.ping(),
      close: () => inner.close(),
    }),
    countRequests: (_req, res, next) => {
      res.once('finish', onFinish);
      next();
    },
    countRequest: (res) => void res.once('finish', onFinish),
    routes(requireAuth) {
      const router = express.Router();
      router.get(COUNTERS_PATH, requireAuth(), (req: Request, res: Response) => {
        const sid = req.auth!.sessionId;
        const c = counters.get(sid) ?? { requests: 0, storeReads: 0, storeWrites: 0, since: now() };
        res.setHeader('Cache-Control', 'no-store');
        res.json({ session_id: sid, requests: c.requests, store_reads: c.storeReads, store_writes: c.storeWrites, since: new Date(c.since).toISOString() });
      });
      return router;
    },
  };
}

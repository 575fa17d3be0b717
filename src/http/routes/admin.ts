/**
 * The admin API, mounted at `/admin/api` (see docs/admin.md). Every route passes the same gate before
 * its handler: a signed-in user (either transport) who holds the administrator role now, with a recent
 * authentication at the highest level they have (`admin_required` / `reauth_required` otherwise).
 * The gate is applied here, by `add`, to every route this module registers — no route can forget it.
 */
import { performance } from 'node:perf_hooks';
import { decodeUserCursor, type AdminActor } from '../../core/admin.js';
import { GatehouseError } from '../../errors.js';
import { MAX_USER_ID_LENGTH, RANDOM_ID_LENGTH } from '../../ids.js';
import type { AuditEvent, AuditEventType, UserRecord, UserStatus } from '../../ports.js';
import { requestMeta } from '../meta.js';
import { sendJson, sendNoContent } from '../problem.js';
import type { AuthedRouteCtx, Router } from '../router.js';
import { authJson, iso, passkeyJson, type RouteContext } from './kit.js';

export const ADMIN_BASE_PATH = '/admin/api';

const USER_ID = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_USER_ID_LENGTH}}$`);
const SESSION_ID = new RegExp(`^[A-Za-z0-9_-]{1,${RANDOM_ID_LENGTH + MAX_USER_ID_LENGTH}}$`);
const EVENT_CURSOR = /^[0-9a-v]{20}$/;
const STATUSES: readonly UserStatus[] = ['active', 'unverified', 'disabled'];
/** The event types an audit search may name (the trail's vocabulary; anything else is a 400). */
const EVENT_TYPE = /^[a-z_]{1,32}(\.[a-z_]{1,32})?$/;
const MAX_PAGE = 100;

const bad = (field: string, detail: string) => new GatehouseError('invalid_field', `${field} invalid`, { field, detail });

function limitOf(q: URLSearchParams, fallback: number): number {
  if (!q.has('limit')) return fallback;
  const n = Number(q.get('limit'));
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw bad('limit', `"limit" must be an integer from 1 to ${MAX_PAGE}.`);
  return n;
}

/** An RFC 3339 date-time (or a date) as epoch ms; undefined when absent. */
function timeOf(q: URLSearchParams, field: string): number | undefined {
  const v = q.get(field);
  if (v === null || v === '') return undefined;
  const ms = v.length <= 40 && /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw bad(field, `"${field}" must be a date-time such as 2026-01-31T12:00:00Z.`);
  return ms;
}

function idParam(v: string | undefined, re: RegExp, what: string): string {
  if (v === undefined || !re.test(v)) throw new GatehouseError('not_found', `no such ${what}`);
  return v;
}

function statusOf(u: UserRecord): UserStatus {
  return u.disabledAt !== null ? 'disabled' : u.emailVerifiedAt === null ? 'unverified' : 'active';
}

export function adminUserJson(u: UserRecord) {
  return {
    id: u.id,
    email: u.email,
    status: statusOf(u),
    admin: u.admin,
    created_at: iso(u.createdAt),
    email_verified_at: u.emailVerifiedAt === null ? null : iso(u.emailVerifiedAt),
    disabled_at: u.disabledAt === null ? null : iso(u.disabledAt),
  };
}

export function adminEventJson(e: AuditEvent) {
  const actor = e.detail?.actor;
  return {
    id: e.id,
    type: e.type,
    at: iso(e.at),
    user_id: e.userId,
    session_id: e.sessionId,
    actor: typeof actor === 'string' ? actor : null,
    ip: e.ip,
    user_agent: e.userAgent,
    detail: e.detail,
  };
}

export function adminRoutes(router: Router, ctx: RouteContext): void {
  const { core, trust } = ctx;
  const admin = core.admin;
  const actor = (c: AuthedRouteCtx): AdminActor => ({ ctx: c.auth, meta: requestMeta(c.req, trust) });

  /** Registers an admin route: authenticated, then the administrator gate, then the handler. */
  const add = (method: 'GET' | 'POST' | 'DELETE', path: string, handler: (c: AuthedRouteCtx) => Promise<void>) =>
    router.add({
      method,
      path,
      auth: true,
      handler: async (c) => {
        // Answers are about other people's accounts: never cached, anywhere.
        c.res.setHeader('Cache-Control', 'no-store');
        await admin.authorize(c.auth);
        await handler(c);
      },
    });

  add('GET', '/users', async ({ res, query }) => {
    const limit = limitOf(query, 25);
    const email = query.get('email') ?? '';
    if (email.length > 320) throw bad('email', '"email" is too long.');
    const status = query.get('status') ?? '';
    if (status !== '' && !(STATUSES as readonly string[]).includes(status)) throw bad('status', `"status" must be one of: ${STATUSES.join(', ')}.`);
    const cursor = query.get('cursor');
    const after = cursor ? decodeUserCursor(cursor) : undefined;
    if (after === null) throw bad('cursor', '"cursor" is not valid.');
    const createdFrom = timeOf(query, 'created_from');
    const createdTo = timeOf(query, 'created_to');
    const page = await admin.searchUsers({
      limit,
      // The canonical form is lower-case and NFKC-normalised (core/email.ts): match the prefix in it.
      ...(email ? { emailPrefix: email.trim().normalize('NFKC').toLowerCase() } : {}),
      ...(status ? { status: status as UserStatus } : {}),
      ...(createdFrom !== undefined ? { createdFrom } : {}),
      ...(createdTo !== undefined ? { createdTo } : {}),
      ...(after ? { after } : {}),
    });
    sendJson(res, 200, { users: page.users.map(adminUserJson), next_cursor: page.next });
  });

  add('GET', '/users/:id', async ({ res, params }) => {
    const view = await admin.viewUser(idParam(params.id, USER_ID, 'user'));
    if (!view) throw new GatehouseError('not_found', 'no such user');
    sendJson(res, 200, {
      user: adminUserJson(view.user),
      sessions: view.sessions.map((s) => ({
        id: s.id,
        mode: s.mode,
        device: s.device,
        ip: s.ip,
        created_at: iso(s.createdAt),
        last_seen_at: iso(s.lastSeenAt),
        expires_at: iso(Math.min(s.idleExpiresAt, s.expiresAt)),
        ...authJson(s),
        binding: s.binding?.kind ?? null,
        provider: s.provider,
      })),
      // Metadata only: no TOTP secret, no recovery code hash, no public key.
      second_factors: {
        totp: view.factors.totp,
        recovery_codes: view.factors.recoveryCodes,
        passkeys: view.factors.passkeys.map(passkeyJson),
      },
      identities: view.identities.map((i) => ({
        id: i.id,
        provider: i.provider,
        email: i.email,
        email_verified: i.emailVerified,
        created_at: iso(i.createdAt),
        last_used_at: i.lastUsedAt === null ? null : iso(i.lastUsedAt),
      })),
    });
  });

  add('POST', '/users/:id/disable', async (c) => {
    await admin.setDisabledBy(actor(c), idParam(c.params.id, USER_ID, 'user'), true);
    sendNoContent(c.res);
  });

  add('POST', '/users/:id/enable', async (c) => {
    await admin.setDisabledBy(actor(c), idParam(c.params.id, USER_ID, 'user'), false);
    sendNoContent(c.res);
  });

  add('DELETE', '/users/:id', async (c) => {
    await admin.deleteUserBy(actor(c), idParam(c.params.id, USER_ID, 'user'));
    sendNoContent(c.res);
  });

  add('DELETE', '/users/:id/sessions', async (c) => {
    const ended = await admin.endSessionsBy(actor(c), idParam(c.params.id, USER_ID, 'user'));
    sendJson(c.res, 200, { ended });
  });

  add('DELETE', '/users/:id/sessions/:sid', async (c) => {
    await admin.endSessionBy(actor(c), idParam(c.params.id, USER_ID, 'user'), idParam(c.params.sid, SESSION_ID, 'session'));
    sendNoContent(c.res);
  });

  add('POST', '/users/:id/mfa/reset', async (c) => {
    const r = await admin.resetMfaBy(actor(c), idParam(c.params.id, USER_ID, 'user'));
    sendJson(c.res, 200, { totp: r.totp, recovery_codes: r.recoveryCodes, passkeys: r.passkeys });
  });

  add('POST', '/users/:id/verification', async (c) => {
    const sent = await admin.resendVerificationBy(actor(c), idParam(c.params.id, USER_ID, 'user'));
    sendJson(c.res, 200, { sent });
  });

  add('GET', '/audit', async ({ res, query }) => {
    const limit = limitOf(query, 50);
    const user = query.get('user') ?? '';
    if (user !== '' && !USER_ID.test(user)) throw bad('user', '"user" must be a user id.');
    const type = query.get('type') ?? '';
    if (type !== '' && !EVENT_TYPE.test(type)) throw bad('type', '"type" must be an event type such as login.failed.');
    const ip = (query.get('ip') ?? '').trim();
    if (ip.length > 64) throw bad('ip', '"ip" is too long.');
    const cursor = query.get('cursor') ?? '';
    if (cursor !== '' && !EVENT_CURSOR.test(cursor)) throw bad('cursor', '"cursor" is not valid.');
    const since = timeOf(query, 'since');
    const until = timeOf(query, 'until');
    const events = await admin.auditEvents({
      limit: limit + 1,
      ...(user ? { userId: user } : {}),
      ...(type ? { types: [type as AuditEventType] } : {}),
      ...(ip ? { ip } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(cursor ? { before: cursor } : {}),
    });
    const page = events.slice(0, limit);
    sendJson(res, 200, { events: page.map(adminEventJson), next_cursor: events.length > limit ? page[page.length - 1]!.id : null });
  });

  add('GET', '/stats', async ({ res, query }) => {
    const raw = query.get('window') ?? '5';
    const minutes = Number(raw);
    if (!/^\d{1,2}$/.test(raw) || minutes < 1 || minutes > 60) throw bad('window', '"window" must be a number of minutes from 1 to 60.');
    const t0 = performance.now();
    await core.ping();
    const pingMs = performance.now() - t0;
    const s = await admin.stats(core.now() - minutes * 60_000);
    sendJson(res, 200, {
      logins: { window_seconds: minutes * 60, succeeded: s.logins.succeeded, failed: s.logins.failed, mfa_required: s.logins.mfaRequired },
      sessions: { session: s.sessions.session, token: s.sessions.token, counted_at: iso(s.sessions.countedAt) },
      revocation_feed: { trusted: core.diagnostics().revocationsTrusted },
      store: { ping_ms: Math.round(pingMs * 100) / 100 },
    });
  });
}

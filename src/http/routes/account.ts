/** Devices (sessions in both modes), re-authentication, password change, account deletion, own events. */
import type { Router } from 'express';
import { GatehouseError } from '../../errors.js';
import { parseJsonBody } from '../body.js';
import { clearCookie } from '../cookies.js';
import { requiredString } from '../input.js';
import { requestMeta } from '../meta.js';
import { sendProblem } from '../problem.js';
import { iso, route, wrap, type RouteContext } from './kit.js';

const HANDLE = /^[A-Za-z0-9_-]{1,64}$/;

export function accountRoutes(router: Router, ctx: RouteContext): void {
  const { core, account } = ctx;
  const auth = ctx.requireAuth();
  const clearSession = (res: Parameters<Parameters<typeof wrap>[0]>[1]) =>
    clearCookie(res, core.config.session.cookieName, { path: '/', sameSite: 'Lax' });

  route(router, '/sessions', {
    get: [
      auth,
      wrap(async (req, res) => {
        const list = await account.listSessions(req.auth!);
        res.json({
          sessions: list.map((s) => ({
            id: s.id,
            current: s.current,
            mode: s.mode,
            device: s.device,
            ip: s.ip,
            created_at: iso(s.createdAt),
            last_seen_at: iso(s.lastSeenAt),
            expires_at: iso(s.expiresAt),
          })),
        });
      }),
    ],
  });

  route(router, '/sessions/:id', {
    delete: [
      auth,
      wrap(async (req, res) => {
        const id = String(req.params.id);
        if (!HANDLE.test(id)) throw new GatehouseError('not_found', 'no such session');
        await account.revokeSession(req.auth!, id, requestMeta(req));
        if (id === req.auth!.sessionId) clearSession(res);
        res.status(204).end();
      }),
    ],
  });

  route(router, '/logout-others', {
    post: [
      auth,
      wrap(async (req, res) => {
        const n = await account.logoutOthers(req.auth!, requestMeta(req));
        res.json({ revoked: n });
      }),
    ],
  });

  route(router, '/logout-all', {
    post: [
      auth,
      wrap(async (req, res) => {
        await account.logoutAll(req.auth!, requestMeta(req));
        clearSession(res);
        res.status(204).end();
      }),
    ],
  });

  route(router, '/reauth', {
    post: [
      auth,
      wrap(async (req, res) => {
        const body = await parseJsonBody(req);
        const password = requiredString(body, 'password', 16 * 1024);
        if (!(await account.reauth(req.auth!, password, requestMeta(req)))) return sendProblem(res, 'invalid_credentials');
        res.json({ reauthenticated_at: iso(core.clock.now()), valid_for: Math.floor(core.config.reauthWindow / 1000) });
      }),
    ],
  });

  route(router, '/password', {
    post: [
      auth,
      wrap(async (req, res) => {
        const body = await parseJsonBody(req);
        const current = requiredString(body, 'current_password', 16 * 1024);
        const next = requiredString(body, 'new_password', 16 * 1024);
        await account.changePassword(req.auth!, current, next, requestMeta(req));
        res.status(204).end();
      }),
    ],
  });

  route(router, '/account', {
    delete: [
      auth,
      wrap(async (req, res) => {
        await account.deleteAccount(req.auth!, requestMeta(req));
        clearSession(res);
        res.status(204).end();
      }),
    ],
  });

  route(router, '/events', {
    get: [
      auth,
      wrap(async (req, res) => {
        const q = req.query;
        const limitRaw = typeof q.limit === 'string' ? Number(q.limit) : 20;
        if (!Number.isInteger(limitRaw) || limitRaw < 1 || limitRaw > 100) {
          throw new GatehouseError('invalid_field', 'limit', { field: 'limit', detail: '"limit" must be an integer from 1 to 100.' });
        }
        const before = q.cursor === undefined ? undefined : String(q.cursor);
        if (before !== undefined && !/^[0-9a-v]{20}$/.test(before)) {
          throw new GatehouseError('invalid_field', 'cursor', { field: 'cursor', detail: '"cursor" is not valid.' });
        }
        const page = await account.events(req.auth!, { limit: limitRaw, ...(before ? { before } : {}) });
        res.json({
          events: page.events.map((e) => ({
            id: e.id,
            type: e.type,
            at: iso(e.at),
            session_id: e.sessionId,
            ip: e.ip,
            user_agent: e.userAgent,
            detail: e.detail,
          })),
          next_cursor: page.next,
        });
      }),
    ],
  });
}

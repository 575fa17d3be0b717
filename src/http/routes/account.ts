/** Devices (sessions in both modes), re-authentication, password change, account deletion, own events. */
import type { ServerResponse } from 'node:http';
import { GatehouseError } from '../../errors.js';
import { MAX_USER_ID_LENGTH, RANDOM_ID_LENGTH } from '../../ids.js';
import { parseJsonBody } from '../body.js';
import { clearCookie } from '../cookies.js';
import { requiredString } from '../input.js';
import { reauthInput } from './second-factor.js';
import { clientIp, requestMeta } from '../meta.js';
import { sendJson, sendNoContent, sendProblem } from '../problem.js';
import { accountKey } from '../rate-limit.js';
import type { Router } from '../router.js';
import { authJson, iso, type RouteContext } from './kit.js';

/** A session handle: base64url, at most as long as an id naming the longest user id (ids.ts). */
const HANDLE = new RegExp(`^[A-Za-z0-9_-]{1,${RANDOM_ID_LENGTH + MAX_USER_ID_LENGTH}}$`);

export function accountRoutes(router: Router, ctx: RouteContext): void {
  const { core, trust, rateLimits } = ctx;
  const { account } = core;
  const clearSession = (res: ServerResponse) => clearCookie(res, core.config.session.cookieName, { path: '/', sameSite: 'Lax' });

  router.add({
    method: 'GET',
    path: '/sessions',
    auth: true,
    handler: async ({ res, auth }) => {
      const [list, providers] = await Promise.all([account.listSessions(auth), core.federation.sessionProviders(auth.user.id)]);
      sendJson(res, 200, {
        sessions: list.map((s) => ({
          id: s.id,
          current: s.current,
          mode: s.mode,
          device: s.device,
          ip: s.ip,
          created_at: iso(s.createdAt),
          last_seen_at: iso(s.lastSeenAt),
          expires_at: iso(s.expiresAt),
          ...authJson(s),
          // The key the session is bound to: `dpop` (token mode) or `dbsc` (cookie mode); null when none.
          binding: s.binding?.kind ?? null,
          // The identity provider the session was opened through, or null.
          provider: providers.get(s.id) ?? null,
        })),
      });
    },
  });

  router.add({
    method: 'DELETE',
    path: '/sessions/:id',
    auth: true,
    handler: async ({ req, res, auth, params }) => {
      const id = String(params.id);
      if (!HANDLE.test(id)) throw new GatehouseError('not_found', 'no such session');
      await account.revokeSession(auth, id, requestMeta(req, trust));
      if (id === auth.sessionId) clearSession(res);
      sendNoContent(res);
    },
  });

  router.add({
    method: 'POST',
    path: '/logout-others',
    auth: true,
    handler: async ({ req, res, auth }) => {
      const n = await account.logoutOthers(auth, requestMeta(req, trust));
      sendJson(res, 200, { revoked: n });
    },
  });

  router.add({
    method: 'POST',
    path: '/logout-all',
    auth: true,
    handler: async ({ req, res, auth }) => {
      await account.logoutAll(auth, requestMeta(req, trust));
      clearSession(res);
      sendNoContent(res);
    },
  });

  router.add({
    method: 'POST',
    path: '/reauth',
    auth: true,
    handler: async ({ req, res, auth }) => {
      const body = await parseJsonBody(req);
      const input = reauthInput(body);
      // Shares the account's login budget: password and code guesses alike.
      const attempt = await rateLimits.admit(clientIp(req, trust), accountKey('login', auth.user.email), { countAttempt: true });
      const out = await account.reauth(auth, input, requestMeta(req, trust));
      if (out !== 'ok') {
        await attempt.failed();
        return sendProblem(res, out);
      }
      await attempt.succeeded();
      sendJson(res, 200, { reauthenticated_at: iso(core.now()), valid_for: Math.floor(core.config.reauthWindow / 1000) });
    },
  });

  router.add({
    method: 'POST',
    path: '/reauth/options',
    auth: true,
    handler: async ({ req, res, auth }) => {
      await parseJsonBody(req);
      const options = await account.reauthOptions(auth);
      if (!options) throw new GatehouseError('no_second_factor', 'no passkey', { detail: 'This account has no passkey.' });
      sendJson(res, 200, options);
    },
  });

  router.add({
    method: 'POST',
    path: '/password',
    auth: true,
    handler: async ({ req, res, auth }) => {
      const body = await parseJsonBody(req);
      const current = requiredString(body, 'current_password', 16 * 1024);
      const next = requiredString(body, 'new_password', 16 * 1024);
      const attempt = await rateLimits.admit(clientIp(req, trust), accountKey('login', auth.user.email), { countAttempt: true });
      try {
        await account.changePassword(auth, current, next, requestMeta(req, trust));
      } catch (e) {
        if (e instanceof GatehouseError && e.code === 'invalid_credentials') await attempt.failed();
        throw e;
      }
      await attempt.succeeded();
      sendNoContent(res);
    },
  });

  router.add({
    method: 'DELETE',
    path: '/account',
    auth: true,
    handler: async ({ res, auth }) => {
      await account.deleteAccount(auth);
      clearSession(res);
      sendNoContent(res);
    },
  });

  router.add({
    method: 'GET',
    path: '/events',
    auth: true,
    handler: async ({ res, auth, query }) => {
      const limitRaw = query.has('limit') ? Number(query.get('limit')) : 20;
      if (!Number.isInteger(limitRaw) || limitRaw < 1 || limitRaw > 100) {
        throw new GatehouseError('invalid_field', 'limit', { field: 'limit', detail: '"limit" must be an integer from 1 to 100.' });
      }
      const before = query.get('cursor') ?? undefined;
      if (before !== undefined && !/^[0-9a-v]{20}$/.test(before)) {
        throw new GatehouseError('invalid_field', 'cursor', { field: 'cursor', detail: '"cursor" is not valid.' });
      }
      const page = await account.events(auth, { limit: limitRaw, ...(before ? { before } : {}) });
      sendJson(res, 200, {
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
    },
  });
}

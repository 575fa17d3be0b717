/**
 * Checks without side effects, for clients that ask "am I signed in?" without treating "no" as an
 * error: a page load of a signed-out browser, and a page that watches for its session being ended
 * elsewhere. Neither extends a session's idle expiry nor spends a refresh token.
 */
import type { ServerResponse } from 'node:http';
import { isPopRefusal, type TokenPresentation } from '../../core/auth.js';
import { clearCookie, readCookie } from '../cookies.js';
import { dpopHeader, requestUrl, sendDpopProblem } from '../dpop.js';
import { accessToken } from '../middleware.js';
import { sendJson, sendProblem } from '../problem.js';
import type { Router } from '../router.js';
import { currentSessionJson, userJson, type RouteContext } from './kit.js';

export function sessionCheckRoutes(router: Router, ctx: RouteContext): void {
  const { core } = ctx;
  const cookieName = core.config.session.cookieName;
  const refreshCookieName = core.config.token.refreshCookieName;
  const boundCookieName = core.config.dbsc.cookieName;
  const origin = new URL(core.config.publicUrl).origin;

  const signedOut = (res: ServerResponse) => sendJson(res, 200, { user: null, session: null });

  /**
   * GET /session: like GET /me, but 200 `{"user":null,"session":null}` when no credential (or a stale
   * session cookie, which is cleared) comes with the request, and the session's idle expiry is not
   * extended: asking is not using. A bearer token that is presented and refused is still a 401
   * `invalid_token`, so that a token client knows to refresh.
   */
  router.add({
    method: 'GET',
    path: '/session',
    handler: async ({ req, res }) => {
      const t = accessToken(req);
      if (t !== undefined) {
        if (t === null) return sendProblem(res, 'invalid_token');
        const how: TokenPresentation =
          t.scheme === 'DPoP' ? { scheme: 'DPoP', dpop: { proof: dpopHeader(req), method: req.method ?? 'GET', url: requestUrl(req, origin) } } : { scheme: 'Bearer' };
        const a = (t.scheme === 'Bearer' ? core.sessions.authenticateBearerCached(t.token) : undefined) ?? (await core.sessions.authenticateBearer(t.token, how));
        if (a && isPopRefusal(a)) return sendDpopProblem(res, a.refused === 'use_dpop_nonce' ? 'use_dpop_nonce' : 'invalid_dpop_proof');
        if (!a) return t.scheme === 'DPoP' ? sendDpopProblem(res, 'invalid_token') : sendProblem(res, 'invalid_token');
        return sendJson(res, 200, { user: userJson(a.user), session: currentSessionJson(a) });
      }
      const values = readCookie(req, cookieName);
      if (values.length === 0) return signedOut(res);
      const bound = readCookie(req, boundCookieName);
      const a = values.length === 1 ? await core.sessions.checkCookie(values[0], bound.length === 1 ? bound[0] : undefined) : null;
      // A device-bound session whose short cookie lapsed is not signed out: the browser renews that cookie.
      if (a && isPopRefusal(a)) return signedOut(res);
      if (!a) {
        clearCookie(res, cookieName, { path: '/', sameSite: 'Lax' });
        return signedOut(res);
      }
      sendJson(res, 200, { user: userJson(a.user), session: currentSessionJson(a) });
    },
  });

  /**
   * GET /refresh: whether this browser holds a refresh cookie (it is HttpOnly and scoped to this path,
   * so a page cannot see it). The value is neither read back nor used; a page calls POST /refresh
   * only when there is something to refresh.
   */
  router.add({
    method: 'GET',
    path: '/refresh',
    handler: ({ req, res }) => {
      sendJson(res, 200, { refresh_cookie: readCookie(req, refreshCookieName).length === 1 });
    },
  });
}

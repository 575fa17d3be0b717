/**
 * The answer to a successful sign-in, whatever the way in: the session cookie (with a DBSC registration
 * offer), or access + refresh tokens (`token_type` DPoP when bound to the proof's key).
 */
import type { ServerResponse } from 'node:http';
import type { Started, TokenGrant } from '../../core/auth.js';
import { setCookie } from '../cookies.js';
import { sendJson } from '../problem.js';
import { bindingOffer } from './dbsc.js';
import { sessionJson, userJson, type RouteContext } from './kit.js';

export type RefreshTransport = 'body' | 'cookie';

export function loginResponder(ctx: RouteContext) {
  const { core } = ctx;
  const cfg = core.config;
  const sessionCookie = { path: '/', sameSite: 'Lax' as const };
  const refreshCookie = { path: `${ctx.basePath}/refresh`, sameSite: 'Strict' as const };

  const sendGrant = (res: ServerResponse, g: TokenGrant, viaCookie: boolean) => {
    const body: Record<string, unknown> = {
      access_token: g.accessToken,
      token_type: g.tokenType,
      expires_in: g.expiresIn,
      user: userJson(g.user),
      session: sessionJson(g.session),
    };
    if (viaCookie) {
      setCookie(res, cfg.token.refreshCookieName, g.refreshToken, { ...refreshCookie, maxAgeSeconds: (g.session.expiresAt - core.now()) / 1000 });
    } else {
      body.refresh_token = g.refreshToken;
    }
    sendJson(res, 200, body);
  };

  /** The session cookie of a started cookie session (and the DBSC registration offer); the caller writes the body. */
  const setSessionCookie = (res: ServerResponse, started: Extract<Started, { mode: 'session' }>) => {
    const maxAge = (started.session.expiresAt - core.now()) / 1000;
    setCookie(res, cfg.session.cookieName, started.cookie, { ...sessionCookie, maxAgeSeconds: maxAge });
    // A browser with Device Bound Session Credentials binds the new session to a key of its own.
    if (started.bindingChallenge) res.setHeader('Secure-Session-Registration', bindingOffer(ctx.basePath, started.bindingChallenge));
  };

  const sendStarted = (res: ServerResponse, started: Started, transport: RefreshTransport) => {
    if (started.mode === 'session') {
      setSessionCookie(res, started);
      return sendJson(res, 200, { user: userJson(started.user), session: sessionJson(started.session) });
    }
    sendGrant(res, started.grant, transport === 'cookie');
  };

  return { sendGrant, sendStarted, setSessionCookie, sessionCookie, refreshCookie };
}

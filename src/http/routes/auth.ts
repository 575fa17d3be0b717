/** Register, login (both modes), me, logout and refresh. */
import type { Request, Response, Router } from 'express';
import { GatehouseError } from '../../errors.js';
import { parseJsonBody } from '../body.js';
import { clearCookie, readCookie, setCookie } from '../cookies.js';
import { optionalEnum, requiredString } from '../input.js';
import { requestMeta } from '../meta.js';
import { problemBody, sendProblem } from '../problem.js';
import { route, sessionJson, userJson, wrap, type RouteContext } from './kit.js';

const PASSWORD_FIELD_MAX = 16 * 1024; // the byte bound (1024) is the policy's; this only caps the string

export function authRoutes(router: Router, ctx: RouteContext): void {
  const { core } = ctx;
  const cfg = core.config;
  const sessionCookie = { path: '/', sameSite: 'Lax' as const };
  const refreshCookie = { path: `${ctx.basePath}/refresh`, sameSite: 'Strict' as const };
  const refreshCookieName = cfg.token.refreshCookieName;

  const sendGrant = (res: Response, g: Awaited<ReturnType<typeof core.refreshTokens>> & object, viaCookie: boolean) => {
    const body: Record<string, unknown> = {
      access_token: g.accessToken,
      token_type: 'Bearer',
      expires_in: g.expiresIn,
      user: userJson(g.user),
      session: sessionJson(g.session),
    };
    if (viaCookie) {
      setCookie(res, refreshCookieName, g.refreshToken, { ...refreshCookie, maxAgeSeconds: (g.session.expiresAt - core.clock.now()) / 1000 });
    } else {
      body.refresh_token = g.refreshToken;
    }
    res.status(200).json(body);
  };

  route(router, '/register', {
    post: [
      wrap(async (req, res) => {
        const body = await parseJsonBody(req);
        const email = requiredString(body, 'email', 1024);
        const password = requiredString(body, 'password', PASSWORD_FIELD_MAX);
        const user = await core.register(email, password, requestMeta(req));
        res.status(201).json({ user: userJson(user) });
      }),
    ],
  });

  route(router, '/login', {
    post: [
      wrap(async (req, res) => {
        const body = await parseJsonBody(req);
        const email = requiredString(body, 'email', 1024);
        const password = requiredString(body, 'password', PASSWORD_FIELD_MAX);
        const mode = optionalEnum(body, 'mode', ['session', 'token'] as const) ?? 'session';
        const transport = optionalEnum(body, 'refresh_transport', ['body', 'cookie'] as const) ?? 'body';
        const result = await core.login(email, password, mode, requestMeta(req));
        // Every failure (unknown email, wrong password, disabled user) is the same answer.
        if (!result.ok) return sendProblem(res, 'invalid_credentials');
        if (result.mode === 'session') {
          const maxAge = (result.session.expiresAt - core.clock.now()) / 1000;
          setCookie(res, cfg.session.cookieName, result.cookie, { ...sessionCookie, maxAgeSeconds: maxAge });
          res.status(200).json({ user: userJson(result.user), session: sessionJson(result.session) });
          return;
        }
        sendGrant(res, result.grant, transport === 'cookie');
      }),
    ],
  });

  route(router, '/me', {
    get: [
      ctx.requireAuth(),
      wrap((req, res) => {
        const a = req.auth!;
        const session = a.session
          ? sessionJson(a.session)
          : { id: a.sessionId, mode: a.mode, expires_at: new Date(a.claims!.exp * 1000).toISOString() };
        res.json({ user: userJson(a.user), session });
      }),
    ],
  });

  route(router, '/logout', {
    post: [
      ctx.requireAuth(),
      wrap(async (req, res) => {
        await core.logout(req.auth!, requestMeta(req));
        clearCookie(res, cfg.session.cookieName, sessionCookie);
        if (readCookie(req, refreshCookieName).length > 0) clearCookie(res, refreshCookieName, refreshCookie);
        res.status(204).end();
      }),
    ],
  });

  route(router, '/refresh', {
    post: [
      wrap(async (req: Request, res: Response) => {
        const body = await parseJsonBody(req);
        let presented = body.refresh_token === undefined ? undefined : requiredString(body, 'refresh_token', 512);
        let viaCookie = false;
        if (presented === undefined) {
          const values = readCookie(req, refreshCookieName);
          if (values.length === 1) {
            presented = values[0];
            viaCookie = true;
          }
        }
        if (presented === undefined) {
          throw new GatehouseError('invalid_field', 'refresh_token required', { field: 'refresh_token', detail: '"refresh_token" is required.' });
        }
        const grant = await core.refreshTokens(presented, requestMeta(req));
        if (!grant) {
          if (viaCookie) clearCookie(res, refreshCookieName, refreshCookie);
          // RFC 6749 §5.2 (`error`) inside an RFC 9457 problem body.
          const p = problemBody('invalid_grant');
          res.setHeader('Cache-Control', 'no-store');
          res.status(400).type('application/problem+json').send(JSON.stringify({ ...p, error: 'invalid_grant', error_description: p.title }));
          return;
        }
        sendGrant(res, grant, viaCookie);
      }),
    ],
  });
}

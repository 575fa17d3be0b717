/** Register, login (both modes), me, logout and refresh. */
import type { ServerResponse } from 'node:http';
import type { TokenGrant } from '../../core/auth.js';
import { hashKey } from './keys.js';
import { GatehouseError } from '../../errors.js';
import { parseJsonBody } from '../body.js';
import { clearCookie, readCookie, setCookie } from '../cookies.js';
import { sendDpopProblem, tokenRequestProof } from '../dpop.js';
import { isPopRefusal } from '../../core/auth.js';
import { bindingOffer } from './dbsc.js';
import { optionalEnum, requiredString } from '../input.js';
import { clientIp, requestMeta } from '../meta.js';
import { problemBody, sendJson, sendNoContent, sendProblem } from '../problem.js';
import { accountKey, refreshKey } from '../rate-limit.js';
import type { Router } from '../router.js';
import { sessionJson, userJson, type RouteContext } from './kit.js';

/** Caps the string only; the password policy's byte bound (1024) answers with its own code. */
const PASSWORD_FIELD_MAX = 16 * 1024;

export function authRoutes(router: Router, ctx: RouteContext): void {
  const { core, trust, rateLimits } = ctx;
  const cfg = core.config;
  const lc = cfg.lifecycle;
  // A repeated registration mails the address's owner: on the reset-mail budget per address, so it cannot be used to flood anyone.
  const noticeLimit = rateLimits.budget('reset-email', lc.resetPerEmail, lc.limitWindow);
  const sessionCookie = { path: '/', sameSite: 'Lax' as const };
  const refreshCookie = { path: `${ctx.basePath}/refresh`, sameSite: 'Strict' as const };
  const refreshCookieName = cfg.token.refreshCookieName;

  const sendGrant = (res: ServerResponse, g: TokenGrant, viaCookie: boolean) => {
    const body: Record<string, unknown> = {
      access_token: g.accessToken,
      token_type: g.tokenType,
      expires_in: g.expiresIn,
      user: userJson(g.user),
      session: sessionJson(g.session),
    };
    if (viaCookie) {
      setCookie(res, refreshCookieName, g.refreshToken, { ...refreshCookie, maxAgeSeconds: (g.session.expiresAt - core.now()) / 1000 });
    } else {
      body.refresh_token = g.refreshToken;
    }
    sendJson(res, 200, body);
  };

  router.add({
    method: 'POST',
    path: '/register',
    handler: async ({ req, res }) => {
      const body = await parseJsonBody(req);
      const email = requiredString(body, 'email', 1024);
      const password = requiredString(body, 'password', PASSWORD_FIELD_MAX);
      // Attempts per address count whether or not it exists, so the limit tells nothing either.
      await rateLimits.admit(clientIp(req, trust), accountKey('register', email), { countAttempt: true });
      const user = await core.lifecycle.register(email, password, requestMeta(req, trust), async (canonical) => (await noticeLimit.take(hashKey(canonical))) === null);
      sendJson(res, 201, { user: userJson(user) });
    },
  });

  router.add({
    method: 'POST',
    path: '/login',
    handler: async ({ req, res }) => {
      const body = await parseJsonBody(req);
      const email = requiredString(body, 'email', 1024);
      const password = requiredString(body, 'password', PASSWORD_FIELD_MAX);
      const mode = optionalEnum(body, 'mode', ['session', 'token'] as const) ?? 'session';
      const transport = optionalEnum(body, 'refresh_transport', ['body', 'cookie'] as const) ?? 'body';
      // A token login with a DPoP proof binds the session to the proof's key (checked before the
      // password, so a nonce retry costs no password attempt); cookie logins are bound with DBSC instead.
      const jkt = mode === 'token' && cfg.dpop.mode !== 'off' ? await tokenRequestProof(req, res, core) : null;
      if (jkt === false) return;
      // Counted before the password is checked: while the account is throttled even the right password gets 429.
      const attempt = await rateLimits.admit(clientIp(req, trust), accountKey('login', email), { countAttempt: true });
      const result = await core.signIn.password(email, password, mode, requestMeta(req, trust), jkt === null ? {} : { dpopJkt: jkt });
      // Every failure (unknown email, wrong password, disabled user) is the same answer.
      if (!result.ok) {
        await attempt.failed();
        return sendProblem(res, 'invalid_credentials');
      }
      await attempt.succeeded();
      if (result.mode === 'session') {
        const maxAge = (result.session.expiresAt - core.now()) / 1000;
        setCookie(res, cfg.session.cookieName, result.cookie, { ...sessionCookie, maxAgeSeconds: maxAge });
        if (result.bindingChallenge) res.setHeader('Secure-Session-Registration', bindingOffer(ctx.basePath, result.bindingChallenge));
        return sendJson(res, 200, { user: userJson(result.user), session: sessionJson(result.session) });
      }
      sendGrant(res, result.grant, transport === 'cookie');
    },
  });

  router.add({
    method: 'GET',
    path: '/me',
    auth: true,
    handler: ({ res, auth: a }) => {
      const c = a.claims;
      const session = a.session
        ? sessionJson(a.session)
        : {
            id: a.sessionId,
            mode: a.mode,
            expires_at: new Date((c?.exp ?? 0) * 1000).toISOString(),
            amr: c?.amr ?? [],
            acr: c?.acr ?? 'aal1',
            auth_time: new Date((c?.auth_time ?? 0) * 1000).toISOString(),
            binding: a.binding,
          };
      sendJson(res, 200, { user: userJson(a.user), session });
    },
  });

  router.add({
    method: 'POST',
    path: '/logout',
    auth: true,
    handler: async ({ req, res, auth }) => {
      await parseJsonBody(req);
      await core.sessions.logout(auth, requestMeta(req, trust));
      clearCookie(res, cfg.session.cookieName, sessionCookie);
      if (readCookie(req, refreshCookieName).length > 0) clearCookie(res, refreshCookieName, refreshCookie);
      if (readCookie(req, cfg.dbsc.cookieName).length > 0) clearCookie(res, cfg.dbsc.cookieName, sessionCookie);
      sendNoContent(res);
    },
  });

  router.add({
    method: 'POST',
    path: '/refresh',
    handler: async ({ req, res }) => {
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
      // A proof, when sent, is checked whatever the policy: a session bound to a key needs it.
      const jkt = await tokenRequestProof(req, res, core);
      if (jkt === false) return;
      const attempt = await rateLimits.admit(clientIp(req, trust), refreshKey(presented));
      const grant = await core.sessions.refresh(presented, requestMeta(req, trust), jkt ?? undefined);
      if (isPopRefusal(grant)) {
        await attempt.failed();
        return sendDpopProblem(res, 'invalid_dpop_proof', undefined, { tokenEndpoint: true, detail: `The DPoP proof was refused: ${grant.reason}.` });
      }
      if (!grant) {
        await attempt.failed();
        if (viaCookie) clearCookie(res, refreshCookieName, refreshCookie);
        // RFC 6749 §5.2 (`error`) inside an RFC 9457 problem body.
        const p = problemBody('invalid_grant');
        return sendJson(res, 400, { ...p, error: 'invalid_grant', error_description: p.title }, 'application/problem+json');
      }
      await attempt.succeeded();
      sendGrant(res, grant, viaCookie);
    },
  });
}

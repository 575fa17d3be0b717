/** Register, login (both modes; a second factor's step is in second-factor.ts), me, logout and refresh. */
import { hashKey } from './keys.js';
import { GatehouseError } from '../../errors.js';
import { parseJsonBody } from '../body.js';
import { clearCookie, readCookie } from '../cookies.js';
import { sendDpopProblem, tokenRequestProof } from '../dpop.js';
import { isPopRefusal } from '../../core/auth.js';
import { optionalEnum, requiredString } from '../input.js';
import { clientIp, requestMeta } from '../meta.js';
import { problemBody, sendJson, sendNoContent, sendProblem } from '../problem.js';
import { accountKey, refreshKey } from '../rate-limit.js';
import type { Router } from '../router.js';
import { currentSessionJson, sessionJson, userJson, type RouteContext } from './kit.js';
import { loginResponder } from './login-response.js';

/** Caps the string only; the password policy's byte bound (1024) answers with its own code. */
const PASSWORD_FIELD_MAX = 16 * 1024;

export function authRoutes(router: Router, ctx: RouteContext): void {
  const { core, trust, rateLimits } = ctx;
  const cfg = core.config;
  const lc = cfg.lifecycle;
  // A repeated registration mails the address's owner: on the reset-mail budget per address, so it cannot be used to flood anyone.
  const noticeLimit = rateLimits.budget('reset-email', lc.resetPerEmail, lc.limitWindow);
  const { sendGrant, sendStarted, sessionCookie, refreshCookie } = loginResponder(ctx);
  const refreshCookieName = cfg.token.refreshCookieName;

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
      const result = await core.signIn.password(email, password, mode, requestMeta(req, trust), { carry: transport, ...(jkt === null ? {} : { dpopJkt: jkt }) });
      if (!result.ok && result.reason === 'mfa_required') {
        // The password was right, but nothing is signed in yet: the account's count is not reset
        // until the second factor is, so password + code guesses share one budget.
        const { mfa } = result;
        const p = problemBody('mfa_required');
        return sendJson(res, 401, { ...p, mfa_token: mfa.token, methods: mfa.methods, expires_in: mfa.expiresIn, ...(mfa.webauthn ? { webauthn: mfa.webauthn } : {}) }, 'application/problem+json');
      }
      // Every failure (unknown email, wrong password, disabled user) is the same answer.
      if (!result.ok) {
        await attempt.failed();
        return sendProblem(res, 'invalid_credentials');
      }
      await attempt.succeeded();
      sendStarted(res, result, transport);
    },
  });

  router.add({
    method: 'GET',
    path: '/me',
    auth: true,
    handler: ({ res, auth: a }) => {
      sendJson(res, 200, { user: userJson(a.user), session: currentSessionJson(a) });
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

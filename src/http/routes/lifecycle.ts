/**
 * Registration's follow-ups: email verification, password reset and email change. Tokens arrive in
 * request bodies (read from the link's fragment by the web page) and never appear in a response.
 * Answers that could tell whether an address has an account are the same for every address.
 *
 * Limits (on the rate-limit counters: process memory, or Redis shared by every instance when one is
 * configured): verification resends per account; reset requests and reset confirmations per client
 * IP (429); reset mails per address (over it: the same 202, no mail — so the limit is no oracle and
 * cannot be used to mail-bomb anyone); email changes per account and per new address (429, counted
 * whether or not the address is taken).
 */
import { GatehouseError } from '../../errors.js';
import { parseJsonBody } from '../body.js';
import { optionalBoolean, optionalString, requiredString } from '../input.js';
import { clientIp, requestMeta } from '../meta.js';
import { normalizeEmail } from '../../core/email.js';
import { accountKey, ipKey } from '../rate-limit.js';
import { sendJson, sendNoContent } from '../problem.js';
import type { Router } from '../router.js';
import { hashKey } from './keys.js';
import type { RouteContext } from './kit.js';

/** A split token is 66 characters; anything much longer is refused before any work. */
const TOKEN_MAX = 128;
const PASSWORD_FIELD_MAX = 16 * 1024;
const ACCEPTED = { status: 'accepted' } as const;

const rateLimited = (retryAfter: number) => new GatehouseError('rate_limited', 'rate limited', { retryAfter });

export function lifecycleRoutes(router: Router, ctx: RouteContext): void {
  const { core, trust, rateLimits } = ctx;
  const { lifecycle } = core;
  const lc = core.config.lifecycle;
  const resendLimit = rateLimits.budget('resend', lc.resendPerAccount, lc.limitWindow);
  const resetIpLimit = rateLimits.budget('reset-ip', lc.resetPerIp, lc.limitWindow);
  const resetEmailLimit = rateLimits.budget('reset-email', lc.resetPerEmail, lc.limitWindow);
  const resetConfirmIpLimit = rateLimits.budget('reset-confirm-ip', lc.resetConfirmPerIp, lc.limitWindow);
  const emailChangeAccountLimit = rateLimits.budget('email-change', lc.emailChangePerAccount, lc.limitWindow);
  const emailChangeAddressLimit = rateLimits.budget('email-change-to', lc.emailChangePerAddress, lc.limitWindow);

  const token = (body: Record<string, unknown>) => requiredString(body, 'token', TOKEN_MAX);
  const invalidLink = () => new GatehouseError('invalid_link', 'invalid link', { field: 'token' });
  const take = async (budget: { take(key: string): Promise<number | null> }, key: string) => {
    const wait = await budget.take(key);
    if (wait !== null) throw rateLimited(wait);
  };

  router.add({
    method: 'POST',
    path: '/verify-email',
    auth: 'optional',
    handler: async ({ req, res, auth }) => {
      const body = await parseJsonBody(req);
      const t = token(body);
      const password = optionalString(body, 'password', PASSWORD_FIELD_MAX);
      // A password here is a guess at an account's password: it takes the IP's budgets like a sign-in.
      const attempt = password === undefined ? null : await rateLimits.admit(clientIp(req, trust), null);
      const out = await lifecycle.verifyEmail(t, { ctx: auth ?? null, ...(password !== undefined ? { password } : {}) }, requestMeta(req, trust));
      if (out === 'invalid') throw invalidLink();
      if (out === 'wrong_password') {
        await attempt?.failed();
        throw new GatehouseError('invalid_credentials', 'wrong password', { field: 'password' });
      }
      if (out === 'sign_in_required') {
        throw new GatehouseError('unauthenticated', 'sign in to verify', { detail: 'Sign in to the account this address was registered with (or send its password), then open the link again.' });
      }
      sendNoContent(res);
    },
  });

  router.add({
    method: 'POST',
    path: '/verify-email/resend',
    auth: true,
    handler: async ({ req, res, auth }) => {
      await parseJsonBody(req);
      await take(resendLimit, auth.user.id);
      const sent = await lifecycle.resendVerification(auth, requestMeta(req, trust));
      sendJson(res, 202, { ...ACCEPTED, email_verified: !sent });
    },
  });

  router.add({
    method: 'POST',
    path: '/password-reset',
    handler: async ({ req, res }) => {
      const body = await parseJsonBody(req);
      const email = requiredString(body, 'email', 1024);
      const meta = requestMeta(req, trust);
      await take(resetIpLimit, ipKey(meta.ip));
      lifecycle.requestPasswordReset(email, meta, async (canonical) => (await resetEmailLimit.take(hashKey(canonical))) === null);
      sendJson(res, 202, ACCEPTED);
    },
  });

  router.add({
    method: 'POST',
    path: '/password-reset/confirm',
    handler: async ({ req, res }) => {
      const body = await parseJsonBody(req);
      const t = token(body);
      const next = requiredString(body, 'new_password', PASSWORD_FIELD_MAX);
      const meta = requestMeta(req, trust);
      // Before anything else: each confirmation may cost an argon2 hash.
      await take(resetConfirmIpLimit, ipKey(meta.ip));
      if (!(await lifecycle.confirmPasswordReset(t, next, meta))) throw invalidLink();
      sendNoContent(res);
    },
  });

  router.add({
    method: 'POST',
    path: '/email',
    auth: true,
    handler: async ({ req, res, auth }) => {
      const body = await parseJsonBody(req);
      const next = requiredString(body, 'new_email', 1024);
      const password = requiredString(body, 'current_password', PASSWORD_FIELD_MAX);
      const endOtherSessions = optionalBoolean(body, 'end_other_sessions') ?? false;
      await take(emailChangeAccountLimit, auth.user.id);
      const target = normalizeEmail(next);
      if (target) await take(emailChangeAddressLimit, hashKey(target.canonical));
      // The current password is a guess at the same secret as a sign-in: it shares the account's budget.
      const attempt = await rateLimits.admit(clientIp(req, trust), accountKey('login', auth.user.email), { countAttempt: true });
      let out: { sessionsEnded: number };
      try {
        out = await lifecycle.requestEmailChange(auth, next, password, { endOtherSessions }, requestMeta(req, trust));
      } catch (e) {
        if (e instanceof GatehouseError && e.code === 'invalid_credentials') await attempt.failed();
        throw e;
      }
      await attempt.succeeded();
      sendJson(res, 202, { ...ACCEPTED, sessions_ended: out.sessionsEnded });
    },
  });

  router.add({
    method: 'POST',
    path: '/email/confirm',
    handler: async ({ req, res }) => {
      const body = await parseJsonBody(req);
      if (!(await lifecycle.confirmEmailChange(token(body), requestMeta(req, trust)))) throw invalidLink();
      sendNoContent(res);
    },
  });
}

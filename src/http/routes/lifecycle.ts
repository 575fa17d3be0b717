/**
 * Email verification, password reset and email change. Tokens arrive in request bodies (read from
 * the link's fragment by the web page) and never appear in a response. Answers that could tell
 * whether an address has an account are the same for every address.
 *
 * Limits (on the rate-limit counters: process memory, or Redis shared by every instance when one is
 * configured): verification resends per account, reset requests per client IP (429), and reset
 * mails per address (over it: the same 202, no mail — so the limit is no oracle and cannot be used
 * to mail-bomb anyone).
 */
import { createHash } from 'node:crypto';
import type { Lifecycle } from '../../core/lifecycle.js';
import { GatehouseError } from '../../errors.js';
import { parseJsonBody } from '../body.js';
import { requiredString } from '../input.js';
import { requestMeta } from '../meta.js';
import { ipKey } from '../rate-limit.js';
import { sendJson, sendNoContent } from '../problem.js';
import type { Router } from '../router.js';
import type { RouteContext } from './kit.js';

/** A split token is 66 characters; anything much longer is refused before any work. */
const TOKEN_MAX = 128;
const PASSWORD_FIELD_MAX = 16 * 1024;
const ACCEPTED = { status: 'accepted' } as const;

const rateLimited = (retryAfter: number) => new GatehouseError('rate_limited', 'rate limited', { retryAfter });
const hashKey = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 32);

export function lifecycleRoutes(router: Router, ctx: RouteContext, lifecycle: Lifecycle): void {
  const { core, trust } = ctx;
  const lc = core.config.lifecycle;
  const resendLimit = ctx.rateLimits.budget('resend', lc.resendPerAccount, lc.limitWindow);
  const resetIpLimit = ctx.rateLimits.budget('reset-ip', lc.resetPerIp, lc.limitWindow);
  const resetEmailLimit = ctx.rateLimits.budget('reset-email', lc.resetPerEmail, lc.limitWindow);

  const token = (body: Record<string, unknown>) => requiredString(body, 'token', TOKEN_MAX);
  const invalidLink = () => new GatehouseError('invalid_link', 'invalid link', { field: 'token' });

  router.add({
    method: 'POST',
    path: '/verify-email',
    handler: async ({ req, res }) => {
      const body = await parseJsonBody(req);
      if (!(await lifecycle.verifyEmail(token(body), requestMeta(req, trust)))) throw invalidLink();
      sendNoContent(res);
    },
  });

  router.add({
    method: 'POST',
    path: '/verify-email/resend',
    auth: true,
    handler: async ({ req, res, auth }) => {
      await parseJsonBody(req);
      const wait = await resendLimit.take(auth!.user.id);
      if (wait !== null) throw rateLimited(wait);
      const sent = await lifecycle.resendVerification(auth!, requestMeta(req, trust));
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
      const wait = await resetIpLimit.take(ipKey(meta.ip));
      if (wait !== null) throw rateLimited(wait);
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
      if (!(await lifecycle.confirmPasswordReset(t, next, requestMeta(req, trust)))) throw invalidLink();
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
      await lifecycle.requestEmailChange(auth!, next, requestMeta(req, trust));
      sendJson(res, 202, ACCEPTED);
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

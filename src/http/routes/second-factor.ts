/**
 * The second step of a password sign-in (`POST /login/mfa`), and a signed-in user's authenticator
 * app and recovery codes (`/mfa/*`).
 */
import { tokenRequestProof } from '../dpop.js';
import QRCode from 'qrcode';
import type { MfaAnswer } from '../../core/sign-in.js';
import { GatehouseError } from '../../errors.js';
import type { JsonObject } from '../body.js';
import { parseJsonBody } from '../body.js';
import { optionalString, requiredString } from '../input.js';
import { clientIp, requestMeta } from '../meta.js';
import { sendJson, sendNoContent, sendProblem } from '../problem.js';
import { accountKey } from '../rate-limit.js';
import type { Router } from '../router.js';
import type { RouteContext } from './kit.js';
import { loginResponder } from './login-response.js';

const CODE_MAX = 64;

/** A WebAuthn response object as sent by the browser (its contents are verified by the core). */
export function webauthnField(body: JsonObject, field: string): unknown {
  const v = body[field];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new GatehouseError('invalid_field', `${field} must be an object`, { field, detail: `"${field}" must be the credential's JSON (PublicKeyCredential.toJSON()).` });
  }
  return v;
}

/** Exactly one answer: `totp`, `recovery_code` or `webauthn`. */
function mfaAnswer(body: JsonObject): MfaAnswer {
  const given = (['totp', 'recovery_code', 'webauthn'] as const).filter((k) => body[k] !== undefined);
  if (given.length !== 1) {
    throw new GatehouseError('invalid_field', 'one second factor', { detail: 'Send exactly one of "totp", "recovery_code" or "webauthn".' });
  }
  const k = given[0]!;
  if (k === 'webauthn') return { webauthn: webauthnField(body, k) };
  const v = requiredString(body, k, CODE_MAX);
  return k === 'totp' ? { totp: v } : { recovery_code: v };
}

/** The body of POST /reauth: a password, a TOTP code or a passkey assertion (a password may come with a code). */
export function reauthInput(body: JsonObject): { password?: string; totp?: string; webauthn?: unknown } {
  const password = optionalString(body, 'password', 16 * 1024);
  const totp = optionalString(body, 'totp', CODE_MAX);
  const webauthn = body.webauthn === undefined ? undefined : webauthnField(body, 'webauthn');
  if (password === undefined && totp === undefined && webauthn === undefined) {
    throw new GatehouseError('invalid_field', 'password required', { field: 'password', detail: '"password" is required (or "totp", or "webauthn").' });
  }
  if (totp !== undefined && webauthn !== undefined) throw new GatehouseError('invalid_field', 'one second factor', { detail: 'Send "totp" or "webauthn", not both.' });
  return { ...(password !== undefined ? { password } : {}), ...(totp !== undefined ? { totp } : {}), ...(webauthn !== undefined ? { webauthn } : {}) };
}

export function secondFactorRoutes(router: Router, ctx: RouteContext): void {
  const { core, trust, rateLimits } = ctx;
  const { sendStarted } = loginResponder(ctx);

  router.add({
    method: 'POST',
    path: '/login/mfa',
    handler: async ({ req, res }) => {
      const body = await parseJsonBody(req);
      const token = requiredString(body, 'mfa_token', 512);
      const answer = mfaAnswer(body);
      const ip = clientIp(req, trust);
      const pending = await core.signIn.pendingMfa(token);
      if (!pending) {
        const a = await rateLimits.admit(ip, null);
        await a.failed();
        return sendProblem(res, 'invalid_mfa_token');
      }
      // Counted against the account before the check, with its password attempts: while it is
      // throttled even the right code gets 429.
      const attempt = await rateLimits.admit(ip, accountKey('login', pending.email), { countAttempt: true });
      // A token sign-in is bound to the key of this request's DPoP proof (checked before the code).
      const jkt = core.config.dpop.mode !== 'off' ? await tokenRequestProof(req, res, core) : null;
      if (jkt === false) return;
      const out = await core.signIn.completeMfa(token, answer, requestMeta(req, trust), jkt === null ? {} : { dpopJkt: jkt });
      if (!out.ok) {
        await attempt.failed();
        return sendProblem(res, out.reason === 'credentials_changed' ? 'invalid_mfa_token' : out.reason);
      }
      await attempt.succeeded();
      sendStarted(res, out, pending.carry === 'cookie' ? 'cookie' : 'body');
    },
  });

  router.add({
    method: 'POST',
    path: '/login/mfa/options',
    handler: async ({ req, res }) => {
      const body = await parseJsonBody(req);
      const token = requiredString(body, 'mfa_token', 512);
      await rateLimits.admit(clientIp(req, trust), null);
      const pending = await core.signIn.pendingMfa(token);
      if (!pending) return sendProblem(res, 'invalid_mfa_token');
      const options = await core.signIn.mfaWebAuthnOptions(token);
      if (!options) throw new GatehouseError('no_second_factor', 'no passkey', { detail: 'This account has no passkey.' });
      sendJson(res, 200, options);
    },
  });

  router.add({
    method: 'GET',
    path: '/mfa',
    auth: true,
    handler: async ({ res, auth }) => {
      const s = await core.factors.status(auth);
      sendJson(res, 200, { totp: s.totp, recovery_codes_left: s.recoveryCodes, passkeys: s.passkeys });
    },
  });

  router.add({
    method: 'POST',
    path: '/mfa/totp',
    auth: true,
    handler: async ({ req, res, auth }) => {
      await parseJsonBody(req);
      const e = await core.factors.beginTotp(auth);
      // Rendered here as an SVG data URL, so the page shows it with <img> under the strict CSP.
      const svg = await QRCode.toString(e.uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      sendJson(res, 200, { secret: e.secret, uri: e.uri, qr_svg: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` });
    },
  });

  router.add({
    method: 'POST',
    path: '/mfa/totp/confirm',
    auth: true,
    handler: async ({ req, res, auth }) => {
      const body = await parseJsonBody(req);
      const code = requiredString(body, 'code', CODE_MAX);
      const attempt = await rateLimits.admit(clientIp(req, trust), accountKey('login', auth.user.email), { countAttempt: true });
      const codes = await core.factors.confirmTotp(auth, code, requestMeta(req, trust));
      if (!codes) {
        await attempt.failed();
        return sendProblem(res, 'invalid_otp');
      }
      await attempt.succeeded();
      sendJson(res, 200, { recovery_codes: codes });
    },
  });

  router.add({
    method: 'DELETE',
    path: '/mfa/totp',
    auth: true,
    handler: async ({ req, res, auth }) => {
      if (!(await core.factors.removeTotp(auth, requestMeta(req, trust)))) throw new GatehouseError('not_found', 'no authenticator');
      sendNoContent(res);
    },
  });

  router.add({
    method: 'POST',
    path: '/mfa/recovery-codes',
    auth: true,
    handler: async ({ req, res, auth }) => {
      await parseJsonBody(req);
      const codes = await core.factors.regenerateRecoveryCodes(auth, requestMeta(req, trust));
      sendJson(res, 200, { recovery_codes: codes });
    },
  });
}


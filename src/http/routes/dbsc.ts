/**
 * Device Bound Session Credentials over HTTP (W3C DBSC, the headers Chrome ships): the registration
 * offer after a cookie sign-in, the registration endpoint, the refresh endpoint with its challenge,
 * and the session instructions JSON. Structured header fields (RFC 9651) are read and written with
 * `structured-headers`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseItem, serializeItem, serializeList, Token } from 'structured-headers';
import type { SessionRecord } from '../../ports.js';
import { readCookie, setCookie } from '../cookies.js';
import { requestUrl } from '../dpop.js';
import { clientIp, requestMeta } from '../meta.js';
import { sendJson, sendProblem } from '../problem.js';
import type { Router } from '../router.js';
import type { RouteContext } from './kit.js';

export const REGISTER_PATH = '/dbsc/register';
export const REFRESH_PATH = '/dbsc/refresh';

/** `Secure-Session-Registration`: ES256 only, the registration path, and the challenge to sign. */
export function bindingOffer(basePath: string, challenge: string): string {
  return serializeList([[[[new Token('ES256'), new Map()]], new Map([['path', `${basePath}${REGISTER_PATH}`], ['challenge', challenge]])]]);
}

/** A header that is a structured-field string (RFC 9651 §3.3.3), parameters ignored; a bare token is taken as is. */
function sfString(req: IncomingMessage, name: string): string | undefined {
  const raw = req.headers[name];
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 8192) return undefined;
  try {
    const [value] = parseItem(raw);
    if (typeof value === 'string') return value;
    if (value instanceof Token) return value.toString();
  } catch {
    // not a structured field: no value
  }
  return undefined;
}

export function dbscRoutes(router: Router, ctx: RouteContext): void {
  const { core, trust, rateLimits, basePath } = ctx;
  const cfg = core.config;
  const origin = new URL(cfg.publicUrl).origin;
  const boundCookie = { path: '/', sameSite: 'Lax' as const };
  const single = (req: IncomingMessage) => {
    const v = readCookie(req, cfg.session.cookieName);
    return v.length === 1 ? v[0] : undefined;
  };

  /** The session instructions (scope: this origin; the one credential: the bound cookie). */
  const instructions = (s: SessionRecord) => ({
    session_identifier: s.id,
    refresh_url: `${basePath}${REFRESH_PATH}`,
    scope: { include_site: false, scope_specification: [] },
    credentials: [{ type: 'cookie', name: cfg.dbsc.cookieName, attributes: 'Path=/; Secure; HttpOnly; SameSite=Lax' }],
  });
  const challengeHeader = (challenge: string, sessionId: string) => serializeItem([challenge, new Map([['id', sessionId]])]);
  const disabled = (res: ServerResponse) => sendProblem(res, 'not_found', { detail: 'Device Bound Session Credentials are off (GATEHOUSE_DBSC).' });

  router.add({
    method: 'POST',
    path: REGISTER_PATH,
    handler: async ({ req, res }) => {
      if (cfg.dbsc.mode === 'off') return disabled(res);
      const attempt = await rateLimits.admit(clientIp(req, trust), null);
      const proof = sfString(req, 'secure-session-response');
      if (proof === undefined) {
        await attempt.failed();
        return sendProblem(res, 'invalid_dbsc_proof', { detail: 'Secure-Session-Response is missing.' });
      }
      const r = await core.sessions.registerDevice(single(req), proof, requestUrl(req, origin), requestMeta(req, trust));
      if (!r.ok) {
        await attempt.failed();
        if (r.status === 'unauthenticated') return sendProblem(res, 'unauthenticated');
        return sendProblem(res, 'invalid_dbsc_proof', { detail: `The registration was refused: ${r.reason}.` });
      }
      await attempt.succeeded();
      setCookie(res, cfg.dbsc.cookieName, r.cookie.value, { ...boundCookie, maxAgeSeconds: r.cookie.maxAgeSeconds });
      sendJson(res, 200, instructions(r.session));
    },
  });

  router.add({
    method: 'POST',
    path: REFRESH_PATH,
    handler: async ({ req, res }) => {
      // The session is gone or is not this browser's: it stops refreshing (its bound cookie, if any,
      // is left alone: it may belong to the browser's live session and expires in minutes anyway).
      const end = () => sendJson(res, 200, { continue: false });
      // Off only stops new registrations: sessions bound earlier keep refreshing (they stay bound).
      const sessionId = sfString(req, 'sec-secure-session-id');
      if (sessionId === undefined) return sendProblem(res, 'invalid_request', { detail: 'Sec-Secure-Session-Id is missing.' });
      const attempt = await rateLimits.admit(clientIp(req, trust), null);
      const r = await core.sessions.refreshDevice(single(req), sessionId, sfString(req, 'secure-session-response'), requestUrl(req, origin), requestMeta(req, trust));
      switch (r.kind) {
        case 'challenge':
          res.setHeader('Secure-Session-Challenge', challengeHeader(r.challenge, r.sessionId));
          return sendProblem(res, 'forbidden', { detail: 'Sign the challenge in Secure-Session-Challenge with the session key.' });
        case 'refreshed':
          await attempt.succeeded();
          setCookie(res, cfg.dbsc.cookieName, r.cookie.value, { ...boundCookie, maxAgeSeconds: r.cookie.maxAgeSeconds });
          res.setHeader('Secure-Session-Challenge', challengeHeader(r.next, r.session.id));
          return sendJson(res, 200, instructions(r.session));
        case 'ended':
          await attempt.failed();
          return end();
        case 'refused':
          await attempt.failed();
          return sendProblem(res, 'invalid_dbsc_proof', { detail: `The refresh was refused: ${r.reason}.` });
      }
    },
  });
}

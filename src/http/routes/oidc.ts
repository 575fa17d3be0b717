/**
 * Identity providers: the providers list, the browser flow (start → provider → callback), the
 * token-mode exchange, linked identities (list, link, unlink, re-authenticate) and the provider's
 * back-channel logout. The flow cookie binds a callback to the browser that started it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FLOW_TTL_MS, safeReturnTo, type Refusal } from '../../core/federation.js';
import type { IdentityRecord } from '../../ports.js';
import { GatehouseError } from '../../errors.js';
import { parseFormBody, parseJsonBody, type JsonObject } from '../body.js';
import { clearCookie, readCookie, setCookie } from '../cookies.js';
import { tokenRequestProof } from '../dpop.js';
import { optionalEnum, optionalString, requiredString } from '../input.js';
import { clientIp, requestMeta } from '../meta.js';
import { problemBody, sendJson, sendNoContent, sendProblem } from '../problem.js';
import type { Router } from '../router.js';
import { iso, type RouteContext } from './kit.js';
import { loginResponder } from './login-response.js';

/** The cookie that binds a provider sign-in to the browser that started it. */
export const FLOW_COOKIE = '__Host-gatehouse-oidc';
const FLOW_COOKIE_ATTRS = { path: '/', sameSite: 'Lax' as const };
const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const IDENTITY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const JKT = /^[A-Za-z0-9_-]{43}$/;

function identityJson(i: IdentityRecord, names: Map<string, string>) {
  return { id: i.id, provider: i.provider, provider_name: names.get(i.provider) ?? i.provider, email: i.email, email_verified: i.emailVerified, created_at: iso(i.createdAt), last_used_at: i.lastUsedAt === null ? null : iso(i.lastUsedAt) };
}

/** `return_to`: a same-origin path; anything else (another origin, `//host`, a backslash) is refused. */
function returnToField(raw: string | null | undefined, fallback: string): string {
  if (raw === null || raw === undefined || raw === '') return fallback;
  const safe = safeReturnTo(raw);
  if (!safe) throw new GatehouseError('invalid_field', 'return_to', { field: 'return_to', detail: '"return_to" must be a path on this site, such as /account.' });
  return safe;
}

function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 302;
  res.setHeader('Location', location);
  res.setHeader('Cache-Control', 'no-store');
  // The callback's own URL carries the provider's code: never hand it on as a Referer.
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.end();
}

export function oidcRoutes(router: Router, ctx: RouteContext): void {
  const { core, trust, rateLimits, basePath } = ctx;
  const cfg = core.config;
  const fed = core.federation;
  const { sendStarted, setSessionCookie } = loginResponder(ctx);
  const redirectUri = (id: string) => `${cfg.publicUrl}${basePath}/oidc/${id}/callback`;
  const providerParam = (raw: string | undefined) => {
    const id = String(raw ?? '');
    if (!PROVIDER_ID.test(id) || !fed.providers().some((p) => p.id === id)) throw new GatehouseError('not_found', 'no such provider', { detail: `No identity provider "${id.slice(0, 40)}" is configured.` });
    return id;
  };
  const names = () => new Map(fed.providers().map((p) => [p.id, p.name]));
  const setFlow = (res: ServerResponse, cookie: string) => setCookie(res, FLOW_COOKIE, cookie, { ...FLOW_COOKIE_ATTRS, maxAgeSeconds: FLOW_TTL_MS / 1000 });
  const clearFlow = (req: IncomingMessage, res: ServerResponse) => {
    if (readCookie(req, FLOW_COOKIE).length > 0) clearCookie(res, FLOW_COOKIE, FLOW_COOKIE_ATTRS);
  };
  const refused = (res: ServerResponse, r: Refusal) => sendProblem(res, r.code, { detail: r.detail });

  router.add({
    method: 'GET',
    path: '/oidc/providers',
    handler: ({ res }) => {
      sendJson(res, 200, { providers: fed.providers().map((p) => ({ id: p.id, name: p.name, sign_up: p.signUp, start_url: `${basePath}/oidc/${p.id}/start` })) });
    },
  });

  router.add({
    method: 'GET',
    path: '/oidc/:provider/start',
    handler: async ({ req, res, params, query }) => {
      const id = providerParam(params.provider);
      const modeRaw = query.get('mode') ?? 'session';
      if (modeRaw !== 'session' && modeRaw !== 'token') throw new GatehouseError('invalid_field', 'mode', { field: 'mode', detail: '"mode" must be session or token.' });
      const returnTo = returnToField(query.get('return_to'), '/');
      const jkt = query.get('dpop_jkt');
      if (jkt !== null && (modeRaw !== 'token' || !JKT.test(jkt))) throw new GatehouseError('invalid_field', 'dpop_jkt', { field: 'dpop_jkt', detail: '"dpop_jkt" is a JWK SHA-256 thumbprint (43 base64url characters), for mode=token only.' });
      // Each start stores a flow record: on the per-IP request budget of the credential routes.
      await rateLimits.admit(clientIp(req, trust), null);
      const out = await fed.start(id, { mode: modeRaw, returnTo, redirectUri: redirectUri(id), dpopJkt: jkt });
      if ('ok' in out) return refused(res, out);
      setFlow(res, out.cookie);
      redirect(res, out.url);
    },
  });

  router.add({
    method: 'GET',
    path: '/oidc/:provider/callback',
    auth: 'optional',
    handler: async ({ req, res, params, query, auth }) => {
      const id = providerParam(params.provider);
      const flowCookies = readCookie(req, FLOW_COOKIE);
      // A cookie session of this browser, if any (a bearer token cannot come with a redirect).
      const current = auth && auth.mode === 'session' && auth.session ? auth : null;
      const out = await fed.callback(id, {
        query,
        redirectUri: redirectUri(id),
        flowCookie: flowCookies.length === 1 ? flowCookies[0]! : null,
        current,
        meta: requestMeta(req, trust),
      });
      clearFlow(req, res);
      if (!out.ok) return refused(res, out);
      if (out.kind === 'session') {
        setSessionCookie(res, out.started);
        return redirect(res, out.returnTo);
      }
      if (out.kind === 'code') {
        // Token mode: the tokens are never in a URL. A single-use code (60 s) in the fragment, which
        // the browser sends to no server and puts in no Referer, is traded at POST /oidc/exchange.
        return redirect(res, `${out.returnTo.replace(/#.*$/, '')}#code=${encodeURIComponent(out.code)}`);
      }
      return redirect(res, out.returnTo);
    },
  });

  router.add({
    method: 'POST',
    path: '/oidc/exchange',
    handler: async ({ req, res }) => {
      const body = await parseJsonBody(req);
      const code = requiredString(body, 'code', 512);
      const transport = optionalEnum(body, 'refresh_transport', ['body', 'cookie'] as const) ?? 'body';
      const jkt = cfg.dpop.mode !== 'off' ? await tokenRequestProof(req, res, core) : null;
      if (jkt === false) return;
      const attempt = await rateLimits.admit(clientIp(req, trust), null);
      const out = await fed.exchange(code, requestMeta(req, trust), jkt);
      if (!out.ok) {
        await attempt.failed();
        if (out.code === 'invalid_exchange_code') {
          // RFC 6749 §5.2 (`error`) inside the RFC 9457 problem, like the refresh endpoint.
          const p = problemBody('invalid_exchange_code', { detail: out.detail });
          return sendJson(res, 400, { ...p, error: 'invalid_grant', error_description: p.title }, 'application/problem+json');
        }
        return refused(res, out);
      }
      await attempt.succeeded();
      sendStarted(res, out.started, transport);
    },
  });

  router.add({
    method: 'POST',
    path: '/oidc/:provider/backchannel-logout',
    handler: async ({ req, res, params }) => {
      const id = providerParam(params.provider);
      const form = await parseFormBody(req);
      const token = form.get('logout_token');
      if (!token || token.length > 8192) {
        const p = problemBody('invalid_logout_token', { detail: 'The form has no logout_token.' });
        return sendJson(res, 400, { ...p, error: 'invalid_request' }, 'application/problem+json');
      }
      await rateLimits.admit(clientIp(req, trust), null);
      const out = await fed.backchannelLogout(id, token, requestMeta(req, trust));
      if (!out.ok) {
        // Back-Channel Logout 1.0 §2.8: 400 with an OAuth error (inside the RFC 9457 problem).
        const p = problemBody(out.code, { detail: out.detail });
        return sendJson(res, p.status, { ...p, error: 'invalid_request', error_description: out.detail }, 'application/problem+json');
      }
      sendJson(res, 200, { ended: out.ended });
    },
  });

  router.add({
    method: 'GET',
    path: '/identities',
    auth: true,
    handler: async ({ res, auth }) => {
      const { identities, hasPassword } = await fed.identities(auth);
      const n = names();
      sendJson(res, 200, { identities: identities.map((i) => identityJson(i, n)), has_password: hasPassword });
    },
  });

  const flowFor = async (req: IncomingMessage, body: JsonObject) => {
    const id = providerParam(requiredString(body, 'provider', 64));
    const returnTo = returnToField(optionalString(body, 'return_to', 1024), '/account');
    await rateLimits.admit(clientIp(req, trust), null);
    return { id, returnTo };
  };

  router.add({
    method: 'POST',
    path: '/identities/link',
    auth: true,
    handler: async ({ req, res, auth }) => {
      const { id, returnTo } = await flowFor(req, await parseJsonBody(req));
      const out = await fed.startLink(auth, id, { returnTo, redirectUri: redirectUri(id) });
      if ('ok' in out) return refused(res, out);
      setFlow(res, out.cookie);
      sendJson(res, 200, { authorization_url: out.url });
    },
  });

  router.add({
    method: 'POST',
    path: '/identities/reauth',
    auth: true,
    handler: async ({ req, res, auth }) => {
      const { id, returnTo } = await flowFor(req, await parseJsonBody(req));
      const out = await fed.startReauth(auth, id, { returnTo, redirectUri: redirectUri(id) });
      if ('ok' in out) return refused(res, out);
      setFlow(res, out.cookie);
      sendJson(res, 200, { authorization_url: out.url });
    },
  });

  router.add({
    method: 'DELETE',
    path: '/identities/:id',
    auth: true,
    handler: async ({ req, res, auth, params }) => {
      const id = String(params.id ?? '');
      if (!IDENTITY_ID.test(id)) throw new GatehouseError('not_found', 'no such identity', { detail: 'No such linked identity.' });
      await fed.unlink(auth, id, requestMeta(req, trust));
      sendNoContent(res);
    },
  });
}



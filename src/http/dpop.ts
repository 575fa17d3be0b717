/**
 * DPoP over HTTP (RFC 9449): reading the proof and the request URI it must name, checking proofs on
 * token requests (login, refresh), and the error answers with `WWW-Authenticate: DPoP …` and
 * `DPoP-Nonce`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthCore } from '../core/auth.js';
import { DPOP_ALGS_HEADER } from '../core/dpop.js';
import { problemBody, sendJson } from './problem.js';

/** The `DPoP` request header. Repeated headers arrive joined by a comma, which no proof contains: refused. */
export function dpopHeader(req: IncomingMessage): string | undefined {
  const v = req.headers.dpop;
  return typeof v === 'string' ? v : undefined;
}

/**
 * The URI the client addressed: the public origin (GATEHOUSE_PUBLIC_URL's, never the request's own
 * Host header, which would let a proof made for another server pass here) and the path as received
 * (Express's `originalUrl` when a router stripped its mount path). The query is not part of `htu`.
 */
export function requestUrl(req: IncomingMessage, origin: string): string {
  const raw = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const q = raw.indexOf('?');
  return origin + (q < 0 ? raw : raw.slice(0, q));
}

const DESCRIPTIONS = {
  invalid_dpop_proof: 'The DPoP proof is missing or invalid',
  use_dpop_nonce: 'Use the nonce in the DPoP-Nonce header in the DPoP proof',
  invalid_token: 'The access token is invalid or expired',
} as const;

/**
 * A DPoP error. Where a token is used (401): `WWW-Authenticate: DPoP error=…, algs=…`. On a token
 * request (`tokenEndpoint`, 400): the OAuth `error` member in the problem body, as RFC 9449 §5/§8 show.
 * `DPoP-Nonce` carries the nonce to retry with.
 */
export function sendDpopProblem(res: ServerResponse, code: keyof typeof DESCRIPTIONS, nonce?: string, opts: { tokenEndpoint?: boolean; detail?: string } = {}): void {
  if (nonce !== undefined) res.setHeader('DPoP-Nonce', nonce);
  const body = problemBody(code, opts.detail ? { detail: opts.detail } : {});
  if (opts.tokenEndpoint) {
    res.setHeader('Cache-Control', 'no-store');
    return sendJson(res, 400, { ...body, status: 400, error: code, error_description: DESCRIPTIONS[code] }, 'application/problem+json');
  }
  res.setHeader('WWW-Authenticate', `DPoP error="${code}", error_description="${DESCRIPTIONS[code]}", algs="${DPOP_ALGS_HEADER}"`);
  sendJson(res, 401, body, 'application/problem+json');
}

/**
 * The DPoP proof of a token request (login in token mode, refresh): its key's thumbprint when it
 * carries a valid one, `null` when it carries none, or false once it has answered the request with
 * the error (a bad proof, a missing one where DPoP is required, or a nonce to use).
 */
export async function tokenRequestProof(req: IncomingMessage, res: ServerResponse, core: AuthCore): Promise<string | null | false> {
  const proof = dpopHeader(req);
  const { mode, nonce: nonceRequired } = core.dpop.policy;
  if (proof === undefined && req.headers.dpop === undefined) {
    if (mode !== 'required') return null;
    const nonce = nonceRequired ? await core.dpop.nonce() : undefined;
    sendDpopProblem(res, 'invalid_dpop_proof', nonce, { tokenEndpoint: true, detail: 'A DPoP proof is required.' });
    return false;
  }
  const r = await core.dpop.check({ proof, method: req.method ?? 'POST', url: requestUrl(req, new URL(core.config.publicUrl).origin) });
  if (!r.ok) {
    const nonce = nonceRequired ? await core.dpop.nonce() : undefined;
    sendDpopProblem(res, r.error, nonce, { tokenEndpoint: true, detail: `The DPoP proof was refused: ${r.reason}.` });
    return false;
  }
  if (nonceRequired) res.setHeader('DPoP-Nonce', await core.dpop.nonce());
  return r.jkt;
}

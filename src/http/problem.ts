/**
 * RFC 9457 problem details from one registry: every error code has one status and one title.
 * A 5xx body never carries internals: only the registry's title and a stable code.
 */
import type { ServerResponse } from 'node:http';
import { ERROR_CODES, GatehouseError, type ErrorCode } from '../errors.js';

export interface ProblemSpec {
  status: number;
  title: string;
}

export const PROBLEMS: Record<ErrorCode, ProblemSpec> = {
  invalid_request: { status: 400, title: 'The request is not valid.' },
  invalid_json: { status: 400, title: 'The request body is not valid JSON.' },
  invalid_field: { status: 400, title: 'A field is missing or has the wrong type.' },
  unsupported_media_type: { status: 415, title: 'Send the body as application/json.' },
  payload_too_large: { status: 413, title: 'The request body is too large.' },
  not_found: { status: 404, title: 'Not found.' },
  method_not_allowed: { status: 405, title: 'Method not allowed.' },
  invalid_email: { status: 400, title: 'That email address is not valid.' },
  email_taken: { status: 409, title: 'That email address is already in use.' },
  password_too_short: { status: 400, title: 'The password must be at least 8 characters.' },
  password_too_long: { status: 400, title: 'The password must be at most 1024 bytes.' },
  password_breached: { status: 400, title: 'This password is too common; choose another.' },
  invalid_credentials: { status: 401, title: 'Email or password is incorrect.' },
  unauthenticated: { status: 401, title: 'Sign in to continue.' },
  invalid_token: { status: 401, title: 'The access token is invalid or expired.' },
  invalid_grant: { status: 400, title: 'The refresh token is invalid, expired or revoked.' },
  reauth_required: { status: 403, title: 'Confirm your password to continue.' },
  email_unverified: { status: 403, title: 'Verify your email address to sign in.' },
  session_data_too_large: { status: 413, title: 'The session data would exceed its size limit.' },
  invalid_link: { status: 400, title: 'This link is invalid, expired or already used.' },
  mfa_required: { status: 401, title: 'A second factor is required to finish signing in.' },
  invalid_mfa_token: { status: 401, title: 'The sign-in attempt is invalid or expired; sign in again.' },
  invalid_otp: { status: 401, title: 'The code is incorrect or was already used.' },
  invalid_webauthn: { status: 401, title: 'The passkey could not be verified.' },
  totp_exists: { status: 409, title: 'An authenticator app is already set up; remove it first.' },
  passkey_exists: { status: 409, title: 'This passkey is already registered.' },
  no_second_factor: { status: 409, title: 'Set up an authenticator app or a passkey first.' },
  oidc_callback_invalid: { status: 400, title: 'The sign-in with the identity provider could not be completed; start it again.' },
  oidc_denied: { status: 403, title: 'The identity provider did not sign you in.' },
  oidc_sign_up_closed: { status: 403, title: 'No account is linked to this identity, and sign-up through this provider is closed.' },
  oidc_email_unverified: { status: 403, title: 'The identity provider did not confirm the email address.' },
  oidc_account_exists: { status: 409, title: 'An account with this email address exists: sign in to it and link the provider from the account page.' },
  oidc_provider_unavailable: { status: 502, title: 'The identity provider could not be reached; try again later.' },
  identity_taken: { status: 409, title: 'This identity is linked to another account, or the account has another identity at this provider.' },
  last_way_in: { status: 409, title: 'This is the only way to sign in to the account; add a password or a passkey first.' },
  invalid_exchange_code: { status: 400, title: 'The sign-in code is invalid, expired or was used already.' },
  invalid_logout_token: { status: 400, title: 'The logout token is not valid.' },
  // 401 where a token is used; a token request (login, refresh) answers 400 with the same code (RFC 9449).
  invalid_dpop_proof: { status: 401, title: 'The DPoP proof is missing or invalid.' },
  use_dpop_nonce: { status: 401, title: 'Sign the DPoP proof with the nonce in the DPoP-Nonce header.' },
  invalid_dbsc_proof: { status: 400, title: 'The device-bound session proof is invalid.' },
  csrf_rejected: { status: 403, title: 'Cross-site request refused.' },
  rate_limited: { status: 429, title: 'Too many attempts; try again later.' },
  forbidden: { status: 403, title: 'Forbidden.' },
  admin_required: { status: 403, title: 'This needs an administrator.' },
  store_unavailable: { status: 503, title: 'Service temporarily unavailable; try again shortly.' },
  not_ready: { status: 503, title: 'This instance is not ready to serve; a dependency is down.' },
  // Admission control of password hashing: refused at once rather than queued for seconds.
  password_hashing_busy: { status: 503, title: 'Too many sign-ins are being checked right now; try again shortly.' },
  internal: { status: 500, title: 'Internal error.' },
};

// Every code must be registered (checked by the type above and by a test).
void ERROR_CODES;

export const PROBLEM_TYPE_BASE = 'https://gatehouse.dev/problems/';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  field?: string;
  [ext: string]: unknown;
}

export interface ProblemExtra {
  detail?: string;
  field?: string;
  /** reauth_required: the assurance level needed. */
  acr?: 'aal1' | 'aal2';
}

export function problemBody(code: ErrorCode, extra: ProblemExtra = {}): ProblemBody {
  const spec = PROBLEMS[code];
  const body: ProblemBody = { type: PROBLEM_TYPE_BASE + code, title: spec.title, status: spec.status, code };
  if (extra.detail && spec.status < 500) body.detail = extra.detail;
  if (extra.field) body.field = extra.field;
  if (extra.acr) body.acr = extra.acr;
  return body;
}

export function sendProblem(res: ServerResponse, code: ErrorCode, extra: ProblemExtra & { retryAfter?: number } = {}): void {
  const body = problemBody(code, extra);
  if (extra.retryAfter !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(extra.retryAfter))));
  if (code === 'invalid_token') res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
  sendJson(res, body.status, body, 'application/problem+json');
}

/** Writes a JSON response with `Cache-Control: no-store` (every auth response carries it). */
export function sendJson(res: ServerResponse, status: number, body: unknown, type = 'application/json; charset=utf-8'): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  if (!res.hasHeader('Cache-Control')) res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}

export function sendNoContent(res: ServerResponse): void {
  res.statusCode = 204;
  if (!res.hasHeader('Cache-Control')) res.setHeader('Cache-Control', 'no-store');
  res.end();
}

export function sendError(res: ServerResponse, err: GatehouseError): void {
  const extra: ProblemExtra & { retryAfter?: number } = {};
  if (err.detail) extra.detail = err.detail;
  if (err.acr) extra.acr = err.acr;
  if (err.field) extra.field = err.field;
  if (err.retryAfter !== undefined) extra.retryAfter = err.retryAfter;
  if (err.code === 'store_unavailable' && extra.retryAfter === undefined) extra.retryAfter = 1;
  sendProblem(res, err.code, extra);
}

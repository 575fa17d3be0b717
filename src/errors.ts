/**
 * One error type with a typed code union. Expected failures (a wrong password, an unknown token) are
 * values returned by the core, not exceptions; a GatehouseError is thrown where the caller must stop
 * (bad input, a refused action, an outage). The HTTP layer maps each code to a status from one
 * registry (src/http/problem.ts), and a test checks that every code here is mapped and documented.
 */
export const ERROR_CODES = [
  // input
  'invalid_request',
  'invalid_json',
  'invalid_field',
  'unsupported_media_type',
  'payload_too_large',
  'not_found',
  'method_not_allowed',
  // registration and passwords
  'invalid_email',
  'email_taken',
  'password_too_short',
  'password_too_long',
  'password_breached',
  // authentication
  'invalid_credentials',
  'unauthenticated',
  'invalid_token',
  'invalid_grant',
  'reauth_required',
  'email_unverified',
  'session_data_too_large',
  'invalid_link',
  // second factors and passkeys
  'mfa_required',
  'invalid_mfa_token',
  'invalid_otp',
  'invalid_webauthn',
  'totp_exists',
  'passkey_exists',
  'no_second_factor',
  // identity providers
  'oidc_callback_invalid',
  'oidc_denied',
  'oidc_sign_up_closed',
  'oidc_email_unverified',
  'oidc_account_exists',
  'oidc_provider_unavailable',
  'identity_taken',
  'last_way_in',
  'invalid_exchange_code',
  'invalid_logout_token',
  // proof of possession
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'invalid_dbsc_proof',
  // hardening
  'csrf_rejected',
  'rate_limited',
  'forbidden',
  'admin_required',
  // outages and bugs
  'store_unavailable',
  'not_ready',
  'password_hashing_busy',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface GatehouseErrorOptions {
  cause?: unknown;
  /** The request field at fault, for input errors. */
  field?: string;
  /** Seconds the client should wait (rate limits, outages). */
  retryAfter?: number;
  /** A message safe to show to the client; defaults to the registry's title. */
  detail?: string;
  /** reauth_required: the assurance level the action needs (`aal1` or `aal2`). */
  acr?: 'aal1' | 'aal2';
}

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly retryAfter: number | undefined;
  readonly detail: string | undefined;
  readonly acr: 'aal1' | 'aal2' | undefined;

  constructor(code: ErrorCode, message?: string, opts: GatehouseErrorOptions = {}) {
    super(message ?? code, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.field = opts.field;
    this.retryAfter = opts.retryAfter;
    this.detail = opts.detail;
    this.acr = opts.acr;
  }
}

/** Thrown by stores when the backing service is unreachable or too slow. Maps to 503 + Retry-After. */
export class StoreUnavailableError extends GatehouseError {
  constructor(store: string, cause?: unknown, retryAfter = 1) {
    super('store_unavailable', `${store} unavailable`, { cause, retryAfter });
    this.name = 'StoreUnavailableError';
  }
}

export function isGatehouseError(e: unknown): e is GatehouseError {
  return e instanceof GatehouseError;
}

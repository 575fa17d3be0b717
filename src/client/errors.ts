/** The client's one error type, typed from the server's problem codes (RFC 9457 bodies). */
import type { ErrorCode } from '../errors.js';

export type { ErrorCode } from '../errors.js';

/** The problem body Gatehouse answers errors with (`application/problem+json`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  field?: string;
  [ext: string]: unknown;
}

/**
 * A refused request. `code` is the server's stable problem code: branch on it, never on the text.
 *
 * @example
 * ```ts
 * try {
 *   await gh.login(email, password);
 * } catch (e) {
 *   if (e instanceof GatehouseClientError && e.code === 'rate_limited') wait(e.retryAfter);
 * }
 * ```
 */
export class GatehouseClientError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds to wait before trying again (from `Retry-After`), for `rate_limited` and outages. */
  readonly retryAfter: number | undefined;
  /** The request field at fault, for input errors. */
  readonly field: string | undefined;
  readonly detail: string | undefined;
  /** The whole problem body, when the server sent one. */
  readonly problem: Problem | undefined;

  constructor(code: ErrorCode, status: number, opts: { message?: string; retryAfter?: number; problem?: Problem } = {}) {
    super(opts.message ?? opts.problem?.detail ?? opts.problem?.title ?? code);
    this.name = 'GatehouseClientError';
    this.code = code;
    this.status = status;
    this.retryAfter = opts.retryAfter;
    this.problem = opts.problem;
    this.field = opts.problem?.field;
    this.detail = opts.problem?.detail;
  }
}

export function isGatehouseClientError(e: unknown): e is GatehouseClientError {
  return e instanceof GatehouseClientError;
}

/** A code for an error answer without a problem body (a proxy's 502 page, say). */
function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 401: return 'unauthenticated';
    case 403: return 'forbidden';
    case 404: return 'not_found';
    case 405: return 'method_not_allowed';
    case 413: return 'payload_too_large';
    case 415: return 'unsupported_media_type';
    case 429: return 'rate_limited';
    case 503: return 'store_unavailable';
    default: return status >= 500 ? 'internal' : 'invalid_request';
  }
}

/** Builds the error for a non-2xx response (reads its body). */
export async function errorFromResponse(res: Response): Promise<GatehouseClientError> {
  const ra = res.headers.get('retry-after');
  const retryAfter = ra !== null && /^\d+$/.test(ra.trim()) ? Number(ra) : undefined;
  const type = res.headers.get('content-type') ?? '';
  let problem: Problem | undefined;
  if (/^application\/(problem\+)?json/i.test(type)) {
    try {
      const body = (await res.json()) as Partial<Problem> | null;
      if (body && typeof body === 'object' && typeof body.code === 'string') problem = body as Problem;
    } catch {
      /* not JSON after all: fall back to the status */
    }
  } else {
    await res.body?.cancel().catch(() => undefined);
  }
  const code = problem?.code ?? codeForStatus(res.status);
  return new GatehouseClientError(code, res.status, { ...(retryAfter !== undefined ? { retryAfter } : {}), ...(problem ? { problem } : {}) });
}

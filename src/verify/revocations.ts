/**
 * The revocation list a verifier polls from the issuer (`GET /.well-known/gatehouse-revocations`):
 * hashes of the session ids revoked within the access-token window. One conditional GET per poll
 * (an unchanged list is a 304), so a verifier sees a logout within about one poll interval without
 * any request to the issuer per token.
 *
 * Fails closed: a list that has not been refreshed for `maxStaleMs` (the issuer is unreachable, or
 * answers 503 because its own revocation feed is down) makes every check throw
 * `RevocationsUnavailableError` instead of trusting an old or incomplete list.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export interface RevocationPollOptions {
  /** Default `${issuer}/.well-known/gatehouse-revocations`. */
  url?: string;
  /** Time between the end of one poll and the start of the next (ms). Default 1000. */
  pollMs?: number;
  /** Longest time without a successful refresh before checks throw (ms). Default 30 s. */
  maxStaleMs?: number;
}

/** Raised when the issuer's revocation list has not been refreshed recently: an outage, not a bad token. */
export class RevocationsUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('the issuer revocation list could not be refreshed recently', cause === undefined ? undefined : { cause });
    this.name = 'RevocationsUnavailableError';
  }
}

/** Per request; a poll that hangs longer is abandoned and retried at the next interval. */
const REQUEST_TIMEOUT_MS = 5000;
/** A larger answer is refused (about 670,000 revocations inside the window). */
export const MAX_LIST_BYTES = 16 * 1024 * 1024;
const ENTRY = /^[A-Za-z0-9_-]{22}$/;

function positive(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 1) throw new TypeError(`createVerifier: "revocations.${name}" must be a positive number of milliseconds`);
  return n;
}

/** Reads at most `max` bytes of a response body; more is an error (the connection is dropped). */
async function boundedText(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel();
    throw new Error('revocation list too large');
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new Error('revocation list too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function parseList(text: string): Set<string> {
  const body = JSON.parse(text) as { revoked?: unknown; hash?: unknown };
  if (body === null || typeof body !== 'object' || body.hash !== 'sha256-128' || !Array.isArray(body.revoked)) throw new Error('not a revocation list');
  const out = new Set<string>();
  for (const h of body.revoked) {
    if (typeof h !== 'string' || !ENTRY.test(h)) throw new Error('not a revocation list');
    out.add(h);
  }
  return out;
}

export class RevocationPoller {
  private readonly url: URL;
  private readonly pollMs: number;
  private readonly maxStaleMs: number;
  private hashes: ReadonlySet<string> = new Set();
  private etag: string | null = null;
  /** Monotonic time (performance.now) of the last successful refresh; null before the first. */
  private refreshedAt: number | null = null;
  private lastError: unknown;
  private timer: NodeJS.Timeout | null = null;
  private inflight: AbortController | null = null;
  private closed = false;
  /** The first poll: a check made while it is still running waits for it rather than failing. */
  private first: Promise<void> | null;

  constructor(issuer: string, options: RevocationPollOptions) {
    this.url = new URL(options.url ?? `${issuer}/.well-known/gatehouse-revocations`);
    if (this.url.protocol !== 'https:' && this.url.protocol !== 'http:') throw new TypeError('createVerifier: "revocations.url" must be an http(s) URL');
    this.pollMs = positive('pollMs', options.pollMs, 1000);
    this.maxStaleMs = positive('maxStaleMs', options.maxStaleMs, 30_000);
    if (this.maxStaleMs <= this.pollMs) throw new TypeError('createVerifier: "revocations.maxStaleMs" must be longer than "revocations.pollMs"');
    this.first = this.poll().finally(() => {
      this.first = null;
    });
  }

  /**
   * Whether the session (`sid`) is on the issuer's list. Throws `RevocationsUnavailableError` when the
   * list is older than `maxStaleMs` or was never fetched.
   */
  async isRevoked(sessionId: string): Promise<boolean> {
    if (this.refreshedAt === null && this.first) await this.first;
    if (this.refreshedAt === null || performance.now() - this.refreshedAt > this.maxStaleMs) throw new RevocationsUnavailableError(this.lastError);
    if (this.hashes.size === 0) return false;
    return this.hashes.has(createHash('sha256').update(sessionId).digest().subarray(0, 16).toString('base64url'));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inflight?.abort();
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    const ac = new AbortController();
    this.inflight = ac;
    const timeout = setTimeout(() => ac.abort(new Error('revocation list request timed out')), REQUEST_TIMEOUT_MS);
    timeout.unref();
    try {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (this.etag) headers['if-none-match'] = this.etag;
      const res = await fetch(this.url, { headers, signal: ac.signal, redirect: 'manual' });
      if (res.status === 304 && this.etag) {
        await res.body?.cancel();
      } else if (res.status === 200) {
        const hashes = parseList(await boundedText(res, MAX_LIST_BYTES));
        this.hashes = hashes;
        this.etag = res.headers.get('etag');
      } else {
        await res.body?.cancel();
        throw new Error(`revocation list answered ${res.status}`);
      }
      this.refreshedAt = performance.now();
      this.lastError = undefined;
    } catch (e) {
      this.lastError = e;
    } finally {
      clearTimeout(timeout);
      this.inflight = null;
      if (!this.closed) {
        this.timer = setTimeout(() => void this.poll(), this.pollMs);
        this.timer.unref();
      }
    }
  }
}

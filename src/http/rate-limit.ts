/**
 * Brute-force limits for the credential endpoints (login, register, refresh, reauth, password
 * change), on `rate-limiter-flexible`: counters in process memory, or in Redis when one is given so
 * that every instance shares them, or — in the workers of `gatehouse serve --workers N` without
 * Redis — in the cluster's primary process (rate-limit-cluster.ts), so that the workers share them.
 *
 * Three budgets:
 * - per account (the canonical email, hashed): each password attempt is counted *before* the
 *   password is checked and a success resets the count, so a burst of parallel guesses cannot slip
 *   past the limit, and while an account is throttled even the right password gets 429 — the limit
 *   is no oracle. The block is fixed, not progressive: a progressive block would only lengthen the
 *   lockout an attacker can inflict on the real owner;
 * - failed credential checks per client IP (checked before, counted after a failure);
 * - all requests to these endpoints per client IP (a generous budget against floods).
 *
 * The client IP is the socket address unless a trusted proxy is configured (see meta.ts), so a
 * spoofed X-Forwarded-For gets a client nothing. IPv6 clients are counted per /64, the block one
 * subscriber usually holds.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { GatehouseConfig } from '../config.js';
import { normalizeEmail } from '../core/email.js';
import { GatehouseError, StoreUnavailableError } from '../errors.js';
import { clusterLimiter } from './rate-limit-cluster.js';

export type RateLimitSettings = GatehouseConfig['rateLimits'];

/** One guarded credential check: call `failed()` or `succeeded()` once it is decided. */
export interface RateLimitAttempt {
  failed(): Promise<void>;
  succeeded(): Promise<void>;
}

export interface RateLimits {
  readonly enabled: boolean;
  /**
   * Admits one request from `ip` that checks a credential of `account` (a key from `accountKey`).
   * `countAttempt` counts the attempt against the account before the check (password checks);
   * otherwise only a failure counts (refresh tokens, whose many parallel legitimate uses must pass).
   * Throws `rate_limited` (429 with Retry-After) when a budget is spent.
   */
  admit(ip: string | null, account: string | null, opts?: { countAttempt?: boolean }): Promise<RateLimitAttempt>;
  /**
   * A plain budget of `points` per key per window, on the same counters (memory or Redis): other
   * limits (verification resends, reset requests) use it so that every instance shares them too.
   */
  budget(name: string, points: number, windowMs: number): Budget;
  close(): Promise<void>;
}

export interface Budget {
  /** Spends one point: null when admitted, else the seconds to wait. A store failure is a 503. */
  take(key: string): Promise<number | null>;
}

const OPEN: Budget = { take: async () => null };

const NOOP: RateLimitAttempt = { failed: async () => {}, succeeded: async () => {} };

/** Limits that never refuse (`GATEHOUSE_RATE_LIMITS=off`). */
export const noRateLimits: RateLimits = { enabled: false, admit: async () => NOOP, budget: () => OPEN, close: async () => {} };

const hash = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 32);

/** The account key of an email as typed: its canonical form, so look-alike spellings share one budget. */
export function accountKey(kind: 'login' | 'register', emailInput: string): string {
  const canonical = normalizeEmail(emailInput)?.canonical ?? emailInput.trim().toLowerCase().slice(0, 1024);
  return `${kind}:${hash(canonical)}`;
}

/** The account key of a refresh token: its public id part, never the secret. */
export function refreshKey(presented: string): string {
  const dot = presented.indexOf('.');
  return `refresh:${hash(dot > 0 ? presented.slice(0, dot) : presented)}`;
}

/** IPv4 as is; IPv6 by its /64 (IPv4-mapped addresses as IPv4). */
export function ipKey(ip: string | null): string {
  if (!ip) return 'ip:unknown';
  const v = isIP(ip);
  if (v === 4) return `ip:${ip}`;
  if (v !== 6) return `ip:${hash(ip)}`;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return `ip:${mapped[1]}`;
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return `ip6:${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

const secs = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export interface RateLimitOptions {
  /** An ioredis client (single node or cluster); counters stay in memory without one. */
  redis?: unknown;
}

export function createRateLimits(settings: RateLimitSettings, opts: RateLimitOptions = {}): RateLimits {
  if (!settings.enabled) return noRateLimits;
  const make = (name: string, points: number, durationMs: number, blockMs: number): RateLimiterAbstract => {
    const base = { keyPrefix: `${settings.keyPrefix}${name}`, points, duration: secs(durationMs), blockDuration: blockMs > 0 ? secs(blockMs) : 0 };
    if (opts.redis) return new RateLimiterRedis({ ...base, storeClient: opts.redis });
    return clusterLimiter(base) ?? new RateLimiterMemory(base);
  };
  const account = make('acct', settings.accountAttempts, settings.accountWindow, settings.accountBlock);
  const ipFailures = make('ipf', settings.ipFailures, settings.ipFailureWindow, settings.ipFailureWindow);
  const ipRequests = make('ipr', settings.ipRequests, settings.ipWindow, 0);

  /** A spent budget becomes 429 with Retry-After; a store failure becomes 503, never a silent pass. */
  const run = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      if (e instanceof RateLimiterRes) throw limited(e.msBeforeNext);
      throw new StoreUnavailableError('rate limits', e);
    }
  };
  const limited = (ms: number) => new GatehouseError('rate_limited', 'rate limited', { retryAfter: secs(ms) });
  /** Refuses once a key has spent its points (failures counted after the fact), without counting anything. */
  const check = async (l: RateLimiterAbstract, key: string, points: number) => {
    const r = await run(l.get(key));
    if (r && r.consumedPoints >= points) throw limited(r.msBeforeNext);
  };

  return {
    enabled: true,
    async admit(ip, acct, o = {}) {
      const ipk = ipKey(ip);
      await run(ipRequests.consume(ipk));
      await check(ipFailures, ipk, settings.ipFailures);
      if (acct !== null) {
        if (o.countAttempt) await run(account.consume(acct));
        else await check(account, acct, settings.accountAttempts);
      }
      return {
        async failed() {
          await run(ipFailures.consume(ipk)).catch(ignoreLimited);
          if (acct !== null && !o.countAttempt) await run(account.consume(acct)).catch(ignoreLimited);
        },
        async succeeded() {
          // A success resets the account's count; the IP's failures stay (an attacker owning one
          // account must not be able to wipe the IP's record by signing into it).
          if (acct !== null) await account.delete(acct).catch(() => {});
        },
      };
    },
    budget(name, points, windowMs) {
      const l = make(`b:${name}`, points, windowMs, 0);
      return {
        async take(key) {
          try {
            await run(l.consume(key));
            return null;
          } catch (e) {
            if (e instanceof GatehouseError && e.code === 'rate_limited') return e.retryAfter ?? 1;
            throw e;
          }
        },
      };
    },
    async close() {},
  };
}

/** This request's answer is already decided; a budget spent by it only affects the next ones. */
function ignoreLimited(e: unknown): void {
  if (e instanceof GatehouseError && e.code === 'rate_limited') return;
  throw e;
}

/**
 * Setup helpers that obtain a credential over HTTP, the way a real client does. Gatehouse
 * variants reuse them with their own routes (e.g. register then POST /auth/login).
 */
import type { Credential, VariantContext } from './types.js';

const TIMEOUT_MS = 10_000;

export interface Step {
  method?: string;
  path: string;
  body?: unknown;
  /** Accept these statuses besides 2xx (e.g. 409 when a user already exists). */
  allow?: number[];
  /** Extra request headers (e.g. a browser's User-Agent, so a session carries real device metadata). */
  headers?: Record<string, string>;
}

async function send(ctx: VariantContext, step: Step): Promise<Response> {
  const res = await fetch(ctx.baseUrl + step.path, {
    method: step.method ?? 'POST',
    headers: { ...(step.body === undefined ? {} : { 'content-type': 'application/json' }), ...step.headers },
    body: step.body === undefined ? null : JSON.stringify(step.body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!res.ok && !(step.allow ?? []).includes(res.status)) {
    // Status only: bodies of auth routes are not logged.
    throw Object.assign(new Error(`${ctx.name}: ${step.method ?? 'POST'} ${step.path} answered ${res.status}`), { status: res.status });
  }
  return res;
}

/** Runs `before` steps (e.g. register), then `login`, and keeps the cookie it sets. */
export function cookieLogin(login: Step, before: Step[] = []) {
  return async (ctx: VariantContext): Promise<Credential> => {
    for (const step of before) await (await send(ctx, step)).arrayBuffer();
    const res = await send(ctx, login);
    await res.arrayBuffer();
    const cookies = res.headers.getSetCookie().map((c) => c.split(';', 1)[0]!);
    if (cookies.length === 0) throw new Error(`${ctx.name}: login set no cookie`);
    return { headers: { cookie: cookies.join('; ') } };
  };
}

/** Runs `before` steps, then `login`, and reads a bearer token from the JSON field `field`. */
export function bearerLogin(login: Step, field = 'access_token', before: Step[] = []) {
  return async (ctx: VariantContext): Promise<Credential> => {
    for (const step of before) await (await send(ctx, step)).arrayBuffer();
    const res = await send(ctx, login);
    const body = (await res.json()) as Record<string, unknown>;
    const token = body[field];
    if (typeof token !== 'string') throw new Error(`${ctx.name}: login returned no "${field}"`);
    return { headers: { authorization: `Bearer ${token}` } };
  };
}

/** For the baselines: nothing to send. */
export async function noCredential(): Promise<Credential> {
  return { headers: {} };
}

/** A login for storms: one request, rejected on non-2xx, body drained. */
export async function loginOnce(ctx: VariantContext, step: Step): Promise<void> {
  await (await send(ctx, step)).arrayBuffer();
}

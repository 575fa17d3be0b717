/**
 * A tiny framework-neutral router over node:http's request and response. Every adapter (Express,
 * Fastify, Hono, plain node:http) hands requests to the same routes, so only the adapter differs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestAuth } from './middleware.js';

export interface RouteCtx {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The request's authentication when it carried a valid credential. */
  auth: RequestAuth | undefined;
}

/** The context of a route that requires authentication: `auth` is always there. */
export interface AuthedRouteCtx extends RouteCtx {
  auth: RequestAuth;
}

export type RouteHandler = (c: RouteCtx) => Promise<void> | void;

interface RouteBase {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  /** `/sessions/:id` style; params match one non-empty segment. */
  path: string;
}

/**
 * A route anyone may call. With `auth: 'optional'` a credential that comes with the request is
 * checked first and `auth` set when it is valid (an invalid one is simply absent, never a 401).
 */
export interface PublicRouteDef extends RouteBase {
  auth?: false | 'optional';
  handler: RouteHandler;
}

/** A route that requires a valid session cookie or bearer token (401 before the handler otherwise). */
export interface AuthedRouteDef extends RouteBase {
  auth: true;
  handler: (c: AuthedRouteCtx) => Promise<void> | void;
}

export type RouteDef = PublicRouteDef | AuthedRouteDef;

type Compiled = RouteDef & { segments: string[] };

export type Match = { kind: 'route'; route: RouteDef; params: Record<string, string> } | { kind: 'method'; allow: string[] } | null;

export class Router {
  private readonly routes: Compiled[] = [];

  add(def: RouteDef): this {
    this.routes.push({ ...def, segments: def.path.split('/').filter(Boolean) });
    return this;
  }

  all(): readonly RouteDef[] {
    return this.routes;
  }

  match(method: string, pathname: string): Match {
    const parts = pathname.split('/').filter(Boolean);
    const allow = new Set<string>();
    for (const r of this.routes) {
      if (r.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = r.segments[i]!;
        if (seg.startsWith(':')) {
          try {
            params[seg.slice(1)] = decodeURIComponent(parts[i]!);
          } catch {
            ok = false;
          }
        } else ok = seg === parts[i];
      }
      if (!ok) continue;
      const m = method === 'HEAD' ? 'GET' : method;
      if (r.method === m) return { kind: 'route', route: r, params };
      allow.add(r.method);
    }
    if (allow.size === 0) return null;
    if (allow.has('GET')) allow.add('HEAD');
    return { kind: 'method', allow: [...allow] };
  }
}

/**
 * The Fastify adapter: a plugin that serves Gatehouse's routes through the same node:http handler
 * as every other adapter, and decorates requests with `auth`.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createGatehouseFastify } from 'gatehouse/fastify';
 *
 * const app = Fastify();
 * const gh = await createGatehouseFastify();
 * await app.register(gh.plugin);
 * app.get('/api/profile', { preHandler: gh.requireAuth }, async (req) => ({ id: req.raw.auth!.user.id }));
 * ```
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createGatehouseCore, type GatehouseCoreHandle, type GatehouseOptions } from './gatehouse.js';
import { compileRequirement, type AuthGuardOptions, type RequireAuthOptions } from './middleware.js';
import { sendProblem } from './problem.js';

type PreHandler = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** A preHandler itself, or called with options (`{ acr, maxAge, csrf }`) a preHandler for them. */
export interface RequireAuth {
  (req: FastifyRequest, reply: FastifyReply): Promise<void>;
  (options: RequireAuthOptions): PreHandler;
}

export interface GatehouseFastify extends GatehouseCoreHandle {
  /** Register with `app.register(gh.plugin)`; routes under `basePath` and `/.well-known/`. */
  plugin: (app: FastifyInstance) => Promise<void>;
  /**
   * preHandler: authenticates (sets `request.raw.auth`) and answers 401 when there is no valid
   * credential, 403 `csrf_rejected` for a cookie POST/PUT/PATCH/DELETE from another site. Called with
   * options — `requireAuth({ acr: 'aal2', maxAge: '10m' })`, `requireAuth({ csrf: false })` — it returns a
   * preHandler for them (403 `reauth_required` when the authentication is too weak or too old).
   */
  requireAuth: RequireAuth;
  /** The same as `requireAuth(options)`. */
  requireAuthWith: (options: RequireAuthOptions) => PreHandler;
  /** preHandler: authenticates if a credential is present, never answers (a cross-site cookie POST stays signed out). */
  authenticate: (req: FastifyRequest, reply?: FastifyReply) => Promise<void>;
  /** `authenticate` with per-route options. */
  authenticateWith: (options: AuthGuardOptions) => (req: FastifyRequest, reply?: FastifyReply) => Promise<void>;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export async function createGatehouseFastify(options: GatehouseOptions = {}): Promise<GatehouseFastify> {
  const gh = await createGatehouseCore(options);
  const plugin = async (app: FastifyInstance) => {
    // Gatehouse reads and bounds the body itself (16 KiB, JSON only); leave the stream unread here.
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
      const serve = (handler: typeof gh.prefixedAuthHandler) => async (req: FastifyRequest, reply: FastifyReply) => {
        reply.hijack();
        handler(req.raw, reply.raw, () => sendProblem(reply.raw, 'not_found'));
      };
      scope.route({ method: [...METHODS], url: gh.basePath, handler: serve(gh.prefixedAuthHandler) });
      scope.route({ method: [...METHODS], url: `${gh.basePath}/*`, handler: serve(gh.prefixedAuthHandler) });
      scope.route({ method: [...METHODS], url: '/.well-known/*', handler: serve(gh.wellKnownHandler) });
    });
  };
  const authenticateWith = (opts?: AuthGuardOptions) => async (req: FastifyRequest, reply?: FastifyReply) => {
    await gh.authenticator.authenticate(req.raw, reply?.raw, opts);
  };
  const requireAuthWith = (opts?: RequireAuthOptions): PreHandler => {
    const check = compileRequirement(opts);
    return async (req, reply) => {
      await gh.authenticator.authenticate(req.raw, reply.raw, opts);
      // decide() answers on the raw response when it refuses.
      const refused = !req.raw.auth || (check !== null && check(req.raw.auth, gh.core.now()) !== null);
      if (!refused) return;
      reply.hijack();
      gh.authenticator.decide(req.raw, reply.raw, check);
    };
  };
  const plain = requireAuthWith();
  const requireAuth = ((a: FastifyRequest | RequireAuthOptions, b?: FastifyReply) =>
    b === undefined && !('raw' in (a as object)) ? requireAuthWith(a as RequireAuthOptions) : plain(a as FastifyRequest, b!)) as RequireAuth;
  return { ...gh, plugin, authenticate: authenticateWith(), authenticateWith, requireAuth, requireAuthWith };
}
export type { AuthGuardOptions, AuthRequirement, RequireAuthOptions } from './middleware.js';

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
import { compileRequirement, type AuthRequirement } from './middleware.js';
import { sendProblem } from './problem.js';

export interface GatehouseFastify extends GatehouseCoreHandle {
  /** Register with `app.register(gh.plugin)`; routes under `basePath` and `/.well-known/`. */
  plugin: (app: FastifyInstance) => Promise<void>;
  /**
   * preHandler: authenticates (sets `request.raw.auth`) and answers 401 when there is no valid
   * credential. Called with a requirement, `requireAuth({ acr: 'aal2', maxAge: '10m' })` returns a
   * preHandler that also answers 403 `reauth_required` when the authentication is too weak or too old.
   */
  requireAuth: RequireAuth;
  /** preHandler: authenticates if a credential is present, never answers. */
  authenticate: (req: FastifyRequest, reply?: FastifyReply) => Promise<void>;
}

type PreHandler = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

export interface RequireAuth {
  (req: FastifyRequest, reply: FastifyReply): Promise<void>;
  (requirement: AuthRequirement): PreHandler;
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
  const guard = (check: ReturnType<typeof compileRequirement>): PreHandler => async (req, reply) => {
    await gh.authenticator.authenticate(req.raw, reply.raw);
    if (req.raw.auth && !check) return;
    // decide() answers on the raw response when it refuses.
    const refused = !req.raw.auth || (check !== null && check(req.raw.auth, gh.core.now()) !== null);
    if (!refused) return;
    reply.hijack();
    gh.authenticator.decide(req.raw, reply.raw, check);
  };
  const plain = guard(null);
  const requireAuth = ((a: FastifyRequest | AuthRequirement, b?: FastifyReply) =>
    b === undefined && !('raw' in (a as object)) ? guard(compileRequirement(a as AuthRequirement)) : plain(a as FastifyRequest, b!)) as RequireAuth;
  return {
    ...gh,
    plugin,
    async authenticate(req, reply) {
      await gh.authenticator.authenticate(req.raw, reply?.raw);
    },
    requireAuth,
  };
}

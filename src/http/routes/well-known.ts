/** JWKS and OpenID discovery, so standard verifiers find the public keys. */
import type { Router } from 'express';
import type { AuthCore } from '../../core/auth.js';
import { route, wrap } from './kit.js';

export function wellKnownRoutes(router: Router, core: AuthCore, basePath: string): void {
  route(router, '/.well-known/jwks.json', {
    get: [
      wrap((_req, res) => {
        // Short enough that a rotation reaches verifiers well before the old key stops verifying.
        res.setHeader('Cache-Control', 'public, max-age=300, stale-while-revalidate=60');
        res.json(core.keys.jwks());
      }),
    ],
  });
  route(router, '/.well-known/openid-configuration', {
    get: [
      wrap((_req, res) => {
        const iss = core.config.publicUrl;
        res.setHeader('Cache-Control', 'public, max-age=3600');
        res.json({
          issuer: iss,
          jwks_uri: `${iss}/.well-known/jwks.json`,
          token_endpoint: `${iss}${basePath}/refresh`,
          id_token_signing_alg_values_supported: [core.config.token.alg],
          token_endpoint_auth_methods_supported: ['none'],
          grant_types_supported: ['refresh_token'],
          response_types_supported: ['token'],
          subject_types_supported: ['public'],
        });
      }),
    ],
  });
}

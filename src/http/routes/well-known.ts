/** JWKS and OpenID discovery, so standard verifiers find the public keys. */
import type { AuthCore } from '../../core/auth.js';
import { sendJson } from '../problem.js';
import type { Router } from '../router.js';

export function wellKnownRoutes(router: Router, core: AuthCore, basePath: string): void {
  router.add({
    method: 'GET',
    path: '/.well-known/jwks.json',
    handler: ({ res }) => {
      // Short enough that a rotation reaches verifiers well before the old key stops verifying.
      res.setHeader('Cache-Control', 'public, max-age=300, stale-while-revalidate=60');
      sendJson(res, 200, core.keys.jwks(), 'application/jwk-set+json');
    },
  });
  router.add({
    method: 'GET',
    path: '/.well-known/openid-configuration',
    handler: ({ res }) => {
      const iss = core.config.publicUrl;
      res.setHeader('Cache-Control', 'public, max-age=3600');
      sendJson(res, 200, {
        issuer: iss,
        jwks_uri: `${iss}/.well-known/jwks.json`,
        token_endpoint: `${iss}${basePath}/refresh`,
        id_token_signing_alg_values_supported: [core.config.token.alg],
        token_endpoint_auth_methods_supported: ['none'],
        grant_types_supported: ['refresh_token'],
        response_types_supported: ['token'],
        subject_types_supported: ['public'],
      });
    },
  });
}

/**
 * A second service that trusts access tokens issued by a Gatehouse server: it shares no secret and no
 * database with it, only the issuer URL. Keys come from the issuer's JWKS; revoked sessions from the
 * issuer's revocation list, polled every second (so a logout reaches this service within about a second).
 * In your own project import from 'gatehouse/verify' instead of the relative path.
 */
import express, { type Express } from 'express';
import { createVerifier, requireGatehouseToken, type VerifierOptions } from '../../src/verify/index.js';

export interface SecondService {
  app: Express;
  /** Stops the verifier's background polling (call it when the server closes). */
  close(): void;
}

export function createSecondService(options: VerifierOptions): SecondService {
  const verifier = createVerifier({ revocations: true, ...options });
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  // Everything under /api needs a valid Gatehouse access token of a session that has not been revoked.
  app.use('/api', requireGatehouseToken(verifier));
  app.get('/api/orders', (req, res) => {
    const claims = req.gatehouseClaims!;
    res.json({ user: claims.sub, session: claims.sid, role: claims.role ?? null, orders: [] });
  });
  return { app, close: () => verifier.close() };
}

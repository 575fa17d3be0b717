// Incumbent: fast-jwt HS256 with its verification cache (the same token verifies from cache).
import { createSigner, createVerifier } from 'fast-jwt';
import { expressApp } from './_express.js';
import { serve } from './_serve.js';
import { accessClaims, AUDIENCE, bearer, ISSUER } from './_claims.js';

const key = 'bench-hs256-secret-not-for-production-0123456789abcdef';
const sign = createSigner({ key, algorithm: 'HS256' });
const verify = createVerifier({ key, algorithms: ['HS256'], cache: true, allowedIss: ISSUER, allowedAud: AUDIENCE });
const { app, server } = expressApp();

app.post('/login', (_req, res) => {
  res.json({ access_token: sign(accessClaims()) });
});
app.get('/me', (req, res) => {
  const token = bearer(req.headers.authorization);
  try {
    if (token === undefined) throw new Error('no token');
    const claims = verify(token) as { sub: string };
    res.json({ user: claims.sub });
  } catch {
    res.status(401).json({ error: 'invalid_token' });
  }
});
serve(server);

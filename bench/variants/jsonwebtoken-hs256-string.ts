// Incumbent: jsonwebtoken HS256 with a string secret, the way most applications call it.
import jwt from 'jsonwebtoken';
import { expressApp } from './_express.js';
import { serve } from './_serve.js';
import { accessClaims, AUDIENCE, bearer, ISSUER } from './_claims.js';

const secret = 'bench-hs256-secret-not-for-production-0123456789abcdef';
const { app, server } = expressApp();

app.post('/login', (_req, res) => {
  res.json({ access_token: jwt.sign(accessClaims(), secret, { algorithm: 'HS256' }) });
});
app.get('/me', (req, res) => {
  const token = bearer(req.headers.authorization);
  try {
    if (token === undefined) throw new Error('no token');
    const claims = jwt.verify(token, secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }) as jwt.JwtPayload;
    res.json({ user: claims.sub });
  } catch {
    res.status(401).json({ error: 'invalid_token' });
  }
});
serve(server);

// Incumbent: jose jwtVerify with an Ed25519 KeyObject (EdDSA), one signature check per request.
import { generateKeyPairSync } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { expressApp } from './_express.js';
import { serve } from './_serve.js';
import { accessClaims, AUDIENCE, bearer, ISSUER } from './_claims.js';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const { app, server } = expressApp();

app.post('/login', async (_req, res) => {
  const token = await new SignJWT(accessClaims()).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' }).sign(privateKey);
  res.json({ access_token: token });
});
app.get('/me', async (req, res) => {
  const token = bearer(req.headers.authorization);
  try {
    if (token === undefined) throw new Error('no token');
    const { payload } = await jwtVerify(token, publicKey, {
      algorithms: ['EdDSA'],
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
    });
    res.json({ user: payload.sub });
  } catch {
    res.status(401).json({ error: 'invalid_token' });
  }
});
serve(server);

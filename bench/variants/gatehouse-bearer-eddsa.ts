// Gatehouse bearer mode, EdDSA: createGatehouse on memory stores, GET /me behind gh.authenticate + requireAuth().
// The token comes from a real POST /auth/login {mode:"token"}; production argon2 parameters (one login per round).
import { createGatehouse } from '../../src/index.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { expressApp } from './_express.js';
import { serve } from './_serve.js';

const gh = await createGatehouse({
  stores: createMemoryStores(),
  config: { databaseUrl: 'memory:', publicUrl: 'http://127.0.0.1', token: { alg: 'EdDSA' } },
});
const { app, server } = expressApp();
app.use('/auth', gh.router);
app.get('/me', gh.authenticate, gh.requireAuth(), (req, res) => {
  res.json({ user: req.auth!.user.id });
});
app.use(gh.errorHandler);
serve(server, () => gh.close());

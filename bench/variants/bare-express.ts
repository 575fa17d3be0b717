// Baseline: Express 5 with no authentication. The goals are ratios to this.
import { expressApp } from './_express.js';
import { serve, USER_ID } from './_serve.js';

const { app, server } = expressApp();
app.get('/me', (_req, res) => {
  res.json({ user: USER_ID });
});
serve(server);

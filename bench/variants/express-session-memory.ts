// Incumbent: express-session with its MemoryStore, configured as its README recommends.
import session from 'express-session';
import { expressApp } from './_express.js';
import { serve, USER_ID } from './_serve.js';

declare module 'express-session' {
  interface SessionData {
    userId: string;
  }
}

const { app, server } = expressApp();
app.use(
  session({
    secret: 'bench-secret-not-for-production-0123456789',
    resave: false,
    saveUninitialized: false,
    store: new session.MemoryStore(),
  }),
);
// Setup-only route: the harness logs in once and sends the cookie on every request.
app.post('/login', (req, res, next) => {
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.userId = USER_ID;
    res.status(204).end();
  });
});
app.get('/me', (req, res) => {
  if (req.session.userId === undefined) {
    res.status(401).json({ error: 'unauthenticated' });
    return;
  }
  res.json({ user: req.session.userId });
});
serve(server);

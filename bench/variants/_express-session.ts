// The express-session app both incumbent variants serve: configured as its README recommends, with
// only the store differing. POST /login is setup (the harness logs in once); GET /me is measured.
import session from 'express-session';
import { expressApp } from './_express.js';
import { USER_ID } from './_serve.js';

declare module 'express-session' {
  interface SessionData {
    userId: string;
  }
}

export function expressSessionApp(store: session.Store) {
  const { app, server } = expressApp();
  app.use(session({ secret: 'bench-secret-not-for-production-0123456789', resave: false, saveUninitialized: false, store }));
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
  return server;
}

// Incumbent: express-session with its MemoryStore, configured as its README recommends.
import session from 'express-session';
import { expressSessionApp } from './_express-session.js';
import { serve } from './_serve.js';

serve(expressSessionApp(new session.MemoryStore()));

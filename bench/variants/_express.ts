// The Express 5 app every Express variant starts from, so that only the auth layer differs.
import { createServer, type Server } from 'node:http';
import express, { type Express } from 'express';

export function expressApp(): { app: Express; server: Server } {
  const app = express();
  return { app, server: createServer(app) };
}

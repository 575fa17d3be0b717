// Baseline: node:http with no framework and no authentication. The ceiling of the machine.
import { createServer } from 'node:http';
import { serve, USER_ID } from './_serve.js';

const body = JSON.stringify({ user: USER_ID });

serve(
  createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/me') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    res.writeHead(404).end();
  }),
);

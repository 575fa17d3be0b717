/**
 * Structured JSON logs (pino). Request lines carry method, path, status and latency only — never
 * headers, bodies or query strings, so cookies, tokens and passwords cannot reach a log. The redact
 * list is a second line of defence for anything logged by mistake.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export const REDACT_PATHS = [
  'password', '*.password', 'current_password', '*.current_password', 'new_password', '*.new_password',
  'token', '*.token', 'refresh_token', '*.refresh_token', 'access_token', '*.access_token',
  'cookie', '*.cookie', 'authorization', '*.authorization', 'headers', '*.headers', 'secret', '*.secret',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  // The pid tells the workers of `serve --workers N` apart in one log.
  const opts = { level, base: { service: 'gatehouse', pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(opts, destination) : pino(opts);
}

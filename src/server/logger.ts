/**
 * Structured JSON logs (pino). Request lines carry method, path, status and latency only — never
 * headers, bodies or query strings, so cookies, tokens and passwords cannot reach a log. The redact
 * list is a second line of defence for anything logged by mistake.
 *
 * The server's logs leave the event loop: lines are gathered and written by libuv's thread pool in
 * chunks of about LOG_MIN_WRITE bytes (pino's asynchronous destination, sonic-boom), at the latest
 * every LOG_FLUSH_MS. A synchronous write per request line cost 10–15 % of a request (docs/performance.md).
 * What a crash can lose: the buffer not yet written — under LOG_MIN_WRITE bytes (about 25–30 request
 * lines) or the last LOG_FLUSH_MS of lines, whichever is less, plus a chunk (≤ 16 KiB) the kernel has
 * not finished writing when the process is killed outright. A clean stop (SIGTERM, SIGINT) and a fatal
 * error flush everything first (`flushLogs`, `flushLogsSync`).
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export const REDACT_PATHS = [
  'password', '*.password', 'current_password', '*.current_password', 'new_password', '*.new_password',
  'token', '*.token', 'refresh_token', '*.refresh_token', 'access_token', '*.access_token',
  'cookie', '*.cookie', 'authorization', '*.authorization', 'headers', '*.headers', 'secret', '*.secret',
];

/** Bytes buffered before a write is started (well under sonic-boom's 16 KiB write size). */
export const LOG_MIN_WRITE = 4096;
/** The buffer is written at least this often, so a quiet server holds no line for long. */
export const LOG_FLUSH_MS = 1000;

/**
 * Lines gathered in an array and handed to sonic-boom as one string per LOG_MIN_WRITE bytes. sonic-boom's
 * own `minLength` buffering appends each line to a growing string and measures its UTF-8 length on
 * every line, which re-flattens it: about 1.5 µs per line at 4 KiB, more than the rest of the write.
 */
class LineBatch {
  #parts: string[] = [];
  #chars = 0;
  readonly #timer: NodeJS.Timeout;
  constructor(readonly sonic: ReturnType<typeof pino.destination>) {
    this.#timer = setInterval(() => this.drain(), LOG_FLUSH_MS);
    this.#timer.unref();
    // Whatever ends the process through process.exit() writes what is gathered first.
    process.once('exit', () => {
      try {
        this.flushSync();
      } catch {
        // Nothing more can be written.
      }
    });
  }
  write(line: string): boolean {
    this.#parts.push(line);
    this.#chars += line.length;
    if (this.#chars >= LOG_MIN_WRITE) this.drain();
    return true;
  }
  /** Hands what is gathered to the asynchronous writer. */
  drain(): void {
    if (this.#parts.length === 0) return;
    const chunk = this.#parts.length === 1 ? this.#parts[0]! : this.#parts.join('');
    this.#parts = [];
    this.#chars = 0;
    this.sonic.write(chunk);
  }
  flush(cb: () => void): void {
    this.drain();
    this.sonic.flush(() => cb());
  }
  flushSync(): void {
    this.drain();
    this.sonic.flushSync();
  }
}

const destinations = new WeakMap<Logger, LineBatch>();
const requestLoggers = new WeakMap<Logger, Logger>();
const lineDestinations = new WeakMap<Logger, DestinationStream>();

const baseOptions = (level: string) => ({ level, base: { service: 'gatehouse', pid: process.pid } });

/**
 * `destination` given (tests, the CLI's stderr): lines go there as they are written. Otherwise
 * stdout through the asynchronous destination described above.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  // The pid tells the workers of `serve --workers N` apart in one log.
  const opts = { ...baseOptions(level), redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  const batch = destination ? null : new LineBatch(pino.destination({ dest: 1, sync: false }));
  const dest: DestinationStream = destination ?? batch!;
  const logger = pino(opts, dest);
  if (batch) destinations.set(logger, batch);
  // Request lines are built from four fixed fields (method, path without query, status, ms) and
  // carry nothing to redact; the redaction pass would cost more than the rest of the line.
  requestLoggers.set(logger, pino(baseOptions(level), dest));
  lineDestinations.set(logger, dest);
  return logger;
}

/** The logger for the per-request line: same destination and level, without the redaction pass. */
export function requestLogger(logger: Logger): Logger {
  return requestLoggers.get(logger) ?? logger;
}

/** Writes one request line: method, path (no query string), status, latency in ms. */
export type RequestLine = (method: string, path: string, status: number, ms: number) => void;

/**
 * The per-request line, formatted here rather than by pino: the same JSON pino writes for
 * `logger.info({ method, path, status, ms }, 'request')` with this module's options (level, time, base
 * fields, the four fields, msg; test/unit/request-line.test.ts holds them equal), to the same
 * destination, at about a third of the CPU (0.5 µs instead of 1.5 µs per line). Null when the
 * logger's level leaves out info lines.
 */
export function requestLine(logger: Logger): RequestLine | null {
  if (!logger.isLevelEnabled('info')) return null;
  const dest = lineDestinations.get(logger);
  if (!dest) {
    const rl = requestLogger(logger);
    return (method, path, status, ms) => rl.info({ method, path, status, ms }, 'request');
  }
  const base = `,"service":"gatehouse","pid":${process.pid},"method":`;
  return (method, path, status, ms) => {
    dest.write(`{"level":30,"time":${Date.now()}${base}${JSON.stringify(method)},"path":${JSON.stringify(path)},"status":${status},"ms":${ms},"msg":"request"}\n`);
  };
}

/** Writes every buffered line (clean shutdown). Resolves at once for a synchronous destination. */
export function flushLogs(logger: Logger): Promise<void> {
  const dest = destinations.get(logger);
  if (!dest) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      dest.flush(resolve);
    } catch {
      resolve();
    }
  });
}

/** Writes every buffered line before the process dies (fatal error): blocking, best effort. */
export function flushLogsSync(logger: Logger): void {
  try {
    destinations.get(logger)?.flushSync();
  } catch {
    // Not open yet or already closed: nothing more can be written.
  }
}

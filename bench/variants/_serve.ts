/**
 * Common start/stop for variant servers: listen on 127.0.0.1 at $PORT (0 = any free port),
 * print `READY <port>` on stdout for the harness, and shut down cleanly on SIGTERM/SIGINT.
 */
import type { Server } from 'node:http';

/** The user every variant authenticates; the body each variant answers is `{"user":USER_ID}`. */
export const USER_ID = 'u_7b1f3c9e2a';

export function serve(server: Server, cleanup: () => Promise<void> = async () => {}): void {
  const port = Number(process.env.PORT ?? 0);
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1', () => {
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('unexpected listen address');
    process.stdout.write(`READY ${addr.port}\n`);
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // Bounded: whatever happens, the process is gone within 5 s.
    setTimeout(() => process.exit(1), 5_000).unref();
    server.close();
    server.closeAllConnections();
    cleanup().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`cleanup failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

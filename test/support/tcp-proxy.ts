/**
 * A TCP relay on a free loopback port to one target, whose link the test can break: `cut()` resets
 * every relayed connection and refuses new ones (a network partition that the client notices), and
 * `blackhole()` keeps every connection open but forwards nothing either way (a peer that silently
 * stopped answering). `heal()` relays again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  cut(): void;
  blackhole(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: 'relay' | 'cut' | 'blackhole' = 'relay';
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    if (mode === 'cut') return client.resetAndDestroy();
    const upstream = connect(targetPort, targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (d) => mode === 'relay' && upstream.write(d));
    upstream.on('data', (d) => mode === 'relay' && client.write(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const proxy: TcpProxy = {
    port: (server.address() as { port: number }).port,
    cut() {
      mode = 'cut';
      for (const [a, b] of pairs) {
        a.resetAndDestroy();
        b.destroy();
      }
      pairs.clear();
    },
    blackhole() {
      mode = 'blackhole';
    },
    heal() {
      mode = 'relay';
    },
    async close() {
      proxy.cut();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return proxy;
}

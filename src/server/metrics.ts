/**
 * The metrics port of `gatehouse serve` (GATEHOUSE_METRICS_PORT): a plain node:http server answering
 * `GET /metrics` and nothing else, bound to GATEHOUSE_METRICS_HOST (loopback by default), so the
 * figures are reachable by a local scraper or a sidecar and not from the public port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendProblem } from '../http/problem.js';
import { metricsHandler } from '../observability/http.js';
import type { GatehouseMetrics } from '../observability/metrics.js';

export interface MetricsServer {
  /** Starts listening; resolves the bound port (port 0 picks a free one). */
  listen(): Promise<number>;
  /** The bound port once listening, else null. */
  port(): number | null;
  close(): Promise<void>;
}

/** The metrics port of `serve --workers` in the primary: every worker's figures, summed (prom-client's AggregatorRegistry). */
export async function serveClusterMetrics(host: string, port: number): Promise<MetricsServer> {
  const { AggregatorRegistry } = await import('prom-client');
  const aggregate = new AggregatorRegistry();
  return serveText(host, port, async () => ({ contentType: aggregate.contentType, body: await aggregate.clusterMetrics() }));
}

/** In a worker of `serve --workers`: answer the primary's requests for this worker's metrics. */
export async function shareWithPrimary(metrics: GatehouseMetrics): Promise<void> {
  const { AggregatorRegistry } = await import('prom-client');
  // Constructing one installs the worker's answering listener (prom-client does it in the constructor).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
}

export function serveMetrics(metrics: GatehouseMetrics, host: string, port: number): MetricsServer {
  return serveText(host, port, () => metrics.scrape());
}

function serveText(host: string, port: number, scrape: () => Promise<{ contentType: string; body: string }>): MetricsServer {
  const handle = metricsHandler({ scrape });
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') return handle(req, res);
    sendProblem(res, 'not_found');
  });
  let listening = false;
  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          listening = true;
          resolve((server.address() as AddressInfo).port);
        });
      }),
    port: () => (listening ? (server.address() as AddressInfo).port : null),
    close: () =>
      new Promise<void>((resolve) => {
        if (!listening) return resolve();
        listening = false;
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * `gatehouse serve --workers N`: node:cluster forks N workers sharing the port. Workers share state
 * through the stores (and their change feed), exactly like separate instances behind a balancer —
 * and, without Redis, the brute-force counters through the primary (rate-limit-cluster.ts), which
 * would otherwise be per worker and multiply every limit by N.
 * A worker that dies is replaced; SIGTERM/SIGINT stop every worker gracefully.
 */
import cluster from 'node:cluster';
import { serveClusterCounters, useClusterCounters } from '../http/rate-limit-cluster.js';

export async function runCluster(workers: number, startWorker: () => Promise<void>, metrics: { host: string; port: number } | null = null): Promise<number> {
  if (!cluster.isPrimary) {
    // Workers with Redis count there (createRateLimits prefers it); without, in the primary.
    useClusterCounters();
    await startWorker();
    return 0;
  }
  serveClusterCounters();
  // The metrics port belongs to the primary: each scrape gathers every worker's figures.
  if (metrics) {
    const { serveClusterMetrics } = await import('./metrics.js');
    await (await serveClusterMetrics(metrics.host, metrics.port)).listen();
  }
  let stopping = false;
  const fork = () => cluster.fork();
  for (let i = 0; i < workers; i++) fork();
  cluster.on('exit', (w, code, signal) => {
    if (stopping) return;
    process.stderr.write(`gatehouse: worker ${w.process.pid} exited (${signal ?? code}); starting another\n`);
    setTimeout(fork, 250);
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    const check = setInterval(() => {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        clearInterval(check);
        process.exit(0);
      }
    }, 100);
    setTimeout(() => process.exit(1), 20_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return new Promise<number>(() => {});
}

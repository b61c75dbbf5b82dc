/**
 * @module cluster/primary
 * `server.workers: N | auto`: the primary forks one gateway per worker on the shared proxy port
 * (node:cluster), restarts workers that die, answers the admin endpoints once for all of them
 * (metrics summed by prom-client's AggregatorRegistry, health merged from every worker), and
 * passes SIGTERM/SIGHUP on.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import type { GatewayConfig } from '../config/types';
import { createAdminServer, type AdminSources } from '../admin/server';
import type { LoggerHandle } from '../observability/logger';
import { askWorkers, mergeHealth } from './merge-health';
import { startRateLimitMaster } from './rate-limit-master';

export function workerCount(config: GatewayConfig): number {
  return config.server.workers === 'auto' ? availableParallelism() : config.server.workers;
}

export async function runPrimary(file: string, config: GatewayConfig, logger: LoggerHandle): Promise<number> {
  const log = logger.logger;
  const count = workerCount(config);
  let stopping = false;
  const exitCodes: number[] = [];
  cluster.setupPrimary({ args: ['--config', file] });
  // Workers' limits are counted here, so a limit of 10 is 10 however many workers serve it.
  startRateLimitMaster();
  const fork = (): Worker => cluster.fork({ BREAKWATER_WORKER: '1' });
  cluster.on('exit', (worker, code, signal) => {
    exitCodes.push(code ?? 1);
    if (stopping) return;
    log.error({ worker: worker.id, code, signal }, 'worker died; starting a new one');
    fork();
  });
  const listening = Array.from({ length: count }, () => once(fork(), 'listening') as Promise<[AddressInfo]>);
  const [[proxy]] = (await Promise.all(listening)) as [[AddressInfo]];
  const aggregator = new AggregatorRegistry();
  const sources: AdminSources = {
    metrics: () => aggregator.clusterMetrics(),
    metricsContentType: aggregator.contentType,
    health: async () => mergeHealth(await askWorkers(), stopping).report,
    notReady: async () => (stopping ? ['draining'] : mergeHealth(await askWorkers(), stopping).notReady),
    log,
  };
  const admin = createAdminServer(sources);
  admin.listen(config.server.admin.listen.port, config.server.admin.listen.host);
  await once(admin, 'listening');
  log.info({ proxy, admin: admin.address(), workers: count }, 'breakwater started');
  process.on('SIGHUP', () => forEachWorker((w) => w.process.kill('SIGHUP')));
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      stopping = true;
      log.info({ signal, workers: count }, 'shutting down workers');
      forEachWorker((w) => w.process.kill('SIGTERM'));
      const waitForExit = () =>
        Object.keys(cluster.workers ?? {}).length === 0 ? resolve() : setTimeout(waitForExit, 20);
      waitForExit();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  admin.close();
  admin.closeAllConnections();
  logger.close();
  return Math.max(0, ...exitCodes.slice(-count));
}

function forEachWorker(action: (worker: Worker) => void): void {
  for (const worker of Object.values(cluster.workers ?? {})) if (worker) action(worker);
}

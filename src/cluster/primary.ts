/**
 * @module cluster/primary
 * `server.workers: N | auto`: the primary forks one gateway per worker on the shared proxy port
 * (node:cluster), restarts workers that die, and runs the admin listener once for all of them
 * through ClusterControl (cluster/control.ts), which fans every admin action out to every worker
 * and merges every read. The primary also owns the config file: it watches it, handles SIGHUP,
 * validates a new file once (one log line, one count) and sends the accepted text to the
 * workers, so they all run the same text; a worker starting later asks it for that text rather
 * than reading a file that may have been broken since.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import type { GatewayConfig } from '../config/types';
import { createAdminServer } from '../admin/server';
import { ConfigReloader, type LoadedConfig } from '../control/reloader';
import { watchConfigFile } from '../control/watch';
import type { Logger, LoggerHandle } from '../observability/logger';
import { configVersion } from '../pipeline/build';
import { ClusterControl, type PrimaryRuntime } from './control';
import { CONFIG_RESPONSE, isConfigRequest, type ConfigResponse } from './messages';
import { startRateLimitMaster } from './rate-limit-master';

/** Workers may take a while to build a big route table. */
const APPLY_TIMEOUT_MS = 10_000;

export function workerCount(config: GatewayConfig): number {
  return config.server.workers === 'auto' ? availableParallelism() : config.server.workers;
}

/** The config the workers run, as the primary last accepted it. */
interface Running {
  readonly config: GatewayConfig;
  readonly text: string;
  readonly loadedAt: string;
}

/** The primary's state: what runs, which workers serve, and the reloading and control built on it. */
class Primary implements PrimaryRuntime {
  stopping = false;
  private current: Running;
  readonly ready = new Set<Worker>();
  readonly registry = new Registry();
  readonly reloader: ConfigReloader;
  readonly control: ClusterControl;

  constructor(file: string, loaded: LoadedConfig, env: NodeJS.ProcessEnv, log: Logger) {
    this.current = { config: loaded.config, text: loaded.text, loadedAt: new Date().toISOString() };
    const reloads = reloadCounter(this.registry);
    this.reloader = new ConfigReloader({
      file,
      env,
      log,
      initialHash: loaded.hash,
      current: () => ({ config: this.current.config, version: configVersion(this.current.config) }),
      apply: (next) => this.apply(next),
      count: (result) => reloads.inc({ result }),
    });
    this.control = new ClusterControl(this);
  }

  running(): Running {
    return this.current;
  }

  readyWorkers(): Worker[] {
    return [...this.ready].filter((w) => w.isConnected());
  }

  /** Sends an accepted config to every worker; it runs once they all have it. */
  private async apply(next: LoadedConfig): Promise<string> {
    // Workers that are draining must not rebuild.
    if (this.stopping) throw new Error('shutting down; not reloading');
    const version = await this.control.applyConfig(next.text, APPLY_TIMEOUT_MS);
    this.current = { config: next.config, text: next.text, loadedAt: new Date().toISOString() };
    return version;
  }
}

export async function runPrimary(
  file: string,
  loaded: LoadedConfig,
  logger: LoggerHandle,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const log = logger.logger;
  const count = workerCount(loaded.config);
  const primary = new Primary(file, loaded, env, log);
  const exitCodes = superviseWorkers(file, primary, log);
  const listening = Array.from({ length: count }, () => once(fork(), 'listening') as Promise<[AddressInfo]>);
  const [[proxy]] = (await Promise.all(listening)) as [[AddressInfo]];
  const token = () => primary.running().config.server.admin.token;
  const admin = createAdminServer({ control: primary.control, token, log });
  admin.listen(loaded.config.server.admin.listen.port, loaded.config.server.admin.listen.host);
  await once(admin, 'listening');
  log.info({ proxy, admin: admin.address(), workers: count }, 'breakwater started');
  const watcher = watchConfigFile(file, () => void primary.reloader.reloadIfChanged(), log);
  process.on('SIGHUP', () => void primary.reloader.reload('signal'));
  await waitForStop(count, log, () => {
    primary.stopping = true;
    // No reload may reach workers that are draining.
    watcher.close();
  });
  admin.close();
  admin.closeAllConnections();
  logger.close();
  return Math.max(0, ...exitCodes.slice(-count));
}

function fork(): Worker {
  return cluster.fork({ BREAKWATER_WORKER: '1' });
}

/**
 * Answers workers' config requests, brings each worker that starts serving up to date, and
 * restarts workers that die (unless stopping). Returns the list exit codes are collected in.
 */
function superviseWorkers(file: string, primary: Primary, log: Logger): number[] {
  const exitCodes: number[] = [];
  cluster.setupPrimary({ args: ['--config', file] });
  // Workers' limits are counted here, so a limit of 10 is 10 however many workers serve it.
  startRateLimitMaster();
  cluster.on('message', (worker, message: unknown) => {
    if (!isConfigRequest(message)) return;
    const answer: ConfigResponse = {
      type: CONFIG_RESPONSE,
      file,
      text: primary.running().text,
      standing: primary.control.standing(),
    };
    worker.send(answer);
  });
  cluster.on('listening', (worker) => {
    primary.ready.add(worker);
    void primary.control.replay(worker, primary.running().text);
  });
  cluster.on('exit', (worker, code, signal) => {
    primary.ready.delete(worker);
    exitCodes.push(code ?? 1);
    if (primary.stopping) return;
    log.error({ worker: worker.id, code, signal }, 'worker died; starting a new one');
    fork();
  });
  return exitCodes;
}

/** config_reloads_total is counted here, where reloads happen; the workers' own stay at 0. */
function reloadCounter(registry: Registry): Counter<'result'> {
  const counter = new Counter({
    name: 'breakwater_config_reloads_total',
    help: 'Configuration reloads, by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  counter.inc({ result: 'success' }, 0);
  counter.inc({ result: 'failure' }, 0);
  return counter;
}

/** Resolves once SIGTERM/SIGINT has been passed on and every worker has exited. */
function waitForStop(count: number, log: Logger, markStopping: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      markStopping();
      log.info({ signal, workers: count }, 'shutting down workers');
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      const waitForExit = () =>
        Object.keys(cluster.workers ?? {}).length === 0 ? resolve() : setTimeout(waitForExit, 20);
      waitForExit();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/**
 * @module main
 * `breakwater --config FILE`: load → start → wait for a signal. SIGTERM/SIGINT drain and
 * resolve the exit code; SIGHUP reloads, keeping the running config when the file is bad.
 */
import { ConfigError } from './errors';
import { loadConfig } from './config/load';
import { Gateway } from './gateway';
import { createLogger } from './observability/logger';
import cluster from 'node:cluster';
import { runPrimary, workerCount } from './cluster/primary';
import { serveClusterWorker } from './cluster/worker';

export async function runGateway(file: string, env: NodeJS.ProcessEnv): Promise<number> {
  let config;
  try {
    config = loadConfig(file, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\nbreakwater: not started: fix ${file} and try again\n`);
    return 1;
  }
  const logger = createLogger();
  if (cluster.isPrimary && workerCount(config) > 1) return runPrimary(file, config, logger);
  const worker = cluster.isWorker && env.BREAKWATER_WORKER === '1';
  const gateway = await Gateway.start(config, { logger, admin: !worker });
  if (worker) serveClusterWorker(gateway);
  const log = logger.logger;
  process.on('SIGHUP', () => reload(gateway, file, env));
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      gateway.drain().then(
        ({ cutOff }) => resolve(cutOff > 0 ? 1 : 0),
        (err: unknown) => {
          log.error({ err }, 'drain failed');
          logger.close();
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

function reload(gateway: Gateway, file: string, env: NodeJS.ProcessEnv): void {
  const log = gateway.logger.logger;
  try {
    const table = gateway.reload(loadConfig(file, env));
    gateway.metrics.configReloads.inc({ result: 'success' });
    log.info({ version: table.version, routes: table.routes.length }, 'config reloaded');
  } catch (err) {
    gateway.metrics.configReloads.inc({ result: 'failure' });
    const issues = err instanceof ConfigError ? err.issues.map((i) => i.message) : undefined;
    log.error(
      { err: err instanceof ConfigError ? undefined : err, issues, file },
      'config reload failed; keeping the running config',
    );
  }
}

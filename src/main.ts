/**
 * @module main
 * `breakwater --config FILE`: load → start → wait for a signal. SIGTERM/SIGINT drain and
 * resolve the exit code; SIGHUP and edits of the file reload through the control seam
 * (control/reloader.ts), keeping the running config when the file is bad. With workers the
 * primary does that for all of them (cluster/primary.ts) and each worker starts from the text
 * the primary hands it.
 */
import cluster from 'node:cluster';
import { parseConfig } from './config/load';
import { ConfigError, ListenError } from './errors';
import { logConfigWarnings, readConfigFile, type LoadedConfig } from './control/reloader';
import { Gateway } from './gateway';
import { createLogger, type LoggerHandle } from './observability/logger';
import { runPrimary, workerCount } from './cluster/primary';
import { applyStanding, configFromPrimary, serveClusterWorker } from './cluster/worker';

export async function runGateway(file: string, env: NodeJS.ProcessEnv): Promise<number> {
  if (cluster.isWorker && env.BREAKWATER_WORKER === '1') return runWorker(env);
  let loaded: LoadedConfig;
  try {
    loaded = readConfigFile(file, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\nbreakwater: not started: fix ${file} and try again\n`);
    return 1;
  }
  const logger = createLogger();
  logConfigWarnings(logger.logger, loaded.warnings);
  if (cluster.isPrimary && workerCount(loaded.config) > 1) return runPrimary(file, loaded, logger, env);
  let gateway: Gateway;
  try {
    gateway = await Gateway.start(loaded.config, {
      logger,
      reload: { file, env, hash: loaded.hash, watch: true },
    });
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    process.stderr.write(`breakwater: ${err.message}\n`);
    return 1;
  }
  process.on('SIGHUP', () => void gateway.control.reload('signal'));
  return untilStopped(gateway, logger);
}

/** A cluster worker: the config text comes from the primary, which also does the reloading. */
async function runWorker(env: NodeJS.ProcessEnv): Promise<number> {
  const { file, text, standing } = await configFromPrimary();
  const logger = createLogger();
  const gateway = await Gateway.start(parseConfig(text, file, env), { logger, admin: false, reload: false });
  void applyStanding(gateway, standing);
  serveClusterWorker(gateway, file, text, env);
  // A SIGHUP sent to the whole process group reaches the primary too, which reloads everyone.
  process.on('SIGHUP', () => gateway.log.debug('SIGHUP in a worker: the primary reloads'));
  return untilStopped(gateway, logger);
}

/** Resolves with the exit code once SIGTERM/SIGINT has drained the gateway. */
function untilStopped(gateway: Gateway, logger: LoggerHandle): Promise<number> {
  const log = logger.logger;
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

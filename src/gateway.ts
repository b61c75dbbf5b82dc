/**
 * @module gateway
 * Lifecycle only: start the proxy and admin listeners for a config, swap in a new route
 * table atomically, drain and stop. Operator actions go through `gateway.control`
 * (control/local.ts), which also owns reloading from file; the file watcher lives here so the
 * drain can stop it.
 */
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { GatewayConfig, ListenAddress } from './config/types';
import { ListenError } from './errors';
import { createAdminServer } from './admin/server';
import type { HealthContext } from './admin/health';
import { LocalControl, type ControlledGateway } from './control/local';
import { ConfigReloader } from './control/reloader';
import { watchConfigFile, type ConfigWatcher } from './control/watch';
import { createProxyServer } from './http/proxy-server';
import { RequestHandler } from './http/request-handler';
import { AccessLog } from './observability/access-log';
import { createLogger, type LoggerHandle } from './observability/logger';
import { MemoryWatch } from './observability/memory-watch';
import { GatewayMetrics } from './observability/metrics';
import { MetricsWiring } from './observability/wire';
import { liveNames, SeriesPruner } from './observability/prune';
import { StateChangeLog } from './observability/state-log';
import { RequestStats } from './observability/stats';
import { buildRouteTable, upstreamChanges, type BuildOptions } from './pipeline/build';
import type { RouteTable } from './pipeline/route-table';
import type { Upstream } from './upstream/upstream';
import type { Logger } from './observability/logger';
import { SharedState } from './state/shared-state';

export interface GatewayOptions {
  readonly logger?: LoggerHandle;
  readonly metrics?: GatewayMetrics;
  /** false in cluster workers: the primary answers the admin endpoints for all of them. */
  readonly admin?: boolean;
  /** Reloading from file (default: `config.source`, not watched); false in cluster workers. */
  readonly reload?: ReloadSource | false;
}

export interface ReloadSource {
  /** Default: the file the config came from. */
  readonly file?: string;
  /** Where `${VAR}`s are read from on each reload (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** sha256 of the text the gateway starts with; the watcher reloads when the file differs. */
  readonly hash?: string;
  /** Watch the file and reload when it changes (the CLI does). */
  readonly watch?: boolean;
}

/** What start() builds before the Gateway object exists. */
interface GatewayParts {
  readonly handler: RequestHandler;
  readonly proxy: Server;
  readonly wiring: MetricsWiring;
  readonly build: BuildOptions;
  readonly metrics: GatewayMetrics;
  readonly logger: LoggerHandle;
  readonly stats: RequestStats;
}

export interface DrainResult {
  /** Requests still in flight when `shutdownTimeout` ran out (0 when the drain finished). */
  readonly cutOff: number;
}

export class Gateway implements ControlledGateway {
  private drainPromise: Promise<DrainResult> | undefined;
  private readonly handler: RequestHandler;
  private readonly proxy: Server;
  private readonly wiring: MetricsWiring;
  private readonly build: BuildOptions;
  private readonly pruner: SeriesPruner;
  private admin: Server | undefined;
  private watcher: ConfigWatcher | undefined;
  private readonly startedAt = Date.now();
  /** ISO time the running config was loaded (start or last successful reload), for /health. */
  private loadedAt = new Date().toISOString();
  readonly metrics: GatewayMetrics;
  readonly logger: LoggerHandle;
  /** Live per-route figures for /admin/stats and the dashboard. */
  readonly stats: RequestStats;
  /** Every operator action and read (admin API, SIGHUP, the file watcher). */
  readonly control: LocalControl;
  /** Samples memory use for breakwater_memory_usage_ratio and the memoryWarning lines. */
  private readonly memory: MemoryWatch;

  private constructor(parts: GatewayParts, reload: ReloadSource | false) {
    this.handler = parts.handler;
    this.proxy = parts.proxy;
    this.wiring = parts.wiring;
    this.build = parts.build;
    this.metrics = parts.metrics;
    this.logger = parts.logger;
    this.stats = parts.stats;
    this.pruner = new SeriesPruner(
      this.metrics.registry,
      (live) => this.wiring.retire(live),
      (err) => this.log.warn({ err }, 'pruning retired metric series failed'),
    );
    this.control = new LocalControl(this, reload === false ? undefined : this.reloaderFor(reload));
    this.memory = new MemoryWatch(this.log, (ratio) => this.metrics.memoryUsageRatio.set(ratio));
  }

  /** Operational lines (admin actions, reloads); a worker's carry its id. */
  get log(): Logger {
    return operationsLog(this.logger);
  }

  /** What /health and /health/ready report from. */
  healthContext(): HealthContext {
    const shared = this.build.shared;
    return {
      table: this.handler.table,
      draining: this.handler.draining,
      startedAt: this.startedAt,
      loadedAt: this.loadedAt,
      redis: shared ? (shared.up ? 'up' : 'down') : 'disabled',
    };
  }

  private reloaderFor(source: ReloadSource): ConfigReloader {
    const reloader = new ConfigReloader({
      file: source.file ?? this.table.config.source,
      env: source.env ?? process.env,
      log: this.log,
      initialHash: source.hash,
      current: () => ({ config: this.table.config, version: this.table.version }),
      apply: async (loaded) => this.reload(loaded.config).version,
      count: (result) => this.metrics.configReloads.inc({ result }),
    });
    if (source.watch)
      this.watcher = watchConfigFile(reloader.file, () => void reloader.reloadIfChanged(), this.log);
    return reloader;
  }

  /** Builds everything for `config` and listens on both ports. */
  static async start(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const logger = options.logger ?? createLogger();
    const metrics = options.metrics ?? new GatewayMetrics();
    const stats = new RequestStats();
    const wiring = new MetricsWiring(metrics, { stats, states: new StateChangeLog(operationsLog(logger)) });
    metrics.countLogDrops(logger.dropped);
    // prom-client shows a label-less gauge as 0 until it is set: without Redis, `redis_up` must be
    // absent (as documented), not 0, which the BreakwaterRedisDown alert would page on.
    if (!config.redis) metrics.redisUp.remove();
    const build: BuildOptions = {
      shared: connectShared(config, wiring, logger),
      clustered: cluster.isWorker,
      log: logger.logger,
    };
    const table = buildRouteTable(config, wiring, undefined, build);
    for (const upstream of table.upstreams.values()) upstream.start();
    const handler = new RequestHandler(
      table,
      wiring,
      logger.logger,
      new AccessLog(logger.logger, logger.writeLine),
    );
    const proxy = createProxyServer(handler, config.server.limits, wiring, logger.logger);
    const parts: GatewayParts = { handler, proxy, wiring, build, metrics, logger, stats };
    const gateway = new Gateway(parts, options.reload ?? {});
    const admin =
      options.admin === false
        ? undefined
        : createAdminServer({
            control: gateway.control,
            token: () => gateway.table.config.server.admin.token,
            log: logger.logger,
          });
    gateway.admin = admin;
    metrics.configInfo.labels(table.version).set(1);
    await Promise.all([
      listen(proxy, config.server.listen, 'proxy'),
      admin && listen(admin, config.server.admin.listen, 'admin'),
    ]);
    gateway.memory.configure(memorySettings(config));
    logger.logger.info(
      {
        proxy: gateway.proxyAddress,
        admin: gateway.adminAddress,
        routes: table.routes.length,
        version: table.version,
      },
      admin ? 'breakwater started' : 'worker started',
    );
    return gateway;
  }

  get table(): RouteTable {
    return this.handler.table;
  }

  get proxyAddress(): AddressInfo {
    return this.proxy.address() as AddressInfo;
  }

  get adminAddress(): AddressInfo | undefined {
    return (this.admin?.address() as AddressInfo | null) ?? undefined;
  }

  /** Swaps in a new config; requests already running finish on the old table. */
  reload(config: GatewayConfig): RouteTable {
    const previous = this.handler.table;
    // Pools and health checks are closing: a table built now would outlive the process's state.
    if (this.handler.draining) throw new Error('The gateway is draining; not reloading');
    // A changed redis block takes a restart: the connection is made once, at start.
    const next = buildRouteTable(config, this.wiring, previous, this.build);
    const { started, retired } = upstreamChanges(previous, next);
    carryDrains(previous, started);
    for (const upstream of started) upstream.start();
    this.handler.table = next;
    this.loadedAt = new Date().toISOString();
    next.state.retirePrevious();
    this.metrics.configInfo.reset();
    this.metrics.configInfo.labels(next.version).set(1);
    this.memory.configure(memorySettings(config));
    // close() lets requests already on those pools finish before the sockets go.
    for (const upstream of retired) void upstream.close();
    // Old requests may still report under removed names until their deadline has passed.
    const graceMs = Math.max(0, ...previous.routes.map((r) => r.timeoutMs));
    this.pruner.schedule(liveNames(next), graceMs);
    return next;
  }

  /**
   * Graceful stop: readiness turns 503 at once, the proxy listener stops accepting, in-flight
   * requests get until `shutdownTimeout`, then pools and the admin listener close.
   */
  drain(): Promise<DrainResult> {
    this.drainPromise ??= this.runDrain();
    return this.drainPromise;
  }

  private async runDrain(): Promise<DrainResult> {
    const handler = this.handler;
    const { shutdownTimeoutMs: timeoutMs, drainDelayMs } = handler.table.config.server;
    // Readiness fails from here on; load balancers stop sending within drainDelay, during which
    // the listener keeps accepting so that nobody still routed here is refused.
    handler.draining = true;
    this.watcher?.close();
    this.pruner.stop();
    this.memory.stop();
    this.logger.logger.info({ inflight: handler.inflight, timeoutMs, drainDelayMs }, 'drain started');
    if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
    const closed = new Promise<void>((resolve) => this.proxy.close(() => resolve()));
    this.proxy.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, timeoutMs, true)));
    const finished = await Promise.race([handler.whenIdle().then(() => false), timedOut]);
    clearTimeout(timer);
    const cutOff = finished ? handler.inflight : 0;
    if (cutOff > 0) {
      this.logger.logger.warn({ cutOff }, 'shutdownTimeout reached; cutting off in-flight requests');
      handler.cuttingOff = true;
      this.proxy.closeAllConnections();
      // Their access lines are written as the connections close: wait for them, briefly.
      await Promise.race([handler.whenIdle(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
    // WebSockets are long-lived: they get to run while the HTTP requests drain, then 1001.
    handler.webSockets.closeAll();
    handler.table.state.disposeAll();
    const upstreams = [...handler.table.upstreams.values()];
    await Promise.all(upstreams.map((u) => (cutOff > 0 ? u.destroy() : u.close())));
    await this.build.shared?.close();
    this.proxy.closeAllConnections();
    await closed;
    const admin = this.admin;
    if (admin) {
      await new Promise<void>((resolve) => admin.close(() => resolve()));
      admin.closeAllConnections();
    }
    this.logger.logger.info({ cutOff }, 'drain finished; stopped');
    await this.logger.end();
    return { cutOff };
  }
}

const workerLogs = new WeakMap<LoggerHandle, Logger>();

/** The logger for state changes and admin actions: in a cluster worker, tagged with its id. */
function operationsLog(handle: LoggerHandle): Logger {
  if (!cluster.isWorker) return handle.logger;
  let log = workerLogs.get(handle);
  if (!log) workerLogs.set(handle, (log = handle.logger.child({ worker: cluster.worker!.id })));
  return log;
}

/**
 * A drain set through the admin API outlives a reload: targets of rebuilt upstreams (settings
 * changed) that keep their URL stay drained until undrained.
 */
function carryDrains(previous: RouteTable, started: readonly Upstream[]): void {
  for (const upstream of started) {
    const old = previous.upstreams.get(upstream.name);
    if (!old) continue;
    for (const target of upstream.targets)
      target.draining = old.targets.some((t) => t.url === target.url && t.draining);
  }
}

function memorySettings(config: GatewayConfig) {
  const { memoryWarning, memoryCheckIntervalMs } = config.server;
  return { thresholdRatio: memoryWarning, intervalMs: memoryCheckIntervalMs };
}

/** The Redis connection of `redis.url`, reporting up/down to metrics; undefined without one. */
function connectShared(
  config: GatewayConfig,
  wiring: MetricsWiring,
  logger: LoggerHandle,
): SharedState | undefined {
  if (!config.redis) return undefined;
  wiring.redisUp(false);
  return new SharedState({
    url: config.redis.url,
    keyPrefix: config.redis.keyPrefix,
    log: logger.logger,
    onChange: (up) => wiring.redisUp(up),
  });
}

/** @throws ListenError (port in use, no permission, no such address): one line for the operator. */
async function listen(server: Server, address: ListenAddress, role: 'proxy' | 'admin'): Promise<void> {
  server.listen(address.port, address.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    throw new ListenError(role, address, err);
  }
}

/**
 * @module gateway
 * Lifecycle only: start the proxy and admin listeners for a config, swap in a new route
 * table atomically, drain and stop.
 */
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { GatewayConfig, ListenAddress } from './config/types';
import { createAdminServer, localSources } from './admin/server';
import type { HealthContext } from './admin/health';
import { createProxyServer } from './http/proxy-server';
import { RequestHandler } from './http/request-handler';
import { createLogger, type LoggerHandle } from './observability/logger';
import { GatewayMetrics } from './observability/metrics';
import { MetricsWiring } from './observability/wire';
import { buildRouteTable, upstreamChanges, type BuildOptions } from './pipeline/build';
import type { RouteTable } from './pipeline/route-table';
import { SharedState } from './state/shared-state';

export interface GatewayOptions {
  readonly logger?: LoggerHandle;
  readonly metrics?: GatewayMetrics;
  /** false in cluster workers: the primary answers the admin endpoints for all of them. */
  readonly admin?: boolean;
}

export interface DrainResult {
  /** Requests still in flight when `shutdownTimeout` ran out (0 when the drain finished). */
  readonly cutOff: number;
}

export class Gateway {
  private drainPromise: Promise<DrainResult> | undefined;

  private constructor(
    private readonly handler: RequestHandler,
    private readonly proxy: Server,
    private readonly admin: Server | undefined,
    private readonly wiring: MetricsWiring,
    private readonly build: BuildOptions,
    readonly metrics: GatewayMetrics,
    readonly logger: LoggerHandle,
    /** What /health and /health/ready report from (the cluster primary asks workers for it). */
    readonly health: () => HealthContext,
  ) {}

  /** Builds everything for `config` and listens on both ports. */
  static async start(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const logger = options.logger ?? createLogger();
    const metrics = options.metrics ?? new GatewayMetrics();
    const wiring = new MetricsWiring(metrics);
    metrics.countLogDrops(logger.dropped);
    const build: BuildOptions = {
      shared: connectShared(config, wiring, logger),
      clustered: cluster.isWorker,
      log: logger.logger,
    };
    const table = buildRouteTable(config, wiring, undefined, build);
    for (const upstream of table.upstreams.values()) upstream.start();
    const handler = new RequestHandler(table, wiring, logger.logger);
    const proxy = createProxyServer(handler, config.server.limits, wiring, logger.logger);
    const startedAt = Date.now();
    const health = (): HealthContext => ({
      table: handler.table,
      draining: handler.draining,
      startedAt,
      redis: build.shared ? (build.shared.up ? 'up' : 'down') : 'disabled',
    });
    const admin =
      options.admin === false ? undefined : createAdminServer(localSources(metrics, health, logger.logger));
    const gateway = new Gateway(handler, proxy, admin, wiring, build, metrics, logger, health);
    metrics.configInfo.labels(table.version).set(1);
    await Promise.all([
      listen(proxy, config.server.listen),
      admin && listen(admin, config.server.admin.listen),
    ]);
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
    // A changed redis block takes a restart: the connection is made once, at start.
    const next = buildRouteTable(config, this.wiring, previous, this.build);
    const { started, retired } = upstreamChanges(previous, next);
    for (const upstream of started) upstream.start();
    this.handler.table = next;
    next.state.retirePrevious();
    this.metrics.configInfo.reset();
    this.metrics.configInfo.labels(next.version).set(1);
    // close() lets requests already on those pools finish before the sockets go.
    for (const upstream of retired) void upstream.close();
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
      this.proxy.closeAllConnections();
    }
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
    this.logger.close();
    return { cutOff };
  }
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

async function listen(server: Server, address: ListenAddress): Promise<void> {
  server.listen(address.port, address.host);
  await once(server, 'listening');
}

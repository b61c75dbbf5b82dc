/**
 * @module control/local
 * `GatewayControl` for the gateway running in this process: acts on its route table (breakers
 * through the circuit-breaker registry, the cache store kept in the table's StateStore, target
 * drain flags the balancer reads) and answers reads from it. A single-process gateway's admin
 * listener calls it directly; a cluster worker runs one too and the primary reaches it over IPC
 * (cluster/worker.ts). Reloads from file go through the ConfigReloader; a worker has none (the
 * primary reads the file and sends the text).
 */
import { healthReport, notReadyReasons, type HealthContext, type HealthReport } from '../admin/health';
import type { Logger } from '../observability/logger';
import type { GatewayMetrics } from '../observability/metrics';
import { summarize, type RequestStats, type StatsReport, type StatsSnapshot } from '../observability/stats';
import type { RouteTable } from '../pipeline/route-table';
import { breakersOf, type Breaker } from '../policies/circuit-breaker/registry';
import type { CacheStore } from '../policies/cache/store';
import type { Target } from '../upstream/target';
import type { Upstream } from '../upstream/upstream';
import {
  ControlError,
  notFound,
  type BreakerChange,
  type GatewayControl,
  type MetricsText,
  type PurgeResult,
  type TargetChange,
} from './control';
import { cacheStats, type CacheStats, type CacheUsage } from './cache-stats';
import { redactConfig } from './redact';
import type { ReloadRecord, ReloadTrigger } from './reload-history';
import type { ConfigReloader } from './reloader';
import { routesView, type RoutesView } from './routes-view';

/** What the control needs from the running gateway (implemented by Gateway). */
export interface ControlledGateway {
  readonly table: RouteTable;
  readonly metrics: GatewayMetrics;
  readonly stats: RequestStats;
  readonly log: Logger;
  healthContext(): HealthContext;
}

/** Key prefix under which policies/cache keeps its store in the table's StateStore. */
const CACHE_STORE_PREFIX = 'cache-store:';
/** How often a draining target is checked for its last request. */
const DRAIN_POLL_MS = 250;

export class LocalControl implements GatewayControl {
  constructor(
    private readonly gateway: ControlledGateway,
    private readonly reloader?: ConfigReloader,
  ) {}

  reload(trigger: ReloadTrigger = 'admin'): Promise<ReloadRecord> {
    if (!this.reloader)
      return Promise.reject(new ControlError(409, 'NOT_HERE', 'The cluster primary reloads the config'));
    return this.reloader.reload(trigger);
  }

  async resetBreaker(upstream: string, route?: string): Promise<BreakerChange> {
    const breakers = this.breakers(upstream, route);
    for (const breaker of breakers) breaker.reset();
    this.gateway.log.info({ event: 'admin', upstream, route }, 'admin: circuit breaker reset');
    return { upstream, route: route ?? null, breakers: breakers.map((b) => b.routeLabel), state: 'closed' };
  }

  async openBreaker(upstream: string, route?: string): Promise<BreakerChange> {
    const breakers = this.breakers(upstream, route);
    for (const breaker of breakers) breaker.forceOpen();
    this.gateway.log.warn(
      { event: 'admin', upstream, route },
      'admin: circuit breaker forced open until reset',
    );
    return { upstream, route: route ?? null, breakers: breakers.map((b) => b.routeLabel), state: 'open' };
  }

  async purgeCache(route?: string): Promise<PurgeResult> {
    const table = this.gateway.table;
    if (route !== undefined && !table.routes.some((r) => r.name === route))
      throw notFound(`No route named "${route}"`);
    let purged = 0;
    for (const store of table.state.values<CacheStore>(CACHE_STORE_PREFIX)) purged += store.purge(route);
    this.gateway.log.info({ event: 'admin', route, purged }, 'admin: cache purged');
    return { route: route ?? null, purged };
  }

  async cacheStats(): Promise<CacheStats> {
    const table = this.gateway.table;
    const usage = new Map<string, CacheUsage>();
    for (const store of table.state.values<CacheStore>(CACHE_STORE_PREFIX))
      for (const [route, used] of store.usage()) {
        const sum = usage.get(route) ?? { entries: 0, bytes: 0 };
        usage.set(route, { entries: sum.entries + used.entries, bytes: sum.bytes + used.bytes });
      }
    const { values } = await this.gateway.metrics.cacheRequests.get();
    return cacheStats({
      maxBytes: table.config.server.cache.maxBytes,
      routes: table.routes.filter((r) => r.chain.includes('cache')).map((r) => r.name),
      usage,
      counts: values.map(({ labels, value }) => ({
        route: String(labels.route),
        result: String(labels.result),
        value,
      })),
      redis: this.gateway.healthContext().redis,
    });
  }

  async drainTarget(upstream: string, url: string): Promise<TargetChange> {
    const target = this.target(upstream, url);
    const log = this.gateway.log;
    if (!target.draining) {
      target.draining = true;
      log.warn(
        { event: 'target_drain', upstream, target: target.url, inflight: target.inflight },
        'target drain started',
      );
      watchDrain(target, () =>
        log.info({ event: 'target_drain', upstream, target: target.url }, 'target drain finished'),
      );
    }
    return { upstream, target: target.url, draining: true, inflight: target.inflight };
  }

  async undrainTarget(upstream: string, url: string): Promise<TargetChange> {
    const target = this.target(upstream, url);
    if (target.draining) {
      target.draining = false;
      this.gateway.log.info(
        { event: 'target_drain', upstream, target: target.url },
        'target undrained; taking traffic again',
      );
    }
    return { upstream, target: target.url, draining: false, inflight: target.inflight };
  }

  async config(): Promise<unknown> {
    return redactConfig(this.gateway.table.config);
  }

  async routes(): Promise<RoutesView> {
    return routesView(this.gateway.table);
  }

  async stats(): Promise<StatsReport> {
    return summarize(this.statsSnapshot(), this.routeNames());
  }

  /** The raw, mergeable figures (the cluster primary merges every worker's). */
  statsSnapshot(): StatsSnapshot {
    return this.gateway.stats.snapshot();
  }

  routeNames(): string[] {
    return this.gateway.table.routes.map((r) => r.name);
  }

  async health(): Promise<HealthReport> {
    return healthReport(this.gateway.healthContext());
  }

  async notReady(): Promise<string[]> {
    return notReadyReasons(this.gateway.healthContext());
  }

  async reloads(): Promise<readonly ReloadRecord[]> {
    return this.reloader?.history.list() ?? [];
  }

  async metrics(): Promise<MetricsText> {
    const metrics = this.gateway.metrics;
    return { contentType: metrics.registry.contentType, text: await metrics.render() };
  }

  private upstream(name: string): Upstream {
    const upstream = this.gateway.table.upstreams.get(name);
    if (!upstream) throw notFound(`No upstream named "${name}"`);
    return upstream;
  }

  /** The breakers an action applies to; refuses unknown names and upstreams without breakers. */
  private breakers(upstreamName: string, route?: string): Breaker[] {
    const upstream = this.upstream(upstreamName);
    if (route !== undefined) {
      const compiled = this.gateway.table.routes.find((r) => r.name === route);
      if (!compiled) throw notFound(`No route named "${route}"`);
      if (compiled.upstream !== upstream)
        throw notFound(`Route "${route}" does not use upstream "${upstreamName}"`);
    }
    const breakers = breakersOf(upstream, route);
    if (breakers.length === 0)
      throw notFound(
        `No circuit breaker on upstream "${upstreamName}"${route ? ` for route "${route}"` : ''}`,
      );
    return breakers;
  }

  /** A target by its URL as configured (or its origin, so a trailing slash does not matter). */
  private target(upstreamName: string, url: string): Target {
    const upstream = this.upstream(upstreamName);
    const wanted = url.replace(/\/+$/, '');
    const target = upstream.targets.find((t) => t.url === url || t.origin === wanted || t.url === wanted);
    if (!target) throw notFound(`Upstream "${upstreamName}" has no target ${url}`);
    return target;
  }
}

/** Calls `done` once `target` has no request left, unless it is undrained first. */
function watchDrain(target: Target, done: () => void): void {
  const check = () => {
    if (!target.draining) return;
    if (target.inflight === 0) return done();
    setTimeout(check, DRAIN_POLL_MS).unref();
  };
  check();
}

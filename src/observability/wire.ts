/**
 * @module observability/wire
 * Implements the event interfaces the request path calls with prom-client metrics. Label
 * children are cached per label set; the per-request counters and the in-flight gauge are plain
 * numbers pushed into prom-client when metrics are collected, so a request pays no label hash
 * for them; the duration histograms (observability/labelled-histogram) keep their own series per
 * label value and observe without hashing. The same events feed the live per-route
 * stats (observability/stats.ts) and the state-change log lines (observability/state-log.ts).
 * After a reload, `retire` forgets the children of routes and upstreams that are gone.
 */
import type { Counter, Gauge } from 'prom-client';
import type { BreakerState, CacheResult, GatewayEvents, RequestEvents, TargetChangeSource } from './events';
import type { GatewayMetrics, Outcome } from './metrics';
import type { LiveNames } from './prune';
import type { StateListener } from './state-log';
import type { RequestStats } from './stats';
import { STANDARD_METHODS } from '../http/methods';

/** What the wiring feeds besides metrics. */
export interface WiringOptions {
  readonly stats?: RequestStats;
  readonly states?: StateListener;
}

/** Methods that get their own label value; anything else is counted as OTHER (bounded cardinality). */
const KNOWN_METHODS: ReadonlySet<string> = new Set(STANDARD_METHODS);

/** The route label of requests refused before a route matched. */
const UNMATCHED = '_unmatched';

const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** A labelled counter child and the increments not yet pushed into it. */
interface PendingCount {
  readonly child: Counter.Internal;
  delta: number;
}

/**
 * Pending counts keyed by three label values, one Map per level (no key string built per
 * request); each new label set gets its prom-client child once and joins `all` for syncing.
 */
class PendingCounts<A, B, C> {
  private readonly root = new Map<A, Map<B, Map<C, PendingCount>>>();

  constructor(
    private readonly childFor: (a: A, b: B, c: C) => Counter.Internal,
    private readonly all: PendingCount[],
  ) {}

  add(a: A, b: B, c: C): void {
    let byB = this.root.get(a);
    if (!byB) this.root.set(a, (byB = new Map()));
    let byC = byB.get(b);
    if (!byC) byB.set(b, (byC = new Map()));
    let count = byC.get(c);
    if (!count) {
      count = { child: this.childFor(a, b, c), delta: 0 };
      byC.set(c, count);
      this.all.push(count);
    }
    count.delta++;
  }

  /** Drops cached children whose first or second label is no longer live. */
  forget(keepA: (a: A) => boolean, keepB: (a: A, b: B) => boolean): void {
    for (const [a, byB] of this.root) {
      if (!keepA(a)) this.root.delete(a);
      else for (const b of byB.keys()) if (!keepB(a, b)) byB.delete(b);
    }
  }

  *counts(): Iterable<PendingCount> {
    for (const byB of this.root.values()) for (const byC of byB.values()) yield* byC.values();
  }
}

/** The cached value for `key`, made once by `make(key)`. */
function cached<K, V>(map: Map<K, V>, key: K, make: (key: K) => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make(key)));
  return value;
}

/** A route's in-flight gauge child and the live count it is set to when collected. */
interface InflightCount {
  readonly child: Gauge.Internal<string>;
  value: number;
  synced: number;
}

export class MetricsWiring implements GatewayEvents, RequestEvents {
  private readonly allCounts: PendingCount[] = [];
  /** route → method → status. */
  private readonly requestCounts = new PendingCounts<string, string, number>(
    (route, method, status) => this.metrics.requests.labels(route, method, String(status)),
    this.allCounts,
  );
  /** upstream → target → outcome. */
  private readonly attemptCounts = new PendingCounts<string, string, Outcome>(
    (upstream, target, outcome) => this.metrics.upstreamRequests.labels(upstream, target, outcome),
    this.allCounts,
  );
  /** route (the other levels are unused). */
  private readonly slowCounts = new PendingCounts<string, '', ''>(
    (route) => this.metrics.slowRequests.labels(route),
    this.allCounts,
  );
  /** route → cache result (the third level is unused). */
  private readonly cacheCounts = new PendingCounts<string, CacheResult, ''>(
    (route, result) => this.metrics.cacheRequests.labels(route, result),
    this.allCounts,
  );
  private readonly inflight = new Map<string, InflightCount>();

  private readonly stats: RequestStats | undefined;
  private readonly states: StateListener | undefined;

  constructor(
    private readonly metrics: GatewayMetrics,
    options: WiringOptions = {},
  ) {
    this.stats = options.stats;
    this.states = options.states;
    metrics.onCollect(() => this.sync());
  }

  requestStarted(route: string): void {
    this.inflightOf(route).value++;
  }

  requestFinished(route: string, method: string, status: number, seconds: number, routed: boolean): void {
    if (routed) {
      this.inflightOf(route).value--;
      this.stats?.record(route, status, seconds);
    }
    const labelMethod = KNOWN_METHODS.has(method) ? method : 'OTHER';
    this.requestCounts.add(route, labelMethod, status);
    this.metrics.requestDuration.labels(route).observe(seconds);
  }

  slowRequest(route: string): void {
    this.slowCounts.add(route, '', '');
    this.stats?.slowRequest(route);
  }

  requestRejected(status: number): void {
    this.metrics.badRequests.labels(String(status)).inc();
    this.requestFinished('_unmatched', 'OTHER', status, 0, false);
  }

  attemptDone(upstream: string, target: string, outcome: Outcome, seconds: number): void {
    this.attemptCounts.add(upstream, target, outcome);
    this.metrics.upstreamDuration.labels(upstream).observe(seconds);
  }

  retry(route: string, reason: string): void {
    this.metrics.retries.labels(route, reason).inc();
  }

  breakerState(upstream: string, route: string, state: BreakerState, transition: boolean): void {
    this.metrics.circuitState.labels(upstream, route).set(BREAKER_STATE_VALUE[state]);
    if (!transition) return;
    this.metrics.circuitTransitions.labels(upstream, route, state).inc();
    this.states?.breakerChanged(upstream, route, state);
  }

  targetHealth(
    upstream: string,
    target: string,
    healthy: boolean,
    source?: TargetChangeSource,
    reason?: string | null,
  ): void {
    this.metrics.targetHealthy.labels(upstream, target).set(healthy ? 1 : 0);
    if (source) this.states?.targetChanged(upstream, target, healthy, source, reason ?? null);
  }

  healthCheck(upstream: string, target: string, result: 'success' | 'failure'): void {
    this.metrics.healthChecks.labels(upstream, target, result).inc();
  }

  ejection(upstream: string, target: string): void {
    this.metrics.ejections.labels(upstream, target).inc();
  }

  shed(route: string, reason: 'bulkhead' | 'event_loop'): void {
    this.metrics.shed.labels(route, reason).inc();
  }

  fallback(route: string, trigger: string): void {
    this.metrics.fallbacks.labels(route, trigger).inc();
  }

  rateLimited(route: string, tier: string, mode: 'enforce' | 'shadow'): void {
    this.metrics.rateLimited.labels(route, tier, mode).inc();
    if (mode === 'enforce') this.stats?.rateLimited(route);
  }

  slowedDown(route: string, seconds: number): void {
    this.metrics.slowDowns.labels(route).inc();
    this.metrics.slowDownSeconds.labels(route).inc(seconds);
  }

  cacheResult(route: string, result: CacheResult): void {
    this.cacheCounts.add(route, result, '');
    this.stats?.cacheResult(route, result);
  }

  cacheBytes(bytes: number): void {
    this.metrics.cacheBytes.set(bytes);
  }

  redisUp(up: boolean): void {
    this.metrics.redisUp.set(up ? 1 : 0);
  }

  websocket(route: string, delta: 1 | -1): void {
    this.metrics.websocketConnections.labels(route).inc(delta);
  }

  faultInjected(route: string, kind: 'delay' | 'abort'): void {
    this.metrics.faultsInjected.labels(route, kind).inc();
  }

  errorMasked(route: string): void {
    this.metrics.errorsMasked.labels(route).inc();
  }

  consumerKeyShared(tier: string): void {
    this.metrics.consumerKeysSuspicious.labels(tier).inc();
  }

  /** Pushes the plain counts into prom-client; runs before every collect (scrape). */
  private sync(): void {
    for (const count of this.allCounts) {
      if (count.delta === 0) continue;
      count.child.inc(count.delta);
      count.delta = 0;
    }
    for (const gauge of this.inflight.values()) {
      if (gauge.value === gauge.synced) continue;
      gauge.child.set(gauge.value);
      gauge.synced = gauge.value;
    }
  }

  /**
   * Forgets the cached children and live stats of routes, upstreams and targets that `live` no
   * longer has (their series are removed by observability/prune.ts). A route with requests still
   * in flight keeps its in-flight count until they finish; returns how many such routes remain.
   */
  retire(live: LiveNames): number {
    this.sync();
    const routeLive = (route: string) => route === UNMATCHED || live.routes.has(route);
    const targetLive = (upstream: string, target: string) =>
      live.upstreams.get(upstream)?.has(target) ?? false;
    this.requestCounts.forget(routeLive, () => true);
    this.attemptCounts.forget((upstream) => live.upstreams.has(upstream), targetLive);
    this.cacheCounts.forget(routeLive, () => true);
    this.slowCounts.forget(routeLive, () => true);
    this.allCounts.length = 0;
    this.allCounts.push(
      ...this.requestCounts.counts(),
      ...this.attemptCounts.counts(),
      ...this.cacheCounts.counts(),
      ...this.slowCounts.counts(),
    );
    let busy = 0;
    for (const [route, count] of this.inflight) {
      if (routeLive(route)) continue;
      if (count.value === 0) this.inflight.delete(route);
      else busy++;
    }
    this.stats?.forgetExcept(routeLive);
    return busy;
  }

  private inflightOf(route: string): InflightCount {
    return cached(this.inflight, route, this.newInflight);
  }

  // synced NaN: the next collect sets the series even at 0, as the first inc() used to.
  private readonly newInflight = (route: string): InflightCount => ({
    child: this.metrics.inflight.labels(route),
    value: 0,
    synced: NaN,
  });
}

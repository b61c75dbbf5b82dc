/**
 * @module observability/wire
 * Implements the event interfaces the request path calls with prom-client metrics. Label
 * children are cached per label set; the per-request counters and the in-flight gauge are plain
 * numbers pushed into prom-client when metrics are collected, so a request pays no label hash
 * for them (the histograms still observe directly).
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { BreakerState, GatewayEvents, RequestEvents } from './events';
import type { GatewayMetrics, Outcome } from './metrics';

/** Methods that get their own label value; anything else is counted as OTHER (bounded cardinality). */
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'CONNECT',
]);

const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** A labelled counter child and the increments not yet pushed into it. */
interface PendingCount {
  readonly child: Counter.Internal;
  delta: number;
}

/** A route's in-flight gauge child and the live count it is set to when collected. */
interface InflightCount {
  readonly child: Gauge.Internal<string>;
  value: number;
  synced: number;
}

export class MetricsWiring implements GatewayEvents, RequestEvents {
  /** route → method → status → pending count (nested maps: no key string per request). */
  private readonly requestCounts = new Map<string, Map<string, Map<number, PendingCount>>>();
  private readonly durations = new Map<string, Histogram.Internal<string>>();
  private readonly inflight = new Map<string, InflightCount>();
  /** upstream → target → outcome → pending count. */
  private readonly attemptCounts = new Map<string, Map<string, Map<Outcome, PendingCount>>>();
  private readonly upstreamDurations = new Map<string, Histogram.Internal<string>>();
  private readonly allCounts: PendingCount[] = [];

  constructor(private readonly metrics: GatewayMetrics) {
    metrics.onCollect(() => this.sync());
  }

  requestStarted(route: string): void {
    this.inflightOf(route).value++;
  }

  requestFinished(route: string, method: string, status: number, seconds: number, routed: boolean): void {
    if (routed) this.inflightOf(route).value--;
    const labelMethod = KNOWN_METHODS.has(method) ? method : 'OTHER';
    let byMethod = this.requestCounts.get(route);
    if (!byMethod) this.requestCounts.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(labelMethod);
    if (!byStatus) byMethod.set(labelMethod, (byStatus = new Map()));
    let count = byStatus.get(status);
    if (!count) {
      count = this.pendingCount(this.metrics.requests.labels(route, labelMethod, String(status)));
      byStatus.set(status, count);
    }
    count.delta++;
    let histogram = this.durations.get(route);
    if (!histogram) {
      histogram = this.metrics.requestDuration.labels(route);
      this.durations.set(route, histogram);
    }
    histogram.observe(seconds);
  }

  requestRejected(status: number): void {
    this.metrics.badRequests.labels(String(status)).inc();
    this.requestFinished('_unmatched', 'OTHER', status, 0, false);
  }

  attemptDone(upstream: string, target: string, outcome: Outcome, seconds: number): void {
    let byTarget = this.attemptCounts.get(upstream);
    if (!byTarget) this.attemptCounts.set(upstream, (byTarget = new Map()));
    let byOutcome = byTarget.get(target);
    if (!byOutcome) byTarget.set(target, (byOutcome = new Map()));
    let count = byOutcome.get(outcome);
    if (!count) {
      count = this.pendingCount(this.metrics.upstreamRequests.labels(upstream, target, outcome));
      byOutcome.set(outcome, count);
    }
    count.delta++;
    let histogram = this.upstreamDurations.get(upstream);
    if (!histogram) {
      histogram = this.metrics.upstreamDuration.labels(upstream);
      this.upstreamDurations.set(upstream, histogram);
    }
    histogram.observe(seconds);
  }

  retry(route: string, reason: string): void {
    this.metrics.retries.labels(route, reason).inc();
  }

  breakerState(upstream: string, route: string, state: BreakerState, transition: boolean): void {
    this.metrics.circuitState.labels(upstream, route).set(BREAKER_STATE_VALUE[state]);
    if (transition) this.metrics.circuitTransitions.labels(upstream, route, state).inc();
  }

  targetHealth(upstream: string, target: string, healthy: boolean): void {
    this.metrics.targetHealthy.labels(upstream, target).set(healthy ? 1 : 0);
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

  private pendingCount(child: Counter.Internal): PendingCount {
    const count = { child, delta: 0 };
    this.allCounts.push(count);
    return count;
  }

  private inflightOf(route: string): InflightCount {
    let gauge = this.inflight.get(route);
    if (!gauge) {
      // synced NaN: the next collect sets the series even at 0, as the first inc() used to.
      gauge = { child: this.metrics.inflight.labels(route), value: 0, synced: NaN };
      this.inflight.set(route, gauge);
    }
    return gauge;
  }
}

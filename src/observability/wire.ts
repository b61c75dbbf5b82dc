/**
 * @module observability/wire
 * Implements the event interfaces the request path calls with prom-client metrics. Label
 * children are cached per label set, so a request costs a Map lookup, not a label hash.
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

export class MetricsWiring implements GatewayEvents, RequestEvents {
  private readonly requestCounters = new Map<string, Counter.Internal>();
  private readonly durations = new Map<string, Histogram.Internal<string>>();
  private readonly inflight = new Map<string, Gauge.Internal<string>>();
  private readonly attempts = new Map<string, Counter.Internal>();
  private readonly upstreamDurations = new Map<string, Histogram.Internal<string>>();

  constructor(private readonly metrics: GatewayMetrics) {}

  requestStarted(route: string): void {
    this.inflightOf(route).inc();
  }

  requestFinished(route: string, method: string, status: number, seconds: number, routed: boolean): void {
    if (routed) this.inflightOf(route).dec();
    const labelMethod = KNOWN_METHODS.has(method) ? method : 'OTHER';
    const key = `${route}\0${labelMethod}\0${status}`;
    let counter = this.requestCounters.get(key);
    if (!counter) {
      counter = this.metrics.requests.labels(route, labelMethod, String(status));
      this.requestCounters.set(key, counter);
    }
    counter.inc();
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
    const key = `${upstream}\0${target}\0${outcome}`;
    let counter = this.attempts.get(key);
    if (!counter) {
      counter = this.metrics.upstreamRequests.labels(upstream, target, outcome);
      this.attempts.set(key, counter);
    }
    counter.inc();
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

  private inflightOf(route: string): Gauge.Internal<string> {
    let gauge = this.inflight.get(route);
    if (!gauge) {
      gauge = this.metrics.inflight.labels(route);
      this.inflight.set(route, gauge);
    }
    return gauge;
  }
}

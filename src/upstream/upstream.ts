/**
 * @module upstream/upstream
 * An upstream cluster at run time: its targets with their pools, the balancer, passive
 * (outlier detection) and active (health checks) health, and the breaker states /health shows.
 * Routes point at one of these; it outlives config reloads when its settings did not change.
 */
import type { UpstreamConfig } from '../config/types';
import type { BreakerState, GatewayEvents } from '../observability/events';
import { BALANCERS, pickTarget, type Balancer } from './balancer';
import { createHealthChecker, type HealthChecker } from './health-check';
import { createOutlierDetector, type OutlierDetector } from './outlier';
import { Target } from './target';

export class Upstream {
  readonly name: string;
  readonly targets: readonly Target[];
  /** Attempts in flight to any target. */
  inflight = 0;
  /** Requests admitted by the upstream bulkhead and not finished yet. */
  admitted = 0;
  /** Breaker state readers by route name ("*" for scope upstream), for /health. */
  readonly breakers = new Map<string, () => BreakerState>();
  private readonly balance: Balancer;
  private readonly outlier: OutlierDetector | undefined;
  private readonly healthChecker: HealthChecker | undefined;

  constructor(
    readonly config: UpstreamConfig,
    events: GatewayEvents,
  ) {
    this.name = config.name;
    this.targets = config.targets.map((t) => new Target(t, config.connect));
    this.balance = BALANCERS[config.balance];
    this.outlier = config.outlierDetection && createOutlierDetector(config.outlierDetection, this, events);
    this.healthChecker = config.healthCheck && createHealthChecker(config.healthCheck, this, events);
    for (const target of this.targets) events.targetHealth(this.name, target.url, true);
  }

  /** The target for the next attempt, or undefined when none is available (and not failOpen). */
  pick(now: number, avoid?: Target): Target | undefined {
    return pickTarget(this.targets, this.balance, now, avoid, this.config.failOpen);
  }

  /** Feeds outlier detection with the result of one attempt. */
  recordOutcome(target: Target, failed: boolean, now: number): void {
    this.outlier?.record(target, failed, now);
  }

  /** Whether at least one target can take traffic (readiness). */
  hasAvailableTarget(now: number): boolean {
    return this.targets.some((t) => t.isAvailable(now));
  }

  /** Starts active health checks (if configured); called when the upstream goes live. */
  start(): void {
    this.healthChecker?.start();
  }

  /** Stops health checks and lets in-flight requests finish before the sockets close. */
  async close(): Promise<void> {
    this.healthChecker?.stop();
    this.outlier?.stop();
    await Promise.all(this.targets.map((t) => t.close()));
  }

  /** Stops health checks and drops every connection at once. */
  async destroy(): Promise<void> {
    this.healthChecker?.stop();
    this.outlier?.stop();
    await Promise.all(this.targets.map((t) => t.destroy()));
  }
}

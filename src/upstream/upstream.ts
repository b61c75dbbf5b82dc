/**
 * @module upstream/upstream
 * An upstream cluster at run time: its targets with their pools, the balancer and the
 * counters /health reports. Routes point at one of these; it outlives config reloads when
 * its settings did not change.
 */
import type { UpstreamConfig } from '../config/types';
import { roundRobin, type Balancer } from './balancer';
import { Target } from './target';

export class Upstream {
  readonly name: string;
  readonly targets: readonly Target[];
  inflight = 0;
  private readonly balance: Balancer = roundRobin;

  constructor(readonly config: UpstreamConfig) {
    this.name = config.name;
    this.targets = config.targets.map((t) => new Target(t, config.connect));
  }

  /** The target for the next attempt, or undefined when none is available. */
  pick(now: number, avoid?: Target): Target | undefined {
    return this.balance(this.targets, now, avoid);
  }

  /** Whether at least one target can take traffic (readiness). */
  hasAvailableTarget(now: number): boolean {
    return this.targets.some((t) => t.isAvailable(now));
  }

  async close(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.close()));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.destroy()));
  }
}

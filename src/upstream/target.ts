/**
 * @module upstream/target
 * One upstream target: its keep-alive undici Pool and the state the balancer reads
 * (health, ejection, drain, in-flight count).
 */
import { Pool } from 'undici';
import type { ConnectConfig, TargetConfig } from '../config/types';

export class Target {
  readonly url: string;
  readonly origin: string;
  readonly weight: number;
  readonly pool: Pool;
  /** Set by active health checks; targets are healthy until a check says otherwise. */
  healthy = true;
  /** Set by outlier detection until this performance.now() time. */
  ejectedUntil = 0;
  /** When the last active health check finished (ISO time), for /health. */
  lastCheck: string | null = null;
  /** Why the target is out (failed check, ejection), for /health; null when it is in. */
  reason: string | null = null;
  /** Set by the admin API: no new requests. */
  draining = false;
  inflight = 0;
  /** Smooth weighted round-robin state (nginx's algorithm). */
  currentWeight = 0;

  constructor(config: TargetConfig, connect: ConnectConfig) {
    this.url = config.url;
    this.origin = config.origin;
    this.weight = config.weight;
    this.pool = new Pool(config.origin, {
      connections: connect.maxConnections,
      connect: { timeout: connect.timeoutMs },
      // The route deadline and per-try timeout own timing; undici's own timers would race them.
      headersTimeout: 0,
      bodyTimeout: 0,
      pipelining: 1,
    });
  }

  /** Whether the balancer may send new requests here at time `now`. */
  isAvailable(now: number): boolean {
    return this.healthy && !this.draining && this.weight > 0 && this.ejectedUntil <= now;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** Drops in-flight and idle connections at once (end of a drain that timed out). */
  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}

/**
 * @module control/control
 * The one control surface (STYLE.md §8): every operator action and read is a method of
 * `GatewayControl`. The admin HTTP layer (admin/server.ts) only parses, authorises and calls it;
 * SIGHUP and the config file watcher call `reload` too. Two implementations: `LocalControl`
 * (control/local.ts) acts on the gateway of this process; with `server.workers` > 1 the cluster
 * primary's `ClusterControl` (cluster/control.ts) fans each call out to every worker over IPC
 * and merges the answers, so an action reaches every worker and a read answers for the whole
 * gateway.
 */
import type { HealthReport } from '../admin/health';
import type { CacheStats } from './cache-stats';
import type { StatsReport } from '../observability/stats';
import type { ReloadRecord, ReloadTrigger } from './reload-history';
import type { RoutesView } from './routes-view';

export type { CacheStats } from './cache-stats';
export type { ReloadRecord, ReloadTrigger } from './reload-history';
export type { RoutesView } from './routes-view';

/** What a breaker action did. */
export interface BreakerChange {
  readonly upstream: string;
  /** The route asked for, or null for every breaker of the upstream. */
  readonly route: string | null;
  /** Breaker labels acted on (route names, or "*" for `scope: upstream`). */
  readonly breakers: readonly string[];
  readonly state: 'open' | 'closed';
}

/** What a drain or undrain did. */
export interface TargetChange {
  readonly upstream: string;
  readonly target: string;
  readonly draining: boolean;
  /** Requests still running on the target (summed over workers). */
  readonly inflight: number;
}

export interface PurgeResult {
  readonly route: string | null;
  /** Responses dropped from memory (summed over workers); Redis entries are dropped too. */
  readonly purged: number;
}

export interface MetricsText {
  readonly contentType: string;
  readonly text: string;
}

export interface GatewayControl {
  /** Reloads the config file: validate, build, swap; an invalid file changes nothing. */
  reload(trigger?: ReloadTrigger): Promise<ReloadRecord>;
  /** Closes the breakers of `upstream` (only `route`'s with a route). */
  resetBreaker(upstream: string, route?: string): Promise<BreakerChange>;
  /** Forces the breakers of `upstream` (only `route`'s with a route) open until reset. */
  openBreaker(upstream: string, route?: string): Promise<BreakerChange>;
  /** Drops cached responses, of one route or all. */
  purgeCache(route?: string): Promise<PurgeResult>;
  /** Per cached route: stored entries and bytes, hits/misses/stale/bypass since start, hit ratio. */
  cacheStats(): Promise<CacheStats>;
  /** Stops new traffic to one target (requests already there finish). */
  drainTarget(upstream: string, url: string): Promise<TargetChange>;
  undrainTarget(upstream: string, url: string): Promise<TargetChange>;
  /** The running config with secrets redacted. */
  config(): Promise<unknown>;
  /** The live compiled route table, as `breakwater routes` prints it. */
  routes(): Promise<RoutesView>;
  /** Per-route rates, error rates and latency percentiles over 1/5/15 minutes. */
  stats(): Promise<StatsReport>;
  health(): Promise<HealthReport>;
  /** Why the gateway is not ready (empty: ready). */
  notReady(): Promise<string[]>;
  /** The latest reloads, newest first. */
  reloads(): Promise<readonly ReloadRecord[]>;
  metrics(): Promise<MetricsText>;
}

/** A refused control call; the admin API answers with `status` and `{error: {code, message}}`. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export function notFound(what: string): ControlError {
  return new ControlError(404, 'NOT_FOUND', what);
}

/**
 * @module observability/events
 * What the request path reports, as typed calls. Policies and the forwarder call these and
 * never import prom-client; `wire.ts` implements them with metrics. Typed methods rather than
 * a string-keyed EventEmitter: no event object allocated per call, and the compiler checks them.
 */
import type { Outcome } from './metrics';

export type BreakerState = 'closed' | 'half-open' | 'open';

/** Which mechanism changed a target's availability: active health checks or outlier detection. */
export type TargetChangeSource = 'check' | 'ejection';

/** How the cache answered a request on a cached route (RFC 9211 in one word). */
export type CacheResult = 'hit' | 'miss' | 'stale' | 'bypass' | 'revalidated';

export interface GatewayEvents {
  /** One upstream attempt finished its header phase (or failed). */
  attemptDone(upstream: string, target: string, outcome: Outcome, seconds: number): void;
  /** A retry was sent (reason: connect_failure, reset, timeout, status_503, …) or refused (budget_exhausted). */
  retry(route: string, reason: string): void;
  /** A breaker was created (in its current state) or changed state; route is "*" for scope upstream. */
  breakerState(upstream: string, route: string, state: BreakerState, transition: boolean): void;
  /**
   * A target's availability (healthy and not ejected) as published after a change: `source` says
   * which mechanism changed it and `reason` why it holds the target out (null: it let it back in).
   * Both are absent for the initial report when the upstream is built.
   */
  targetHealth(
    upstream: string,
    target: string,
    healthy: boolean,
    source?: TargetChangeSource,
    reason?: string | null,
  ): void;
  /** An active health check probe finished. */
  healthCheck(upstream: string, target: string, result: 'success' | 'failure'): void;
  /** Outlier detection ejected a target. */
  ejection(upstream: string, target: string): void;
  /** A request was refused to protect the gateway or an upstream (bulkhead full, event loop lagging). */
  shed(route: string, reason: 'bulkhead' | 'event_loop'): void;
  /** A static fallback replaced an error or a 5xx. */
  fallback(route: string, trigger: string): void;
  /** A request went over a rate limit: refused (enforce) or only counted (shadow). tier is '' unless key: consumer. */
  rateLimited(route: string, tier: string, mode: 'enforce' | 'shadow'): void;
  /** slowDown held a request back before passing it on. */
  slowedDown(route: string, seconds: number): void;
  /** How the cache answered one request on a cached route. */
  cacheResult(route: string, result: CacheResult): void;
  /** Bytes the memory cache holds now. */
  cacheBytes(bytes: number): void;
  /** Redis connection went up or down. */
  redisUp(up: boolean): void;
  /** A WebSocket opened (+1) or closed (-1) through a route. */
  websocket(route: string, delta: 1 | -1): void;
  /** The fault policy delayed or aborted a request (chaos drill). */
  faultInjected(route: string, kind: 'delay' | 'abort'): void;
  /** `errors: mask` replaced the body of an upstream 5xx. */
  errorMasked(route: string): void;
  /** A consumer key was first seen from more client IPs than `consumers.maxIpsPerKey` allows in a window. */
  consumerKeyShared(tier: string): void;
}

/** What the HTTP server reports about client requests. */
export interface RequestEvents {
  requestStarted(route: string): void;
  requestFinished(route: string, method: string, status: number, seconds: number, routed: boolean): void;
  /** Refused before routing: malformed, over a limit or timed out while being received. */
  requestRejected(status: number): void;
  /** A request that took at least its route's `slowRequest` threshold. */
  slowRequest(route: string): void;
}

/** Events that go nowhere: for building route tables outside a running gateway (`breakwater routes`). */
export const NO_EVENTS: GatewayEvents = {
  attemptDone: () => undefined,
  retry: () => undefined,
  breakerState: () => undefined,
  targetHealth: () => undefined,
  healthCheck: () => undefined,
  ejection: () => undefined,
  shed: () => undefined,
  fallback: () => undefined,
  rateLimited: () => undefined,
  slowedDown: () => undefined,
  cacheResult: () => undefined,
  cacheBytes: () => undefined,
  redisUp: () => undefined,
  websocket: () => undefined,
  faultInjected: () => undefined,
  errorMasked: () => undefined,
  consumerKeyShared: () => undefined,
};

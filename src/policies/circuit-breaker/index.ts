/**
 * @module policies/circuit-breaker
 * Pipeline position: innermost policy, inside retries and right before the forwarder, so every
 * attempt is counted and an open breaker stops the retries at once (cockatiel's
 * `wrap(retry, breaker)`). Closed: the attempt goes through opossum, which counts failure
 * statuses, transport errors and timeouts (the shared predicate in upstream/failure.ts).
 * Open: 503 CIRCUIT_OPEN with Retry-After = time left until the half-open trial, without
 * touching the upstream. Half-open: exactly one trial goes through; others are refused.
 */
import CircuitBreaker from 'opossum';
import type { CircuitBreakerConfig, RouteConfig } from '../../config/types';
import { CircuitOpenError } from '../../errors';
import type { Exchange } from '../../pipeline/exchange';
import type { Next, Reply, Stage, StageFactory } from '../../pipeline/stage';
import type { Upstream } from '../../upstream/upstream';
import { FailedReply, keepBreaker, type Breaker, type BreakerSettings } from './registry';

export { resetBreakers } from './registry';

/** Route label of the breaker shared by every route of an upstream (`scope: upstream`). */
export const SHARED_ROUTE_LABEL = '*';

/** The breaker a route uses: its settings, and whether every route of the upstream shares it. */
export interface BreakerSlice {
  readonly settings: BreakerSettings;
  readonly shared: boolean;
}

/** Stage factory: a breaker when the route's upstream or the route itself configures one. */
export const circuitBreaker: StageFactory<BreakerSlice> = {
  kind: 'circuit-breaker',
  select(route, upstream) {
    const settings = settingsFor(route, upstream.circuitBreaker);
    return settings && { settings, shared: upstream.circuitBreaker?.scope === 'upstream' };
  },
  create({ settings, shared }, deps, ctx) {
    const upstream = deps.upstreams.get(ctx.upstream)!;
    const breaker = keepBreaker(upstream, shared ? SHARED_ROUTE_LABEL : ctx.route, settings, deps);
    return breakerStage(breaker, upstream);
  },
};

/**
 * The validator has already merged a route's block over its upstream's (and refuses one under
 * `scope: upstream`), so the route's block wins when present. Picks the fields explicitly so the
 * settings key does not depend on what else the objects carry.
 */
function settingsFor(
  route: RouteConfig,
  upstreamBreaker: CircuitBreakerConfig | undefined,
): BreakerSettings | undefined {
  const source = route.circuitBreaker ?? upstreamBreaker;
  if (!source) return undefined;
  return {
    errorThresholdPercentage: source.errorThresholdPercentage,
    volumeThreshold: source.volumeThreshold,
    windowMs: source.windowMs,
    resetTimeoutMs: source.resetTimeoutMs,
  };
}

function breakerStage(breaker: Breaker, upstream: Upstream): Stage {
  const circuit = breaker.circuit;
  // Read once here: the breaker may outlive this upstream object, the stage does not.
  const failureStatuses = upstream.config.failureStatuses;
  const fire = async (ex: Exchange, next: Next): Promise<Reply> => {
    try {
      return await circuit.fire(ex, next, failureStatuses);
    } catch (err) {
      if (err instanceof FailedReply) return err.reply;
      throw settleError(err, breaker, ex);
    }
  };
  // Not async: a refusal returns a rejected promise instead of throwing, which spares V8 the
  // message object it builds for an exception no JS frame catches (measurable on the fail-fast path).
  return function circuitBreakerStage(ex: Exchange, next: Next): Promise<Reply> {
    ex.breaker = breaker.state;
    // opossum's own admission test, done first so a refusal skips opossum's events, its extra
    // Error and its window (where every refused fire counts as a fire, diluting the error rate).
    if (!circuit.closed && !circuit.pendingClose) {
      // Retired by a reload while this request still runs on the old table: step aside.
      if (circuit.isShutdown) return next(ex);
      return Promise.reject(refuse(breaker, ex));
    }
    return fire(ex, next);
  };
}

function refuse(breaker: Breaker, ex: Exchange): CircuitOpenError {
  ex.reason = 'circuit_open';
  return new CircuitOpenError(breaker.retryAfterSeconds(performance.now()));
}

/** opossum's own refusal (EOPENBREAKER) cannot get past the check above, but map it if it does. */
function settleError(err: unknown, breaker: Breaker, ex: Exchange): unknown {
  if (err instanceof Error && CircuitBreaker.isOurError(err)) {
    if ((err as Error & { code?: string }).code === 'EOPENBREAKER') return refuse(breaker, ex);
  }
  return err;
}

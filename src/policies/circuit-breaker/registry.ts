/**
 * @module policies/circuit-breaker/registry
 * Creates and keeps the opossum breakers behind the circuit-breaker stage: one per (route,
 * upstream) with `scope: route`, one per upstream (route label "*") with `scope: upstream`.
 * A breaker is created when the config is built and handed back unchanged by the next build
 * while its upstream, route label and settings stay the same (StateStore), so a reload does not
 * close an open breaker. It reports its state to metrics and to /health (upstream.breakers).
 * The admin API (control/local.ts) finds them with `breakersOf`, then resets them or forces them open.
 */
import CircuitBreaker from 'opossum';
import type { CircuitBreakerConfig, StatusRange } from '../../config/types';
import type { BreakerState, GatewayEvents } from '../../observability/events';
import type { Exchange } from '../../pipeline/exchange';
import type { Next, Reply, StageDeps } from '../../pipeline/stage';
import { isFailureError, isFailureStatus } from '../../upstream/failure';
import type { Upstream } from '../../upstream/upstream';
import { acquireBucketClock, releaseBucketClock } from './bucket-clock';

export type BreakerSettings = Omit<CircuitBreakerConfig, 'scope'>;

/** Buckets per rolling window (opossum's default). */
const BUCKETS = 10;

/**
 * A reply with a failure status, thrown inside the breaker so that opossum counts it, then
 * caught by the stage and returned to the client unchanged. Not an Error: no stack to capture.
 */
export class FailedReply {
  constructor(readonly reply: Reply) {}
}

type Args = [ex: Exchange, next: Next, failureStatuses: readonly StatusRange[]];

/** What opossum fires: one pass down the rest of the chain. */
async function callThrough(
  ex: Exchange,
  next: Next,
  failureStatuses: readonly StatusRange[],
): Promise<Reply> {
  const reply = await next(ex);
  if (isFailureStatus(reply.status, failureStatuses)) throw new FailedReply(reply);
  return reply;
}

/** Each breaker's state reader, as registered in upstream.breakers, to its breaker. */
const byReader = new WeakMap<() => BreakerState, Breaker>();

/** One opossum breaker with the state, timing and registration the gateway needs around it. */
export class Breaker {
  readonly circuit: CircuitBreaker<Args, Reply>;
  /** Mirrors opossum's state from its events: read on every request, so kept as a plain field. */
  state: BreakerState = 'closed';
  /** performance.now() at which an open breaker goes half-open (for Retry-After). */
  private halfOpenAt = 0;
  private upstream: Upstream | undefined;
  /** Forced open by the admin API: each half-open turn is turned straight back to open until reset(). */
  private forced = false;
  /** Set while re-opening a forced breaker, so that the silent re-open is not reported as a change. */
  private holding = false;
  private readonly reader = (): BreakerState => this.state;
  private readonly bucketMs: number;

  constructor(
    readonly upstreamName: string,
    readonly routeLabel: string,
    private readonly settings: BreakerSettings,
    private readonly events: GatewayEvents,
  ) {
    this.bucketMs = Math.max(1, Math.floor(settings.windowMs / BUCKETS));
    this.circuit = new CircuitBreaker<Args, Reply>(callThrough, {
      name: `${upstreamName}/${routeLabel}`,
      timeout: false, // the forwarder's per-try and route deadlines own timing out
      errorThresholdPercentage: settings.errorThresholdPercentage,
      volumeThreshold: settings.volumeThreshold,
      resetTimeout: settings.resetTimeoutMs,
      rollingCountTimeout: settings.windowMs,
      rollingCountBuckets: BUCKETS,
      // LIBRARIES.md §4: percentiles sort every latency in the window on each failure.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      rotateBucketController: acquireBucketClock(this.bucketMs),
      allowWarmUp: false,
      errorFilter: (err: unknown, ex?: Exchange) => this.ignores(err, ex),
    });
    this.circuit.on('open', () => {
      if (!this.holding) this.enter('open');
    });
    this.circuit.on('halfOpen', () => (this.forced ? this.holdOpen() : this.enter('half-open')));
    this.circuit.on('close', () => this.enter('closed'));
    byReader.set(this.reader, this);
    events.breakerState(upstreamName, routeLabel, 'closed', false);
  }

  /** Seconds until an open breaker lets a trial through; 1 while a half-open trial is out. */
  retryAfterSeconds(now: number): number {
    return Math.max(1, Math.ceil((this.halfOpenAt - now) / 1000));
  }

  /** Shows this breaker in `upstream`'s /health (the upstream object changes when its settings do). */
  attach(upstream: Upstream): void {
    upstream.breakers.set(this.routeLabel, this.reader);
    this.upstream = upstream;
  }

  /** Closes the breaker (admin reset) with a fresh window; ends a forced open. */
  reset(): void {
    this.forced = false;
    if (this.circuit.closed) this.clearWindow();
    else this.circuit.close();
  }

  /**
   * Opens the breaker and keeps it open until reset() (admin force-open). opossum has no
   * "stay open": its reset timer always moves an open breaker to half-open, so the half-open
   * listener re-opens a forced breaker in the same tick (no request can be admitted in between),
   * which re-arms the timer; no transition is reported for that turn.
   */
  forceOpen(): void {
    this.forced = true;
    if (!this.circuit.opened) this.circuit.open();
  }

  get isForced(): boolean {
    return this.forced;
  }

  private holdOpen(): void {
    this.holding = true;
    try {
      this.circuit.open();
    } finally {
      this.holding = false;
    }
    this.halfOpenAt = performance.now() + this.settings.resetTimeoutMs;
  }

  /** Stops the breaker for good: the config no longer uses it (StateStore) or the gateway stops. */
  dispose(): void {
    if (this.circuit.isShutdown) return;
    this.circuit.shutdown(); // clears the reset timer and every listener, stops the window
    releaseBucketClock(this.bucketMs);
    const breakers = this.upstream?.breakers;
    // A successor with the same label (new settings) may already have taken the slot.
    if (breakers?.get(this.routeLabel) === this.reader) breakers.delete(this.routeLabel);
    this.upstream = undefined;
  }

  /**
   * opossum's errorFilter: true = "not a failure". Replies with a failure status, transport
   * errors and timeouts count; the gateway's own refusals and a client that left do not.
   * opossum has no neutral outcome, so an ignored error counts as a success, and in half-open
   * that would close the breaker on no evidence: there it counts as a failed trial instead.
   */
  private ignores(err: unknown, ex: Exchange | undefined): boolean {
    if (err instanceof FailedReply) return false;
    if (isFailureError(err) && !ex?.clientGone) return false;
    return !this.circuit.halfOpen;
  }

  private enter(state: BreakerState): void {
    this.state = state;
    if (state === 'open') this.halfOpenAt = performance.now() + this.settings.resetTimeoutMs;
    // A closed breaker starts from an empty window (as Hystrix and resilience4j do): opossum keeps
    // the failures that opened it, so one more failure after a good trial would re-open at once.
    if (state === 'closed') this.clearWindow();
    this.events.breakerState(this.upstreamName, this.routeLabel, state, true);
  }

  private clearWindow(): void {
    // Status.rotateBucket is what the bucket clock calls; BUCKETS rotations empty the window.
    const status = this.circuit.status as unknown as { rotateBucket?: () => void };
    for (let i = 0; i < BUCKETS; i++) status.rotateBucket?.();
  }
}

/**
 * The breaker for `routeLabel` on `upstream` with `settings`: the previous build's when nothing
 * changed, else a new one. Either way it is registered with the current upstream object.
 */
export function keepBreaker(
  upstream: Upstream,
  routeLabel: string,
  settings: BreakerSettings,
  deps: Pick<StageDeps, 'events' | 'state'>,
): Breaker {
  const key = `circuit-breaker:${upstream.name}:${routeLabel}:${JSON.stringify(settings)}`;
  const breaker = deps.state.keep(key, () => new Breaker(upstream.name, routeLabel, settings, deps.events));
  breaker.attach(upstream);
  return breaker;
}

/**
 * The breakers registered for `upstream`, or only the one `route` goes through: its own, or the
 * upstream's shared "*" breaker under `scope: upstream`.
 */
export function breakersOf(upstream: Upstream, route?: string): Breaker[] {
  const readers =
    route === undefined
      ? [...upstream.breakers.values()]
      : [upstream.breakers.get(route) ?? upstream.breakers.get('*')];
  return readers.flatMap((reader) => {
    const breaker = reader && byReader.get(reader);
    return breaker ? [breaker] : [];
  });
}

/**
 * Closes every breaker registered for `upstream` (or `route`'s) and empties its window (POST
 * /admin/breakers/{upstream}/reset). Returns how many breakers were reset.
 */
export function resetBreakers(upstream: Upstream, route?: string): number {
  const breakers = breakersOf(upstream, route);
  for (const breaker of breakers) breaker.reset();
  return breakers.length;
}

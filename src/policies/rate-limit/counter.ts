/**
 * @module policies/rate-limit/counter
 * The fixed-window counters behind rate limits and slowDown, with the backend chosen once in
 * create() (rate-limiter-flexible; see LIBRARIES.md §5):
 * - one process: RateLimiterMemory;
 * - `deps.clustered` (several workers, one gateway): RateLimiterCluster, so every worker counts
 *   in the primary (`cluster/rate-limit-master.ts`) and limits are exact however many workers run;
 * - `deps.shared` (Redis): RateLimiterRedis, shared by every replica, with the memory (or
 *   cluster) limiter as its `insuranceLimiter`. While Redis is down (`!shared.up`) requests go
 *   straight to that local limiter without trying Redis, so an outage costs no round trip and
 *   each replica enforces the full limit on its own.
 * rate-limiter-flexible refuses by *rejecting with a RateLimiterRes* and fails by rejecting with
 * an Error; a Counter turns both into a plain Tally and never rejects: a store failure (cluster
 * IPC timeout, insurance failing too) is counted in this process's own memory instead.
 */
import cluster from 'node:cluster';
import {
  RateLimiterCluster,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { StageDeps } from '../../pipeline/stage';
import type { Disposable } from '../../pipeline/state-store';
import type { SharedState } from '../../state/shared-state';

/**
 * How long a worker waits for the primary's answer before counting locally. The IPC round trip
 * takes tens of µs; the library's 5 s default would hold requests that long if the primary hung.
 */
export const CLUSTER_TIMEOUT_MS = 1000;

/** Windows are whole seconds (Redis expiry); checks.ts rejects anything else, this only guards. */
export const windowSeconds = (windowMs: number): number => Math.max(1, Math.ceil(windowMs / 1000));

/** One counted request. */
export interface Tally {
  readonly allowed: boolean;
  /** Points spent in this window, this request included (0 when refused from a local block). */
  readonly consumed: number;
  readonly msBeforeNext: number;
}

export interface CounterSpec {
  /** Unique per route and rule (route name, rule index, key kind, tier). */
  readonly id: string;
  /** Requests allowed per window (limit + burst). */
  readonly points: number;
  readonly windowSeconds: number;
}

export type CounterDeps = Pick<StageDeps, 'state' | 'shared' | 'clustered'>;

export class Counter implements Disposable {
  constructor(
    readonly points: number,
    private readonly primary: RateLimiterAbstract,
    /** Used while Redis is down; the primary itself without Redis. */
    private readonly insurance: RateLimiterAbstract,
    /** This process's own count, for when the others fail. */
    private readonly local: RateLimiterMemory,
    private readonly shared: SharedState | undefined,
    private readonly release: () => void,
  ) {}

  /** Counts one request for `key`; never rejects. */
  async consume(key: string): Promise<Tally> {
    const store = this.shared === undefined || this.shared.up ? this.primary : this.insurance;
    try {
      return tally(true, await store.consume(key));
    } catch (err) {
      if (err instanceof RateLimiterRes) return tally(false, err);
      return this.consumeLocally(key);
    }
  }

  dispose(): void {
    this.release();
  }

  private async consumeLocally(key: string): Promise<Tally> {
    try {
      return tally(true, await this.local.consume(key));
    } catch (res) {
      return tally(false, res as RateLimiterRes);
    }
  }
}

function tally(allowed: boolean, res: RateLimiterRes): Tally {
  return { allowed, consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext };
}

/** The counter for `spec`, kept across reloads while its settings and backend are unchanged. */
export function keepCounter(spec: CounterSpec, deps: CounterDeps): Counter {
  const prefix = `${spec.id}:${spec.points}:${spec.windowSeconds}`;
  return deps.state.keep(`rate-limit:${backendTag(deps)}:${prefix}`, () => createCounter(spec, prefix, deps));
}

function createCounter(spec: CounterSpec, prefix: string, deps: CounterDeps): Counter {
  const options = { points: spec.points, duration: spec.windowSeconds, keyPrefix: prefix };
  const local = new RateLimiterMemory(options);
  const near = inCluster(deps) ? clusterLimiter(options) : { limiter: local, release: noop };
  const shared = deps.shared;
  if (!shared) return new Counter(spec.points, near.limiter, near.limiter, local, undefined, near.release);
  const redis = new RateLimiterRedis({
    ...options,
    keyPrefix: shared.key(`rl:${prefix}`),
    storeClient: shared.client,
    insuranceLimiter: near.limiter,
    // Between the connection dropping and `up` turning false: fail over at once, no queueing.
    rejectIfRedisNotReady: true,
    // A key over its limit is refused from memory until its window ends: no Redis trip per refusal.
    inMemoryBlockOnConsumed: spec.points + 1,
  });
  return new Counter(spec.points, redis, near.limiter, local, shared, near.release);
}

const noop = (): void => undefined;

function inCluster(deps: CounterDeps): boolean {
  return deps.clustered && cluster.isWorker && typeof process.send === 'function';
}

/**
 * A RateLimiterCluster, and the function that removes the `message` listener it adds to
 * `process` (the library never removes it, so each reload would leak one per changed rule).
 */
function clusterLimiter(options: { points: number; duration: number; keyPrefix: string }): {
  limiter: RateLimiterAbstract;
  release: () => void;
} {
  const before = new Set(process.listeners('message'));
  const limiter = new RateLimiterCluster({ ...options, timeoutMs: CLUSTER_TIMEOUT_MS });
  const added = process.listeners('message').filter((listener) => !before.has(listener));
  const remove = () => added.forEach((listener) => process.off('message', listener));
  // Answers still on their way belong to requests of the old build; let them land first.
  return { limiter, release: () => setTimeout(remove, CLUSTER_TIMEOUT_MS).unref() };
}

/** Distinguishes backends in the state key, so a change of backend builds new counters. */
function backendTag(deps: CounterDeps): string {
  if (deps.shared) return `redis#${sharedId(deps.shared)}`;
  return deps.clustered ? 'cluster' : 'memory';
}

const sharedIds = new WeakMap<SharedState, number>();
let nextSharedId = 1;

/** A number per SharedState object: a reload that replaces the connection gets new counters. */
function sharedId(shared: SharedState): number {
  let id = sharedIds.get(shared);
  if (id === undefined) sharedIds.set(shared, (id = nextSharedId++));
  return id;
}

/**
 * @module observability/stats
 * Live per-route figures for `GET /admin/stats` and the dashboard: request rate, error rate (5xx
 * share), latency percentiles, rate-limit refusals and cache results over the last 1, 5 and 15
 * minutes. Each route keeps a ring of 90 ten-second slots; a finished request bumps counters and
 * one log-linear histogram bucket in the current slot (observability/wire.ts calls `record` from
 * `requestFinished`), so the hot path never sorts or allocates. Reads sum the slots of a window
 * into a snapshot that can be merged with other workers' snapshots before the percentiles are
 * read (cluster/primary asks every worker for one).
 */
import type { CacheResult } from './events';
import { BUCKET_COUNT, bucketOf, quantile } from './latency-histogram';

const SLOT_MS = 10_000;
const SLOTS = 90;

/** The windows reported, as slot counts. */
export const WINDOWS = { '1m': 6, '5m': 30, '15m': 90 } as const;
export type WindowName = keyof typeof WINDOWS;
const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];
/** The window that orders routes (long enough not to flicker, short enough to be current). */
const ORDER_WINDOW: WindowName = '5m';

const CACHE_RESULTS: readonly CacheResult[] = ['hit', 'miss', 'stale', 'bypass', 'revalidated'];

/** Ten seconds of one route. */
class Slot {
  epoch = -1;
  requests = 0;
  errors = 0;
  rateLimited = 0;
  /** Requests at or over the route's `slowRequest` threshold. */
  slow = 0;
  readonly cache: Record<CacheResult, number> = { hit: 0, miss: 0, stale: 0, bypass: 0, revalidated: 0 };
  /** Allocated on the slot's first request. */
  latency: Uint32Array | undefined;

  /** Empties the slot for `epoch` (it last held a slot 15 minutes older). */
  reuse(epoch: number): void {
    this.epoch = epoch;
    this.requests = this.errors = this.rateLimited = this.slow = 0;
    for (const result of CACHE_RESULTS) this.cache[result] = 0;
    this.latency?.fill(0);
  }
}

class RouteRing {
  private readonly slots: Slot[] = [];

  slot(epoch: number): Slot {
    const index = epoch % SLOTS;
    let slot = this.slots[index];
    if (!slot) this.slots[index] = slot = new Slot();
    if (slot.epoch !== epoch) slot.reuse(epoch);
    return slot;
  }

  /** Slots of the last `count` epochs up to `epoch` that hold data. */
  *recent(epoch: number, count: number): Iterable<Slot> {
    for (const slot of this.slots) if (slot && slot.epoch > epoch - count && slot.epoch <= epoch) yield slot;
  }
}

/** One route's sums over one window; mergeable by adding. `latency`: bucket index → count. */
export interface WindowCounts {
  requests: number;
  errors: number;
  rateLimited: number;
  /** Absent in snapshots of workers that predate `slowRequest` (mixed versions during a deploy). */
  slow?: number;
  cache: Record<CacheResult, number>;
  latency: Record<string, number>;
}

/** What one process has seen, in a form that adds up across workers. */
export interface StatsSnapshot {
  /** Seconds each window actually covers (shorter right after start). */
  readonly seconds: Record<WindowName, number>;
  readonly routes: Record<string, Record<WindowName, WindowCounts>>;
}

export class RequestStats {
  private readonly routes = new Map<string, RouteRing>();
  private readonly startedAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  /** A finished request of `route` (hot path). */
  record(route: string, status: number, seconds: number): void {
    const slot = this.slotOf(route);
    slot.requests++;
    if (status >= 500) slot.errors++;
    (slot.latency ??= new Uint32Array(BUCKET_COUNT))[bucketOf(seconds)]!++;
  }

  rateLimited(route: string): void {
    this.slotOf(route).rateLimited++;
  }

  slowRequest(route: string): void {
    this.slotOf(route).slow++;
  }

  cacheResult(route: string, result: CacheResult): void {
    this.slotOf(route).cache[result]++;
  }

  /** Drops the routes that are no longer configured. */
  forgetExcept(keep: (route: string) => boolean): void {
    for (const route of this.routes.keys()) if (!keep(route)) this.routes.delete(route);
  }

  snapshot(): StatsSnapshot {
    const now = this.now();
    const epoch = Math.floor(now / SLOT_MS);
    const intoSlotSeconds = (now - epoch * SLOT_MS) / 1000;
    const upSeconds = (now - this.startedAt) / 1000;
    const seconds = {} as Record<WindowName, number>;
    for (const name of WINDOW_NAMES) {
      const covered = (WINDOWS[name] - 1) * (SLOT_MS / 1000) + intoSlotSeconds;
      seconds[name] = Math.max(1, Math.min(covered, upSeconds));
    }
    const routes: StatsSnapshot['routes'] = {};
    for (const [route, ring] of this.routes) {
      const windows = {} as Record<WindowName, WindowCounts>;
      for (const name of WINDOW_NAMES) windows[name] = sumSlots(ring.recent(epoch, WINDOWS[name]));
      routes[route] = windows;
    }
    return { seconds, routes };
  }

  private slotOf(route: string): Slot {
    let ring = this.routes.get(route);
    if (!ring) this.routes.set(route, (ring = new RouteRing()));
    return ring.slot(Math.floor(this.now() / SLOT_MS));
  }
}

function emptyCounts(): WindowCounts {
  return {
    requests: 0,
    errors: 0,
    rateLimited: 0,
    slow: 0,
    cache: { hit: 0, miss: 0, stale: 0, bypass: 0, revalidated: 0 },
    latency: {},
  };
}

function sumSlots(slots: Iterable<Slot>): WindowCounts {
  const sum = emptyCounts();
  for (const slot of slots) {
    sum.requests += slot.requests;
    sum.errors += slot.errors;
    sum.rateLimited += slot.rateLimited;
    sum.slow! += slot.slow;
    for (const result of CACHE_RESULTS) sum.cache[result] += slot.cache[result];
    slot.latency?.forEach((count, index) => {
      if (count > 0) sum.latency[index] = (sum.latency[index] ?? 0) + count;
    });
  }
  return sum;
}

function addCounts(into: WindowCounts, other: WindowCounts): void {
  into.requests += other.requests;
  into.errors += other.errors;
  into.rateLimited += other.rateLimited;
  into.slow = (into.slow ?? 0) + (other.slow ?? 0);
  for (const result of CACHE_RESULTS) into.cache[result] += other.cache[result] ?? 0;
  for (const [index, count] of Object.entries(other.latency))
    into.latency[index] = (into.latency[index] ?? 0) + count;
}

/** Several workers' snapshots as one (counts added; the longest coverage wins). */
export function mergeSnapshots(snapshots: readonly StatsSnapshot[]): StatsSnapshot {
  const seconds = { '1m': 1, '5m': 1, '15m': 1 } as Record<WindowName, number>;
  const routes: StatsSnapshot['routes'] = {};
  for (const snapshot of snapshots) {
    for (const name of WINDOW_NAMES) seconds[name] = Math.max(seconds[name], snapshot.seconds[name]);
    for (const [route, windows] of Object.entries(snapshot.routes)) {
      const mine = (routes[route] ??= { '1m': emptyCounts(), '5m': emptyCounts(), '15m': emptyCounts() });
      for (const name of WINDOW_NAMES) addCounts(mine[name], windows[name]);
    }
  }
  return { seconds, routes };
}

/** One route over one window, as /admin/stats shows it. Latencies in ms; null without traffic. */
export interface WindowStats {
  requests: number;
  /** Requests per second. */
  rate: number;
  /** Share of responses with a 5xx status, 0..1. */
  errorRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  rateLimited: number;
  /** Requests at or over the route's `slowRequest` threshold (0 when none is set). */
  slow: number;
  cache: Record<CacheResult, number>;
}

export interface RouteStats {
  route: string;
  windows: Record<WindowName, WindowStats>;
}

export interface StatsReport {
  generatedAt: string;
  /** Routes ordered most failing first, then slowest (both over the last 5 minutes). */
  routes: RouteStats[];
  /** Route names by p99 over 5 minutes, slowest first (routes with traffic only). */
  slowest: string[];
  /** Route names by error rate over 5 minutes, worst first (routes with errors only). */
  mostFailing: string[];
}

/**
 * Percentiles and rates from a (merged) snapshot. With `routeNames`, exactly those routes are
 * reported (idle ones with zeros, removed ones left out).
 */
export function summarize(snapshot: StatsSnapshot, routeNames?: readonly string[]): StatsReport {
  const names = routeNames ?? Object.keys(snapshot.routes);
  const routes = names.map<RouteStats>((route) => {
    const counts = snapshot.routes[route];
    const windows = {} as Record<WindowName, WindowStats>;
    for (const name of WINDOW_NAMES)
      windows[name] = windowStats(counts?.[name] ?? emptyCounts(), snapshot.seconds[name]);
    return { route, windows };
  });
  const order = (r: RouteStats) => r.windows[ORDER_WINDOW];
  routes.sort(
    (a, b) =>
      order(b).errorRate - order(a).errorRate ||
      (order(b).p99Ms ?? -1) - (order(a).p99Ms ?? -1) ||
      a.route.localeCompare(b.route),
  );
  const slowest = routes
    .filter((r) => order(r).p99Ms !== null)
    .sort((a, b) => order(b).p99Ms! - order(a).p99Ms!)
    .map((r) => r.route);
  const mostFailing = routes.filter((r) => order(r).errorRate > 0).map((r) => r.route);
  return { generatedAt: new Date().toISOString(), routes, slowest, mostFailing };
}

function windowStats(counts: WindowCounts, seconds: number): WindowStats {
  const latency = new Map(Object.entries(counts.latency).map(([i, n]) => [Number(i), n]));
  const ms = (q: number) => {
    const value = quantile(latency, counts.requests, q);
    return value === null ? null : Math.round(value * 10_000) / 10;
  };
  return {
    requests: counts.requests,
    rate: round3(counts.requests / seconds),
    errorRate: counts.requests > 0 ? round3(counts.errors / counts.requests) : 0,
    p50Ms: ms(0.5),
    p95Ms: ms(0.95),
    p99Ms: ms(0.99),
    rateLimited: counts.rateLimited,
    slow: counts.slow ?? 0,
    cache: counts.cache,
  };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

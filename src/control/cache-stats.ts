/**
 * @module control/cache-stats
 * `GET /admin/cache`: the response cache per cached route (stored responses and their bytes in
 * the memory tier, how requests were answered since start), totals, the configured memory bound
 * and the Redis tier's state. `cacheStats` reads one process; `mergeCacheStats` adds the answers
 * of every cluster worker (each worker has its own memory store) and works the ratios out again.
 */
import type { CacheResult } from '../observability/events';

/** How the cache answered requests since start: the counts behind `breakwater_cache_requests_total`. */
export interface CacheCounts {
  hits: number;
  misses: number;
  stale: number;
  revalidated: number;
  bypass: number;
}

export interface CacheUsage {
  /** Responses (Vary variants counted one by one) held in memory. */
  entries: number;
  /** Bytes of their headers and bodies. */
  bytes: number;
}

/**
 * Answers served from a stored body (hit, stale, revalidated) over every request the cache
 * looked up (those plus misses; bypasses never could be served); null before the first lookup.
 */
export type HitRatio = number | null;

export interface CacheRouteStats extends CacheCounts, CacheUsage {
  readonly route: string;
  hitRatio: HitRatio;
}

export type RedisTierStatus = 'up' | 'down' | 'disabled';

export interface CacheStats {
  /** `server.cache.maxSize` in bytes: the memory bound of each gateway process. */
  readonly maxBytes: number;
  /** Processes whose stores are counted here (cluster workers; 1 without). */
  workers: number;
  /** The Redis tier behind memory: 'disabled' without `redis.url`. */
  redis: { status: RedisTierStatus };
  /** Every route's figures added up (memory also holds entries of routes a reload removed). */
  totals: CacheCounts & CacheUsage & { hitRatio: HitRatio };
  /** Cached routes in config order. */
  routes: CacheRouteStats[];
}

/** What one process knows. */
export interface CacheSources {
  readonly maxBytes: number;
  /** Names of the routes with a cache stage, in config order. */
  readonly routes: readonly string[];
  /** Memory use per route, summed over the process's stores. */
  readonly usage: ReadonlyMap<string, CacheUsage>;
  /** `breakwater_cache_requests_total` series. */
  readonly counts: ReadonlyArray<{ route: string; result: string; value: number }>;
  readonly redis: RedisTierStatus;
}

const FIELD_OF: Readonly<Record<CacheResult, keyof CacheCounts>> = {
  hit: 'hits',
  miss: 'misses',
  stale: 'stale',
  revalidated: 'revalidated',
  bypass: 'bypass',
};

const zeroCounts = (): CacheCounts => ({ hits: 0, misses: 0, stale: 0, revalidated: 0, bypass: 0 });

export function hitRatio(c: CacheCounts): HitRatio {
  const served = c.hits + c.stale + c.revalidated;
  const lookups = served + c.misses;
  return lookups === 0 ? null : Math.round((served / lookups) * 10_000) / 10_000;
}

/** The cache figures of one process. */
export function cacheStats(sources: CacheSources): CacheStats {
  const rows = new Map<string, CacheRouteStats>();
  for (const route of sources.routes) {
    const usage = sources.usage.get(route);
    rows.set(route, {
      route,
      entries: usage?.entries ?? 0,
      bytes: usage?.bytes ?? 0,
      ...zeroCounts(),
      hitRatio: null,
    });
  }
  const totals = { entries: 0, bytes: 0, ...zeroCounts(), hitRatio: null as HitRatio };
  for (const usage of sources.usage.values()) {
    totals.entries += usage.entries;
    totals.bytes += usage.bytes;
  }
  for (const { route, result, value } of sources.counts) {
    const field = FIELD_OF[result as CacheResult];
    if (field === undefined) continue;
    totals[field] += value;
    const row = rows.get(route);
    if (row) row[field] += value;
  }
  return finish({
    maxBytes: sources.maxBytes,
    workers: 1,
    redis: { status: sources.redis },
    totals,
    routes: [...rows.values()],
  });
}

const REDIS_WORST: readonly RedisTierStatus[] = ['down', 'up', 'disabled'];

/** The whole gateway's figures from every worker's: counts and memory use summed per route. */
export function mergeCacheStats(answers: readonly CacheStats[]): CacheStats {
  const [first, ...rest] = answers;
  if (first === undefined) throw new Error('mergeCacheStats needs at least one answer');
  const merged: CacheStats = structuredClone(first);
  for (const answer of rest) {
    merged.workers += answer.workers;
    if (REDIS_WORST.indexOf(answer.redis.status) < REDIS_WORST.indexOf(merged.redis.status))
      merged.redis.status = answer.redis.status;
    addInto(merged.totals, answer.totals);
    for (const row of answer.routes) {
      const mine = merged.routes.find((r) => r.route === row.route);
      if (mine) addInto(mine, row);
      else merged.routes.push(structuredClone(row));
    }
  }
  return finish(merged);
}

const SUMMED = ['entries', 'bytes', 'hits', 'misses', 'stale', 'revalidated', 'bypass'] as const;

function addInto(into: CacheCounts & CacheUsage, from: CacheCounts & CacheUsage): void {
  for (const field of SUMMED) into[field] += from[field];
}

function finish(stats: CacheStats): CacheStats {
  stats.totals.hitRatio = hitRatio(stats.totals);
  for (const row of stats.routes) row.hitRatio = hitRatio(row);
  return stats;
}

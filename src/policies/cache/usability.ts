/**
 * @module policies/cache/usability
 * When a stored response may answer (RFC 9111 §4, §4.2.4 and RFC 5861), as pure functions of the
 * entry, the request's directives, the route's windows and the time:
 * - fresh: answers at once, unless the response said `no-cache` or the request asked for
 *   validation (`no-cache`, `max-age`, `min-fresh`);
 * - within stale-while-revalidate: answers while one background refresh runs;
 * - within stale-if-error: answers an upstream failure;
 * - `must-revalidate`, `proxy-revalidate` and `s-maxage` (which implies proxy-revalidate for a
 *   shared cache, §5.2.2.10) forbid every stale use; `no-cache` forbids stale-while-revalidate
 *   and allows stale-if-error only on the response's own `stale-if-error=N` (the origin's word,
 *   RFC 5861 §4), never on the route's default alone.
 */
import type { RequestDirectives } from './cache-control';
import { hasValidators } from './conditional';
import type { CacheEntry } from './entry';
import { currentAgeMs } from './freshness';

/** A route's `cache:` settings as the rules need them. */
export interface CacheWindows {
  readonly ttlMs: number;
  readonly staleIfErrorMs: number;
  readonly staleWhileRevalidateMs: number;
}

export type Usability = 'fresh' | 'stale-while-revalidate' | 'validate';

/** Freshness left (negative once stale), ms. */
export function remainingMs(entry: CacheEntry, now: number): number {
  return entry.lifetimeMs - currentAgeMs(entry, now);
}

function staleWhileRevalidateWindow(entry: CacheEntry, w: CacheWindows): number {
  if (entry.noStale || entry.noCache) return 0;
  return entry.staleWhileRevalidateMs ?? w.staleWhileRevalidateMs;
}

function staleIfErrorWindow(entry: CacheEntry, w: CacheWindows): number {
  if (entry.noStale) return -1;
  if (entry.noCache) return entry.staleIfErrorMs ?? -1;
  return entry.staleIfErrorMs ?? w.staleIfErrorMs;
}

/** How `entry` may answer a request with directives `rcc` at `now`. */
export function usability(
  entry: CacheEntry,
  rcc: RequestDirectives,
  now: number,
  w: CacheWindows,
): Usability {
  if (entry.noCache || rcc.noCache) return 'validate';
  const age = currentAgeMs(entry, now);
  const remaining = entry.lifetimeMs - age;
  if (rcc.maxAgeS !== undefined && (rcc.maxAgeS === 0 || age > rcc.maxAgeS * 1000)) return 'validate';
  if (rcc.minFreshS !== undefined && remaining < rcc.minFreshS * 1000) return 'validate';
  if (remaining > 0) return 'fresh';
  // A client that bounded the age it accepts did not agree to stale answers.
  if (rcc.maxAgeS !== undefined || rcc.minFreshS !== undefined) return 'validate';
  const window = staleWhileRevalidateWindow(entry, w);
  return window > 0 && -remaining <= window ? 'stale-while-revalidate' : 'validate';
}

/** Whether `entry` may answer an upstream failure at `now`. */
export function staleIfErrorAllows(entry: CacheEntry, now: number, w: CacheWindows): boolean {
  const window = staleIfErrorWindow(entry, w);
  return window >= 0 && -remainingMs(entry, now) <= window;
}

/**
 * How long an entry is worth keeping (LRU ttl, Redis PX): its remaining freshness plus the
 * longer stale window it may still serve in; one with validators at least the route's `ttl`,
 * since a conditional request can still turn it into a 304.
 */
export function keepMs(entry: CacheEntry, now: number, w: CacheWindows): number {
  const staleWindow = Math.max(0, staleIfErrorWindow(entry, w), staleWhileRevalidateWindow(entry, w));
  const useful = remainingMs(entry, now) + staleWindow;
  return hasValidators(entry) ? Math.max(useful, w.ttlMs) : useful;
}

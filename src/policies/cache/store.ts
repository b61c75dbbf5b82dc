/**
 * @module policies/cache/store
 * The gateway's one response store (kept across reloads while `server.cache.maxSize` is
 * unchanged): a memory LRU bounded in bytes (lru-cache, headers and bodies counted) holding,
 * per URL, its Vary variants newest first; an optional Redis tier behind it; the in-flight fills
 * that collapse concurrent misses; and invalidation (unsafe methods) and purge (admin API).
 */
import { LRUCache } from 'lru-cache';
import type { GatewayEvents } from '../../observability/events';
import type { Disposable, StateStore } from '../../pipeline/state-store';
import type { SharedState } from '../../state/shared-state';
import { Coalescer } from './coalescer';
import type { CacheEntry } from './entry';
import { cacheKey, type CacheKey } from './key';
import { RedisTier } from './redis-tier';
import { sameNames, sameVariant, varyMatches } from './vary';
import type { IncomingHttpHeaders } from 'node:http';

/** All variants of one URL, newest first. */
interface Variants {
  readonly entries: readonly CacheEntry[];
  readonly bytes: number;
}

/** Variants kept per URL: enough for Accept-Encoding × a few languages, bounded against abuse. */
const MAX_VARIANTS = 16;
/** A response bigger than this share of the cache streams through uncached. */
const ENTRY_SHARE = 8;
/** Invalidations remembered this long, so a fetch already in flight does not store what was invalidated. */
const INVALIDATION_MEMORY_MS = 10 * 60_000;
const INVALIDATION_PRUNE_AT = 1024;

export class CacheStore implements Disposable {
  /** Per-entry bound: 1/8 of maxBytes. */
  readonly maxEntryBytes: number;
  readonly fills = new Coalescer();
  private readonly lru: LRUCache<string, Variants>;
  /** Every cached route seen, so an invalidation reaches the URL under each of them. */
  private readonly routes = new Set<string>();
  /** Memory key → performance.now() of its last invalidation. */
  private readonly invalidatedAt = new Map<string, number>();
  private tier: RedisTier | undefined;
  private reportedBytes = -1;
  private changed = false;

  constructor(
    readonly maxBytes: number,
    private readonly events: GatewayEvents,
  ) {
    this.maxEntryBytes = Math.max(1, Math.floor(maxBytes / ENTRY_SHARE));
    this.lru = new LRUCache<string, Variants>({
      maxSize: Math.max(1, maxBytes),
      maxEntrySize: this.maxEntryBytes,
      sizeCalculation: (variants) => Math.max(1, variants.bytes),
      // The LRU's ttl only drops entries no longer worth keeping (freshness is decided apart,
      // on the wall clock), so a coarse clock is enough and spares a performance.now() per get.
      ttlResolution: 1000,
      // Evictions and expiries change the byte count; it is reported after the operation.
      dispose: () => {
        this.changed = true;
      },
    });
  }

  /** Registers a cached route and the build's Redis connection (each build calls this). */
  attach(route: string, shared: SharedState | undefined): void {
    this.routes.add(route);
    if (this.tier?.shared !== shared) this.tier = shared ? new RedisTier(shared) : undefined;
  }

  /** Whether a Redis tier is attached (its `up` is checked on each use). */
  get shared(): boolean {
    return this.tier !== undefined;
  }

  /** Bytes held in memory. */
  get bytes(): number {
    return this.lru.calculatedSize;
  }

  /** The newest stored variant that `request` selects, from memory. */
  find(key: CacheKey, request: IncomingHttpHeaders): CacheEntry | undefined {
    const variants = this.lru.get(key.id);
    if (this.changed) this.report();
    if (variants === undefined) return undefined;
    for (const entry of variants.entries) if (varyMatches(entry.vary, request)) return entry;
    return undefined;
  }

  /** The entry Redis holds for `key` when it matches `request`; copied into memory for `keepMs`. */
  async findShared(
    key: CacheKey,
    request: IncomingHttpHeaders,
    keepMs: (entry: CacheEntry) => number,
  ): Promise<CacheEntry | undefined> {
    const entry = await this.tier?.get(key);
    if (entry === undefined || !varyMatches(entry.vary, request)) return undefined;
    const ms = keepMs(entry);
    if (ms >= 1 && entry.size <= this.maxEntryBytes) this.remember(key, entry, ms);
    return entry;
  }

  /**
   * Stores `entry` in memory and Redis for `keepMs`, unless the URL was invalidated after
   * `startedAt` (performance.now() when its fetch began). Returns whether it was stored.
   */
  put(key: CacheKey, entry: CacheEntry, keepMs: number, startedAt: number): boolean {
    const invalidated = this.invalidatedAt.get(key.id);
    if (invalidated !== undefined && invalidated >= startedAt) return false;
    if (!this.remember(key, entry, keepMs)) return false;
    this.tier?.set(key, entry, keepMs);
    return true;
  }

  /** Drops the variant `entry` stands for (it may no longer be stored). */
  remove(key: CacheKey, entry: CacheEntry): void {
    const variants = this.lru.peek(key.id);
    if (variants === undefined) return;
    const entries = variants.entries.filter((e) => !sameVariant(e.vary, entry.vary));
    if (entries.length === 0) this.lru.delete(key.id);
    else this.lru.set(key.id, { entries, bytes: sum(entries) }, { noUpdateTTL: true });
    this.tier?.delete([key]);
    this.report();
  }

  /** Forgets `host` + `path` under every cached route, in memory and Redis (RFC 9111 §4.4). */
  invalidate(host: string, path: string): void {
    const now = performance.now();
    if (this.invalidatedAt.size >= INVALIDATION_PRUNE_AT) this.pruneInvalidations(now);
    const keys: CacheKey[] = [];
    for (const route of this.routes) {
      const key = cacheKey(route, host, path);
      keys.push(key);
      this.invalidatedAt.set(key.id, now);
      this.lru.delete(key.id);
    }
    this.tier?.delete(keys);
    this.report();
  }

  /** Drops every stored response (of one route); returns how many were dropped from memory. */
  purge(route?: string): number {
    const prefix = route === undefined ? undefined : `${route}\n`;
    let dropped = 0;
    for (const [id, variants] of [...this.lru.entries()]) {
      if (prefix !== undefined && !id.startsWith(prefix)) continue;
      dropped += variants.entries.length;
      this.lru.delete(id);
    }
    this.tier?.purge(route);
    this.report();
    return dropped;
  }

  /** Stored responses (variants) and their bytes in memory, per route (`GET /admin/cache`). */
  usage(): Map<string, { entries: number; bytes: number }> {
    const byRoute = new Map<string, { entries: number; bytes: number }>();
    for (const [id, variants] of this.lru.entries()) {
      const route = id.slice(0, id.indexOf('\n'));
      let usage = byRoute.get(route);
      if (usage === undefined) byRoute.set(route, (usage = { entries: 0, bytes: 0 }));
      usage.entries += variants.entries.length;
      usage.bytes += variants.bytes;
    }
    return byRoute;
  }

  dispose(): void {
    this.lru.clear();
    this.report();
  }

  /** Memory only (also used for entries read from Redis). */
  private remember(key: CacheKey, entry: CacheEntry, keepMs: number): boolean {
    if (entry.size > this.maxEntryBytes || keepMs < 1) return false;
    const previous = this.lru.peek(key.id)?.entries ?? [];
    // Older variants with the same Vary names stay (bar the one replaced); a different Vary means
    // the resource changed how it negotiates, so its old variants go.
    const kept = previous.filter((e) => sameNames(e.vary, entry.vary) && !sameVariant(e.vary, entry.vary));
    const entries = [entry, ...kept].slice(0, MAX_VARIANTS);
    let bytes = sum(entries);
    while (bytes > this.maxEntryBytes) bytes -= entries.pop()!.size;
    // The URL's record lives as long as its longest-lived variant.
    const remaining = kept.length > 0 ? this.lru.getRemainingTTL(key.id) : 0;
    const ttl = Math.ceil(Number.isFinite(remaining) ? Math.max(keepMs, remaining) : keepMs);
    this.lru.set(key.id, { entries, bytes }, { ttl });
    this.report();
    return true;
  }

  private pruneInvalidations(now: number): void {
    for (const [id, at] of this.invalidatedAt)
      if (now - at > INVALIDATION_MEMORY_MS) this.invalidatedAt.delete(id);
  }

  private report(): void {
    this.changed = false;
    const bytes = this.lru.calculatedSize;
    if (bytes === this.reportedBytes) return;
    this.reportedBytes = bytes;
    this.events.cacheBytes(bytes);
  }
}

function sum(entries: readonly CacheEntry[]): number {
  let bytes = 0;
  for (const entry of entries) bytes += entry.size;
  return bytes;
}

/** The gateway's response store for `maxBytes` (the admin API's purge reaches it the same way). */
export function cacheStore(state: StateStore, maxBytes: number, events: GatewayEvents): CacheStore {
  return state.keep(`cache-store:${maxBytes}`, () => new CacheStore(maxBytes, events));
}

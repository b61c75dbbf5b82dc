/**
 * @module policies/cache/policy
 * One cached route's stage, built once per route. GET and HEAD look in the store: a fresh
 * entry answers at once (nothing below runs); a stale one within stale-while-revalidate answers
 * while one background refresh runs; otherwise the request goes upstream (collapsed with
 * concurrent GET misses for the same key, after a look in Redis when it is configured), and a
 * failure is answered by a stale entry within stale-if-error. Other methods bypass the cache,
 * and unsafe ones that succeed invalidate what they may have changed (RFC 9111 §4.4).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CacheConfig, StatusRange } from '../../config/types';
import { ClientGoneError, UpstreamTimeoutError } from '../../errors';
import type { GatewayEvents } from '../../observability/events';
import type { Exchange } from '../../pipeline/exchange';
import { settle } from '../../pipeline/settle';
import type { Clock, Next, Reply, Stage } from '../../pipeline/stage';
import { parseRequestDirectives, type RequestDirectives } from './cache-control';
import { BYPASS, COLLAPSED, hitStatus, staleWhileRevalidateStatus, type Forward } from './cache-status';
import type { Fill } from './coalescer';
import { hasUnhandledPrecondition } from './conditional';
import type { CacheEntry } from './entry';
import { Fetcher } from './fetcher';
import { invalidateAfter } from './invalidate';
import { cacheKey, hostOf, type CacheKey } from './key';
import { Responder } from './responder';
import type { CacheStore } from './store';
import { keepMs as keepMsOf, remainingMs, usability, type CacheWindows } from './usability';

/** Methods that never change anything (RFC 9110 §9.2.1): they bypass without invalidating. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** `no-cache` or `max-age=0`: the client wants the origin asked, not another request's answer. */
function asksValidation(rcc: RequestDirectives): boolean {
  return rcc.noCache || rcc.maxAgeS === 0;
}

/** RFC 9211 `fwd`: nothing stored, a fresh entry the request refused, or a stale one. */
function forwardReason(entry: CacheEntry | undefined, now: number): Forward {
  if (entry === undefined) return 'miss';
  return !entry.noCache && remainingMs(entry, now) > 0 ? 'request' : 'stale';
}

/** Whole seconds for Cache-Status `ttl` (negative once stale). */
function ttlSeconds(entry: CacheEntry, now: number): number {
  return Math.floor(remainingMs(entry, now) / 1000);
}

export class CachePolicy {
  private readonly windows: CacheWindows;
  private readonly responder: Responder;
  private readonly fetcher: Fetcher;

  constructor(
    private readonly route: string,
    config: CacheConfig,
    private readonly store: CacheStore,
    events: GatewayEvents,
    private readonly clock: Clock,
    failureStatuses: readonly StatusRange[],
  ) {
    this.windows = {
      ttlMs: config.ttlMs,
      staleIfErrorMs: config.staleIfErrorMs,
      staleWhileRevalidateMs: config.staleWhileRevalidateMs,
    };
    this.responder = new Responder(route, events);
    this.fetcher = new Fetcher(store, this.windows, clock, this.responder, failureStatuses);
  }

  readonly stage: Stage = (ex, next) => {
    const method = ex.req.method!;
    if (method === 'GET' || method === 'HEAD') return this.read(ex, next, method === 'HEAD');
    return this.bypass(ex, next, !SAFE_METHODS.has(method));
  };

  private read(ex: Exchange, next: Next, head: boolean): Promise<Reply> {
    const request = ex.req.headers;
    const rcc = parseRequestDirectives(request['cache-control']);
    if (rcc.noStore || request.range !== undefined || hasUnhandledPrecondition(request))
      return this.bypass(ex, next, false);
    const key = cacheKey(this.route, hostOf(request.host), ex.upstreamPath);
    const entry = this.store.find(key, request);
    const now = this.clock.now();
    if (entry !== undefined) {
      const use = usability(entry, rcc, now, this.windows);
      if (use === 'fresh') return Promise.resolve(this.hit(ex, entry, now));
      if (use === 'stale-while-revalidate') {
        // A HEAD cannot refresh (its answer has no body); the next GET will.
        if (!head) this.fetcher.refresh(ex, next, key, entry);
        const cacheStatus = staleWhileRevalidateStatus(ttlSeconds(entry, now));
        return Promise.resolve(this.responder.fromEntry(ex, entry, now, cacheStatus, 'stale'));
      }
    }
    const fwd = forwardReason(entry, now);
    // HEAD stores nothing; a client asking for validation does not take another's fetch.
    if (head || asksValidation(rcc)) return this.fetcher.fetch(ex, next, key, entry, fwd);
    const pending = this.store.fills.pending(key.id);
    // Its last answer could not be stored: nothing to wait for, so no queueing behind a fill.
    if (pending !== undefined && this.store.fills.passes(key.id))
      return this.fetcher.fetch(ex, next, key, entry, fwd);
    if (pending !== undefined) return this.await(ex, next, key, pending, entry, fwd, rcc);
    return this.lead(ex, next, key, entry, fwd, rcc);
  }

  private hit(ex: Exchange, entry: CacheEntry, now: number): Reply {
    return this.responder.fromEntry(ex, entry, now, hitStatus(ttlSeconds(entry, now)), 'hit');
  }

  /** First miss for the key: Redis (when configured), then upstream; others wait for this fill. */
  private async lead(
    ex: Exchange,
    next: Next,
    key: CacheKey,
    entry: CacheEntry | undefined,
    fwd: Forward,
    rcc: RequestDirectives,
  ): Promise<Reply> {
    const fill = this.store.fills.begin(key.id);
    try {
      if (this.store.shared) {
        const remote = await this.fromShared(key, ex.req.headers);
        const now = this.clock.now();
        if (remote !== undefined && usability(remote, rcc, now, this.windows) === 'fresh') {
          fill.finish();
          return this.hit(ex, remote, now);
        }
        // A stale copy from Redis may be newer than ours, or all there is to validate or fall back on.
        if (remote !== undefined && (entry === undefined || remote.responseTime > entry.responseTime)) {
          entry = remote;
          fwd = forwardReason(entry, now);
        }
      }
      return await this.fetcher.fetch(ex, next, key, entry, fwd, fill);
    } catch (err) {
      fill.finish();
      throw err;
    }
  }

  private fromShared(key: CacheKey, request: IncomingHttpHeaders): Promise<CacheEntry | undefined> {
    const { windows, clock } = this;
    return this.store.findShared(key, request, (remote) => keepMsOf(remote, clock.now(), windows));
  }

  /** A miss while another request fetches the same key: wait (bounded by the deadline), then look again. */
  private async await(
    ex: Exchange,
    next: Next,
    key: CacheKey,
    fill: Fill,
    entry: CacheEntry | undefined,
    fwd: Forward,
    rcc: RequestDirectives,
  ): Promise<Reply> {
    const outcome = await fill.wait(ex.deadlineAt);
    // A client that left while waiting is owed nothing, least of all an upstream request.
    if (ex.clientGone) return this.fetcher.failed(ex, undefined, new ClientGoneError(), fwd);
    if (outcome === 'timeout')
      return this.fetcher.failed(ex, entry, new UpstreamTimeoutError(ex.route.timeoutMs), fwd);
    const now = this.clock.now();
    const stored = this.store.find(key, ex.req.headers);
    if (stored !== undefined && usability(stored, rcc, now, this.windows) === 'fresh')
      return this.responder.fromEntry(ex, stored, now, COLLAPSED, 'miss');
    // Not storable (or failed): this request goes upstream on its own.
    return this.fetcher.fetch(ex, next, key, stored ?? entry, stored === undefined ? fwd : 'stale');
  }

  /** Not answered by the cache; an unsafe method that succeeded invalidates the URLs it names. */
  private async bypass(ex: Exchange, next: Next, unsafe: boolean): Promise<Reply> {
    const reply = await settle(next, ex);
    if (unsafe && reply.source === 'upstream' && reply.status >= 200 && reply.status < 400)
      this.invalidate(ex, reply);
    return this.responder.decorate(ex, reply, BYPASS, 'bypass');
  }

  private invalidate(ex: Exchange, reply: Reply): void {
    invalidateAfter(this.store, ex, reply);
  }
}

/**
 * @module policies/cache/store-writer
 * Puts upstream answers into the store: decides whether a reply may be stored (storability,
 * the per-entry bound by Content-Length), snapshots its headers before outer stages add
 * per-client ones (rate-limit counters must never be stored and shown to others), collects the
 * body as it streams (tee to the client, or a buffer for a background refresh) and stores the
 * complete entry; and freshens an entry from a 304 (RFC 9111 §4.3.4).
 */
import type { Exchange } from '../../pipeline/exchange';
import type { Clock, Reply, ReplyHeaders } from '../../pipeline/stage';
import { parseResponseDirectives, type ResponseDirectives } from './cache-control';
import type { Fill } from './coalescer';
import { createEntry, freshen, type CacheEntry } from './entry';
import type { Timing } from './freshness';
import type { CacheKey } from './key';
import { whyNotStorable } from './storability';
import type { CacheStore } from './store';
import { BodyCollector, BufferSink, TeeBody } from './tee-body';
import { keepMs, type CacheWindows } from './usability';
import { varyKeyOf, varyNames } from './vary';

const noop = (): void => undefined;

function contentLength(headers: ReplyHeaders): number | undefined {
  const raw = headers['content-length'];
  return typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

export class StoreWriter {
  constructor(
    private readonly store: CacheStore,
    private readonly windows: CacheWindows,
    private readonly clock: Clock,
  ) {}

  /** `reply` with a body that is stored once complete, or undefined when it may not be stored. */
  tee(
    ex: Exchange,
    key: CacheKey,
    reply: Reply,
    timing: Timing,
    startedAt: number,
    fill?: Fill,
  ): Reply | undefined {
    const cc = this.storable(ex, reply);
    if (cc === undefined) return undefined;
    const collector = this.collector(ex, key, reply, timing, startedAt, cc, fill);
    return {
      status: reply.status,
      headers: reply.headers,
      body: new TeeBody(reply.body, collector),
      source: reply.source,
    };
  }

  /** Reads `reply`'s body into the store with no client behind it (background refresh). */
  collect(ex: Exchange, key: CacheKey, reply: Reply, timing: Timing, startedAt: number, fill: Fill): void {
    const cc = this.storable(ex, reply);
    if (cc === undefined) {
      reply.body.discard();
      fill.finish();
      return;
    }
    reply.body.sendTo(new BufferSink(this.collector(ex, key, reply, timing, startedAt, cc, fill)), noop);
  }

  /**
   * Freshens `entry` from a 304 and stores it (or drops it, when the merged headers no longer
   * allow storing); returns what the client gets, which keeps a Set-Cookie the 304 carried (it
   * is this client's; it is never stored).
   */
  revalidated(
    ex: Exchange,
    key: CacheKey,
    entry: CacheEntry,
    notModified: ReplyHeaders,
    timing: Timing,
    startedAt: number,
  ): CacheEntry {
    const { entry: fresh, cc } = freshen(entry, notModified, timing, this.windows.ttlMs);
    const setCookie = notModified['set-cookie'];
    // cookie: false, since the body was stored under the rules already and the origin just confirmed it.
    const why = whyNotStorable({
      status: fresh.status,
      headers: fresh.headers,
      cc,
      authorization: ex.req.headers.authorization !== undefined,
      cookie: false,
    });
    if (why === undefined && setCookie === undefined)
      this.store.put(key, fresh, keepMs(fresh, timing.responseTime, this.windows), startedAt);
    else this.store.remove(key, entry);
    return setCookie === undefined
      ? fresh
      : { ...fresh, headers: { ...fresh.headers, 'set-cookie': setCookie } };
  }

  /** The reply's directives when it may be stored, else undefined. */
  private storable(ex: Exchange, reply: Reply): ResponseDirectives | undefined {
    if (reply.source !== 'upstream') return undefined;
    const cc = parseResponseDirectives(reply.headers['cache-control']);
    const request = ex.req.headers;
    const why = whyNotStorable({
      status: reply.status,
      headers: reply.headers,
      cc,
      authorization: request.authorization !== undefined,
      cookie: request.cookie !== undefined,
    });
    if (why !== undefined) return undefined;
    const length = contentLength(reply.headers);
    return length !== undefined && length > this.store.maxEntryBytes ? undefined : cc;
  }

  private collector(
    ex: Exchange,
    key: CacheKey,
    reply: Reply,
    timing: Timing,
    startedAt: number,
    cc: ResponseDirectives,
    fill: Fill | undefined,
  ): BodyCollector {
    const headers: ReplyHeaders = { ...reply.headers };
    const vary = varyKeyOf(varyNames(headers.vary), ex.req.headers);
    const status = reply.status;
    return new BodyCollector(this.store.maxEntryBytes, contentLength(headers), (body) => {
      if (body !== undefined) {
        const entry = createEntry(status, headers, body, timing, cc, this.windows.ttlMs, vary);
        this.store.put(key, entry, keepMs(entry, this.clock.now(), this.windows), startedAt);
      }
      fill?.finish();
    });
  }
}

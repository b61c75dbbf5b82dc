/**
 * @module policies/cache/responder
 * How the cache stage answers: a Reply built from a stored entry (its own headers object with
 * Age, X-Request-Id and Cache-Status; a 304 when the client's conditional matches; no body for
 * HEAD), Cache-Status on a forwarded reply, and the per-request bookkeeping: `ex.cache` for the
 * access line and one `cacheResult` event, exactly once per request on a cached route.
 */
import type { CacheResult, GatewayEvents } from '../../observability/events';
import type { Exchange } from '../../pipeline/exchange';
import type { Reply, ReplyHeaders } from '../../pipeline/stage';
import { EMPTY_BODY } from '../../pipeline/static-body';
import { setCacheStatus, staleIfErrorStatus } from './cache-status';
import { clientNotModified, notModifiedHeaders } from './conditional';
import { copyHeaders, type CacheEntry } from './entry';
import { ageSeconds, currentAgeMs } from './freshness';

export class Responder {
  constructor(
    private readonly route: string,
    private readonly events: GatewayEvents,
  ) {}

  /** Records how the cache answered (access line `cache`, cache_requests_total). */
  mark(ex: Exchange, result: CacheResult): void {
    ex.cache = result;
    this.events.cacheResult(this.route, result);
  }

  /** Adds Cache-Status to a reply that came from below and records the result. */
  decorate(ex: Exchange, reply: Reply, cacheStatus: string, result: CacheResult): Reply {
    setCacheStatus(reply.headers, cacheStatus);
    this.mark(ex, result);
    return reply;
  }

  /** A reply made from a stored entry. */
  fromEntry(ex: Exchange, entry: CacheEntry, now: number, cacheStatus: string, result: CacheResult): Reply {
    this.mark(ex, result);
    const notModified = clientNotModified(ex.req.headers, entry);
    const headers: ReplyHeaders = notModified
      ? notModifiedHeaders(entry.headers)
      : copyHeaders(entry.headers);
    headers.age = String(ageSeconds(currentAgeMs(entry, now)));
    headers['x-request-id'] = ex.reqId;
    headers['cache-status'] = cacheStatus;
    const bodyless = notModified || ex.req.method === 'HEAD';
    return {
      status: notModified ? 304 : entry.status,
      headers,
      body: bodyless ? EMPTY_BODY : entry.payload,
      source: 'cache',
    };
  }

  /** A stale entry answering an upstream failure (`upstreamStatus`: the 5xx, or the error's status). */
  staleIfError(ex: Exchange, entry: CacheEntry, upstreamStatus: number, now: number): Reply {
    ex.reason = 'stale_if_error';
    return this.fromEntry(ex, entry, now, staleIfErrorStatus(upstreamStatus), 'stale');
  }
}

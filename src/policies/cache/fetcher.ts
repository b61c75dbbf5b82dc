/**
 * @module policies/cache/fetcher
 * The cache stage's way upstream: one request (conditional when the stored entry has
 * validators), then exactly one of: a 304 that freshens the entry and answers 200 from it; an
 * upstream failure (5xx in `failureStatuses`, or a timeout, refusal, open breaker, no healthy
 * target, full bulkhead) answered by a stale entry within stale-if-error; a storable response
 * streamed to the client while its body is collected into the store; or the reply as it came.
 * Also the background refresh of stale-while-revalidate, which uses `ex.fork` so a client that
 * leaves does not cancel it.
 */
import { isGatewayError, type ErrorCode } from '../../errors';
import type { StatusRange } from '../../config/types';
import type { Exchange } from '../../pipeline/exchange';
import { errorReply } from '../../pipeline/settle';
import type { Clock, Next, Reply } from '../../pipeline/stage';
import { isFailureStatus } from '../../upstream/failure';
import { forwardStatus, revalidatedStatus, type Forward } from './cache-status';
import { addValidators, hasValidators } from './conditional';
import type { CacheEntry } from './entry';
import type { Fill } from './coalescer';
import type { CacheKey } from './key';
import type { Responder } from './responder';
import { StoreWriter } from './store-writer';
import type { CacheStore } from './store';
import { staleIfErrorAllows, type CacheWindows } from './usability';

/** Thrown errors a stale entry may answer (DESIGN.md "Request pipeline": stale before static fallback). */
const STALE_IF_ERROR_CODES = new Set<ErrorCode>([
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_UNAVAILABLE',
  'CIRCUIT_OPEN',
  'NO_HEALTHY_UPSTREAM',
  'OVERLOADED',
]);

export class Fetcher {
  private readonly writer: StoreWriter;

  constructor(
    private readonly store: CacheStore,
    private readonly windows: CacheWindows,
    private readonly clock: Clock,
    private readonly responder: Responder,
    private readonly failureStatuses: readonly StatusRange[],
  ) {
    this.writer = new StoreWriter(store, windows, clock);
  }

  /**
   * One upstream request for `key` on behalf of `ex`. `fill`, when given, is released once the
   * outcome is known (body stored, not storable, or failed).
   */
  async fetch(
    ex: Exchange,
    next: Next,
    key: CacheKey,
    entry: CacheEntry | undefined,
    fwd: Forward,
    fill?: Fill,
  ): Promise<Reply> {
    const conditional = entry !== undefined && hasValidators(entry);
    if (conditional) addValidators(ex.upstreamHeaders, entry);
    const startedAt = performance.now();
    const requestTime = this.clock.now();
    let reply: Reply;
    try {
      reply = await next(ex);
    } catch (err) {
      fill?.finish();
      return this.failed(ex, entry, err, fwd);
    }
    const timing = { requestTime, responseTime: this.clock.now() };
    if (conditional && reply.status === 304 && reply.source === 'upstream') {
      reply.body.discard();
      const served = this.writer.revalidated(ex, key, entry, reply.headers, timing, startedAt);
      fill?.finish();
      return this.responder.fromEntry(ex, served, timing.responseTime, revalidatedStatus(fwd), 'revalidated');
    }
    if (
      entry !== undefined &&
      this.isFailure(reply) &&
      staleIfErrorAllows(entry, timing.responseTime, this.windows)
    ) {
      reply.body.discard();
      fill?.finish();
      return this.responder.staleIfError(ex, entry, reply.status, timing.responseTime);
    }
    const teed =
      ex.req.method === 'GET' ? this.writer.tee(ex, key, reply, timing, startedAt, fill) : undefined;
    if (teed === undefined) fill?.finish();
    if (ex.req.method === 'GET') this.store.fills.storable(key.id, teed !== undefined);
    return this.responder.decorate(ex, teed ?? reply, forwardStatus(fwd, teed !== undefined), 'miss');
  }

  /** A thrown error: a stale entry when allowed, else the gateway's error reply. */
  failed(ex: Exchange, entry: CacheEntry | undefined, err: unknown, fwd: Forward): Reply {
    const now = this.clock.now();
    if (
      entry !== undefined &&
      isGatewayError(err) &&
      STALE_IF_ERROR_CODES.has(err.code) &&
      staleIfErrorAllows(entry, now, this.windows)
    ) {
      return this.responder.staleIfError(ex, entry, err.status, now);
    }
    return this.responder.decorate(ex, errorReply(ex, err), forwardStatus(fwd, false), 'miss');
  }

  /**
   * stale-while-revalidate: refreshes `entry` in the background, at most one refresh per key at
   * a time (the refresh is the key's fill, so concurrent misses wait for it instead).
   */
  refresh(ex: Exchange, next: Next, key: CacheKey, entry: CacheEntry): void {
    if (this.store.fills.pending(key.id) !== undefined) return;
    const fill = this.store.fills.begin(key.id);
    const headers = ex.upstreamHeaders.slice();
    const conditional = hasValidators(entry);
    if (conditional) addValidators(headers, entry);
    const fork = ex.fork(headers, performance.now() + ex.route.timeoutMs);
    const startedAt = performance.now();
    const requestTime = this.clock.now();
    next(fork).then(
      (reply) => {
        const timing = { requestTime, responseTime: this.clock.now() };
        try {
          if (conditional && reply.status === 304 && reply.source === 'upstream') {
            reply.body.discard();
            this.writer.revalidated(fork, key, entry, reply.headers, timing, startedAt);
            fill.finish();
          } else {
            this.writer.collect(fork, key, reply, timing, startedAt, fill);
          }
        } catch {
          fill.finish();
        }
      },
      () => fill.finish(),
    );
  }

  private isFailure(reply: Reply): boolean {
    return reply.source === 'upstream' && isFailureStatus(reply.status, this.failureStatuses);
  }
}

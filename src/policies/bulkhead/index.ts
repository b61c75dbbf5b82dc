/**
 * @module policies/bulkhead
 * Pipeline position: after the cache, before retries. Caps the requests in flight per upstream
 * (`upstreams.<u>.maxConcurrent`) and per route (`routes[].maxConcurrent`); beyond either the
 * answer is 503 OVERLOADED with Retry-After, without touching the upstream. A request holds its
 * slot until its response body is finished, not just until the headers arrive. Event-loop
 * shedding is not here: it protects the whole gateway, so the request handler does it before
 * routing, and a route without `maxConcurrent` has no bulkhead stage at all.
 */
import { OverloadedError } from '../../errors';
import type { BodyDone, BodySink, ReplyBody, StageFactory } from '../../pipeline/stage';
import type { Upstream } from '../../upstream/upstream';

/** Seconds a shed client is asked to wait. */
const RETRY_AFTER_SECONDS = 1;

interface Slots {
  count: number;
}

export interface BulkheadConfig {
  readonly routeMax: number;
  readonly upstreamMax: number;
}

export const bulkhead: StageFactory<BulkheadConfig> = {
  kind: 'bulkhead',
  select: (route, upstream) =>
    route.maxConcurrent === undefined && upstream.maxConcurrent === undefined
      ? undefined
      : { routeMax: route.maxConcurrent ?? Infinity, upstreamMax: upstream.maxConcurrent ?? Infinity },
  create({ routeMax, upstreamMax }, { events, state, upstreams }, ctx) {
    const upstream = upstreams.get(ctx.upstream)!;
    const routeName = ctx.route;
    const slots = state.keep<Slots>(`bulkhead:${routeName}`, () => ({ count: 0 }));
    return async (ex, next) => {
      if (slots.count >= routeMax || upstream.admitted >= upstreamMax) {
        events.shed(routeName, 'bulkhead');
        ex.reason = 'overloaded';
        throw new OverloadedError(RETRY_AFTER_SECONDS);
      }
      const release = holdSlot(slots, upstream);
      try {
        const reply = await next(ex);
        return {
          status: reply.status,
          headers: reply.headers,
          source: reply.source,
          body: new ReleasingBody(reply.body, release),
        };
      } catch (err) {
        release();
        throw err;
      }
    };
  },
};

/** Takes one slot on the route and the upstream; the returned function gives both back once. */
function holdSlot(slots: Slots, upstream: Upstream): () => void {
  slots.count++;
  upstream.admitted++;
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    slots.count--;
    upstream.admitted--;
  };
}

/** A body that releases the bulkhead slot when it has been sent or dropped. */
class ReleasingBody implements ReplyBody {
  constructor(
    private readonly inner: ReplyBody,
    private readonly release: () => void,
  ) {}

  sendTo(res: BodySink, done: BodyDone): void {
    // A client that disconnects mid-body never calls done; 'close' frees the slot then.
    res.once('close', this.release);
    this.inner.sendTo(res, (err, bytes) => {
      this.release();
      done(err, bytes);
    });
  }

  discard(): void {
    this.release();
    this.inner.discard();
  }
}

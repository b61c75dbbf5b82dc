/**
 * @module policies/bulkhead
 * Pipeline position: after the fallback, before retries. Caps the requests in flight per
 * upstream (`upstreams.<u>.maxConcurrent`) and per route (`routes[].maxConcurrent`) and sheds
 * new requests while the event loop lags past `server.overload.maxEventLoopDelay`; either way
 * the answer is 503 OVERLOADED with Retry-After, without touching the upstream. A request
 * holds its slot until its response body is finished, not just until the headers arrive.
 */
import { OverloadedError } from '../../errors';
import type { ServerResponse } from 'node:http';
import type { StageFactory } from '../../pipeline/build';
import type { BodyDone, Reply, ReplyBody, Stage } from '../../pipeline/stage';
import type { Exchange } from '../../pipeline/exchange';
import type { Upstream } from '../../upstream/upstream';
import { EventLoopMonitor } from './event-loop-monitor';

/** Seconds a shed client is asked to wait. */
const RETRY_AFTER_SECONDS = 1;

interface Slots {
  count: number;
}

export const bulkhead: StageFactory = {
  kind: 'bulkhead',
  create(route, upstream, { events, server, state }) {
    const lagLimitMs = server.overload.maxEventLoopDelayMs;
    const monitor =
      lagLimitMs > 0
        ? state.keep(`event-loop:${lagLimitMs}`, () => new EventLoopMonitor(lagLimitMs))
        : undefined;
    const upstreamMax = upstream.config.maxConcurrent ?? Infinity;
    const routeMax = route.maxConcurrent ?? Infinity;
    if (!monitor && upstreamMax === Infinity && routeMax === Infinity) return undefined;
    const routeName = route.name;
    const shed = (ex: Exchange, reason: 'bulkhead' | 'event_loop'): Promise<Reply> => {
      events.shed(routeName, reason);
      ex.reason = reason === 'bulkhead' ? 'overloaded' : 'event_loop_lag';
      return Promise.reject(new OverloadedError(RETRY_AFTER_SECONDS));
    };
    if (upstreamMax === Infinity && routeMax === Infinity) {
      return (ex, next) => (monitor!.overloaded ? shed(ex, 'event_loop') : next(ex));
    }
    const slots = state.keep<Slots>(`bulkhead:${routeName}`, () => ({ count: 0 }));
    const stage: Stage = async (ex, next) => {
      if (monitor?.overloaded) return shed(ex, 'event_loop');
      if (slots.count >= routeMax || upstream.admitted >= upstreamMax) return shed(ex, 'bulkhead');
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
    return stage;
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

  sendTo(res: ServerResponse, done: BodyDone): void {
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

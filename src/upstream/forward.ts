/**
 * @module upstream/forward
 * The terminal stage: sends one attempt to a target with an undici `dispatch()` handler and
 * hands back a Reply as soon as the response headers arrive. The body is then streamed to the
 * client with backpressure (pause/resume), without Readable or pipeline objects in between
 * (LIBRARIES.md §2: dispatch measured fastest, per-request stream.pipeline slowest).
 */
import type { Dispatcher } from 'undici';
import { NoHealthyUpstreamError, UpstreamTimeoutError, type GatewayError } from '../errors';
import type { GatewayEvents } from '../observability/events';
import type { Exchange } from '../pipeline/exchange';
import type { BodyDone, BodySink, Next, Reply, ReplyBody, ReplyHeaders } from '../pipeline/stage';
import { clientResponseHeaders } from '../http/headers';
import { outcomeOfError, outcomeOfStatus, toGatewayError } from './classify';
import { isFailureError, isFailureStatus } from './failure';
import { requestBodyFor } from './request-body';
import type { Target } from './target';
import type { Upstream } from './upstream';

/** Body bytes held for a reply not yet sent before the upstream is paused. */
const MAX_QUEUED_BYTES = 64 * 1024;

/** The terminal stage of every route. */
export function createForwarder(events: GatewayEvents): Next {
  return function forward(ex: Exchange): Promise<Reply> {
    const now = performance.now();
    const upstream = ex.route.upstream;
    const target = upstream.pick(now, ex.lastTarget);
    if (!target) return Promise.reject(new NoHealthyUpstreamError());
    const perTry = ex.tryDeadlineAt < ex.deadlineAt;
    const timeoutMs = (perTry ? ex.tryDeadlineAt : ex.deadlineAt) - now;
    if (timeoutMs <= 0) return Promise.reject(new UpstreamTimeoutError(ex.route.timeoutMs, { perTry }));
    ex.target = target.url;
    ex.lastTarget = target;
    return new UpstreamAttempt(ex, upstream, target, events).start(timeoutMs, perTry);
  };
}

function onAttemptTimeout(attempt: UpstreamAttempt, timeoutMs: number, perTry: boolean): void {
  attempt.cancel(new UpstreamTimeoutError(timeoutMs, { perTry }));
}

/** One try against one target: undici handler, Reply and ReplyBody in one object. */
class UpstreamAttempt implements Reply, ReplyBody, Dispatcher.DispatchHandler {
  status = 0;
  headers: ReplyHeaders = {};
  readonly source = 'upstream' as const;
  private controller: Dispatcher.DispatchController | undefined;
  private resolve!: (reply: Reply) => void;
  private reject!: (err: GatewayError) => void;
  private settled = false;
  private finished = false;
  private cancelled: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sink: BodySink | undefined;
  private done: BodyDone | undefined;
  private queued: Buffer[] | undefined;
  private queuedBytes = 0;
  /** Paused because the queue before sendTo reached MAX_QUEUED_BYTES. */
  private heldBack = false;
  private ended = false;
  private failure: Error | undefined;
  private bytes = 0;
  private readonly startedAt = performance.now();

  constructor(
    private readonly ex: Exchange,
    private readonly upstream: Upstream,
    private readonly target: Target,
    private readonly events: GatewayEvents,
  ) {}

  get body(): ReplyBody {
    return this;
  }

  start(timeoutMs: number, perTry: boolean): Promise<Reply> {
    const promise = new Promise<Reply>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timer = setTimeout(onAttemptTimeout, timeoutMs, this, timeoutMs, perTry);
    this.ex.inFlight = this;
    this.target.inflight++;
    this.upstream.inflight++;
    const ex = this.ex;
    this.target.pool.dispatch(
      {
        path: ex.upstreamPath,
        method: ex.req.method!,
        headers: ex.upstreamHeaders,
        body: requestBodyFor(ex),
      },
      this,
    );
    return promise;
  }

  /** Client gone, deadline hit or attempt discarded: stop the upstream request now. */
  cancel(reason: Error): void {
    if (this.finished) return;
    this.cancelled ??= reason;
    if (this.controller) this.controller.abort(reason);
    // Before onRequestStart the request is still queued; onRequestStart aborts it.
    if (!this.settled) this.fail(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cancelled) controller.abort(this.cancelled);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.settled) return;
    this.settled = true;
    this.status = statusCode;
    this.headers = clientResponseHeaders(headers, this.ex.reqId);
    this.report(
      outcomeOfStatus(statusCode),
      isFailureStatus(statusCode, this.upstream.config.failureStatuses),
    );
    this.resolve(this);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytes += chunk.length;
    const sink = this.sink;
    if (sink === undefined) {
      // The chain has not handed the body to the client yet (a retry deciding, the cache
      // looking up): hold a little, then make the upstream wait rather than buffer it all.
      (this.queued ??= []).push(chunk);
      this.queuedBytes += chunk.length;
      if (this.queuedBytes >= MAX_QUEUED_BYTES && !this.heldBack) {
        this.heldBack = true;
        controller.pause();
      }
    } else if (!sink.write(chunk)) {
      controller.pause();
      sink.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.ended = true;
    this.release();
    if (this.sink) this.endSink(this.sink);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const wasFinished = this.finished;
    this.release();
    if (!this.settled) {
      this.fail(this.cancelled ?? err);
      return;
    }
    if (wasFinished) return;
    this.failure = this.cancelled ?? err;
    if (this.sink) this.failSink(this.sink, this.failure);
  }

  sendTo(res: BodySink, done: BodyDone): void {
    this.sink = res;
    this.done = done;
    const queued = this.queued;
    this.queued = undefined;
    this.queuedBytes = 0;
    if (queued) for (const chunk of queued) res.write(chunk);
    // undici hands over the head and the data of one packet in one go, so nothing queued means
    // the body has not started: send the head now (server-sent events, long polls) rather than
    // holding it for a first byte that may be minutes away.
    else if (!this.ended && !this.failure) res.flushHeaders?.();
    if (this.failure) this.failSink(res, this.failure);
    else if (this.ended) this.endSink(res);
    else if (res.writableNeedDrain) {
      this.heldBack = false;
      this.controller?.pause();
      res.once('drain', () => this.controller?.resume());
    } else if (this.heldBack) {
      this.heldBack = false;
      this.controller?.resume();
    }
  }

  discard(): void {
    this.queued = undefined;
    if (!this.ended) this.cancel(new Error('attempt discarded'));
  }

  private fail(err: Error): void {
    this.settled = true;
    this.release();
    const gatewayError = toGatewayError(err, this.controller !== undefined);
    // A client that left says nothing about the target's health.
    this.report(outcomeOfError(gatewayError), isFailureError(gatewayError) && !this.ex.clientGone);
    this.reject(gatewayError);
  }

  private endSink(res: BodySink): void {
    const bytes = this.bytes;
    const done = this.done!;
    res.end(() => done(undefined, bytes));
  }

  private failSink(res: BodySink, err: Error): void {
    // Headers are out: the only honest signal left is a truncated response.
    res.destroy();
    this.done!(err, this.bytes);
  }

  private report(outcome: Parameters<GatewayEvents['attemptDone']>[2], failed: boolean): void {
    const now = performance.now();
    this.events.attemptDone(this.upstream.name, this.target.url, outcome, (now - this.startedAt) / 1000);
    this.upstream.recordOutcome(this.target, failed, now);
  }

  private release(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.target.inflight--;
    this.upstream.inflight--;
    if (this.ex.inFlight === this) this.ex.inFlight = undefined;
  }
}

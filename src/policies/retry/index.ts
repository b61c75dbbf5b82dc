/**
 * @module policies/retry
 * The retry stage: sits inside the bulkhead and outside the circuit breaker, so every attempt
 * is counted by the breaker and an open breaker (CircuitOpenError), an empty target list
 * (NoHealthyUpstreamError) or a full bulkhead (OverloadedError) ends the retries at once.
 * It retries what the route's `retry.on` names, only for requests that can be replayed, inside
 * the route deadline, with backoff (or the upstream's Retry-After) and under a retry budget.
 * Without a `retry` block it still moves a connect failure to another target (DESIGN.md
 * "Defaults"), when the upstream has more than one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_RETRY } from '../../config/defaults';
import type { RetryConfig } from '../../config/types';
import { parseSize, unwrap } from '../../config/units';
import { ClientGoneError, UpstreamTimeoutError, UpstreamUnavailableError } from '../../errors';
import type { GatewayEvents } from '../../observability/events';
import type { Exchange } from '../../pipeline/exchange';
import type { Next, Reply, Stage, StageFactory } from '../../pipeline/stage';
import { createBackoff, retryAfterMs, type Backoff } from './backoff';
import { RetryBudget } from './budget';
import { bufferableLength, readReplayableBody } from './replayable-body';

/** Buffer limit of the connect-failover stage of routes without a `retry` block. */
const FAILOVER_MAX_BUFFER_BYTES = unwrap(parseSize(DEFAULT_RETRY.maxBufferSize));

/** The route's retries, or connect failover alone (no `retry` block, several targets). */
export type RetrySlice = { readonly retry: RetryConfig } | { readonly failover: true };

/** Retries, or connect failover alone; absent when neither applies to the route. */
export const retry: StageFactory<RetrySlice> = {
  kind: 'retry',
  select(route, upstream) {
    // `attempts: 1` says "one try": the same as no block.
    if (route.retry && route.retry.attempts > 1) return { retry: route.retry };
    return upstream.targets.length > 1 ? { failover: true } : undefined;
  },
  create(slice, deps, { route }) {
    if (!('retry' in slice)) return createFailoverStage(route, deps.events);
    const config = slice.retry;
    const budget = deps.state.keep(
      `retry-budget:${route}:${JSON.stringify(config.budget)}`,
      () => new RetryBudget(config.budget),
    );
    const backoff = createBackoff(config.backoff.baseMs, config.backoff.maxMs);
    return new RetryPolicy(route, config, budget, backoff, deps.events).stage;
  },
};

/** The access-line and metric reason of a transport failure. */
function failureReason(err: UpstreamUnavailableError): 'connect_failure' | 'reset' {
  return err.kind === 'connect_error' ? 'connect_failure' : 'reset';
}

/** Nothing reached the upstream: replaying cannot do anything twice, whatever the method. */
function isUnsent(err: unknown): err is UpstreamUnavailableError {
  return err instanceof UpstreamUnavailableError && !err.requestSent;
}

/**
 * A streamed body (too large to buffer, or chunked) is consumed by the first attempt, so such a
 * request is never retried, not even after a connect failure: undici may already have read or
 * destroyed the client stream, and telling those cases apart is not worth the risk.
 */
function bodyIsGone(ex: Exchange): boolean {
  return ex.hasBody && ex.body === undefined;
}

async function bufferBody(ex: Exchange, maxBytes: number): Promise<void> {
  // Already read whole (limits.requestBuffer), or partly read and streaming: nothing to do.
  if (ex.body !== undefined || ex.bodyPrefix !== undefined) return;
  const length = bufferableLength(ex.req, maxBytes);
  if (length !== undefined) ex.body = await readReplayableBody(ex.req, length, ex.deadlineAt);
}

/** No `retry` block, several targets: one more try on another target after an unsent failure. */
function createFailoverStage(routeName: string, events: GatewayEvents): Stage {
  return async function failoverStage(ex, next) {
    if (ex.hasBody) await bufferBody(ex, FAILOVER_MAX_BUFFER_BYTES);
    try {
      return await next(ex);
    } catch (err) {
      if (!isUnsent(err) || ex.clientGone || bodyIsGone(ex) || performance.now() >= ex.deadlineAt) throw err;
      events.retry(routeName, failureReason(err));
      ex.attempt = 2;
      // forward avoids ex.lastTarget, so this goes to another target when one is available.
      return next(ex);
    }
  };
}

/** One route's retry settings, compiled once; `stage` is what the chain calls. */
class RetryPolicy {
  private readonly attempts: number;
  private readonly perTryMs: number | undefined;
  private readonly methods: ReadonlySet<string>;
  private readonly idempotencyKey: boolean;
  private readonly maxBufferBytes: number;
  private readonly maxRetryAfterMs: number;
  /** Retryable status → its metric reason (`status_503`). */
  private readonly statusReasons = new Map<number, string>();
  private readonly onConnect: boolean;
  private readonly onReset: boolean;
  private readonly onTimeout: boolean;

  constructor(
    private readonly routeName: string,
    config: RetryConfig,
    private readonly budget: RetryBudget,
    private readonly backoff: Backoff,
    private readonly events: GatewayEvents,
  ) {
    this.attempts = config.attempts;
    this.perTryMs = config.perTryTimeoutMs;
    this.methods = new Set(config.methods);
    this.idempotencyKey = config.idempotencyKey;
    this.maxBufferBytes = config.maxBufferBytes;
    this.maxRetryAfterMs = config.backoff.maxRetryAfterMs;
    for (const on of config.on) if (typeof on === 'number') this.statusReasons.set(on, `status_${on}`);
    this.onConnect = config.on.includes('connect-failure');
    this.onReset = config.on.includes('reset');
    this.onTimeout = config.on.includes('timeout');
  }

  /** The first attempt: with no failure, one call down the chain and one await. */
  readonly stage: Stage = async (ex, next) => {
    if (ex.hasBody && this.mayBuffer(ex)) await bufferBody(ex, this.maxBufferBytes);
    const now = performance.now();
    this.budget.deposit(now);
    ex.attempt = 1;
    ex.tryDeadlineAt = this.perTryMs === undefined ? Infinity : now + this.perTryMs;
    let reply: Reply;
    try {
      reply = await next(ex);
    } catch (err) {
      return this.retryLoop(ex, next, undefined, err);
    }
    return this.statusReasons.has(reply.status) ? this.retryLoop(ex, next, reply, undefined) : reply;
  };

  /** After a failed attempt (a retryable-status reply, or an error): retry while allowed. */
  private async retryLoop(
    ex: Exchange,
    next: Next,
    reply: Reply | undefined,
    error: unknown,
  ): Promise<Reply> {
    for (;;) {
      const reason = reply ? this.statusReasons.get(reply.status) : this.errorReason(error);
      const delayMs = reason === undefined ? -1 : this.delayBeforeRetry(ex, reply, error);
      if (delayMs < 0) {
        if (reply) return reply;
        throw error;
      }
      reply?.body.discard();
      if (delayMs >= 1) await sleep(delayMs);
      if (ex.clientGone) throw new ClientGoneError();
      this.events.retry(this.routeName, reason!);
      ex.attempt++;
      if (this.perTryMs !== undefined) ex.tryDeadlineAt = performance.now() + this.perTryMs;
      try {
        reply = await next(ex);
        error = undefined;
        if (!this.statusReasons.has(reply.status)) return reply;
      } catch (err) {
        reply = undefined;
        error = err;
      }
    }
  }

  /**
   * How long to wait before retrying a failed attempt, or −1 for "do not retry". Checks run from
   * the cheapest to the one with a side effect, so the budget is only charged for a retry that
   * will be sent.
   */
  private delayBeforeRetry(ex: Exchange, reply: Reply | undefined, error: unknown): number {
    if (ex.clientGone || !this.mayReplay(ex, error)) return -1;
    if (ex.attempt >= this.attempts) {
      ex.reason = 'retries_exhausted';
      return -1;
    }
    const delayMs = reply ? this.replyDelay(reply, ex.attempt) : this.backoff(ex.attempt);
    const now = performance.now();
    // Neither a sleep nor an attempt may start that cannot finish inside the route timeout.
    if (delayMs < 0 || now + delayMs >= ex.deadlineAt) return -1;
    if (!this.budget.tryWithdraw(now)) {
      ex.reason = 'budget_exhausted';
      this.events.retry(this.routeName, 'budget_exhausted');
      return -1;
    }
    return delayMs;
  }

  /** Retry-After on a 503/429 replaces the backoff; one longer than maxRetryAfter ends the retries. */
  private replyDelay(reply: Reply, retryNumber: number): number {
    if (reply.status === 503 || reply.status === 429) {
      const askedMs = retryAfterMs(reply.headers['retry-after'], Date.now());
      if (askedMs !== undefined) return askedMs <= this.maxRetryAfterMs ? askedMs : -1;
    }
    return this.backoff(retryNumber);
  }

  /** The metric reason of a retryable error, or undefined when `on` does not cover it. */
  private errorReason(error: unknown): string | undefined {
    if (error instanceof UpstreamUnavailableError) {
      const reason = failureReason(error);
      return (reason === 'connect_failure' ? this.onConnect : this.onReset) ? reason : undefined;
    }
    // A route-deadline timeout (perTry false) leaves no time for another attempt: final.
    if (error instanceof UpstreamTimeoutError && error.perTry && this.onTimeout) return 'timeout';
    // CircuitOpenError, NoHealthyUpstreamError, OverloadedError, ClientGoneError, bugs: final.
    return undefined;
  }

  /** Whether the method (or an Idempotency-Key) makes a replay safe. */
  private methodAllows(ex: Exchange): boolean {
    return (
      this.methods.has(ex.req.method!) ||
      (this.idempotencyKey && ex.req.headers['idempotency-key'] !== undefined)
    );
  }

  /** Whether this request may be sent again after `error` (or a bad reply). */
  private mayReplay(ex: Exchange, error: unknown): boolean {
    if (bodyIsGone(ex)) return false;
    return this.methodAllows(ex) || isUnsent(error);
  }

  /** Buffer a body when some retry of this request could be allowed. */
  private mayBuffer(ex: Exchange): boolean {
    return this.methodAllows(ex) || this.onConnect || this.onReset;
  }
}

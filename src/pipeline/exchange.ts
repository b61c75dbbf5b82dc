/**
 * @module pipeline/exchange
 * One client request on its way through the pipeline: what the stages read (route, path,
 * deadline, headers for the upstream) and what the access line reports (target, attempts,
 * reason, bytes). A class rather than object spreads, so the hot path allocates one object.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Target } from '../upstream/target';
import type { Upstream } from '../upstream/upstream';

/**
 * What an exchange needs to know of its route (CompiledRoute extends it). Kept here so the
 * exchange does not import the compiled route, which imports the stage contract, which
 * imports the exchange.
 */
export interface RouteRef {
  readonly name: string;
  readonly upstream: Upstream;
  /** Whole-request deadline, every retry included. */
  readonly timeoutMs: number;
  /** `server.limits.maxBodySize`, kept here so the request path reads one object. */
  readonly maxBodyBytes: number;
  /** `slowRequest`: requests at least this long are logged at warn with `slow: true`; undefined = off. */
  readonly slowMs?: number;
}

/** Something in flight for this exchange that a client disconnect must cancel. */
export interface Cancellable {
  cancel(reason: Error): void;
}

export class Exchange {
  /** 1-based attempt number, set by the retry stage. */
  attempt = 1;
  /** performance.now() by which the current attempt must be answered (retry's perTryTimeout). */
  tryDeadlineAt = Infinity;
  /** The target of the previous attempt, which the balancer avoids when it can. */
  lastTarget: Target | undefined = undefined;
  /** Request body held whole (requestBuffer, or retry's replay buffer), when small enough. */
  body: Buffer | undefined = undefined;
  /** The start of a body too large for requestBuffer, already read; the rest is still in req. */
  bodyPrefix: readonly Buffer[] | undefined = undefined;
  /** Access-line fields filled in as the request moves on. */
  target = '';
  status = 0;
  bytes = 0;
  /** One word naming the gateway decision that shaped the response (Envoy's response flags). */
  reason = '';
  breaker = '';
  cache = '';
  /** Set once the client is gone; nothing more is sent anywhere. */
  clientGone = false;
  /** The upstream attempt in flight, cancelled when the client disconnects. */
  inFlight: Cancellable | undefined = undefined;
  /** Whether response headers have been written to the client (no retry after that). */
  committed = false;
  /** A non-gateway error (a bug) met in the chain, logged with its stack when the exchange ends. */
  internalError: unknown = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly reqId: string,
    readonly route: RouteRef,
    /** Normalised path, no query: what the route matched and what the log shows. */
    readonly path: string,
    /** Rewritten path plus the query string: what the upstream receives. */
    readonly upstreamPath: string,
    /** Header list for the upstream as flat [name, value, …] pairs. */
    readonly upstreamHeaders: string[],
    /** performance.now() when the request arrived. */
    readonly startedAt: number,
    /** performance.now() by which the whole exchange must be done (route timeout). */
    readonly deadlineAt: number,
    /** Whether the request carries a body that has to be streamed or buffered. */
    readonly hasBody: boolean,
    /** The client's address: the peer, or the first untrusted hop of X-Forwarded-For (trustProxy). */
    readonly clientIp: string,
  ) {}

  /**
   * A request the gateway makes on its own behalf for this one (the cache's background
   * refresh): same request line and route, fresh per-attempt state, no body, its own header
   * list and deadline. A client disconnect does not cancel it.
   */
  fork(upstreamHeaders: string[], deadlineAt: number): Exchange {
    return new Exchange(
      this.req,
      this.res,
      this.reqId,
      this.route,
      this.path,
      this.upstreamPath,
      upstreamHeaders,
      performance.now(),
      deadlineAt,
      false,
      this.clientIp,
    );
  }
}

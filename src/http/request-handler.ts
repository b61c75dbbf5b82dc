/**
 * @module http/request-handler
 * The proxy listener's request path: framing checks → request id → path normalisation →
 * event-loop shedding → route match → body limit → the route's composed chain → commit the
 * Reply to the client → one access line and the request metrics. Errors met in the chain come
 * back as Replies (pipeline/settle.ts); only refusals before a route matches are written raw.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import {
  BadRequestError,
  BodyTooLargeError,
  ClientGoneError,
  HeadersTooLargeError,
  NoRouteError,
  OverloadedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  type GatewayError,
} from '../errors';
import type { AccessLog } from '../observability/access-log';
import type { Logger } from '../observability/logger';
import type { GatewayEvents, RequestEvents } from '../observability/events';
import { Exchange } from '../pipeline/exchange';
import type { CompiledRoute } from '../pipeline/compiled-route';
import type { RouteTable } from '../pipeline/route-table';
import { errorReply, reasonOf } from '../pipeline/settle';
import type { Reply } from '../pipeline/stage';
import { absoluteFormAuthority, normalizeTarget } from '../routing/normalize-path';
import { writeErrorReply } from './error-reply';
import { framingProblem, isValidHost, requestIdOf, upstreamRequestHeaders } from './headers';
import { bufferRequestBody } from './request-buffer';
import { clientAddressOf } from './trust-proxy';
import { isWebSocketUpgrade, WebSocketProxy } from './websocket';

/** An `upgrade` event's socket and the bytes read past the head. */
interface Upgrade {
  readonly socket: Socket;
  readonly head: Buffer;
}

/** The upstream header list as an object, plus the upgrade fields hop-by-hop removal took out. */
function webSocketRequestHeaders(list: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!.toLowerCase();
    headers[name] = headers[name] === undefined ? list[i + 1]! : `${headers[name]}, ${list[i + 1]!}`;
  }
  headers.connection = 'Upgrade';
  headers.upgrade = 'websocket';
  // No host in the list (hostHeader: target): Node's client sends the target's.
  return headers;
}

const kExchange = Symbol('breakwater.exchange');
const kHandler = Symbol('breakwater.handler');
const kPipeline = Symbol('breakwater.pipeline');
const kConnection = Symbol('breakwater.connection');
/** A connection's requests in order: whether one is being handled, and those waiting behind it. */
type PipelinedSocket = Socket & {
  [kPipeline]?: { busy: boolean; waiting: (IncomingMessage | ServerResponse)[] };
};
/** The response carries its exchange and handler so the shared close listener needs no closure. */
type TrackedResponse = ServerResponse & {
  [kExchange]?: Exchange;
  [kHandler]?: RequestHandler;
  /** The connection, kept here: Node may have let go of req.socket by the time the exchange ends. */
  [kConnection]?: PipelinedSocket;
};

const UNMATCHED = '_unmatched';
const SLASH = 0x2f;

/** `http://user@b.example:80/x` → Host `b.example:80`; other forms are left to normalizeTarget. */
function adoptTargetAuthority(req: IncomingMessage): void {
  const host = absoluteFormAuthority(req.url!);
  if (host !== undefined) req.headers.host = host;
}

export class RequestHandler {
  /** Requests between arrival and their access line; the drain waits for 0. */
  inflight = 0;
  draining = false;
  /** Set when shutdownTimeout ran out and the remaining connections are being closed. */
  cuttingOff = false;
  private idleWaiter: (() => void) | undefined;

  constructor(
    public table: RouteTable,
    private readonly events: RequestEvents & Pick<GatewayEvents, 'shed' | 'websocket'>,
    private readonly log: Logger,
    private readonly access: AccessLog,
  ) {
    this.webSockets = new WebSocketProxy(events);
  }

  /** WebSocket connections proxied on `websocket: true` routes. */
  readonly webSockets: WebSocketProxy;

  /**
   * The `upgrade` listener. The upgrade is resolved like any request, with a response object on
   * its socket so refusals are written the same way; on a `websocket: true` route a WebSocket is
   * proxied, anything else is answered as a plain request with Upgrade stripped.
   */
  readonly handleUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    // The parser has let go of this socket: nothing else will end it after the answer.
    res.on('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    this.admit(req, res, { socket, head });
  };

  /**
   * The `request` listener. Node emits every pipelined request of a connection at once; they
   * are taken one at a time (as nginx and HAProxy do), so 200 pipelined GETs make one upstream
   * request at a time, not 200 concurrent ones.
   */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket as PipelinedSocket;
    const line = socket[kPipeline];
    if (line?.busy) {
      line.waiting.push(req, res);
      return;
    }
    this.admit(req, res);
  };

  private admit(req: IncomingMessage, res: ServerResponse, upgrade?: Upgrade): void {
    const startedAt = performance.now();
    const reqId = requestIdOf(req);
    const table = this.table;
    if (req.rawHeaders.length > table.maxRawHeaders)
      return this.refuse(
        req,
        res,
        new HeadersTooLargeError('Too many request header fields'),
        reqId,
        startedAt,
      );
    const problem = framingProblem(req);
    if (problem)
      return this.refuse(req, res, new BadRequestError(`Malformed request: ${problem}`), reqId, startedAt);
    // RFC 9112 §3.2.2: an absolute-form target's authority replaces Host, for routing and upstream.
    if (req.url!.charCodeAt(0) !== SLASH) adoptTargetAuthority(req);
    if (!isValidHost(req.headers.host))
      return this.refuse(req, res, new BadRequestError('Malformed request: invalid Host'), reqId, startedAt);
    const target = normalizeTarget(req.url!, table.config.server.escapedSlashes);
    if ('error' in target)
      return this.refuse(req, res, new BadRequestError('Malformed request target'), reqId, startedAt);
    // The whole gateway is behind (CPU, GC, a blocking call): refuse before spending on routing.
    if (table.overload?.overloaded) return this.shed(req, res, reqId, startedAt, target.path);
    const route = table.match(req.headers.host, target.path, req.method!, req.headers);
    if (!route) return this.refuse(req, res, new NoRouteError(), reqId, startedAt, target.path);
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > route.maxBodyBytes) {
      return this.refuse(
        req,
        res,
        new BodyTooLargeError(route.maxBodyBytes),
        reqId,
        startedAt,
        target.path,
        route,
      );
    }
    const hasBody =
      (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
    const ex = this.exchangeFor(req, res, reqId, route, target.path, target.query, startedAt, hasBody, table);
    (res as TrackedResponse)[kExchange] = ex;
    (res as TrackedResponse)[kHandler] = this;
    res.on('close', onResponseClose);
    this.inflight++;
    this.events.requestStarted(route.name);
    if (upgrade && route.upgrade && isWebSocketUpgrade(req)) return this.upgradeExchange(ex, upgrade);
    const socket = req.socket as PipelinedSocket;
    (socket[kPipeline] ??= { busy: false, waiting: [] }).busy = true;
    (res as TrackedResponse)[kConnection] = socket;
    // A body is streamed as it arrives; waiting one turn lets Node's parser reject a malformed
    // first chunk (it often shares the packet with the headers) before anything goes upstream.
    if (hasBody) this.receiveBody(ex, table.requestBufferBytes);
    else runExchange(this, ex);
  }

  /**
   * Reads a body up to requestBuffer whole before the chain runs (nothing malformed reaches an
   * upstream); a larger one streams. Either way the chain starts no earlier than the next turn,
   * which lets Node's parser reject a malformed first chunk that shared the headers' packet.
   */
  private receiveBody(ex: Exchange, maxBytes: number): void {
    const reading =
      maxBytes > 0 ? bufferRequestBody(ex.req, maxBytes, ex.route.maxBodyBytes, ex.deadlineAt) : undefined;
    if (!reading) return void setImmediate(runExchange, this, ex);
    reading.then(
      (read) => {
        if ('body' in read) ex.body = read.body;
        else ex.bodyPrefix = read.prefix;
        runExchange(this, ex);
      },
      (err: unknown) => {
        // A malformed body was answered 400 by the parser's clientError path already.
        if (!ex.clientGone) this.commit(ex, errorReply(ex, err));
      },
    );
  }

  /** Passes an upgrade through its route's checks, then hands it to the WebSocket proxy. */
  private upgradeExchange(ex: Exchange, { socket, head }: Upgrade): void {
    const route = ex.route as CompiledRoute;
    route.upgrade!(ex).then(
      (reply) => {
        if (reply.status !== 101 || reply.source !== 'upstream') return this.commit(ex, reply);
        const headers = webSocketRequestHeaders(ex.upstreamHeaders);
        this.webSockets.connect(ex, socket, head, headers, this);
      },
      (err: unknown) => this.commit(ex, errorReply(ex, err)),
    );
  }

  /** Starts the next pipelined request of a connection once the one before it has finished. */
  private nextOnConnection(socket: PipelinedSocket | undefined): void {
    const line = socket?.[kPipeline];
    if (!line) return;
    line.busy = false;
    if (line.waiting.length === 0) return;
    if (socket!.destroyed) {
      line.waiting.length = 0;
      return;
    }
    const [req, res] = line.waiting.splice(0, 2) as [IncomingMessage, ServerResponse];
    this.admit(req, res);
  }

  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idleWaiter = resolve));
  }

  /** Writes the Reply chosen by the chain (an upstream answer, the cache's, or an error's) to the client. */
  commit(ex: Exchange, reply: Reply): void {
    if (this.cuttingOff) {
      // The connection is being closed under it: whatever the chain decided never reaches anyone.
      reply.body.discard();
      ex.clientGone = true;
      markCutOff(ex);
      return this.finish(ex);
    }
    if (ex.clientGone) {
      reply.body.discard();
      return this.finish(ex);
    }
    const res = ex.res;
    if (res.headersSent) {
      // The request turned out malformed mid-body and was answered already (abandonExchange).
      reply.body.discard();
      res.destroy();
      return this.finish(ex);
    }
    try {
      if (this.draining) res.setHeader('connection', 'close');
      res.writeHead(reply.status, reply.headers);
    } catch (err) {
      // Node refused a header value the upstream sent: not a response we can relay.
      reply.body.discard();
      if (reply.source === 'error') throw err;
      return this.commit(
        ex,
        errorReply(ex, new UpstreamUnavailableError('invalid_response', { cause: err })),
      );
    }
    ex.status = reply.status;
    ex.committed = true;
    reply.body.sendTo(res, (err, bytes) => {
      ex.bytes = bytes;
      // The route deadline cutting a body off is not the upstream resetting it: say which.
      if (err)
        ex.reason ||=
          err instanceof UpstreamTimeoutError
            ? 'upstream_timeout_after_headers'
            : 'upstream_reset_after_headers';
      this.finish(ex);
    });
  }

  /** Access line and metrics, exactly once per exchange. */
  finish(ex: Exchange): void {
    const res = ex.res as TrackedResponse;
    if (res[kExchange] !== ex) return;
    res[kExchange] = undefined;
    const durationMs = performance.now() - ex.startedAt;
    this.events.requestFinished(ex.route.name, ex.req.method!, ex.status, durationMs / 1000, true);
    if (ex.internalError !== undefined)
      this.log.error(
        { reqId: ex.reqId, route: ex.route.name, err: ex.internalError },
        'unexpected error in the request pipeline',
      );
    // A 5xx or a slow request is something an operator may need to see at a glance: at warn.
    const slowMs = ex.route.slowMs;
    const slow = slowMs !== undefined && durationMs >= slowMs;
    if (slow) this.events.slowRequest(ex.route.name);
    const level = this.access.levelOf(ex.status, slow);
    if (level !== 0) this.logExchange(ex, durationMs, level, slow);
    this.inflight--;
    // Before the idle check, so a drain does not close the pools under a request still queued.
    this.nextOnConnection(res[kConnection]);
    if (this.inflight === 0 && this.idleWaiter) {
      this.idleWaiter();
      this.idleWaiter = undefined;
    }
  }

  private logExchange(ex: Exchange, durationMs: number, level: number, slow: boolean): void {
    this.access.write(
      level,
      {
        reqId: ex.reqId,
        method: ex.req.method,
        path: ex.path,
        route: ex.route.name,
        upstream: ex.route.upstream.name,
        target: ex.target,
        status: ex.status,
        duration_ms: round(durationMs),
        attempts: ex.attempt,
        bytes: ex.bytes,
        cache: ex.cache,
        breaker: ex.breaker,
        reason: ex.reason,
      },
      slow,
    );
  }

  private exchangeFor(
    req: IncomingMessage,
    res: ServerResponse,
    reqId: string,
    route: CompiledRoute,
    path: string,
    query: string,
    startedAt: number,
    hasBody: boolean,
    table: RouteTable,
  ): Exchange {
    const upstreamPath = (route.rewrite ? route.rewrite(path) : path) + query;
    const trusted = table.trust(req.socket.remoteAddress);
    const headers = upstreamRequestHeaders(req, {
      trusted,
      host: route.hostHeader(req, route.upstream),
      reqId,
    });
    return new Exchange(
      req,
      res,
      reqId,
      route,
      path,
      upstreamPath,
      headers,
      startedAt,
      startedAt + route.timeoutMs,
      hasBody,
      clientAddressOf(req, trusted, table.trust),
    );
  }

  /** 503 OVERLOADED before routing while the event loop lags; counted under the unmatched route. */
  private shed(
    req: IncomingMessage,
    res: ServerResponse,
    reqId: string,
    startedAt: number,
    path: string,
  ): void {
    this.events.shed(UNMATCHED, 'event_loop');
    this.refuse(req, res, new OverloadedError(1), reqId, startedAt, path, undefined, 'event_loop_lag');
  }

  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    err: GatewayError,
    reqId: string,
    startedAt: number,
    path?: string,
    route?: CompiledRoute,
    reason: string = reasonOf(err),
  ): void {
    // An unread body would otherwise be drained from the socket to keep it alive.
    const close = this.draining || !req.complete;
    const bytes = writeErrorReply(res, err, reqId, close, this.table.refusalHeaders?.(req));
    const durationMs = performance.now() - startedAt;
    const routeName = route?.name ?? UNMATCHED;
    this.events.requestFinished(
      routeName,
      req.method ?? 'OTHER',
      err.status,
      durationMs / 1000,
      route !== undefined,
    );
    this.access.write(this.access.levelOf(err.status, false), {
      reqId,
      method: req.method,
      path: path ?? '(malformed)',
      route: routeName,
      status: err.status,
      duration_ms: round(durationMs),
      bytes,
      reason,
    });
  }
}

function runExchange(handler: RequestHandler, ex: Exchange): void {
  if (ex.clientGone) return;
  (ex.route as CompiledRoute).handle(ex).then(
    (reply) => handler.commit(ex, reply),
    (err: unknown) => handler.commit(ex, errorReply(ex, err)),
  );
}

/** `close` on the response: either the response is done, or the client left first. */
function onResponseClose(this: TrackedResponse): void {
  const ex = this[kExchange];
  if (!ex || this.writableFinished) return;
  ex.clientGone = true;
  ex.inFlight?.cancel(new ClientGoneError());
  const handler = this[kHandler];
  // The gateway closed the connection itself at shutdownTimeout: say so, not "client left".
  if (handler?.cuttingOff) markCutOff(ex);
  else if (!ex.committed) {
    ex.status = 499;
    ex.reason ||= 'client_closed';
  }
  handler?.finish(ex);
}

/** A request cut off at shutdownTimeout: 503 unless its answer had started, reason of its own. */
function markCutOff(ex: Exchange): void {
  if (!ex.committed) ex.status = 503;
  ex.reason = 'shutdown_timeout';
}

/**
 * Ends the exchange of a response whose request turned out malformed mid-body: the upstream
 * attempt (if any) is cancelled and the access line records `status`; the caller answers.
 */
export function abandonExchange(res: ServerResponse, status: number): void {
  const tracked = res as TrackedResponse;
  const ex = tracked[kExchange];
  if (!ex) return;
  ex.clientGone = true;
  ex.inFlight?.cancel(new ClientGoneError());
  ex.status = status;
  ex.reason = 'bad_request';
  tracked[kHandler]?.finish(ex);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

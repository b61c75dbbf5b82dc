/**
 * @module http/websocket
 * WebSocket upgrades on routes with `websocket: true`. An upgrade is resolved like any request
 * (framing checks, normalisation, route match, in the request handler) and passes the route's
 * rate limit and slowDown; then http-proxy-3's `ws()` connects it to a target the balancer picks
 * and pipes the two sockets. Open sockets outlive reloads (nothing here belongs to a route
 * table); at shutdown, after the HTTP drain, each client gets a close frame with 1001 (Going Away).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
import { NoHealthyUpstreamError, UpstreamUnavailableError } from '../errors';
import type { GatewayEvents } from '../observability/events';
import type { Exchange } from '../pipeline/exchange';
import { errorReply } from '../pipeline/settle';
import type { Reply } from '../pipeline/stage';
import { EMPTY_BODY } from '../pipeline/static-body';

/** How long a side is given to finish its close after the other side went away. */
const CLOSE_GRACE_MS = 1000;

/** A close frame, server to client (unmasked): FIN + opcode 8, length 2, status 1001. */
const GOING_AWAY = Buffer.from([0x88, 0x02, 0x03, 0xe9]);

/** What the proxy needs of the request handler: answer with a Reply, or end the exchange. */
export interface UpgradeHost {
  commit(ex: Exchange, reply: Reply): void;
  finish(ex: Exchange): void;
}

/** The terminal of an upgrade's chain: "go ahead". The stages before it may refuse instead. */
export function upgradeAllowed(): Promise<Reply> {
  return Promise.resolve({ status: 101, headers: {}, body: EMPTY_BODY, source: 'upstream' });
}

/** Whether a request asks for a WebSocket (rather than h2c or another protocol). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket';
}

interface Tunnel {
  readonly client: Socket;
  upstream: Socket | undefined;
}

export class WebSocketProxy {
  private readonly proxy: ProxyServer;
  private readonly open = new Set<Tunnel>();

  constructor(private readonly events: Pick<GatewayEvents, 'websocket'>) {
    this.proxy = createProxyServer({ ws: true, xfwd: false, changeOrigin: false });
    // Errors are answered per connection (the callback of ws()); this keeps the emitter quiet.
    this.proxy.on('error', () => undefined);
  }

  /** Connections currently open through the gateway. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Connects an upgrade whose chain said "go ahead" to a target. `headers` is what the upstream
   * gets (X-Forwarded-*, X-Request-Id, untrusted forwarding headers dropped).
   */
  connect(
    ex: Exchange,
    socket: Socket,
    head: Buffer,
    headers: Record<string, string>,
    host: UpgradeHost,
  ): void {
    const target = ex.route.upstream.pick(performance.now());
    if (!target) return host.commit(ex, errorReply(ex, new NoHealthyUpstreamError()));
    ex.target = target.url;
    const req = ex.req;
    req.headers = headers;
    const tunnel: Tunnel = { client: socket, upstream: undefined };
    const routeName = ex.route.name;
    const onUpgrade = (proxyReq: import('node:http').ClientRequest, incoming: IncomingMessage): void => {
      if (incoming !== req) return;
      this.proxy.off('proxyReqWs', onUpgrade);
      proxyReq.once('upgrade', (_res, upstream: Socket) => {
        tunnel.upstream = upstream;
        this.open.add(tunnel);
        this.events.websocket(routeName, 1);
        this.closeTogether(tunnel, routeName);
        ex.res.detachSocket(socket);
        ex.status = 101;
        host.finish(ex);
      });
    };
    this.proxy.on('proxyReqWs', onUpgrade);
    this.proxy.ws(req, socket, head, { target: target.url }, (err) => {
      this.proxy.off('proxyReqWs', onUpgrade);
      if (tunnel.upstream) return;
      ex.reason ||= 'websocket_upstream_failed';
      host.commit(ex, errorReply(ex, new UpstreamUnavailableError('connect_error', { cause: err })));
    });
  }

  /**
   * Either side closing closes the other (http-proxy-3 only ends the client when the upstream
   * closes, which leaves a half-open client socket and its fd behind), and the gauge goes down
   * exactly once, whichever side goes first.
   */
  private closeTogether(tunnel: Tunnel, routeName: string): void {
    const { client, upstream } = tunnel;
    let open = true;
    const finish = () => {
      if (!open) return;
      open = false;
      this.open.delete(tunnel);
      this.events.websocket(routeName, -1);
    };
    // A side that ended (FIN) or closed takes the other down with it, after a grace period for
    // bytes in flight: sockets here allow half-open, so nothing else would ever close them.
    const shut = () => {
      for (const socket of [client, upstream]) {
        if (!socket || socket.destroyed) continue;
        socket.end();
        setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      }
    };
    for (const socket of [client, upstream]) {
      socket?.once('end', shut);
      socket?.once('close', () => {
        finish();
        shut();
      });
    }
  }

  /** Shutdown, after the HTTP drain: 1001 to every client, then both sides closed. */
  closeAll(): void {
    for (const tunnel of this.open) {
      // Stop the upstream's bytes first, so the close frame is not spliced into one of its frames.
      tunnel.upstream?.unpipe(tunnel.client);
      tunnel.client.end(GOING_AWAY);
      tunnel.upstream?.end();
    }
  }
}

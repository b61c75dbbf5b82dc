/**
 * Real loopback upstreams that misbehave on purpose. Each records what reached it, so tests
 * assert both what the client got and what the upstream saw.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { once } from 'node:events';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  bodyBytes: number;
}

export type Behaviour = (req: IncomingMessage, res: ServerResponse, hit: number) => void | Promise<void>;

export interface TestUpstream {
  readonly url: string;
  readonly port: number;
  /** Requests that reached the upstream, in order. */
  readonly seen: SeenRequest[];
  readonly hits: number;
  /** TCP connections accepted (whether or not a request was parsed). */
  readonly connections: number;
  /** Bytes received on all sockets, headers included. */
  readonly bytesReceived: number;
  close(): Promise<void>;
}

/** Starts an upstream on 127.0.0.1:0 that runs `behaviour` for every request (default: echo). */
export async function startUpstream(
  behaviour: Behaviour = echo(),
  options: { maxHeadersCount?: number } = {},
): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let bytesReceived = 0;
  const server: Server = createServer((req, res) => {
    const record: SeenRequest = {
      method: req.method!,
      url: req.url!,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyBytes: 0,
    };
    seen.push(record);
    req.on('data', (chunk: Buffer) => {
      record.bodyBytes += chunk.length;
      seenBytes.set(req, record.bodyBytes);
    });
    void behaviour(req, res, seen.length);
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => (bytesReceived += chunk.length));
    socket.on('close', () => sockets.delete(socket));
  });
  // Node 24+ answers 431 past maxHeadersCount (2,000 raw entries) where 20 silently truncated.
  if (options.maxHeadersCount !== undefined) server.maxHeadersCount = options.maxHeadersCount;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    get hits() {
      return seen.length;
    },
    get connections() {
      return connections;
    },
    get bytesReceived() {
      return bytesReceived;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on which nothing listens (connection refused). */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Answers with JSON describing the request (method, url, headers, body size). */
export function echo(status = 200): Behaviour {
  return (req, res, hit) => {
    const answer = () => {
      const bodyBytes = seenBytes.get(req) ?? 0;
      const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bodyBytes, hit });
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    };
    // A behaviour may run after a delay, when the body has already been read.
    if (req.readableEnded) answer();
    else req.on('end', answer);
  };
}

/** Body bytes per request, counted by the server from the first byte (behaviours may start late). */
const seenBytes = new WeakMap<IncomingMessage, number>();

/** A fixed response. */
export function respond(
  status: number,
  body = '',
  headers: Record<string, string | string[]> = {},
): Behaviour {
  return (req, res) => {
    const answer = () => {
      res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    if (req.readableEnded) answer();
    else req.on('end', answer);
  };
}

/** Waits `ms` before running `then`. */
export function delay(ms: number, then: Behaviour = respond(200, 'slow')): Behaviour {
  return (req, res, hit) => {
    const timer = setTimeout(() => void then(req, res, hit), ms);
    res.on('close', () => clearTimeout(timer));
  };
}

/** Destroys the socket without answering (the client sees a reset). */
export function resetSocket(): Behaviour {
  return (req) => {
    req.socket.resetAndDestroy();
  };
}

/** Fails the first `times` requests with `status`, then runs `then`. */
export function failTimes(times: number, status: number, then: Behaviour = respond(200, 'ok')): Behaviour {
  return (req, res, hit) => (hit <= times ? respond(status, 'fail')(req, res, hit) : then(req, res, hit));
}

/** Never answers; resolves `closed` when the gateway gives up on the request. */
export function hang(onClose?: (req: IncomingMessage) => void): Behaviour {
  return (req, res) => {
    req.resume();
    res.on('close', () => onClose?.(req));
  };
}

/** Streams `bytes` of generated data, respecting backpressure. */
export function download(bytes: number, chunkSize = 64 * 1024): Behaviour {
  return (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes });
    const chunk = Buffer.alloc(chunkSize, 0x61);
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        const size = Math.min(chunkSize, bytes - sent);
        sent += size;
        if (!res.write(size === chunkSize ? chunk : chunk.subarray(0, size)))
          return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  };
}

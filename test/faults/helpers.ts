/**
 * Fault-suite helpers: a raw TCP upstream that answers exactly the bytes a test scripts (bad
 * framing, garbage, closes at chosen moments), and open file descriptor counts.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { readdirSync, readlinkSync } from 'node:fs';
import { waitFor } from '../helpers/wait';

export interface RawRequest {
  readonly method: string;
  readonly url: string;
  /** Index of the connection it came on (0 = first). */
  readonly connection: number;
  /** Index of the request on that connection (0 = first). */
  readonly onConnection: number;
}

/** What to do with one parsed request: write bytes, and optionally end or destroy the socket. */
export type Script = (req: RawRequest, socket: Socket) => void;

export interface RawUpstream {
  readonly url: string;
  readonly requests: RawRequest[];
  readonly connections: number;
  close(): Promise<void>;
}

/** A loopback server that parses request heads (and Content-Length bodies) and runs `script`. */
export async function rawUpstream(script: Script): Promise<RawUpstream> {
  const requests: RawRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let onConnection = 0;
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const headEnd = buffer.indexOf('\r\n\r\n');
        if (headEnd === -1) return;
        const head = buffer.subarray(0, headEnd).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < headEnd + 4 + length) return;
        buffer = buffer.subarray(headEnd + 4 + length);
        const [method, url] = head.split(' ') as [string, string];
        const req = { method, url, connection, onConnection: onConnection++ };
        requests.push(req);
        script(req, socket);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Open file descriptors of a process (this one by default). */
export function fdCount(pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Waits until the fd count is back within `slack` of `baseline` (sockets close asynchronously). */
export async function fdsBackTo(baseline: number, pid: number | 'self' = 'self', slack = 4): Promise<void> {
  try {
    await waitFor(
      () => fdCount(pid) <= baseline + slack,
      `fd count back to ${baseline} (+${slack})`,
      10_000,
      50,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; now ${fdCount(pid)}: ${fdKinds(pid)}`, { cause: err });
  }
}

/** What the open descriptors are (socket, pipe, anon_inode, file), counted, for failure messages. */
export function fdKinds(pid: number | 'self' = 'self'): string {
  const kinds = new Map<string, number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = '?';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`)
        .replace(/:\[\d+\]$/, '')
        .replace(/^\/.*/, 'file');
    } catch {
      // closed meanwhile
    }
    kinds.set(target, (kinds.get(target) ?? 0) + 1);
  }
  return JSON.stringify(Object.fromEntries(kinds));
}

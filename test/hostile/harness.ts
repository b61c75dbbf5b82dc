/**
 * Shared by the hostile-input suites: raw-socket exchanges with a real gateway in front of
 * recording upstreams, and the three checks every case makes (status, bytes upstream, health).
 */
import { connect } from 'node:net';
import { request } from 'undici';
import type { TestGateway } from '../helpers/gateway';
import type { TestUpstream } from '../helpers/upstream';

export interface RawReply {
  /** Everything read, latin1. */
  readonly raw: string;
  /** Status of the first response, 0 when none came. */
  readonly status: number;
  /** The first response's body (by Content-Length), '' when none. */
  readonly body: string;
  /** Whether the gateway closed the connection. */
  readonly closed: boolean;
}

/**
 * Writes `payload` on a fresh connection and resolves once the gateway closed it, or once one
 * whole response (head and Content-Length body) has arrived (only the close with `untilClose`);
 * `timeoutMs` only guards a hang (the reply then says `closed: false`).
 */
export function send(
  port: number,
  payload: string | Buffer,
  { untilClose = false, timeoutMs = 5000 } = {},
): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let raw = '';
    let settled = false;
    const done = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] ?? 0);
      const headEnd = raw.indexOf('\r\n\r\n');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(raw.slice(0, headEnd))?.[1] ?? 0);
      const body = headEnd === -1 ? '' : raw.slice(headEnd + 4, headEnd + 4 + length);
      resolve({ raw, status, body, closed });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (chunk) => {
      raw += chunk.toString('latin1');
      const headEnd = raw.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(raw.slice(0, headEnd));
      if (!untilClose && length && raw.length >= headEnd + 4 + Number(length[1])) done(false);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => done(true));
    socket.write(payload);
  });
}

/** The body of an echo upstream's answer (test/helpers/upstream.ts echo()). */
export interface Echoed {
  method: string;
  url: string;
  headers: Record<string, string>;
  bodyBytes: number;
}

export function echoed(reply: RawReply): Echoed {
  return JSON.parse(reply.body) as Echoed;
}

/** Counters of every recording upstream, to compare after a case. */
export function snapshot(ups: readonly TestUpstream[]) {
  return ups.map((u) => ({ up: u, bytes: u.bytesReceived, connections: u.connections, hits: u.hits }));
}

/**
 * The gateway still serves: a well-formed request through `path` is 200 and reaches `sentinel`
 * (and nothing else reached any upstream since `before`, so nothing hostile arrived late), and
 * `/health/live` answers 200.
 */
export async function expectHealthy(
  gw: TestGateway,
  before: ReturnType<typeof snapshot>,
  sentinel: TestUpstream,
  path = '/__sentinel',
): Promise<void> {
  const ok = await send(gw.port, `GET ${path} HTTP/1.1\r\nHost: sentinel.test\r\nConnection: close\r\n\r\n`);
  expect(ok.status).toBe(200);
  for (const s of before) expect(s.up.hits - s.hits).toBe(s.up === sentinel ? 1 : 0);
  expect(sentinel.seen.at(-1)!.url).toBe(path);
  const live = await request(`${gw.adminUrl}/health/live`);
  await live.body.dump();
  expect(live.statusCode).toBe(200);
}

/** Nothing reached any upstream since `before`: no connection, no byte. */
export function expectNothingForwarded(before: ReturnType<typeof snapshot>): void {
  for (const s of before) {
    expect(s.up.bytesReceived - s.bytes).toBe(0);
    expect(s.up.connections - s.connections).toBe(0);
  }
}

/** The JSON error code in a raw reply. */
export function codeOf(reply: RawReply): string | undefined {
  return /"code":"(\w+)"/.exec(reply.raw)?.[1];
}

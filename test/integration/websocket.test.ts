/**
 * WebSockets through the gateway on `websocket: true` routes: echo both ways, the route's rate
 * limit applies to upgrades, the connection gauge moves, other routes strip Upgrade, a reload
 * that keeps the route leaves open sockets alone, and shutdown closes them with 1001.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket, type AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { parseConfig } from '../../src/config/load';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { get } from '../helpers/http';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A tiny WebSocket echo server: answers the handshake, echoes text frames back unmasked. */
async function startEchoServer(): Promise<{
  server: Server;
  url: string;
  upgrades: () => number;
  sockets: Set<Socket>;
}> {
  let upgrades = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) =>
    res.end(`plain ${req.url} upgrade=${req.headers.upgrade ?? '-'}`),
  );
  server.on('upgrade', (req, socket: Socket) => {
    upgrades++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${GUID}`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Seen-For: ${req.headers['x-forwarded-for']}\r\n\r\n`,
    );
    socket.on('data', (frame: Buffer) => {
      const opcode = frame[0]! & 0x0f;
      if (opcode !== 1) return;
      const length = frame[1]! & 0x7f;
      const mask = frame.subarray(2, 6);
      const payload = Buffer.from(frame.subarray(6, 6 + length).map((b, i) => b ^ mask[i % 4]!));
      socket.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    upgrades: () => upgrades,
    sockets,
  };
}

/** Opens a WebSocket through the gateway; resolves with the socket and the response head. */
function openSocket(port: number, path: string): Promise<{ socket: Socket; head: string; frames: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    const frames: Buffer[] = [];
    let head: string | undefined;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      if (head !== undefined) return void frames.push(chunk);
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      head = buffer.subarray(0, end).toString('latin1');
      if (buffer.length > end + 4) frames.push(buffer.subarray(end + 4));
      resolve({ socket, head, frames });
    });
    socket.on(
      'close',
      () => head === undefined && resolve({ socket, head: buffer.toString('latin1'), frames }),
    );
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([
    Buffer.from([0x81, 0x80 | payload.length]),
    mask,
    payload.map((b, i) => b ^ mask[i % 4]!),
  ]);
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const CONFIG = (url: string, extra = '') => `
upstreams:
  chat: { targets: ["${url}"] }
routes:
  - name: chat
    match: { pathPrefix: /chat }
    upstream: chat
    websocket: true
    rateLimit: { key: ip, limit: 3, window: 1m }
  - name: plain
    match: { pathPrefix: /plain }
    upstream: chat
${extra}`;

describe('WebSockets', () => {
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  let gw: TestGateway;

  beforeAll(async () => {
    echo = await startEchoServer();
    gw = await startGateway(CONFIG(echo.url));
  });
  afterAll(async () => {
    await gw.close();
    echo.server.close();
  });

  it('proxies a WebSocket both ways, with X-Forwarded-For, and counts it', async () => {
    const { socket, head, frames } = await openSocket(gw.port, '/chat/room');
    expect(head).toMatch(/^HTTP\/1\.1 101/);
    expect(head.toLowerCase()).toContain('x-seen-for: 127.0.0.1');
    socket.write(textFrame('hello'));
    await waitFor(() => Buffer.concat(frames).includes('hello'), 'the echo');
    const metrics = await get(`${gw.adminUrl}/metrics`);
    expect(metrics.text).toMatch(/breakwater_websocket_connections\{route="chat"\} 1/);
    socket.destroy();
  });

  it('strips Upgrade on routes without websocket: true (answered as a plain request)', async () => {
    const before = echo.upgrades();
    const { head } = await openSocket(gw.port, '/plain/x');
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/connection: close/i);
    expect(echo.upgrades()).toBe(before);
  });

  it("applies the route's rate limit to upgrades", async () => {
    // One upgrade was spent by the first test: two more pass, the next gets 429 and never reaches the upstream.
    const opened = [await openSocket(gw.port, '/chat/a'), await openSocket(gw.port, '/chat/b')];
    expect(opened.every((o) => /^HTTP\/1\.1 101/.test(o.head))).toBe(true);
    const before = echo.upgrades();
    const refused = await openSocket(gw.port, '/chat/c');
    expect(refused.head).toMatch(/^HTTP\/1\.1 429/);
    expect(echo.upgrades()).toBe(before);
    for (const o of opened) o.socket.destroy();
  });
});

describe('WebSockets whose upstream goes away', () => {
  it('closes the client side too, and the gauge returns to 0 (no half-open sockets left)', async () => {
    const echo = await startEchoServer();
    const gw = await startGateway(CONFIG(echo.url).replace('limit: 3', 'limit: 100'));
    try {
      const opened = await Promise.all(
        Array.from({ length: 5 }, (_, i) => openSocket(gw.port, `/chat/${i}`)),
      );
      expect(opened.every((o) => /^HTTP\/1\.1 101/.test(o.head))).toBe(true);
      const gauge = async () =>
        Number(
          /breakwater_websocket_connections\{route="chat"\} (\d+)/.exec(
            (await get(`${gw.adminUrl}/metrics`)).text,
          )?.[1],
        );
      expect(await gauge()).toBe(5);
      const clientsClosed = opened.map((o) =>
        o.socket.destroyed ? Promise.resolve() : once(o.socket, 'close'),
      );
      // The origin dies under them (a crash, not a close handshake).
      for (const socket of echo.sockets) socket.destroy();
      await Promise.all(clientsClosed);
      let value = await gauge();
      for (let tries = 0; value !== 0 && tries < 100; tries++) {
        await new Promise((r) => setTimeout(r, 50));
        value = await gauge();
      }
      expect(value).toBe(0);
    } finally {
      await gw.close();
      echo.server.close();
    }
  });
});

describe('WebSockets closed by the client while the upstream keeps its side open', () => {
  it('closes its side of the client socket too, and the gauge returns to 0', async () => {
    const echo = await startEchoServer();
    const gw = await startGateway(CONFIG(echo.url).replace('limit: 3', 'limit: 100'));
    try {
      const opened = await Promise.all(
        Array.from({ length: 3 }, (_, i) => openSocket(gw.port, `/chat/h${i}`)),
      );
      await waitFor(() => echo.sockets.size === 3, 'three upstream sockets');
      const clientsClosed = opened.map((o) => once(o.socket, 'close'));
      // FIN from the client; the origin (allowHalfOpen, like any node:http server) never answers
      // it, so only the gateway can finish the close: without that, both sockets stay half-open.
      for (const o of opened) o.socket.end();
      await Promise.all(clientsClosed);
      const gauge = async () =>
        Number(
          /breakwater_websocket_connections\{route="chat"\} (\d+)/.exec(
            (await get(`${gw.adminUrl}/metrics`)).text,
          )?.[1],
        );
      let value = await gauge();
      for (let tries = 0; value !== 0 && tries < 100; tries++) {
        await new Promise((r) => setTimeout(r, 50));
        value = await gauge();
      }
      expect(value).toBe(0);
    } finally {
      await gw.close();
      echo.server.close();
    }
  });
});

describe('WebSockets across a reload and at shutdown', () => {
  it('keep working over a reload that keeps their route, and get 1001 after the drain', async () => {
    const echo = await startEchoServer();
    const gw = await startGateway(CONFIG(echo.url));
    try {
      const { socket, head, frames } = await openSocket(gw.port, '/chat/live');
      expect(head).toMatch(/^HTTP\/1\.1 101/);
      const closed = once(socket, 'close');
      gw.gateway.reload(
        parseConfig(
          `version: 1\nserver: { listen: 127.0.0.1:0, admin: { listen: 127.0.0.1:0 } }\n${CONFIG(echo.url, `  - { name: extra, match: { pathPrefix: /extra }, upstream: chat }`)}`,
          'reloaded.yaml',
          {},
        ),
      );
      socket.write(textFrame('after reload'));
      await waitFor(() => Buffer.concat(frames).includes('after reload'), 'the echo after the reload');
      await gw.close();
      await closed;
      const all = Buffer.concat(frames);
      const close = all.subarray(all.lastIndexOf(0x88));
      expect([...close.subarray(0, 4)]).toEqual([0x88, 0x02, 0x03, 0xe9]);
    } finally {
      echo.server.close();
    }
  });
});

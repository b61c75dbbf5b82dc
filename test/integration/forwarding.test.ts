/**
 * What the upstream receives and what the client gets back: request ids, X-Forwarded-*,
 * hop-by-hop removal both ways, bodies, Expect: 100-continue, round-robin over targets.
 */
import { request } from 'undici';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, echo, type TestUpstream } from '../helpers/upstream';
import { get, rawRequest, statusOf } from '../helpers/http';

type Echo = { method: string; url: string; headers: Record<string, string>; bodyBytes: number };

describe('forwarding', () => {
  let up: TestUpstream;
  let second: TestUpstream;
  let gw: TestGateway;
  let trusting: TestGateway;

  beforeAll(async () => {
    [up, second] = await Promise.all([startUpstream(echo()), startUpstream(echo())]);
    gw = await startGateway(`
upstreams:
  echo: { targets: ["${up.url}"] }
  pair: { targets: ["${up.url}", "${second.url}"] }
routes:
  - { name: echo, match: { pathPrefix: /e }, upstream: echo }
  - { name: pair, match: { pathPrefix: / }, upstream: pair }
`);
    trusting = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  trustProxy: [127.0.0.0/8, "::1"]
upstreams:
  echo: { targets: ["${up.url}"] }
routes:
  - { name: echo, upstream: echo }
`);
  });
  afterAll(async () => {
    await Promise.all([gw.close(), trusting.close()]);
    await Promise.all([up.close(), second.close()]);
  });

  it('generates an X-Request-Id and sends the same one upstream and back', async () => {
    const res = await get(`${gw.url}/e`);
    const id = res.headers['x-request-id'] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json<Echo>().headers['x-request-id']).toBe(id);
  });

  it.each([
    ['kept when sane', 'abc-123:x/y=z', true],
    ['replaced when it has spaces', 'bad id', false],
    ['replaced when too long', 'a'.repeat(129), false],
  ])('incoming X-Request-Id %s', async (_name, incoming, kept) => {
    const res = await get(`${gw.url}/e`, { 'x-request-id': incoming });
    expect(res.headers['x-request-id'] === incoming).toBe(kept);
    expect(res.json<Echo>().headers['x-request-id']).toBe(res.headers['x-request-id']);
  });

  it('sets X-Forwarded-* and ignores client-supplied values from untrusted peers', async () => {
    const res = await get(`${gw.url}/e`, {
      host: 'shop.example',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
    });
    const headers = res.json<Echo>().headers;
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('shop.example');
  });

  it('drops Forwarded, X-Real-IP, X-Forwarded-Port/-Prefix from untrusted peers, keeps them from trusted ones', async () => {
    const spoofed = {
      forwarded: 'for=6.6.6.6;proto=https',
      'x-real-ip': '6.6.6.6',
      'x-forwarded-port': '443',
      'x-forwarded-prefix': '/admin',
    };
    const untrusted = (await get(`${gw.url}/e`, spoofed)).json<Echo>().headers;
    for (const name of Object.keys(spoofed)) expect(untrusted).not.toHaveProperty(name);
    const trusted = (await get(`${trusting.url}/e`, spoofed)).json<Echo>().headers;
    expect(trusted).toMatchObject(spoofed);
  });

  it('routes an absolute-form target by its authority, not the Host header (RFC 9112 §3.2.2)', async () => {
    const byHost = await startGateway(`
upstreams:
  a: { targets: ["${up.url}"] }
  b: { targets: ["${second.url}"] }
routes:
  - { name: b, match: { host: b.example }, upstream: b }
  - { name: a, match: { host: a.example }, upstream: a }
`);
    try {
      const hitsA = up.hits;
      const hitsB = second.hits;
      const raw = 'GET http://b.example/x HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n';
      const reply = await rawRequest(byHost.port, raw, 1500);
      expect(statusOf(reply)).toBe(200);
      expect(second.hits - hitsB).toBe(1);
      expect(up.hits - hitsA).toBe(0);
      const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as Echo;
      expect(body.headers.host).toBe('b.example');
      expect(body.url).toBe('/x');
    } finally {
      await byHost.close();
    }
  });

  it('sends the response head as soon as the upstream commits it, before any body byte', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const waiting = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      void released.then(() => res.end('data: late\n\n'));
    });
    waiting.listen(0, '127.0.0.1');
    await once(waiting, 'listening');
    const sse = await startGateway(`
upstreams:
  sse: { targets: ["http://127.0.0.1:${(waiting.address() as AddressInfo).port}"] }
routes:
  - { name: sse, upstream: sse }
`);
    try {
      // Resolves on the head: with the head held back for the first byte this would never settle.
      const res = await request(`${sse.url}/events`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream');
      release();
      expect(await res.body.text()).toBe('data: late\n\n');
    } finally {
      release();
      await sse.close();
      waiting.close();
    }
  });

  it('appends to X-Forwarded-For and keeps proto/host from a trusted proxy', async () => {
    const res = await get(`${trusting.url}/e`, {
      host: 'shop.example',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'www.shop.example',
    });
    const headers = res.json<Echo>().headers;
    expect(headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-host']).toBe('www.shop.example');
  });

  it('removes hop-by-hop request headers, and those named in Connection', async () => {
    const raw =
      'GET /e HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: 1\r\n' +
      'Keep-Alive: timeout=5\r\nProxy-Authorization: Basic eA==\r\nTE: trailers\r\nX-End-To-End: yes\r\n\r\n';
    const reply = await rawRequest(gw.port, raw, 1500);
    expect(statusOf(reply)).toBe(200);
    const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as Echo;
    expect(body.headers).not.toHaveProperty('x-secret-hop');
    expect(body.headers).not.toHaveProperty('keep-alive');
    expect(body.headers).not.toHaveProperty('proxy-authorization');
    expect(body.headers.te).toBe('trailers');
    expect(body.headers['x-end-to-end']).toBe('yes');
  });

  it('removes hop-by-hop response headers, and those named in Connection', async () => {
    const hoppy = createServer((_req, res) => {
      res.writeHead(200, {
        connection: 'keep-alive, x-upstream-hop',
        'x-upstream-hop': 'secret',
        'keep-alive': 'timeout=99',
        'proxy-authenticate': 'Basic',
        'x-kept': 'yes',
        'content-length': '2',
      });
      res.end('ok');
    });
    hoppy.listen(0, '127.0.0.1');
    await once(hoppy, 'listening');
    const port = (hoppy.address() as AddressInfo).port;
    const hopGw = await startGateway(
      `upstreams:\n  h: { targets: ["http://127.0.0.1:${port}"] }\nroutes:\n  - { name: h, upstream: h }\n`,
    );
    try {
      const res = await get(hopGw.url + '/');
      expect(res.text).toBe('ok');
      expect(res.headers['x-kept']).toBe('yes');
      expect(res.headers).not.toHaveProperty('x-upstream-hop');
      expect(res.headers).not.toHaveProperty('proxy-authenticate');
      expect(res.headers['keep-alive']).not.toBe('timeout=99');
    } finally {
      await hopGw.close();
      hoppy.close();
    }
  });

  it('streams a request body and keeps the method', async () => {
    const res = await request(`${gw.url}/e`, { method: 'PUT', body: Buffer.alloc(300_000, 1) });
    const body = (await res.body.json()) as Echo;
    expect(body).toMatchObject({ method: 'PUT', bodyBytes: 300_000 });
  });

  it('handles Expect: 100-continue (undici refuses to forward Expect itself)', async () => {
    const raw =
      'POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n';
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(gw.port, '127.0.0.1');
      let data = '';
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString();
        if (data.startsWith('HTTP/1.1 100') && !data.includes('hello-sent')) {
          data += '[hello-sent]';
          socket.write('hello');
        }
      });
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.write(raw);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(reply).toContain('HTTP/1.1 200 OK');
    expect(reply).toContain('"bodyBytes":5');
    expect(reply).not.toContain('"expect"');
  });

  it('spreads requests round-robin over the targets of an upstream', async () => {
    const beforeA = up.hits;
    const beforeB = second.hits;
    for (let i = 0; i < 10; i++) await get(`${gw.url}/pair`);
    expect(up.hits - beforeA).toBe(5);
    expect(second.hits - beforeB).toBe(5);
  });

  it('reuses upstream connections (keep-alive pool)', async () => {
    const before = up.connections;
    for (let i = 0; i < 20; i++) await get(`${gw.url}/e`);
    expect(up.connections - before).toBeLessThanOrEqual(1);
  });
});

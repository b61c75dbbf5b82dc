/**
 * limits.requestBuffer: a body up to that size is read whole and checked before anything goes
 * upstream, so a malformed chunk in a later TCP segment forwards nothing; a larger one streams.
 */
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { statusOf } from '../helpers/http';

/** Sends `first`, then `second` after `gapMs`, and returns everything the gateway wrote. */
function twoSegments(port: number, first: string, second: string, gapMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(reply));
    socket.write(first);
    setTimeout(() => socket.writable && socket.write(second), gapMs);
    setTimeout(() => socket.destroy(), gapMs + 3000);
  });
}

describe('request buffering', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream();
    gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  limits: { requestBuffer: 16kb }
upstreams:
  up: { targets: ["${up.url}"] }
routes:
  - { name: all, upstream: up }
`);
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('a malformed chunk 150 ms after a good one: 400, and zero bytes reach the upstream', async () => {
    const bytes = up.bytesReceived;
    const connections = up.connections;
    const reply = await twoSegments(
      gw.port,
      'POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
      'zz\r\nworld\r\n0\r\n\r\n',
      150,
    );
    expect(statusOf(reply)).toBe(400);
    expect(up.bytesReceived - bytes).toBe(0);
    expect(up.connections - connections).toBe(0);
  });

  it('forwards a small chunked body whole, with a Content-Length', async () => {
    const res = await request(`${gw.url}/echo`, {
      method: 'POST',
      body: Readable.from([Buffer.from('a'.repeat(1000)), Buffer.from('b'.repeat(1000))]),
    });
    const echo = (await res.body.json()) as { headers: Record<string, string>; bodyBytes: number };
    expect(res.statusCode).toBe(200);
    expect(echo.bodyBytes).toBe(2000);
    expect(echo.headers['content-length']).toBe('2000');
    expect(echo.headers['transfer-encoding']).toBeUndefined();
  });

  it('streams a chunked body larger than the buffer, every byte in order', async () => {
    const chunk = Buffer.alloc(8 * 1024, 7);
    const res = await request(`${gw.url}/echo`, {
      method: 'POST',
      body: Readable.from(Array.from({ length: 40 }, () => chunk)),
    });
    const echo = (await res.body.json()) as { headers: Record<string, string>; bodyBytes: number };
    expect(res.statusCode).toBe(200);
    expect(echo.bodyBytes).toBe(40 * 8 * 1024);
    expect(echo.headers['transfer-encoding']).toBe('chunked');
  });
});

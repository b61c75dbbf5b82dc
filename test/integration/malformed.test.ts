/**
 * Malformed requests over a raw socket: each is answered 400 and not one byte reaches the
 * upstream (request smuggling needs the proxy and the upstream to disagree on framing).
 */
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { rawRequest, statusOf } from '../helpers/http';

describe('malformed requests', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream();
    gw = await startGateway(`
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

  it.each([
    [
      'Content-Length with Transfer-Encoding',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'two Content-Lengths',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    ],
    [
      'two equal Content-Lengths',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
    ],
    [
      'a bad chunk size',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    ],
    ['a CR inside a header value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: one\rtwo\r\n\r\n'],
    ['a bare LF inside a header value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: one\ntwo: three\r\n\r\n'],
    ['obs-fold (a folded header line)', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n'],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['no Host header', 'GET / HTTP/1.1\r\n\r\n'],
    ['a space in the header name', 'GET / HTTP/1.1\r\nHost: x\r\nX A: 1\r\n\r\n'],
    [
      'Transfer-Encoding other than chunked',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc',
    ],
    ['a NUL in the path', 'GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a bad percent escape', 'GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an absolute URI with a bad scheme', 'GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n'],
  ])('%s → 400, zero bytes upstream', async (_name, payload) => {
    const connectionsBefore = up.connections;
    const bytesBefore = up.bytesReceived;
    const reply = await rawRequest(gw.port, payload, 1000);
    expect(statusOf(reply)).toBe(400);
    expect(reply).toContain('"code":"BAD_REQUEST"');
    expect(up.bytesReceived - bytesBefore).toBe(0);
    expect(up.connections - connectionsBefore).toBe(0);
  });

  it('still serves a well-formed request afterwards', async () => {
    const reply = await rawRequest(gw.port, 'GET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(statusOf(reply)).toBe(200);
  });
});

describe('header count limit (limits.maxHeaderCount)', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  const headers = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: ${i}\r\n`).join('');

  beforeAll(async () => {
    up = await startUpstream(undefined, { maxHeadersCount: 0 });
    gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  limits: { maxHeaderCount: 1600, maxHeaderSize: 64kb }
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

  it.each([
    ['1,700 headers', `GET / HTTP/1.1\r\nHost: x\r\n${headers(1700)}\r\n`],
    [
      'framing headers after the first 1,000 (chunked body)',
      `POST / HTTP/1.1\r\nHost: x\r\n${headers(1700)}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    ],
  ])('%s → 431, zero bytes upstream', async (_name, payload) => {
    const bytesBefore = up.bytesReceived;
    const reply = await rawRequest(gw.port, payload, 1000);
    expect(statusOf(reply)).toBe(431);
    expect(reply).toContain('"code":"HEADERS_TOO_LARGE"');
    expect(up.bytesReceived - bytesBefore).toBe(0);
  });

  it('forwards every header and the body when under the limit (Node alone keeps 1,000)', async () => {
    const many = 'a: 1\r\n'.repeat(1500);
    const payload = `POST /count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${many}Content-Length: 5\r\n\r\nhello`;
    const bytesBefore = up.bytesReceived;
    const reply = await rawRequest(gw.port, payload, 2000);
    expect(statusOf(reply)).toBe(200);
    expect(up.bytesReceived - bytesBefore).toBeGreaterThan(many.length);
    const seen = up.seen.at(-1)!;
    expect(seen.rawHeaders.filter((name, i) => i % 2 === 0 && name === 'a')).toHaveLength(1500);
    expect(seen.bodyBytes).toBe(5);
  });

  it('defaults to 100 fields', async () => {
    const small = await startGateway(`
upstreams:
  up: { targets: ["${up.url}"] }
routes:
  - { name: all, upstream: up }
`);
    try {
      const over = await rawRequest(small.port, `GET / HTTP/1.1\r\nHost: x\r\n${headers(100)}\r\n`, 1000);
      expect(statusOf(over)).toBe(431);
      const under = await rawRequest(
        small.port,
        `GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers(97)}\r\n`,
        1000,
      );
      expect(statusOf(under)).toBe(200);
    } finally {
      await small.close();
    }
  });
});

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

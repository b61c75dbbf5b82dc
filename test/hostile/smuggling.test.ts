/**
 * Request smuggling: every framing the gateway and an upstream could read differently is either
 * refused (nothing reaches the upstream) or re-framed (the upstream gets one request with a plain
 * Content-Length body, never the client's Transfer-Encoding). Extends test/integration/malformed.
 */
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { codeOf, echoed, expectHealthy, expectNothingForwarded, send, snapshot } from './harness';

const POST = 'POST /s HTTP/1.1\r\nHost: x\r\n';
const CHUNKED_HELLO = '5\r\nhello\r\n0\r\n\r\n';

describe('hostile: request smuggling', () => {
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
    // Content-Length with Transfer-Encoding, in both orders and with a zero length
    ['TE before CL', `${POST}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n${CHUNKED_HELLO}`, 400],
    ['CL: 0 with TE', `${POST}Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_HELLO}`, 400],
    [
      'CL.TE classic (hidden G)',
      `${POST}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`,
      400,
    ],
    // Transfer-Encoding variants
    ['TE: chunked, identity', `${POST}Transfer-Encoding: chunked, identity\r\n\r\n${CHUNKED_HELLO}`, 400],
    ['TE: xchunked', `${POST}Transfer-Encoding: xchunked\r\n\r\n${CHUNKED_HELLO}`, 400],
    ['TE: chunked<TAB>', `${POST}Transfer-Encoding: chunked\t\r\n\r\n${CHUNKED_HELLO}`, 400],
    ['TE: <VT>chunked', `${POST}Transfer-Encoding:\x0bchunked\r\n\r\n${CHUNKED_HELLO}`, 400],
    ['space before the colon', `${POST}Transfer-Encoding : chunked\r\n\r\n${CHUNKED_HELLO}`, 400],
    [
      'Transfer-Encoding twice',
      `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_HELLO}`,
      400,
    ],
    [
      'TE chunked then TE identity',
      `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n${CHUNKED_HELLO}`,
      400,
    ],
    ['empty Transfer-Encoding', `${POST}Transfer-Encoding: \r\n\r\n${CHUNKED_HELLO}`, 400],
    ['TE: gzip, chunked is not ours to decode', `${POST}Transfer-Encoding: gzip\r\n\r\nabc`, 400],
    ['obs-folded Transfer-Encoding', `${POST}Transfer-Encoding:\r\n chunked\r\n\r\n${CHUNKED_HELLO}`, 400],
    [
      'Transfer-Encoding and Content-Length in the trailer',
      `${POST}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n`,
      400,
    ],
    // Content-Length variants
    ['CL: 5, 5 (list)', `${POST}Content-Length: 5, 5\r\n\r\nhello`, 400],
    ['CL: 5, 6 (list)', `${POST}Content-Length: 5, 6\r\n\r\nhello!`, 400],
    ['CL twice, different case', `${POST}Content-Length: 5\r\ncontent-length: 5\r\n\r\nhello`, 400],
    ['CL: +5', `${POST}Content-Length: +5\r\n\r\nhello`, 400],
    ['CL: -1', `${POST}Content-Length: -1\r\n\r\nhello`, 400],
    ['CL: 0x5', `${POST}Content-Length: 0x5\r\n\r\nhello`, 400],
    ['CL: 1e1', `${POST}Content-Length: 1e1\r\n\r\nhellohello`, 400],
    ['CL: 5 5', `${POST}Content-Length: 5 5\r\n\r\nhello`, 400],
    ['CL empty', `${POST}Content-Length: \r\n\r\nhello`, 400],
    ['CL past 2^64', `${POST}Content-Length: 99999999999999999999999\r\n\r\nhello`, 400],
    ['CL huge but parseable', `${POST}Content-Length: 100000000000000\r\n\r\nhello`, 413],
    // chunk sizes and extensions
    [
      'chunk extension with NUL',
      `${POST}Transfer-Encoding: chunked\r\n\r\n5;ext=\x00\r\nhello\r\n0\r\n\r\n`,
      400,
    ],
    [
      'chunk extension ended by bare LF',
      `${POST}Transfer-Encoding: chunked\r\n\r\n5;ext\nhello\r\n0\r\n\r\n`,
      400,
    ],
    [
      'chunk size ffffffffffffffffff',
      `${POST}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n`,
      400,
    ],
    ['negative chunk size', `${POST}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`, 400],
    ['chunk size 0x5', `${POST}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`, 400],
    [
      'chunk size with trailing space',
      `${POST}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`,
      400,
    ],
    ['chunk data without its CRLF', `${POST}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n`, 400],
    ['chunk longer than its size', `${POST}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`, 400],
    ['bare LF after chunk size', `${POST}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`, 400],
    ['bare LF after chunk data', `${POST}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n`, 400],
    // line endings
    ['bare LF line endings throughout', 'GET /s HTTP/1.1\nHost: x\n\n', 400],
    ['bare LF after the request line', 'GET /s HTTP/1.1\nHost: x\r\n\r\n', 400],
    ['bare LF ending the head', 'GET /s HTTP/1.1\r\nHost: x\r\n\n', 400],
    ['bare CR after the request line', 'GET /s HTTP/1.1\rHost: x\r\n\r\n', 400],
    ['bare CR between headers', 'GET /s HTTP/1.1\r\nHost: x\rX-A: 1\r\n\r\n', 400],
  ])('%s → %p, zero bytes upstream', async (_name, payload, status) => {
    const before = snapshot([up]);
    const reply = await send(gw.port, payload, { untilClose: true });
    expect(reply.status).toBe(status);
    expect(codeOf(reply)).toBe(status === 413 ? 'BODY_TOO_LARGE' : 'BAD_REQUEST');
    // Refusing a request with an unread body must close the connection (else the rest is a request).
    expect(reply.closed).toBe(true);
    expectNothingForwarded(before);
    await expectHealthy(gw, before, up);
  });

  it.each([
    ['TE with two spaces before chunked', `${POST}Transfer-Encoding:  chunked\r\n\r\n${CHUNKED_HELLO}`],
    ['TE: CHUNKED (case)', `${POST}Transfer-Encoding: CHUNKED\r\n\r\n${CHUNKED_HELLO}`],
    ['TE: identity, chunked', `${POST}Transfer-Encoding: identity, chunked\r\n\r\n${CHUNKED_HELLO}`],
    ['CL with spaces around', `${POST}Content-Length:  5 \r\n\r\nhello`],
    ['CL with a leading zero', `${POST}Content-Length: 05\r\n\r\nhello`],
    ['a chunk extension', `${POST}Transfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n`],
    ['split chunks', `${POST}Transfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n`],
    [
      'a harmless trailer',
      `${POST}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n`,
    ],
  ])('%s → 200, re-framed: one request, Content-Length 5, no Transfer-Encoding', async (_name, payload) => {
    const before = snapshot([up]);
    const reply = await send(gw.port, payload.replace('Host: x\r\n', 'Host: x\r\nConnection: close\r\n'));
    expect(reply.status).toBe(200);
    const got = echoed(reply);
    expect(got.bodyBytes).toBe(5);
    expect(got.headers['content-length']).toBe('5');
    expect(got.headers['transfer-encoding']).toBeUndefined();
    expect(got.headers['x-trailer']).toBeUndefined();
    expect(up.hits - before[0]!.hits).toBe(1);
    await expectHealthy(gw, snapshot([up]), up);
  });

  it('a body that looks like a request stays a body: one upstream request', async () => {
    const hidden = 'GET /admin HTTP/1.1\r\nHost: x\r\n\r\n';
    const before = snapshot([up]);
    const reply = await send(
      gw.port,
      `${POST}Connection: close\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}`,
    );
    expect(reply.status).toBe(200);
    expect(echoed(reply).bodyBytes).toBe(hidden.length);
    expect(up.hits - before[0]!.hits).toBe(1);
    expect(up.seen.at(-1)!.url).toBe('/s');
  });

  it('a smuggled second request after a refused one is never parsed', async () => {
    const before = snapshot([up]);
    const reply = await send(
      gw.port,
      `${POST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n`,
      { untilClose: true },
    );
    expect(reply.status).toBe(400);
    expect(reply.raw.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expectNothingForwarded(before);
    await expectHealthy(gw, before, up);
  });
});

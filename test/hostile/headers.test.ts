/**
 * Hostile heads: control bytes in names, values and the request line, obs-fold, too many or too
 * large headers, a 100 KB target, odd methods, request-id injection and spoofed forwarding
 * headers. Each case checks the status, what reached the upstream and that the gateway still serves.
 */
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { codeOf, echoed, expectHealthy, expectNothingForwarded, send, snapshot } from './harness';

const get = (extra: string, line = 'GET /h HTTP/1.1') => `${line}\r\nHost: x\r\n${extra}\r\n`;
const many = (n: number) => Array.from({ length: n }, (_, i) => `x-h${i}: ${i}\r\n`).join('');

describe('hostile: request heads', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream();
    gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  limits: { maxHeaderCount: 30, maxHeaderSize: 4kb }
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
    // control bytes
    ['CR inside a header name', get('X\rA: 1\r\n'), 400],
    ['LF inside a header name', get('X\nA: 1\r\n'), 400],
    ['NUL inside a header name', get('X\x00A: 1\r\n'), 400],
    ['NUL inside a header value', get('X-A: a\x00b\r\n'), 400],
    ['CR inside a header value', get('X-A: a\rb\r\n'), 400],
    ['DEL inside a header value', get('X-A: a\x7fb\r\n'), 400],
    ['NUL in the request line', get('', 'GET /h\x00 HTTP/1.1'), 400],
    ['CR in the request target', get('', 'GET /h\rx HTTP/1.1'), 400],
    ['LF in the request target', get('', 'GET /h\nx HTTP/1.1'), 400],
    ['a tab in the request target', get('', 'GET /h\tx HTTP/1.1'), 400],
    ['a raw non-ASCII byte in the target', get('', 'GET /h\xe9 HTTP/1.1'), 400],
    ['an encoded NUL in the path', get('', 'GET /h%00 HTTP/1.1'), 400],
    ['a fragment in the target', get('', 'GET /h#frag HTTP/1.1'), 400],
    ['an empty header name', get(': v\r\n'), 400],
    ['a header line with no colon', get('nocolon\r\n'), 400],
    // obs-fold
    ['obs-fold with a space', get('X-A: one\r\n two\r\n'), 400],
    ['obs-fold with a tab', get('X-A: one\r\n\ttwo\r\n'), 400],
    ['obs-fold as the first header line', 'GET /h HTTP/1.1\r\n folded: x\r\nHost: x\r\n\r\n', 400],
    // versions
    ['HTTP/1.2', get('', 'GET /h HTTP/1.2'), 400],
    ['HTTP/0.9 (no version)', 'GET /h\r\n\r\n', 400],
    ['a lower-case version', get('', 'GET /h http/1.1'), 400],
    // methods
    ['an unknown method (FOO)', get('', 'FOO /h HTTP/1.1'), 400],
    ['a lower-case get', get('', 'get /h HTTP/1.1'), 400],
    ['a 10,000-byte method', get('', `${'A'.repeat(10_000)} /h HTTP/1.1`), 400],
    ['CONNECT (no tunnels)', 'CONNECT x.example:443 HTTP/1.1\r\nHost: x.example:443\r\n\r\n', 400],
    ['CONNECT with a path', 'CONNECT /h HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    // limits (maxHeaderCount 30, maxHeaderSize 4kb)
    ['31 header fields', get(many(30)), 431],
    ['300 header fields', get(many(300)), 431],
    ['a 5 KB header value', get(`X-Big: ${'a'.repeat(5 * 1024)}\r\n`), 431],
    ['a 5 KB header name', get(`${'n'.repeat(5 * 1024)}: 1\r\n`), 431],
    ['a 100 KB request target', get('', `GET /${'a'.repeat(100 * 1024)} HTTP/1.1`), 431],
    ['a 100 KB query string', get('', `GET /h?q=${'a'.repeat(100 * 1024)} HTTP/1.1`), 431],
  ])('%s → %p, nothing upstream', async (_name, payload, status) => {
    const before = snapshot([up]);
    const reply = await send(gw.port, payload, { untilClose: true });
    expect(reply.status).toBe(status);
    expect(codeOf(reply)).toBe(status === 431 ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST');
    expect(reply.closed).toBe(true);
    expectNothingForwarded(before);
    await expectHealthy(gw, before, up);
  });

  it.each([
    ['29 header fields (just under the limit)', get(many(28))],
    ['a method llhttp knows (PURGE)', get('', 'PURGE /h HTTP/1.1')],
    ['HTTP/1.0 without Host', 'GET /h HTTP/1.0\r\n\r\n'],
    ['a latin1 byte in a value (obs-text)', get('X-A: caf\xe9\r\n')],
  ])('%s → 200, forwarded once', async (_name, payload) => {
    const before = snapshot([up]);
    const reply = await send(gw.port, payload.replace(/\r\n\r\n$/, '\r\nConnection: close\r\n\r\n'));
    expect(reply.status).toBe(200);
    expect(up.hits - before[0]!.hits).toBe(1);
  });

  describe('request-id injection', () => {
    it('a CR/LF inside X-Request-Id cannot even be sent by a client library', async () => {
      const hits = up.hits;
      await expect(
        request(`${gw.url}/h`, { headers: { 'x-request-id': 'a\r\nSet-Cookie: x=1' } }),
      ).rejects.toThrow(/header/i);
      expect(up.hits).toBe(hits);
    });

    it.each([
      ['a bare CR', 'X-Request-Id: a\rSet-Cookie: x=1\r\n'],
      ['a bare LF', 'X-Request-Id: a\nSet-Cookie: x=1\r\n'],
    ])('sent raw with %s: 400, nothing upstream', async (_name, header) => {
      const before = snapshot([up]);
      const reply = await send(gw.port, get(header), { untilClose: true });
      expect(reply.status).toBe(400);
      expect(reply.raw).not.toMatch(/set-cookie/i);
      expectNothingForwarded(before);
    });

    it('sent raw as two header lines: the id is kept, the cookie goes upstream as a request header only', async () => {
      const reply = await send(gw.port, get('X-Request-Id: a\r\nSet-Cookie: x=1\r\nConnection: close\r\n'));
      expect(reply.status).toBe(200);
      expect(reply.raw).toMatch(/\r\nx-request-id: a\r\n/i);
      const head = reply.raw.slice(0, reply.raw.indexOf('\r\n\r\n'));
      expect(head).not.toMatch(/set-cookie/i);
    });

    it.each([
      ['with spaces', 'a b c'],
      ['129 characters', 'a'.repeat(129)],
      ['10 KB', 'a'.repeat(3000)],
      ['with quotes and angle brackets', '"><script>'],
      ['with a comma (list smuggling)', 'a,b'],
      ['empty', ''],
      ['non-ASCII', 'caf\xe9'],
      ['two of them', 'a\r\nX-Request-Id: b'],
    ])('X-Request-Id %s → replaced by a UUID, the same one upstream and back', async (_name, value) => {
      const reply = await send(gw.port, get(`X-Request-Id: ${value}\r\nConnection: close\r\n`));
      expect(reply.status).toBe(200);
      const returned = /\r\nx-request-id: ([^\r]*)\r\n/i.exec(reply.raw)?.[1];
      expect(returned).toMatch(/^[0-9a-f-]{36}$/);
      expect(echoed(reply).headers['x-request-id']).toBe(returned);
    });
  });

  describe('spoofed forwarding headers from an untrusted peer', () => {
    const spoofed = [
      'X-Forwarded-For: 6.6.6.6',
      'x-forwarded-for: 7.7.7.7',
      'X-Forwarded-Proto: https',
      'X-Forwarded-Host: evil.example',
      'Forwarded: for=6.6.6.6;proto=https;host=evil.example',
      'X-Real-IP: 6.6.6.6',
      'True-Client-IP: 6.6.6.6',
      'X-Client-IP: 6.6.6.6',
      'CF-Connecting-IP: 6.6.6.6',
      'X-Forwarded-Port: 443',
      'X-Forwarded-Prefix: /admin',
      'X-Forwarded-Server: evil',
      'X-Forwarded-Ssl: on',
      'X-Forwarded-Scheme: https',
      'X-Original-Forwarded-For: 6.6.6.6',
      // Underscore spellings: CGI-style servers (PHP, WSGI, Rack) read them as the dashed name.
      'X_Forwarded_For: 6.6.6.6',
      'X-Forwarded_Proto: https',
      'X_Real_IP: 6.6.6.6',
    ];

    it('replaces X-Forwarded-For/-Proto/-Host and drops every other client-IP header', async () => {
      const reply = await send(gw.port, get(`${spoofed.join('\r\n')}\r\nConnection: close\r\n`));
      expect(reply.status).toBe(200);
      const headers = echoed(reply).headers;
      expect(headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(headers['x-forwarded-proto']).toBe('http');
      expect(headers['x-forwarded-host']).toBe('x');
      for (const name of Object.keys(headers)) {
        if (['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'].includes(name)) continue;
        expect(`${name}: ${headers[name]}`).not.toMatch(
          /6\.6\.6\.6|7\.7\.7\.7|evil|https|\/admin|443|forwarded|real.ip|client.ip/i,
        );
      }
      // The raw header lines the upstream got: each forwarding header exactly once.
      const raw = up.seen
        .at(-1)!
        .rawHeaders.filter((_, i) => i % 2 === 0)
        .map((n) => n.toLowerCase());
      for (const name of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id'])
        expect(raw.filter((n) => n === name)).toHaveLength(1);
    });
  });
});

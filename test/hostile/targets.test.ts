/**
 * Hostile request targets and Host headers: absolute-form (its authority wins), asterisk-form,
 * odd and invalid Hosts, and traversal or encoded slashes across routes. Whatever the client
 * writes, an upstream only ever sees a path inside the prefix of the route that matched it.
 */
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { codeOf, echoed, expectHealthy, expectNothingForwarded, send, snapshot } from './harness';

const req = (target: string, host = 'x', method = 'GET') =>
  `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

describe('hostile: targets, Host and traversal', () => {
  let pub: TestUpstream;
  let admin: TestUpstream;
  let files: TestUpstream;
  let byHost: TestUpstream;
  let sentinel: TestUpstream;
  let all: TestUpstream[];
  const gateways: Record<'keep' | 'reject', TestGateway> = {} as never;

  beforeAll(async () => {
    [pub, admin, files, byHost, sentinel] = await Promise.all([
      startUpstream(),
      startUpstream(),
      startUpstream(),
      startUpstream(),
      startUpstream(),
    ]);
    all = [pub, admin, files, byHost, sentinel];
    for (const mode of ['keep', 'reject'] as const)
      gateways[mode] = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  escapedSlashes: ${mode}
upstreams:
  pub: { targets: ["${pub.url}"] }
  admin: { targets: ["${admin.url}"] }
  files: { targets: ["${files.url}"] }
  byhost: { targets: ["${byHost.url}"] }
  sentinel: { targets: ["${sentinel.url}"] }
routes:
  - { name: sentinel, match: { path: /__sentinel }, upstream: sentinel }
  - { name: byhost, match: { host: b.example }, upstream: byhost }
  - { name: admin, match: { pathPrefix: /admin, headers: { x-admin-key: s3cret } }, upstream: admin }
  - { name: public, match: { pathPrefix: /public }, upstream: pub }
  - name: static
    match: { pathPrefix: /static }
    upstream: files
    rewrite: { stripPrefix: /static, addPrefix: /files }
`);
  });
  afterAll(async () => {
    await Promise.all(Object.values(gateways).map((g) => g.close()));
    await Promise.all(all.map((u) => u.close()));
  });

  /** Every path any upstream ever saw is inside its route's prefix; the admin upstream saw nothing. */
  function expectConfined(): void {
    expect(admin.hits).toBe(0);
    for (const s of pub.seen) expect(s.url).toMatch(/^\/public(\/|\?|$)/);
    for (const s of files.seen) expect(s.url).toMatch(/^\/files(\/|\?|$)/);
    for (const s of sentinel.seen) expect(s.url).toBe('/__sentinel');
  }

  describe.each(['keep', 'reject'] as const)('escapedSlashes: %s', (mode) => {
    // [target, status with keep, status with reject, the path the upstream gets when 200]
    it.each([
      ['/public/../admin', 404, 404, null],
      ['/public/%2e%2e/admin', 404, 404, null],
      ['/public/%2E%2E/admin', 404, 404, null],
      ['/public/.%2e/admin', 404, 404, null],
      ['/public/%2e./admin', 404, 404, null],
      ['/public/x/../../admin', 404, 404, null],
      ['/public//..//admin', 404, 404, null],
      ['/public/..', 404, 404, null],
      ['/public/..?/../admin', 404, 404, null],
      ['//admin', 404, 404, null],
      ['///admin/', 404, 404, null],
      ['/public%2F..%2Fadmin', 404, 400, null],
      ['/public%2f..%2fadmin', 404, 400, null],
      ['/public/..%2Fadmin', 200, 400, '/public/..%2Fadmin'],
      ['/public/%2e%2e%2fadmin', 200, 400, '/public/..%2Fadmin'],
      ['/public/..%5Cadmin', 200, 400, '/public/..%5Cadmin'],
      ['/public/..\\admin', 400, 400, null],
      ['/public\\..\\admin', 400, 400, null],
      ['/public/%00/../admin', 400, 400, null],
      ['/public/%2/../admin', 400, 400, null],
      ['/public/%252e%252e/admin', 200, 200, '/public/%252e%252e/admin'],
      ['/public/%c0%ae%c0%ae/admin', 200, 200, '/public/%C0%AE%C0%AE/admin'],
      ['/public/.../admin', 200, 200, '/public/.../admin'],
      ['//public/x', 200, 200, '/public/x'],
      ['/./public/./x', 200, 200, '/public/x'],
      ['/public/.', 200, 200, '/public/'],
      ['/public/x?q=/../admin', 200, 200, '/public/x?q=/../admin'],
      ['/static/../admin', 404, 404, null],
      ['/static/%2e%2e/public/x', 200, 200, '/public/x'],
      ['/static/x/../../../etc/passwd', 404, 404, null],
      ['/static/..%2F..%2Fetc', 200, 400, '/files/..%2F..%2Fetc'],
      ['/static', 200, 200, '/files'],
      ['/static/a/./b//c', 200, 200, '/files/a/b/c'],
      ['http://x/public/../admin', 404, 404, null],
      ['http://x/../public/y', 200, 200, '/public/y'],
    ])('%s', async (target, keepStatus, rejectStatus, upstreamPath) => {
      const gw = gateways[mode];
      const status = mode === 'keep' ? keepStatus : rejectStatus;
      const before = snapshot(all);
      const reply = await send(gw.port, req(target), { untilClose: true });
      expect(reply.status).toBe(status);
      if (status === 200) {
        expect(echoed(reply).url).toBe(upstreamPath);
        const changed = before.filter((s) => s.up.hits !== s.hits);
        expect(changed).toHaveLength(1);
        expect(changed[0]!.up.hits - changed[0]!.hits).toBe(1);
      } else {
        expect(codeOf(reply)).toBe(status === 404 ? 'NO_ROUTE' : 'BAD_REQUEST');
        expectNothingForwarded(before);
      }
      expectConfined();
      await expectHealthy(gw, snapshot(all), sentinel);
    });
  });

  describe('absolute-form targets and Host', () => {
    it.each([
      ['authority wins over Host', 'http://b.example/x', 'a.example', 'b.example', '/x'],
      ['userinfo is never forwarded', 'http://user@b.example/x', 'a.example', 'b.example', '/x'],
      ['nor a password', 'http://user:pw@b.example/x', 'a.example', 'b.example', '/x'],
      ['https scheme', 'https://b.example/x', 'a.example', 'b.example', '/x'],
      ['upper-case scheme and host', 'HTTP://B.EXAMPLE/x', 'a.example', 'B.EXAMPLE', '/x'],
      ['no path means /', 'http://b.example', 'a.example', 'b.example', '/'],
      ['only a query', 'http://b.example?q=1', 'a.example', 'b.example', '/?q=1'],
      ['with a port', 'http://b.example:8080/x', 'a.example', 'b.example:8080', '/x'],
      ['dot segments resolved', 'http://b.example/a/../x', 'a.example', 'b.example', '/x'],
    ])('%s: %s', async (_name, target, host, upstreamHost, upstreamPath) => {
      const before = snapshot(all);
      const reply = await send(gateways.keep.port, req(target, host));
      expect(reply.status).toBe(200);
      expect(byHost.hits - before[3]!.hits).toBe(1);
      const got = echoed(reply);
      expect(got.url).toBe(upstreamPath);
      expect(got.headers.host).toBe(upstreamHost);
      expect(got.headers['x-forwarded-proto']).toBe('http');
      expect(JSON.stringify(got.headers)).not.toMatch(/user|pw@/);
    });

    it.each([
      ['Host with a port', '/q', 'b.example:8080'],
      ['Host with a trailing dot', '/q', 'b.example.'],
      ['Host in upper case', '/q', 'B.Example'],
      ['an IPv6 literal Host (path route)', '/public/q', '[::1]:8080'],
      ['an IPv4 Host (path route)', '/public/q', '127.0.0.1:80'],
      ['an empty Host (path route)', '/public/q', ''],
    ])('%s → 200, Host passed on as sent', async (_name, target, host) => {
      const reply = await send(gateways.keep.port, req(target, host));
      expect(reply.status).toBe(200);
      expect(echoed(reply).headers.host ?? '').toBe(host);
    });

    it.each([
      ['OPTIONS * (asterisk-form)', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['GET *', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['authority-form with GET', 'GET b.example:80 HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['an empty authority', 'GET http:///public/x HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['a relative target', 'GET public/x HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['two Host headers, same value', 'GET /public/x HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n'],
      ['two Host headers, other case', 'GET /public/x HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n'],
      ['no Host on HTTP/1.1', 'GET /public/x HTTP/1.1\r\n\r\n'],
      ['a Host with a path', req('/public/x', 'b.example/evil')],
      ['a Host with a space', req('/public/x', 'b example')],
      ['a Host with userinfo', req('/public/x', 'u@b.example')],
      ['a Host with two ports', req('/public/x', 'b.example:80:80')],
      ['an unterminated IPv6 Host', req('/public/x', '[::1')],
      ['a Host with a non-ASCII byte', req('/public/x', 'b\xe9.example')],
      ['an absolute target with a bad IPv6 authority', req('http://[::1/public/x')],
      ['an absolute target with a space-free but bad authority', req('http://b.example:80:80/public/x')],
    ])('%s → 400, nothing upstream', async (_name, payload) => {
      const before = snapshot(all);
      const reply = await send(gateways.keep.port, payload, { untilClose: true });
      expect(reply.status).toBe(400);
      expect(codeOf(reply)).toBe('BAD_REQUEST');
      expectNothingForwarded(before);
      await expectHealthy(gateways.keep, before, sentinel);
    });
  });
});

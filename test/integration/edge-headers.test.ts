/**
 * headers: request changes reach the upstream (set replaces, add keeps, remove drops), response
 * changes reach the client, the gateway's own 429 included; a server default that routes
 * inherit or turn off.
 */
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { get } from '../helpers/http';

describe('headers', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      req.resume();
      const body = JSON.stringify(req.headers);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-internal-trace': 'node-7',
        'cache-control': 'no-cache',
        'set-cookie': 'session=1',
      });
      res.end(body);
    });
    gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  overload: { maxEventLoopDelay: 0 }   # a cold jest worker lags at start; shedding is not under test
  headers: { response: { set: { x-gateway: breakwater } } }
upstreams:
  app: { targets: ["${up.url}"] }
routes:
  - name: edited
    match: { pathPrefix: /edited }
    upstream: app
    rateLimit: { key: ip, limit: 1, window: 1m }
    headers:
      request:
        set: { x-env: prod }
        add: { x-tag: gateway }
        remove: [x-debug, Cookie]
      response:
        set: { cache-control: "public, max-age=60" }
        add: { set-cookie: "via=bw", x-served-by: breakwater }
        remove: [X-Internal-Trace]
  - name: inherited
    match: { pathPrefix: /inherited }
    upstream: app
  - name: off
    match: { pathPrefix: /off }
    upstream: app
    headers: false
`);
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('changes what the upstream sees and what the client gets', async () => {
    const res = await get(`${gw.url}/edited/a`, {
      'x-env': 'dev',
      'x-tag': 'client',
      'x-debug': '1',
      cookie: 'secret=1',
    });
    expect(res.status).toBe(200);
    const seen = res.json<Record<string, string>>();
    expect(seen['x-env']).toBe('prod');
    expect(seen['x-tag']).toBe('client, gateway');
    expect(seen['x-debug']).toBeUndefined();
    expect(seen.cookie).toBeUndefined();
    // The gateway's own headers are still there.
    expect(seen['x-request-id']).toBe(res.headers['x-request-id']);
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    expect(res.headers['set-cookie']).toEqual(['session=1', 'via=bw']);
    expect(res.headers['x-served-by']).toBe('breakwater');
    expect(res.headers['x-internal-trace']).toBeUndefined();
  });

  it("applies the response changes to the gateway's own answers", async () => {
    const refused = await get(`${gw.url}/edited/a`);
    expect(refused.status).toBe(429);
    expect(refused.headers['x-served-by']).toBe('breakwater');
  });

  it('inherits the server default, unless the route turns it off', async () => {
    const inherited = await get(`${gw.url}/inherited`);
    expect(inherited.headers['x-gateway']).toBe('breakwater');
    expect(inherited.headers['x-internal-trace']).toBe('node-7');
    const off = await get(`${gw.url}/off`);
    expect(off.headers['x-gateway']).toBeUndefined();
  });
});

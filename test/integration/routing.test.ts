/**
 * Route matching, first-match order, rewrites and the Host header, end to end through the
 * real gateway to real upstreams.
 */
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { get } from '../helpers/http';

describe('routing', () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let c: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    [a, b, c] = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
    gw = await startGateway(`
upstreams:
  a: { targets: ["${a.url}"] }
  b: { targets: ["${b.url}"] }
  c: { targets: ["${c.url}"] }
routes:
  - name: exact-health
    match: { path: /health }
    upstream: c
  - name: tenant
    match: { pathPrefix: /users, headers: { x-tenant: acme } }
    upstream: c
  - name: users
    match: { pathPrefix: /users, methods: [GET, POST] }
    upstream: a
    rewrite: { stripPrefix: /users, addPrefix: /v1/people }
  - name: api-host
    match: { host: api.example.com }
    upstream: b
    hostHeader: target
  - name: wildcard-host
    match: { host: "*.tenants.example.com", pathPrefix: / }
    upstream: c
    hostHeader: internal.example
  - name: dl
    match: { pathPrefix: /dl/ }
    upstream: b
`);
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  async function route(path: string, headers: Record<string, string> = {}, method = 'GET') {
    const res = await get(gw.url + path, headers, method);
    const line = gw.accessLines().find((l) => l.reqId === res.headers['x-request-id']);
    return { status: res.status, route: line?.route, body: res.status === 200 ? res.json() : res.json() };
  }

  it.each([
    ['/health', {}, 'GET', 'exact-health'],
    ['/users', { 'x-tenant': 'acme' }, 'GET', 'tenant'],
    ['/users/7', {}, 'GET', 'users'],
    ['/users', {}, 'POST', 'users'],
    ['/anything', { host: 'api.example.com:8080' }, 'GET', 'api-host'],
    ['/anything', { host: 'API.Example.COM' }, 'GET', 'api-host'],
    ['/x', { host: 'one.tenants.example.com' }, 'GET', 'wildcard-host'],
    ['/x', { host: 'a.b.tenants.example.com' }, 'GET', 'wildcard-host'],
    ['/dl', {}, 'GET', 'dl'],
    ['/dl/file.zip', {}, 'GET', 'dl'],
  ])('%s %j %s → %s', async (path, headers, method, expected) => {
    expect((await route(path, headers, method)).route).toBe(expected);
  });

  it.each([
    ['/usersX', {}, 'GET'],
    ['/health/deep', {}, 'GET'],
    ['/users/7', {}, 'DELETE'],
    ['/x', { host: 'tenants.example.com' }, 'GET'],
    ['/dlx', {}, 'GET'],
  ])('%s %j %s → 404 NO_ROUTE', async (path, headers, method) => {
    const res = await get(gw.url + path, headers, method);
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'NO_ROUTE', message: expect.any(String), requestId: res.headers['x-request-id'] },
    });
    expect(gw.accessLines().find((l) => l.reqId === res.headers['x-request-id'])?.route).toBe('_unmatched');
  });

  it('rewrites the path: strip then add, query kept', async () => {
    const res = await get(`${gw.url}/users/7/orders?limit=2&q=%20x`);
    expect(res.json().url).toBe('/v1/people/7/orders?limit=2&q=%20x');
    const root = await get(`${gw.url}/users`);
    expect(root.json().url).toBe('/v1/people');
  });

  it('normalises the path before matching and forwarding', async () => {
    const before = c.hits;
    const res = await get(`${gw.url}/dl/%2e%2e/users//7/./x`);
    expect(res.json().url).toBe('/v1/people/7/x');
    expect(c.hits).toBe(before);
  });

  it('hostHeader: preserve (default), target and a literal value', async () => {
    const preserved = await get(`${gw.url}/users/1`, { host: 'client.example:81' });
    expect(preserved.json<{ headers: Record<string, string> }>().headers.host).toBe('client.example:81');
    const target = await get(`${gw.url}/`, { host: 'api.example.com' });
    expect(target.json<{ headers: Record<string, string> }>().headers.host).toBe(`127.0.0.1:${b.port}`);
    const literal = await get(`${gw.url}/`, { host: 'x.tenants.example.com' });
    expect(literal.json<{ headers: Record<string, string> }>().headers.host).toBe('internal.example');
  });
});

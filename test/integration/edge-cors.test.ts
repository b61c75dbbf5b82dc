/**
 * cors: preflights answered at the gateway (the upstream never sees them, even on a route whose
 * methods lack OPTIONS), allowed / disallowed / wildcard origins, credentials, Vary merged with
 * the upstream's, CORS headers on the gateway's 429 and, from the server default, on its 404.
 */
import { startGateway, type TestGateway } from '../helpers/gateway';
import { echo, respond, startUpstream, type TestUpstream } from '../helpers/upstream';
import { get } from '../helpers/http';

const APP = 'https://app.example.com';

describe('cors', () => {
  let up: TestUpstream;
  let varying: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    [up, varying] = await Promise.all([
      startUpstream(echo()),
      startUpstream(respond(200, 'v', { vary: 'Accept-Encoding', 'access-control-allow-origin': '*' })),
    ]);
    gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  overload: { maxEventLoopDelay: 0 }   # a cold jest worker lags at start; shedding is not under test
  cors: { origins: ["${APP}"] }
upstreams:
  app: { targets: ["${up.url}"] }
  varying: { targets: ["${varying.url}"] }
routes:
  - name: api
    match: { pathPrefix: /api, methods: [GET, POST] }
    upstream: app
    cors:
      origins: ["${APP}", "https://*.example.com"]
      methods: [GET, POST]
      headers: [content-type, x-api-key]
      exposeHeaders: [x-request-id]
      credentials: true
      maxAge: 10m
  - name: limited
    match: { pathPrefix: /limited }
    upstream: app
    rateLimit: { key: ip, limit: 1, window: 1m }
  - name: any
    match: { pathPrefix: /any }
    upstream: app
    cors: { origins: ["*"] }
  - name: varying
    match: { pathPrefix: /varying }
    upstream: varying
  - name: nocors
    match: { pathPrefix: /nocors }
    upstream: app
    cors: false
`);
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([up.close(), varying.close()]);
  });

  const preflight = (path: string, origin: string, method = 'POST', extra: Record<string, string> = {}) =>
    get(`${gw.url}${path}`, { origin, 'access-control-request-method': method, ...extra }, 'OPTIONS');

  it('answers a preflight at the gateway, with zero upstream hits, on a route without OPTIONS', async () => {
    const hits = up.hits;
    const res = await preflight('/api/users', APP, 'POST', {
      'access-control-request-headers': 'content-type',
    });
    expect(res.status).toBe(204);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'content-type, x-api-key',
      'access-control-max-age': '600',
      vary: 'Origin',
    });
    expect(res.text).toBe('');
    expect(up.hits).toBe(hits);
    const line = gw.accessLines().find((l) => l.reqId === res.headers['x-request-id']);
    expect(line).toMatchObject({ route: 'api', status: 204, reason: 'cors_preflight' });
  });

  it('answers a preflight from a disallowed origin without any CORS header', async () => {
    const hits = up.hits;
    const res = await preflight('/api/users', 'https://evil.test');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-methods']).toBeUndefined();
    expect(up.hits).toBe(hits);
  });

  it.each([
    [APP, true],
    ['https://admin.example.com', true],
    ['https://a.b.example.com', true],
    ['https://example.com', false],
    ['https://example.com.evil.test', false],
    ['http://admin.example.com', false],
  ])('echoes %s only when allowed (%s)', async (origin, allowed) => {
    const res = await get(`${gw.url}/api/users`, { origin });
    expect(res.status).toBe(200);
    expect(res.headers.vary).toBe('Origin');
    if (allowed) {
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-expose-headers']).toBe('x-request-id');
    } else {
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('sends Vary: Origin even without Origin, so shared caches keep the answers apart', async () => {
    const res = await get(`${gw.url}/api/users`);
    expect(res.headers.vary).toBe('Origin');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers * for any origin when origins lists *', async () => {
    const res = await get(`${gw.url}/any/x`, { origin: 'https://whoever.test' });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers.vary).toBeUndefined();
    const pre = await preflight('/any/x', 'https://whoever.test', 'DELETE');
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(pre.headers['access-control-allow-methods']).toBe('GET, HEAD, PUT, PATCH, POST, DELETE');
  });

  it("merges Vary with the upstream's and replaces its own CORS headers", async () => {
    const allowed = await get(`${gw.url}/varying`, { origin: APP });
    expect(allowed.headers.vary).toBe('Accept-Encoding, Origin');
    expect(allowed.headers['access-control-allow-origin']).toBe(APP);
    const other = await get(`${gw.url}/varying`, { origin: 'https://evil.test' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it("puts CORS headers on the gateway's 429, so the page can read it", async () => {
    await get(`${gw.url}/limited/a`, { origin: APP });
    const refused = await get(`${gw.url}/limited/a`, { origin: APP });
    expect(refused.status).toBe(429);
    expect(refused.headers['access-control-allow-origin']).toBe(APP);
    expect(refused.headers.vary).toBe('Origin');
    // The preflight is answered outside the limit: it is neither counted nor refused.
    expect((await preflight('/limited/a', APP, 'GET')).status).toBe(204);
  });

  it('puts the server default on a 404 before any route matched', async () => {
    const res = await get(`${gw.url}/nowhere`, { origin: APP });
    expect(res.status).toBe(404);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers.vary).toBe('Origin');
    const pre = await preflight('/nowhere', APP);
    expect(pre.status).toBe(404);
  });

  it('leaves a route with cors: false alone: OPTIONS goes upstream, no CORS headers', async () => {
    const hits = up.hits;
    const res = await preflight('/nocors/x', APP);
    expect(res.status).toBe(200);
    expect(res.json<{ method: string }>().method).toBe('OPTIONS');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(up.hits).toBe(hits + 1);
  });
});

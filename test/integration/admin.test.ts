/**
 * The admin API in one process: bearer auth (401 + WWW-Authenticate, probes stay open), POST-only
 * mutations, every action's effect on real traffic (breakers forced open and reset, per route or
 * per upstream; target drain; cache purge), the reads (config redacted, routes, stats, OpenAPI,
 * dashboard data) and the state-change log lines of breakers, outlier detection and health checks.
 */
import type { Behaviour, TestUpstream } from '../helpers/upstream';
import { startUpstream } from '../helpers/upstream';
import { get } from '../helpers/http';
import {
  adminClient,
  enc,
  listeners,
  startFileGateway,
  type AdminClient,
  type FileGateway,
} from '../helpers/admin';
import { waitFor } from '../helpers/wait';

const TOKEN = 'test-admin-token';

/** Answers with its name and a status the test can change. */
function named(name: string, state: { status: number }): Behaviour {
  return (req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ name, url: req.url });
      res.writeHead(state.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  };
}

describe('admin API (one process)', () => {
  const aState = { status: 200 };
  const bState = { status: 200 };
  const flakyState = { status: 200 };
  const probedState = { status: 200 };
  let a: TestUpstream, b: TestUpstream, flaky: TestUpstream, probed: TestUpstream;
  let gw: FileGateway;
  let admin: AdminClient;

  beforeAll(async () => {
    [a, b, flaky, probed] = await Promise.all([
      startUpstream(named('a', aState)),
      startUpstream(named('b', bState)),
      startUpstream(named('flaky', flakyState)),
      startUpstream(named('probed', probedState)),
    ]);
    gw = await startFileGateway(`${listeners(TOKEN)}
upstreams:
  api:
    targets: ["${a.url}", "${b.url}"]
    circuitBreaker: { volumeThreshold: 100, resetTimeout: 200ms }
  flaky:
    targets: ["${flaky.url}"]
    outlierDetection: { consecutiveFailures: 2, ejectFor: 300ms, maxEjectedPercent: 100 }
    critical: false
  probed:
    targets: ["${probed.url}"]
    healthCheck: { path: /healthz, interval: 50ms, timeout: 500ms, healthyThreshold: 1, unhealthyThreshold: 1 }
    critical: false
routes:
  - { name: users, match: { pathPrefix: /users }, upstream: api }
  - { name: orders, match: { pathPrefix: /orders }, upstream: api }
  - { name: cached, match: { pathPrefix: /cached }, upstream: api, cache: { ttl: 30s } }
  - { name: flaky, match: { pathPrefix: /flaky }, upstream: flaky }
  - { name: probed, match: { pathPrefix: /probed }, upstream: probed }
`);
    admin = adminClient(gw.adminUrl, TOKEN);
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([a, b, flaky, probed].map((u) => u.close()));
  });

  describe('auth and methods', () => {
    it.each(['/admin/config', '/admin/stats', '/admin/dashboard.json', '/admin/openapi.json', '/admin/nope'])(
      'GET %s needs the bearer token',
      async (path) => {
        const attempts: Record<string, string>[] = [
          {},
          { authorization: 'Bearer wrong' },
          { authorization: TOKEN },
        ];
        for (const headers of attempts) {
          const res = await get(`${gw.adminUrl}${path}`, headers);
          expect(res.status).toBe(401);
          expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
          expect(res.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
        }
      },
    );

    it('refuses mutations without the token and changes nothing', async () => {
      const res = await get(`${gw.adminUrl}/admin/breakers/api/open`, {}, 'POST');
      expect(res.status).toBe(401);
      expect((await get(`${gw.url}/users/1`)).status).toBe(200);
    });

    it.each(['/metrics', '/health', '/health/live', '/health/ready', '/'])('%s stays open', async (path) => {
      expect((await get(`${gw.adminUrl}${path}`)).status).toBe(200);
    });

    it('answers 405 with Allow for the wrong method, 404 for an unknown path', async () => {
      const getReload = await admin.get('/admin/reload');
      expect(getReload.status).toBe(405);
      expect(getReload.headers.allow).toBe('POST');
      const postConfig = await admin.post('/admin/config');
      expect(postConfig.status).toBe(405);
      expect(postConfig.headers.allow).toBe('GET, HEAD');
      expect((await admin.get('/admin/breakers/api/open')).status).toBe(405);
      expect((await admin.get('/admin/nope')).status).toBe(404);
    });

    it('refuses a cross-site browser POST even with the token', async () => {
      const res = await get(
        `${gw.adminUrl}/admin/cache/purge`,
        { authorization: `Bearer ${TOKEN}`, origin: 'https://evil.example' },
        'POST',
      );
      expect(res.status).toBe(403);
    });
  });

  describe('breakers', () => {
    afterEach(async () => {
      await admin.post('/admin/breakers/api/reset');
    });

    it("forces one route's breaker open until reset, and logs both changes", async () => {
      const opened = await admin.post('/admin/breakers/api/open?route=users');
      expect(opened.status).toBe(200);
      expect(opened.json()).toEqual({ upstream: 'api', route: 'users', breakers: ['users'], state: 'open' });
      const refused = await get(`${gw.url}/users/1`);
      expect(refused.status).toBe(503);
      expect(refused.json()).toMatchObject({ error: { code: 'CIRCUIT_OPEN' } });
      expect((await get(`${gw.url}/orders/1`)).status).toBe(200);
      const health = (await get(`${gw.adminUrl}/health`)).json<{
        upstreams: Record<string, { breakers: object }>;
      }>();
      expect(health.upstreams.api!.breakers).toMatchObject({ users: 'open', orders: 'closed' });
      expect(gw.linesWith('circuit breaker opened').at(-1)).toMatchObject({
        level: 'warn',
        upstream: 'api',
        route: 'users',
      });

      // Held open well past resetTimeout (200 ms): no half-open trial reaches the upstream.
      const hits = a.hits + b.hits;
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect((await get(`${gw.url}/users/2`)).status).toBe(503);
      expect(a.hits + b.hits).toBe(hits);
      expect(gw.linesWith('circuit breaker half-open; letting a trial request through')).toHaveLength(0);

      const reset = await admin.post('/admin/breakers/api/reset?route=users');
      expect(reset.json()).toMatchObject({ breakers: ['users'], state: 'closed' });
      expect((await get(`${gw.url}/users/3`)).status).toBe(200);
      expect(gw.linesWith('circuit breaker closed').at(-1)).toMatchObject({ level: 'info', route: 'users' });
    });

    it('opens and resets every breaker of an upstream', async () => {
      const opened = (await admin.post('/admin/breakers/api/open')).json<{ breakers: string[] }>();
      expect(opened.breakers.sort()).toEqual(['cached', 'orders', 'users']);
      for (const path of ['/users/1', '/orders/1']) expect((await get(`${gw.url}${path}`)).status).toBe(503);
      await admin.post('/admin/breakers/api/reset');
      for (const path of ['/users/1', '/orders/1']) expect((await get(`${gw.url}${path}`)).status).toBe(200);
    });

    it.each([
      ['/admin/breakers/nope/open', 'No upstream named "nope"'],
      ['/admin/breakers/api/open?route=nope', 'No route named "nope"'],
      ['/admin/breakers/api/reset?route=flaky', 'Route "flaky" does not use upstream "api"'],
      ['/admin/breakers/flaky/open', 'No circuit breaker on upstream "flaky"'],
    ])('POST %s is 404', async (path, message) => {
      const res = await admin.post(path);
      expect(res.status).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message } });
    });
  });

  it('drains a target (no new requests) and undrains it', async () => {
    const drained = await admin.post(`/admin/upstreams/api/targets/${enc(a.url)}/drain`);
    expect(drained.status).toBe(200);
    expect(drained.json()).toMatchObject({ upstream: 'api', target: a.url, draining: true });
    await waitFor(() => gw.linesWith('target drain finished').length > 0, 'the drain to finish');
    const [aBefore, bBefore] = [a.hits, b.hits];
    for (let i = 0; i < 10; i++) expect((await get(`${gw.url}/users/${i}`)).status).toBe(200);
    expect(a.hits).toBe(aBefore);
    expect(b.hits).toBe(bBefore + 10);
    const health = (await get(`${gw.adminUrl}/health`)).json<{
      upstreams: Record<string, { targets: Array<{ url: string; draining: boolean }> }>;
    }>();
    expect(health.upstreams.api!.targets.find((t) => t.url === a.url)!.draining).toBe(true);
    expect(gw.linesWith('target drain started').at(-1)).toMatchObject({ level: 'warn', target: a.url });

    expect((await admin.post(`/admin/upstreams/api/targets/${enc(a.url)}/undrain`)).json()).toMatchObject({
      draining: false,
    });
    for (let i = 0; i < 10; i++) await get(`${gw.url}/users/${i}`);
    expect(a.hits).toBeGreaterThan(aBefore);
    expect((await admin.post(`/admin/upstreams/api/targets/${enc('http://10.9.9.9:1')}/drain`)).status).toBe(
      404,
    );
  });

  it('purges the cache of one route or all', async () => {
    await get(`${gw.url}/cached/x`);
    expect((await get(`${gw.url}/cached/x`)).headers['cache-status']).toMatch(/hit/);
    const purged = await admin.post('/admin/cache/purge?route=cached');
    expect(purged.json()).toEqual({ route: 'cached', purged: 1 });
    expect((await get(`${gw.url}/cached/x`)).headers['cache-status']).toMatch(/fwd=miss/);
    expect((await admin.post('/admin/cache/purge')).json()).toEqual({ route: null, purged: 1 });
    expect((await admin.post('/admin/cache/purge?route=nope')).status).toBe(404);
  });

  it('logs outlier ejection (warn) and restoration (info)', async () => {
    flakyState.status = 500;
    for (let i = 0; i < 2; i++) await get(`${gw.url}/flaky/${i}`);
    flakyState.status = 200;
    await waitFor(() => gw.linesWith('target ejected').length > 0, 'the ejection line');
    expect(gw.linesWith('target ejected')[0]).toMatchObject({
      level: 'warn',
      upstream: 'flaky',
      target: flaky.url,
      reason: 'ejected: 2 consecutive failures',
    });
    await waitFor(() => gw.linesWith('target restored after ejection').length > 0, 'the restore line');
    expect(gw.linesWith('target restored after ejection')[0]).toMatchObject({
      level: 'info',
      upstream: 'flaky',
    });
  });

  it('logs a health check flipping to unhealthy (warn, with reason) and back (info)', async () => {
    probedState.status = 503;
    await waitFor(() => gw.linesWith('health check: target unhealthy').length > 0, 'the unhealthy line');
    expect(gw.linesWith('health check: target unhealthy')[0]).toMatchObject({
      level: 'warn',
      upstream: 'probed',
      target: probed.url,
      reason: 'health check: status 503',
    });
    probedState.status = 200;
    await waitFor(() => gw.linesWith('health check: target healthy').length > 0, 'the healthy line');
  });

  it('shows per-route stats, most failing first', async () => {
    flakyState.status = 500;
    for (let i = 0; i < 3; i++) await get(`${gw.url}/flaky/s${i}`);
    flakyState.status = 200;
    for (let i = 0; i < 5; i++) await get(`${gw.url}/orders/${i}`);
    const stats = (await admin.get('/admin/stats')).json<{
      routes: Array<{
        route: string;
        windows: Record<string, { requests: number; errorRate: number; p50Ms: number }>;
      }>;
      mostFailing: string[];
    }>();
    expect(stats.routes.map((r) => r.route).sort()).toEqual(['cached', 'flaky', 'orders', 'probed', 'users']);
    expect(stats.routes[0]!.route).toBe('flaky');
    expect(stats.mostFailing[0]).toBe('flaky');
    const orders = stats.routes.find((r) => r.route === 'orders')!.windows['1m']!;
    expect(orders.requests).toBeGreaterThanOrEqual(5);
    expect(orders.p50Ms).toBeGreaterThan(0);
  });

  it('shows the config with the token redacted, the routes with their chains, and OpenAPI', async () => {
    const config = (await admin.get('/admin/config')).json<{
      server: { admin: { token: string } };
      routes: unknown[];
    }>();
    expect(config.server.admin.token).toBe('[redacted]');
    expect(JSON.stringify(config)).not.toContain(TOKEN);
    expect(config.routes).toHaveLength(5);
    const routes = (await admin.get('/admin/routes')).json<{
      routes: Array<{ name: string; chain: string[] }>;
    }>();
    expect(routes.routes.map((r) => r.name)).toEqual(['users', 'orders', 'cached', 'flaky', 'probed']);
    expect(routes.routes[0]!.chain).toContain('circuit-breaker');
    expect(routes.routes[0]!.chain.at(-1)).toBe('forward');
    expect(routes.routes[2]!.chain).toContain('cache');
    const openapi = (await admin.get('/admin/openapi.json')).json<{ openapi: string; paths: object }>();
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toContain('/admin/upstreams/{upstream}/targets/{url}/drain');
  });

  it('serves the dashboard page and its data', async () => {
    const page = await get(`${gw.adminUrl}/`);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(Buffer.byteLength(page.text)).toBeLessThan(40 * 1024);
    expect(page.text).not.toMatch(/(src|href)=["']?https?:/);
    const data = (await admin.get('/admin/dashboard.json')).json();
    expect(Object.keys(data).sort()).toEqual(['generatedAt', 'health', 'reloads', 'routes', 'stats']);
  });
});

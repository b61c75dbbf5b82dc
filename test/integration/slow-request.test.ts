/**
 * `slowRequest` (server default, route override, 0 = off): a request at or over the threshold is
 * logged at warn with `slow: true`, counted in breakwater_slow_requests_total{route} and in the
 * route's `slow` count of /admin/stats; faster requests stay at info without the field.
 */
import { startGateway, type TestGateway } from '../helpers/gateway';
import { delay, respond, startUpstream, type TestUpstream } from '../helpers/upstream';
import { get } from '../helpers/http';
import { waitFor } from '../helpers/wait';

/** The upstream's `/slow` path answers after this long; every other path at once. */
const SLOW_MS = 300;

describe('slowRequest', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    const slow = delay(SLOW_MS, respond(200, 'late'));
    const fast = respond(200, 'ok');
    up = await startUpstream((req, res, hit) =>
      req.url!.endsWith('/slow') ? slow(req, res, hit) : fast(req, res, hit),
    );
    gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  slowRequest: 100ms
upstreams:
  app: { targets: ["${up.url}"] }
routes:
  - { name: quiet, match: { pathPrefix: /quiet }, upstream: app, slowRequest: 0 }
  - { name: strict, match: { pathPrefix: /strict }, upstream: app, slowRequest: 10s }
  - { name: api, match: { pathPrefix: /api }, upstream: app }
`);
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  const lineOf = (reqId: unknown) => gw.accessLines().find((l) => l.reqId === reqId);

  it('logs a request over the server threshold at warn with slow: true', async () => {
    const res = await get(`${gw.url}/api/slow`);
    expect(res.status).toBe(200);
    await waitFor(() => lineOf(res.headers['x-request-id']) !== undefined, 'the access line');
    const line = lineOf(res.headers['x-request-id'])!;
    expect(line).toMatchObject({ level: 'warn', route: 'api', status: 200, slow: true });
    expect(line.duration_ms as number).toBeGreaterThanOrEqual(100);
  });

  it('keeps a fast request at info without the field', async () => {
    const res = await get(`${gw.url}/api/fast`);
    await waitFor(() => lineOf(res.headers['x-request-id']) !== undefined, 'the access line');
    const line = lineOf(res.headers['x-request-id'])!;
    expect(line.level).toBe('info');
    expect(line).not.toHaveProperty('slow');
  });

  it('lets a route raise the threshold or turn it off with 0', async () => {
    const strict = await get(`${gw.url}/strict/slow`);
    const quiet = await get(`${gw.url}/quiet/slow`);
    await waitFor(
      () =>
        lineOf(strict.headers['x-request-id']) !== undefined &&
        lineOf(quiet.headers['x-request-id']) !== undefined,
      'both access lines',
    );
    for (const res of [strict, quiet]) {
      const line = lineOf(res.headers['x-request-id'])!;
      expect(line.level).toBe('info');
      expect(line).not.toHaveProperty('slow');
    }
  });

  it('counts slow requests per route in /metrics and /admin/stats', async () => {
    const metrics = await get(`${gw.adminUrl}/metrics`);
    expect(metrics.text).toMatch(/^breakwater_slow_requests_total\{route="api"\} 1$/m);
    expect(metrics.text).not.toMatch(/breakwater_slow_requests_total\{route="(quiet|strict)"\}/);
    const stats = (await get(`${gw.adminUrl}/admin/stats`)).json<{
      routes: { route: string; windows: Record<string, { slow: number; requests: number }> }[];
    }>();
    const byRoute = Object.fromEntries(stats.routes.map((r) => [r.route, r.windows['1m']!]));
    expect(byRoute.api).toMatchObject({ slow: 1, requests: 2 });
    expect(byRoute.quiet!.slow).toBe(0);
    expect(byRoute.strict!.slow).toBe(0);
  });
});

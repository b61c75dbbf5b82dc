/**
 * Recipe 5: the social marketing platform (Express + Prisma + Redis, calling the X API and an LLM
 * API) behind breakwater, configured by the shipped config/examples/social-marketing.yaml (only
 * addresses, the admin token and the two timeouts a test cannot wait for come from the
 * environment). One `it` per item of hand-built hardening the app no longer has
 * (docs/recipes/social-marketing.md), each proven against the stand-ins
 * (test/backends/social-marketing.ts) and the real gateway.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load';
import type { StatsReport } from '../../src/observability/stats';
import { startSocialMarketingBackend, type SocialMarketingBackend } from '../backends/social-marketing';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { refusedPort } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';
import { call, seriesValue, type Answer } from './recipe-helpers';

const ROOT = join(__dirname, '..', '..');
const FILE = join(ROOT, 'config', 'examples', 'social-marketing.yaml');
const EXAMPLE = readFileSync(FILE, 'utf8');
const ALERTS = join(ROOT, 'deploy', 'prometheus', 'alerts.yml');
const TOKEN = 'recipe-admin-token';
const auth = { authorization: `Bearer ${TOKEN}` };

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
const inCI = process.env.CI === 'true';

const json = { 'content-type': 'application/json' };
const completion = JSON.stringify({
  model: 'gpt',
  messages: [{ role: 'user', content: 'A tweet about our launch' }],
});

type BreakerStates = Record<string, Record<string, string>>;

describe('recipe: social marketing platform (Express + Prisma + Redis + X API + LLM) behind config/examples/social-marketing.yaml', () => {
  let backend: SocialMarketingBackend;
  let gw: TestGateway | undefined;

  beforeEach(async () => {
    backend = await startSocialMarketingBackend();
  });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    await backend.close();
  });

  const boot = async (extra: NodeJS.ProcessEnv = {}) => {
    await gw?.close();
    gw = await startGateway(EXAMPLE, {
      BREAKWATER_LISTEN: '127.0.0.1:0',
      BREAKWATER_ADMIN_LISTEN: '127.0.0.1:0',
      BREAKWATER_ADMIN_TOKEN: TOKEN,
      ...backend.env,
      ...extra,
    });
    return gw;
  };
  const admin = (path: string, method = 'GET') => call(`${gw!.adminUrl}${path}`, { method, headers: auth });
  const breakers = async (): Promise<BreakerStates> => {
    const health = (await call(`${gw!.adminUrl}/health`)).json<{
      upstreams: Record<string, { breakers: Record<string, string> }>;
    }>();
    return Object.fromEntries(Object.entries(health.upstreams).map(([name, u]) => [name, u.breakers]));
  };
  // One request per dependency, as the app's clients and the app itself make them.
  const requests = {
    db: () => call(`${gw!.url}/api/posts`, { method: 'POST', headers: json, body: '{"text":"hello"}' }),
    redis: () => call(`${gw!.url}/api/scheduled`),
    'x-api': () =>
      call(`${gw!.url}/x/2/users/42/mentions`, { headers: { authorization: 'Bearer x-app-token' } }),
    llm: () =>
      call(`${gw!.url}/llm/v1/chat/completions`, { method: 'POST', headers: json, body: completion }),
  };
  type Dependency = keyof typeof requests;

  it('a breaker per dependency: DB 3 failures / 30 s, Redis 5 / 15 s, X API 5 / 60 s, LLM 3 / 60 s, each opening alone', async () => {
    const cases: Array<{
      dep: Dependency;
      fail: () => void;
      heal: () => void;
      hits: () => number;
      failures: number;
      openFor: number;
    }> = [
      {
        dep: 'db',
        fail: () => (backend.app.switches.dbDown = true),
        heal: () => (backend.app.switches.dbDown = false),
        hits: () => backend.app.hitsOf('POST /api/posts'),
        failures: 3,
        openFor: 30,
      },
      {
        dep: 'redis',
        fail: () => (backend.app.switches.redisDown = true),
        heal: () => (backend.app.switches.redisDown = false),
        hits: () => backend.app.hitsOf('GET /api/scheduled'),
        failures: 5,
        openFor: 15,
      },
      {
        // Retries call through the breaker: 3 tries of the first request and 2 of the second
        // are its 5 failures, and the open breaker stops the second request's third try.
        dep: 'x-api',
        fail: () => (backend.x.switches.status = 503),
        heal: () => (backend.x.switches.status = 0),
        hits: () => backend.x.seen.length,
        failures: 5,
        openFor: 60,
      },
      {
        dep: 'llm',
        fail: () => (backend.llm.switches.status = 500),
        heal: () => (backend.llm.switches.status = 0),
        hits: () => backend.llm.seen.length,
        failures: 3,
        openFor: 60,
      },
    ];
    // As shipped: one breaker per upstream (scope upstream), its count over its own window.
    const shipped = loadConfig(FILE, {}).upstreams;
    for (const { dep, failures, openFor } of cases)
      expect({ dep, ...shipped[dep]!.circuitBreaker }).toEqual({
        dep,
        scope: 'upstream',
        errorThresholdPercentage: 50,
        volumeThreshold: failures,
        windowMs: openFor * 1000,
        resetTimeoutMs: openFor * 1000,
      });
    for (const { dep, fail, heal, hits, failures, openFor } of cases) {
      await boot();
      const before = hits();
      fail();
      // Fail until the breaker refuses: it must take exactly `failures` upstream failures.
      let refused: Answer | undefined;
      for (let i = 0; i < failures + 1 && !refused; i++) {
        const res = await requests[dep]();
        expect(res.status).toBeGreaterThanOrEqual(500);
        if (res.status === 503 && res.json<{ error: { code: string } }>().error.code === 'CIRCUIT_OPEN')
          refused = res;
      }
      expect({ dep, failures: hits() - before }).toEqual({ dep, failures });
      expect(refused).toBeDefined();
      // Open for the dependency's own time: Retry-After counts down to the half-open trial.
      const retryAfter = Number(refused!.headers['retry-after']);
      expect(retryAfter).toBeLessThanOrEqual(openFor);
      expect(retryAfter).toBeGreaterThan(openFor - 10);
      // Still open for the next request, which never reaches the dependency.
      expect((await requests[dep]()).status).toBe(503);
      expect(hits() - before).toBe(failures);
      // Only that dependency's breaker: the others stay closed and their calls are answered.
      heal();
      const states = await breakers();
      for (const other of Object.keys(requests) as Dependency[]) {
        expect({ other, state: states[other]!['*'] }).toEqual({
          other,
          state: other === dep ? 'open' : 'closed',
        });
        if (other !== dep)
          expect({ other, status: (await requests[other]()).status }).toEqual({
            other,
            status: other === 'db' ? 201 : 200,
          });
      }
      const metrics = (await call(`${gw!.adminUrl}/metrics`)).text;
      expect(seriesValue(metrics, 'breakwater_circuit_state', `upstream="${dep}",route="*"`)).toBe(2);
      await gw!.close();
      gw = undefined;
    }
  });

  it('per-operation timeouts with retries: X API 10 s per try (3 tries), LLM 60 s, everything else 30 s', async () => {
    // The numbers as shipped (an empty environment): what the app's timeouts were.
    const shipped = loadConfig(FILE, {});
    const route = (name: string) => shipped.routes.find((r) => r.name === name)!;
    expect(route('x-api').retry).toMatchObject({ attempts: 3, perTryTimeoutMs: 10_000 });
    expect(route('x-api').timeoutMs).toBe(30_000);
    expect(route('llm').timeoutMs).toBe(60_000);
    expect(route('llm').retry).toMatchObject({ attempts: 2, methods: ['POST'] });
    for (const name of ['posts', 'analytics', 'trending', 'scheduled', 'app'])
      expect(route(name).timeoutMs).toBe(30_000);

    // Behaviour, with the two long durations shortened through their variables.
    await boot({ X_API_TIMEOUT: '300ms', LLM_TIMEOUT: '1s' });
    const table = (await admin('/admin/routes')).json<{
      routes: Array<{ name: string; timeoutMs: number }>;
    }>();
    expect(Object.fromEntries(table.routes.map((r) => [r.name, r.timeoutMs]))).toEqual({
      posts: 30_000,
      analytics: 30_000,
      trending: 30_000,
      scheduled: 30_000,
      'x-api': 30_000,
      llm: 1_000,
      app: 30_000,
    });

    // X API: a try that hangs is given up after its per-try timeout and retried.
    backend.x.switches.hangNext = 1;
    const retried = await requests['x-api']();
    expect(retried.status).toBe(200);
    expect(backend.x.seen.length).toBe(2);
    // Every try hangs: three tries, then 504 UPSTREAM_TIMEOUT, well before the 30 s deadline.
    backend.x.switches.hang = true;
    let started = Date.now();
    const timedOut = await requests['x-api']();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(timedOut.status).toBe(504);
    expect(timedOut.json<{ error: { code: string } }>().error.code).toBe('UPSTREAM_TIMEOUT');
    expect(backend.x.seen.length).toBe(5);

    // LLM: the route's deadline (60 s shipped, 1 s here) ends a completion that hangs.
    backend.llm.switches.hang = true;
    started = Date.now();
    const llmTimeout = await requests.llm();
    const took = Date.now() - started;
    expect(llmTimeout.status).toBe(504);
    expect(llmTimeout.json<{ error: { code: string } }>().error.code).toBe('UPSTREAM_TIMEOUT');
    expect(took).toBeGreaterThanOrEqual(950);
    expect(took).toBeLessThan(3_000);
    expect(backend.llm.seen.length).toBe(1);
    // A completion the provider refuses with 503 is retried once (POST, on 503).
    backend.llm.switches.hang = false;
    backend.llm.switches.failNext = 1;
    const completed = await requests.llm();
    expect(completed.status).toBe(200);
    expect(backend.llm.seen.length).toBe(3);

    await waitFor(() => gw!.accessLines().length >= 4, 'the access lines');
    const lines = gw!.accessLines();
    expect(lines[0]).toMatchObject({ route: 'x-api', status: 200, attempts: 2 });
    expect(lines[1]).toMatchObject({ route: 'x-api', status: 504, attempts: 3 });
    expect(lines[2]).toMatchObject({ route: 'llm', status: 504, attempts: 1, reason: 'upstream_timeout' });
    expect(lines[3]).toMatchObject({ route: 'llm', status: 200, attempts: 2 });
  });

  it('degradation to cached data when a dependency fails: stale-if-error, then a static fallback', async () => {
    await boot();
    const fresh = await call(`${gw!.url}/api/posts`);
    expect(fresh.status).toBe(200);
    expect(fresh.headers['cache-status']).toBe('breakwater; fwd=miss; stored');

    // The database goes away. A client that insists on the origin (pull to refresh) gets
    // the last good answer instead of Prisma's 500 while the breaker counts the failures
    // (2 failed of the 3 requests in its window: more than half, and its 3 requests)...
    backend.app.switches.dbDown = true;
    const refresh = { 'cache-control': 'no-cache' };
    for (let i = 0; i < 2; i++) {
      const stale = await call(`${gw!.url}/api/posts`, { headers: refresh });
      expect(stale.status).toBe(200);
      expect(stale.text).toBe(fresh.text);
      expect(stale.headers['cache-status']).toBe(
        'breakwater; hit; fwd=stale; fwd-status=500; detail=stale-if-error',
      );
    }
    expect(backend.app.hitsOf('GET /api/posts')).toBe(3);
    // ...and once it is open, without touching the app.
    const whileOpen = await call(`${gw!.url}/api/posts`, { headers: refresh });
    expect(whileOpen.status).toBe(200);
    expect(whileOpen.text).toBe(fresh.text);
    expect(whileOpen.headers['cache-status']).toBe(
      'breakwater; hit; fwd=stale; fwd-status=503; detail=stale-if-error',
    );
    expect(backend.app.hitsOf('GET /api/posts')).toBe(3);
    // Clients that do not insist keep getting the fresh copy meanwhile.
    expect((await call(`${gw!.url}/api/posts`)).headers['cache-status']).toMatch(
      /^breakwater; hit; ttl=\d+$/,
    );

    // Redis down with nothing cached yet: the static, marked-degraded answer.
    backend.app.switches.redisDown = true;
    const empty = await call(`${gw!.url}/api/trending`);
    expect(empty.status).toBe(200);
    expect(empty.json()).toEqual({ trending: [], degraded: true });
    // Redis back: a real answer is stored; Redis down again: stale beats static.
    backend.app.switches.redisDown = false;
    const trending = await call(`${gw!.url}/api/trending`);
    expect(trending.json<{ trending: string[] }>().trending).toContain('#launch');
    backend.app.switches.redisDown = true;
    const staleTrending = await call(`${gw!.url}/api/trending`, { headers: refresh });
    expect(staleTrending.status).toBe(200);
    expect(staleTrending.text).toBe(trending.text);
    expect(staleTrending.headers['cache-status']).toMatch(/detail=stale-if-error$/);

    await waitFor(() => gw!.accessLines().length >= 8, 'the access lines');
    expect(gw!.accessLines().filter((l) => l.reason === 'stale_if_error').length).toBe(4);
    const metrics = (await call(`${gw!.adminUrl}/metrics`)).text;
    expect(seriesValue(metrics, 'breakwater_cache_requests_total', 'route="posts",result="stale"')).toBe(3);
    expect(seriesValue(metrics, 'breakwater_fallbacks_total', 'route="trending",trigger="5xx"')).toBe(1);
  });

  it('error classes: upstream 5xx bodies masked (UPSTREAM_ERROR), gateway failures as 502 / 503 / 504 JSON codes', async () => {
    const down = await refusedPort();
    await boot({ LLM_TIMEOUT: '1s', X_API_URL: `http://127.0.0.1:${down}` });
    const codeOf = (res: Answer) => res.json<{ error: { code: string; requestId: string } }>().error;

    // The app's unhandled Prisma error: status kept, body replaced, no stack, no address.
    backend.app.switches.dbDown = true;
    const masked = await call(`${gw!.url}/api/posts`, {
      method: 'POST',
      headers: { ...json, 'x-request-id': 'req-db-1' },
      body: '{"text":"x"}',
    });
    expect(masked.status).toBe(500);
    expect(masked.headers['content-type']).toMatch(/^application\/json/);
    expect(masked.json()).toEqual({
      error: { code: 'UPSTREAM_ERROR', message: expect.any(String), requestId: 'req-db-1' },
    });
    for (const leak of ['Prisma', 'postgres.internal', 'post.service', '    at ', '<pre>'])
      expect(masked.text).not.toContain(leak);
    // A provider's 500 likewise (its internals are not the client's business).
    backend.llm.switches.status = 500;
    const llm500 = await requests.llm();
    expect(llm500.status).toBe(500);
    expect(codeOf(llm500).code).toBe('UPSTREAM_ERROR');
    expect(llm500.text).not.toContain('shard-7');
    backend.llm.switches.status = 0;

    // The gateway's own classes: 503 CIRCUIT_OPEN (the db breaker after 3 failures)...
    await requests.db();
    await requests.db();
    const open = await requests.db();
    expect(open.status).toBe(503);
    expect(codeOf(open).code).toBe('CIRCUIT_OPEN');
    expect(Number(open.headers['retry-after'])).toBeGreaterThan(0);
    // ...502 UPSTREAM_UNAVAILABLE (X API unreachable)...
    const unreachable = await requests['x-api']();
    expect(unreachable.status).toBe(502);
    expect(codeOf(unreachable).code).toBe('UPSTREAM_UNAVAILABLE');
    // ...504 UPSTREAM_TIMEOUT (the LLM hangs past its deadline).
    backend.llm.switches.hang = true;
    const slow = await requests.llm();
    expect(slow.status).toBe(504);
    expect(codeOf(slow).code).toBe('UPSTREAM_TIMEOUT');
    // The app's own 4xx (its validation and not-found classes) pass through untouched.
    const missing = await call(`${gw!.url}/api/scheduled-nope`);
    expect(missing.status).toBe(503); // the catch-all app route shares the open db breaker
    backend.app.switches.dbDown = false;
    await admin('/admin/breakers/db/reset', 'POST');
    const notFound = await call(`${gw!.url}/api/posts/999`);
    expect(notFound.status).toBe(404);
    expect(notFound.json()).toEqual({ error: 'post not found' });

    await waitFor(
      () => gw!.accessLines().some((l) => l.route === 'llm' && l.status === 504),
      'the access lines',
    );
    const lines = gw!.accessLines();
    expect(lines.find((l) => l.reqId === 'req-db-1')).toMatchObject({ status: 500, reason: 'error_masked' });
    const metrics = (await call(`${gw!.adminUrl}/metrics`)).text;
    expect(seriesValue(metrics, 'breakwater_errors_masked_total', 'route="posts"')).toBe(3);
    expect(seriesValue(metrics, 'breakwater_errors_masked_total', 'route="llm"')).toBe(1);
  });

  it('p50/p95/p99 per endpoint, slowest and most failing endpoints listed first (/admin/stats)', async () => {
    await boot();
    const slowMs = 1_000;
    backend.x.switches.slowMs = slowMs;
    backend.llm.switches.status = 500;
    await Promise.all(Array.from({ length: 6 }, () => requests['x-api']()));
    for (let i = 0; i < 2; i++) expect((await requests.llm()).status).toBe(500);
    for (let i = 0; i < 10; i++) expect((await requests.redis()).status).toBe(200);

    const stats = (await admin('/admin/stats')).json<StatsReport>();
    // Most failing first, then slowest; idle routes are listed too, with no percentiles.
    expect(stats.routes.map((r) => r.route).slice(0, 3)).toEqual(['llm', 'x-api', 'scheduled']);
    expect(stats.mostFailing).toEqual(['llm']);
    expect(stats.slowest[0]).toBe('x-api');
    const of = (name: string) => stats.routes.find((r) => r.route === name)!.windows['1m'];
    const x = of('x-api');
    expect(x).toMatchObject({ requests: 6, errorRate: 0 });
    expect(x.p50Ms!).toBeGreaterThanOrEqual(slowMs * 0.8);
    expect(x.p95Ms!).toBeGreaterThanOrEqual(x.p50Ms!);
    expect(x.p99Ms!).toBeGreaterThanOrEqual(x.p95Ms!);
    expect(of('llm')).toMatchObject({ requests: 2, errorRate: 1 });
    const fast = of('scheduled');
    expect(fast).toMatchObject({ requests: 10, errorRate: 0 });
    expect(fast.p99Ms!).toBeLessThan(x.p50Ms!);
    expect(of('analytics')).toMatchObject({ requests: 0, p50Ms: null, p95Ms: null, p99Ms: null });
    // Same windows over 5 and 15 minutes.
    expect(stats.routes.find((r) => r.route === 'x-api')!.windows['15m'].requests).toBe(6);
  });

  (hasPromtool || inCI ? it : it.skip)(
    'alert thresholds: error rate, repeated errors, p95 > 1 s, p99 > 2 s, any breaker open (deploy/prometheus/alerts.yml on the real metrics)',
    async () => {
      if (!hasPromtool) throw new Error('promtool is required in CI (Debian package prometheus)');
      await boot();
      // Healthy traffic: none of the rules fire.
      for (let i = 0; i < 10; i++) expect((await requests.redis()).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await requests.llm()).status).toBe(200);
      const healthy = (await call(`${gw!.adminUrl}/metrics`)).text;
      // Without redis.url there is no redis_up series (a 0 would page BreakwaterRedisDown).
      expect(seriesValue(healthy, 'breakwater_redis_up')).toBeUndefined();
      expectFiring(healthy, []);

      // The LLM fails (3 × 500, then its breaker is open: 3 × 503) and the X API is slow (2.2 s).
      backend.llm.switches.status = 500;
      for (let i = 0; i < 6; i++) expect((await requests.llm()).status).toBeGreaterThanOrEqual(500);
      backend.x.switches.slowMs = 2_200;
      await Promise.all(Array.from({ length: 4 }, () => requests['x-api']()));
      for (let i = 0; i < 10; i++) expect((await requests.redis()).status).toBe(200);
      const failing = (await call(`${gw!.adminUrl}/metrics`)).text;
      expectFiring(failing, [
        { alertname: 'BreakwaterCircuitOpen', upstream: 'llm', route: '*' },
        { alertname: 'BreakwaterHighErrorRate', route: 'llm' },
        { alertname: 'BreakwaterHighLatencyP95', route: 'x-api' },
        { alertname: 'BreakwaterHighLatencyP99', route: 'x-api' },
        { alertname: 'BreakwaterRepeatedErrors', route: 'llm', code: '500' },
        { alertname: 'BreakwaterRepeatedErrors', route: 'llm', code: '503' },
      ]);
    },
  );

  it('admin reset of breakers (POST /admin/breakers/{upstream}/reset) and of the cache (POST /admin/cache/purge)', async () => {
    await boot();
    // Only with the token.
    const anonymous = await call(`${gw!.adminUrl}/admin/breakers/db/reset`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);

    // The database fails, its breaker opens; the database is back but the breaker stays open
    // for its 30 s. An operator who knows it is fixed closes it at once.
    backend.app.switches.dbDown = true;
    for (let i = 0; i < 3; i++) expect((await requests.db()).status).toBe(500);
    backend.app.switches.dbDown = false;
    expect((await requests.db()).status).toBe(503);
    expect((await breakers()).db!['*']).toBe('open');
    const reset = await admin('/admin/breakers/db/reset', 'POST');
    expect(reset.status).toBe(200);
    expect((await breakers()).db!['*']).toBe('closed');
    expect((await requests.db()).status).toBe(201);
    expect(backend.app.hitsOf('POST /api/posts')).toBe(4);
    expect(gw!.logs.some((l) => l.msg === 'admin: circuit breaker reset' && l.upstream === 'db')).toBe(true);

    // Cache: purge one route's answers; the others stay cached.
    await call(`${gw!.url}/api/posts`);
    await call(`${gw!.url}/api/campaigns/7/analytics`);
    expect((await call(`${gw!.url}/api/posts`)).headers['cache-status']).toMatch(/^breakwater; hit/);
    expect(backend.app.hitsOf('GET /api/posts')).toBe(1);
    type CacheView = { routes: Array<{ route: string; entries: number; hits: number }> };
    const cached = async (route: string) =>
      (await admin('/admin/cache')).json<CacheView>().routes.find((r) => r.route === route)!;
    expect(await cached('posts')).toMatchObject({ entries: 1, hits: 1 });
    const purged = await admin('/admin/cache/purge?route=posts', 'POST');
    expect(purged.status).toBe(200);
    expect(purged.json<{ purged: number }>().purged).toBeGreaterThanOrEqual(1);
    expect((await cached('posts')).entries).toBe(0);
    expect((await cached('analytics')).entries).toBe(1);
    expect((await call(`${gw!.url}/api/posts`)).headers['cache-status']).toBe('breakwater; fwd=miss; stored');
    expect(backend.app.hitsOf('GET /api/posts')).toBe(2);
    expect((await call(`${gw!.url}/api/campaigns/7/analytics`)).headers['cache-status']).toMatch(
      /^breakwater; hit/,
    );
    // Purge everything.
    expect(
      (await admin('/admin/cache/purge', 'POST')).json<{ purged: number }>().purged,
    ).toBeGreaterThanOrEqual(2);
    expect((await call(`${gw!.url}/api/campaigns/7/analytics`)).headers['cache-status']).toBe(
      'breakwater; fwd=miss; stored',
    );
  });
});

/** An alert expected to fire: its name and the labels that tell it apart. */
interface Firing {
  alertname: string;
  upstream?: string;
  route?: string;
  code?: string;
}

/**
 * Runs the real rules of deploy/prometheus/alerts.yml with promtool over one scrape of the
 * gateway, as if its traffic went on at the same mix, repeated every 15 s, for 15 minutes: each
 * counter becomes a series growing by its scraped value per 15 s, each gauge a constant. Throws
 * promtool's report unless exactly the `expected` alerts fire at the end.
 */
function expectFiring(metricsText: string, expected: Firing[]): void {
  const series: string[] = [];
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('breakwater_')) continue;
    const cut = line.lastIndexOf(' ');
    const [name, value] = [line.slice(0, cut), Number(line.slice(cut + 1))];
    const counter = /^[a-z_]+(_total|_bucket|_count|_sum)(\{|$)/.test(name);
    const labelled = name.includes('{')
      ? name.replace('{', '{job="breakwater",')
      : `${name}{job="breakwater"}`;
    series.push(
      `      - series: '${labelled}'\n        values: "${counter ? `0+${value}x80` : `${value}x80`}"`,
    );
  }
  const samples = expected.map((alert) => {
    const labels = Object.entries(alert).map(([k, v]) => `${k}="${v}"`);
    return `          - labels: '{${labels.join(', ')}}'\n            value: 1`;
  });
  const test = `rule_files: ['${ALERTS}']
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
${series.join('\n')}
    promql_expr_test:
      - expr: count by (alertname, upstream, route, code) (ALERTS{alertstate="firing"})
        eval_time: 15m
        exp_samples:${samples.length ? `\n${samples.join('\n')}` : ' []'}
`;
  const file = join(mkdtempSync(join(tmpdir(), 'bw-social-alerts-')), 'scrape.test.yml');
  writeFileSync(file, test);
  const result = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${result.stdout}${result.stderr}\n(promtool test file: ${file})`);
}

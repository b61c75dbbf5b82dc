/**
 * Recipe 4: the workflow analyzer (Express + Redis) behind breakwater, configured by the shipped
 * config/examples/workflow-analyzer.yaml (only addresses and the admin token come from the
 * environment). One `it` per item of hand-built hardening the app no longer has
 * (docs/recipes/workflow-analyzer.md), each proven against the stand-in app
 * (test/backends/workflow-analyzer.ts), the real gateway and, for the shared state, a real
 * redis-server that is killed mid-test. The limits are proven by sending their real counts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { request } from 'undici';
import { startAnalyzerBackend, type AnalyzerBackend } from '../backends/workflow-analyzer';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { redisTestsEnabled, startRedis, type TestRedis } from '../helpers/redis';
import { waitFor } from '../helpers/wait';

const FILE = join(__dirname, '..', '..', 'config', 'examples', 'workflow-analyzer.yaml');
const EXAMPLE = readFileSync(FILE, 'utf8');
const TOKEN = 'recipe-admin-token';
/** The demo keys whose hashes the example ships. */
const KEYS = { free: 'wfa-free-demo-key', pro: 'wfa-pro-demo-key', enterprise: 'wfa-enterprise-demo-key' };
const CHECKOUT = 'https://workflow-analyzer.example.com/checkout';

const redisIt = redisTestsEnabled() ? it : it.skip;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

async function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const res = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    headers: options.headers,
    body: options.body,
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  const text = body.toString();
  return { status: res.statusCode, headers: res.headers, body, text, json: <T>() => JSON.parse(text) as T };
}

/** The sum of the series of `name` whose labels include `labels` (undefined when none). */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum = (sum ?? 0) + Number(match[3]);
  }
  return sum;
}

const key = (tier: keyof typeof KEYS) => ({ 'x-api-key': KEYS[tier] });

describe('recipe: workflow analyzer (Express + Redis) behind config/examples/workflow-analyzer.yaml', () => {
  let app: AnalyzerBackend;
  const gateways: TestGateway[] = [];
  let redis: TestRedis | undefined;

  beforeEach(async () => {
    app = await startAnalyzerBackend();
  });
  afterEach(async () => {
    for (const gw of gateways.splice(0)) await gw.close();
    await app.close();
    await redis?.close();
    redis = undefined;
  });

  /** The shipped file (or `text`, a variant of it) on loopback, in front of the stand-in app. */
  const boot = async (extra: NodeJS.ProcessEnv = {}, text = EXAMPLE) => {
    const gw = await startGateway(text, {
      BREAKWATER_LISTEN: '127.0.0.1:0',
      BREAKWATER_ADMIN_LISTEN: '127.0.0.1:0',
      BREAKWATER_ADMIN_TOKEN: TOKEN,
      ANALYZER_URL: app.url,
      TRUSTED_PROXY: '127.0.0.1',
      ...extra,
    });
    gateways.push(gw);
    return gw;
  };
  const admin = (gw: TestGateway, path: string, method = 'GET') =>
    call(`${gw.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
  const metrics = async (gw: TestGateway) => (await call(`${gw.adminUrl}/metrics`)).text;
  const redisUp = (gw: TestGateway) =>
    waitFor(async () => metric(await metrics(gw), 'breakwater_redis_up') === 1, 'redis_up 1', 10_000);

  /** Sends `count` requests, 8 at a time; returns their statuses in the order they were sent. */
  const burst = async (url: string, count: number, headers: Record<string, string> = {}) => {
    const statuses: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        statuses[i] = (await call(url, { headers })).status;
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, count) }, worker));
    return statuses;
  };

  /** Posts `count` distinct workflows for analysis, 8 at a time; returns the statuses in order. */
  const analyses = async (gw: TestGateway, count: number, headers: Record<string, string>) => {
    const statuses: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        statuses[i] = (await analyse(gw, headers, i)).status;
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, count) }, worker));
    return statuses;
  };
  const analyse = (gw: TestGateway, headers: Record<string, string>, n = 0) =>
    call(`${gw.url}/api/analysis`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ nodes: [{ type: 'slack.trigger' }, { type: `step-${n}` }] }),
    });

  it('rate-limit tiers by subscription, keys stored hashed: free 20/min, pro 100/min, enterprise 500/min', async () => {
    const gw = await boot();
    const url = `${gw.url}/api/workflows`;
    for (const [tier, limit] of [
      ['free', 20],
      ['pro', 100],
      ['enterprise', 500],
    ] as const) {
      const first = await call(url, { headers: key(tier) });
      expect(first.status).toBe(200);
      expect(first.headers['x-ratelimit-limit']).toBe(String(limit));
      expect(first.headers['x-ratelimit-remaining']).toBe(String(limit - 1));
      expect(await burst(url, limit - 1, key(tier))).toEqual(Array(limit - 1).fill(200));
      const refused = await call(url, { headers: key(tier) });
      expect(refused.status).toBe(429);
      expect(refused.json<{ error: { tier: string } }>().error.tier).toBe(tier);
    }
    expect(app.hitsOf('GET /api/workflows')).toBe(20 + 100 + 500);
    const refused = await call(url, { headers: key('free') });
    // Legacy headers as express-rate-limit sent them: Reset is the epoch second the window ends.
    const reset = Number(refused.headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThan(Date.now() / 1000);
    expect(reset).toBeLessThanOrEqual(Date.now() / 1000 + 61);
    // One counter per key for the whole API: the free key is spent on every route, not just this one.
    for (const path of ['/api/stats', '/api/templates', '/api/analysis'])
      expect(
        (
          await call(`${gw.url}${path}`, {
            method: path === '/api/analysis' ? 'POST' : 'GET',
            headers: key('free'),
          })
        ).status,
      ).toBe(429);
    expect(app.seen.filter((s) => !s.startsWith('GET /api/workflows'))).toEqual([]);
    // No key: the free tier, counted per client IP; an unknown key cannot mint a fresh counter.
    expect(await burst(url, 20)).toEqual(Array(20).fill(200));
    expect((await call(url)).status).toBe(429);
    expect((await call(url, { headers: { 'x-api-key': 'made-up-key' } })).status).toBe(429);
    // Another client IP has its own free allowance.
    expect((await call(url, { headers: { 'x-forwarded-for': '198.51.100.4' } })).status).toBe(200);
    // Hashed: the raw keys are nowhere the operator can read them.
    const config = (await admin(gw, '/admin/config')).text;
    expect(config).toContain('a07f1451b23953cdfea0583a766353711c82b8684ac94245eb92b320d72f9ee6');
    for (const raw of Object.values(KEYS)) {
      expect(config).not.toContain(raw);
      expect(JSON.stringify(gw.logs)).not.toContain(raw);
    }
  });

  it('expensive analysis by tier: free 10/h, pro 100/h, enterprise 1,000/h on the analysis route', async () => {
    const gw = await boot();
    // free: 10 analyses an hour, though the plan allows 20 requests a minute.
    expect(await analyses(gw, 9, key('free'))).toEqual(Array(9).fill(201));
    const tenth = await analyse(gw, key('free'), 9);
    expect(tenth.status).toBe(201);
    // The headers tell the tighter limit: the hour's 10, spent, ending about an hour from now.
    expect(tenth.headers['x-ratelimit-limit']).toBe('10');
    expect(tenth.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(tenth.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000 + 3500);
    const eleventh = await analyse(gw, key('free'), 10);
    expect(eleventh.status).toBe(429);
    const retryAfter = Number(eleventh.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(eleventh.json()).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: expect.any(String),
        requestId: eleventh.headers['x-request-id'],
        retryAfter,
        tier: 'free',
        upgrade: `Upgrade to Pro: ${CHECKOUT}?plan=pro`,
      },
    });
    expect(app.hitsOf('POST /api/analysis')).toBe(10);
    // The hour caps analyses only: the plan's minute still has 20 - 11 requests for the rest.
    const workflows = await call(`${gw.url}/api/workflows`, { headers: key('free') });
    expect(workflows.status).toBe(200);
    expect(workflows.headers['x-ratelimit-limit']).toBe('20');
    expect(workflows.headers['x-ratelimit-remaining']).toBe('8');

    // pro and enterprise have 100 and 500 a minute, so their plan's minute would refuse before the
    // hour runs out within a test. The same file with the per-minute limits lifted (the hourly
    // table untouched) shows their hourly caps by real counts: 100 and 1,000, then a 429.
    const lifted = EXAMPLE.replace(
      'pro: { limit: 100, window: 1m',
      'pro: { limit: 100000, window: 1m',
    ).replace('enterprise: { limit: 500, window: 1m }', 'enterprise: { limit: 100000, window: 1m }');
    expect(lifted.match(/limit: 100000, window: 1m/g)).toHaveLength(2);
    expect(lifted).toContain('pro: { limit: 100, window: 1h }');
    const unlimited = await boot({}, lifted);
    for (const [tier, limit] of [
      ['pro', 100],
      ['enterprise', 1000],
    ] as const) {
      expect(await analyses(unlimited, limit, key(tier))).toEqual(Array(limit).fill(201));
      const refused = await analyse(unlimited, key(tier), limit);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3500);
      expect(refused.headers['x-ratelimit-limit']).toBe(String(limit));
      expect(refused.json<{ error: { tier: string } }>().error.tier).toBe(tier);
    }
    expect(app.hitsOf('POST /api/analysis')).toBe(10 + 100 + 1000);
  });

  it('X-RateLimit-Tier on every answer of a limited route', async () => {
    const gw = await boot();
    const identities: [string, Record<string, string>][] = [
      ['free', key('free')],
      ['pro', key('pro')],
      ['enterprise', key('enterprise')],
      ['free', {}], // no key: the default tier
      ['free', { 'x-api-key': 'made-up-key', 'x-forwarded-for': '198.51.100.7' }],
    ];
    for (const [tier, headers] of identities) {
      const answers = [
        await analyse(gw, headers),
        await call(`${gw.url}/api/analysis/0000000000000000`, { headers }), // the app's 404
        await call(`${gw.url}/api/templates`, { headers }),
        await call(`${gw.url}/api/integrations`, { headers }),
        await call(`${gw.url}/api/stats`, { headers }),
        await call(`${gw.url}/api/workflows`, { headers }),
      ];
      expect(answers.map((a) => a.status)).toEqual([201, 404, 200, 200, 200, 200]);
      expect(answers.map((a) => a.headers['x-ratelimit-tier'])).toEqual(Array(6).fill(tier));
      // Only the X- form, as the app sent it (headers: legacy).
      expect(answers.some((a) => a.headers['ratelimit-tier'] !== undefined)).toBe(false);
    }
    // Answers from the cache carry it too (the limit sits in front of the cache).
    const hit = await call(`${gw.url}/api/templates`, { headers: key('pro') });
    expect(hit.headers['cache-status']).toMatch(/^breakwater; hit;/);
    expect(hit.headers['x-ratelimit-tier']).toBe('pro');
    // And the 429: the free key has spent 6 of its 20 a minute above.
    expect(await burst(`${gw.url}/api/workflows`, 14, key('free'))).toEqual(Array(14).fill(200));
    const refused = await call(`${gw.url}/api/workflows`, { headers: key('free') });
    expect(refused.status).toBe(429);
    expect(refused.headers['x-ratelimit-tier']).toBe('free');
  });

  it('a 429 that says "upgrade to Pro" and gives the checkout URL', async () => {
    const gw = await boot();
    const url = `${gw.url}/api/stats`;
    await burst(url, 20, key('free'));
    const free = await call(url, { headers: key('free') });
    expect(free.status).toBe(429);
    const retryAfter = Number(free.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(free.headers['x-ratelimit-remaining']).toBe('0');
    expect(free.json()).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: expect.any(String),
        requestId: free.headers['x-request-id'],
        retryAfter,
        tier: 'free',
        upgrade: `Upgrade to Pro: ${CHECKOUT}?plan=pro`,
      },
    });
    await burst(url, 100, key('pro'));
    const pro = (await call(url, { headers: key('pro') })).json<{ error: Record<string, unknown> }>();
    expect(pro.error).toMatchObject({
      tier: 'pro',
      upgrade: `Upgrade to Enterprise: ${CHECKOUT}?plan=enterprise`,
    });
  });

  it('TTLs per data kind: analyses and templates 1 h, integrations 10 min, stats 60 s; per-caller data never cached', async () => {
    const gw = await boot();
    const analysis = await call(`${gw.url}/api/analysis`, {
      method: 'POST',
      headers: { ...key('pro'), 'content-type': 'application/json' },
      body: JSON.stringify({ nodes: [{ type: 'slack.trigger' }, { type: 'notion.create' }] }),
    });
    expect(analysis.status).toBe(201);
    const { id } = analysis.json<{ id: string }>();
    for (const [path, ttl] of [
      [`/api/analysis/${id}`, 3600],
      ['/api/templates', 3600],
      ['/api/integrations', 600],
      ['/api/stats', 60],
    ] as const) {
      const first = await call(`${gw.url}${path}`, { headers: key('pro') });
      expect(first.status).toBe(200);
      expect(first.headers['cache-status']).toBe('breakwater; fwd=miss; stored');
      const second = await call(`${gw.url}${path}`, { headers: key('free') });
      expect(second.status).toBe(200);
      expect(second.text).toBe(first.text);
      const left = Number(/^breakwater; hit; ttl=(\d+)$/.exec(String(second.headers['cache-status']))?.[1]);
      expect(left).toBeLessThanOrEqual(ttl);
      expect(left).toBeGreaterThan(ttl - 10);
      expect(app.hitsOf(`GET ${path}`)).toBe(1);
    }
    // A caller's own workflows go to the app every time.
    await call(`${gw.url}/api/workflows`, { headers: key('pro') });
    const again = await call(`${gw.url}/api/workflows`, { headers: key('pro') });
    expect(again.headers['cache-status']).toBeUndefined();
    expect(app.hitsOf('GET /api/workflows')).toBe(2);
  });

  redisIt(
    'Redis cache with an in-memory LRU fallback: shared by replicas through Redis, served from memory with Redis killed',
    async () => {
      redis = await startRedis();
      const a = await boot({ REDIS_URL: redis.url });
      const b = await boot({ REDIS_URL: redis.url });
      await redisUp(a);
      await redisUp(b);
      // Behind one load balancer both replicas see the same Host (part of the cache key).
      const host = { host: 'api.workflow-analyzer.example.com' };
      const first = await call(`${a.url}/api/templates`, { headers: host });
      expect(first.headers['cache-status']).toBe('breakwater; fwd=miss; stored');
      await waitFor(async () => (await redis!.client().keys('bw:wfa:*')).length > 0, 'the entry in Redis');
      // The other replica answers from Redis: the app is not asked again.
      const fromRedis = await call(`${b.url}/api/templates`, { headers: host });
      expect(fromRedis.headers['cache-status']).toMatch(/^breakwater; hit; ttl=\d+$/);
      expect(fromRedis.text).toBe(first.text);
      expect(app.hitsOf('GET /api/templates')).toBe(1);

      await redis.kill();
      await waitFor(async () => metric(await metrics(a), 'breakwater_redis_up') === 0, 'redis_up 0', 10_000);
      // Memory keeps answering what it holds, and caches what comes next.
      const fromMemory = await call(`${a.url}/api/templates`, { headers: host });
      expect(fromMemory.status).toBe(200);
      expect(fromMemory.headers['cache-status']).toMatch(/^breakwater; hit; ttl=\d+$/);
      expect(app.hitsOf('GET /api/templates')).toBe(1);
      expect((await call(`${a.url}/api/integrations`)).headers['cache-status']).toBe(
        'breakwater; fwd=miss; stored',
      );
      expect((await call(`${a.url}/api/integrations`)).headers['cache-status']).toMatch(/^breakwater; hit;/);
      expect(app.hitsOf('GET /api/integrations')).toBe(1);
      const health = (await call(`${a.adminUrl}/health`)).json<{
        status: string;
        redis: { status: string };
      }>();
      expect(health).toMatchObject({ status: 'degraded', redis: { status: 'down' } });
    },
  );

  it('gzip at level 6 above 1 KB', async () => {
    const gw = await boot();
    const identity = await call(`${gw.url}/api/templates`);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.body.length).toBeGreaterThan(1024);
    const gzipped = await call(`${gw.url}/api/templates`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toMatch(/accept-encoding/i);
    expect(gunzipSync(gzipped.body).equals(identity.body)).toBe(true);
    // Level 6 exactly: the bytes are zlib's at level 6, and not at 1 or 9.
    expect(gzipped.body.equals(gzipSync(identity.body, { level: 6 }))).toBe(true);
    expect(gzipped.body.equals(gzipSync(identity.body, { level: 1 }))).toBe(false);
    expect(gzipped.body.equals(gzipSync(identity.body, { level: 9 }))).toBe(false);
    // The level is the file's `level: 6`: the same file at level 1 sends level-1 bytes.
    expect(EXAMPLE).toContain('compression: { minSize: 1kb, level: 6 }');
    const fast = await boot({}, EXAMPLE.replace('minSize: 1kb, level: 6', 'minSize: 1kb, level: 1'));
    const fastGzip = await call(`${fast.url}/api/templates`, { headers: { 'accept-encoding': 'gzip' } });
    expect(fastGzip.body.equals(gzipSync(identity.body, { level: 1 }))).toBe(true);
    // Under 1 KB: sent as is.
    const small = await call(`${gw.url}/api/stats`, { headers: { 'accept-encoding': 'gzip' } });
    expect(small.status).toBe(200);
    expect(small.body.length).toBeLessThan(1024);
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('Prometheus metrics: requests, latency, cache results and refusals per tier on /metrics', async () => {
    const gw = await boot();
    await call(`${gw.url}/api/templates`);
    await call(`${gw.url}/api/templates`);
    await burst(`${gw.url}/api/workflows`, 21, key('free'));
    const text = await metrics(gw);
    expect(
      metric(text, 'breakwater_requests_total', { route: 'templates', method: 'GET', code: '200' }),
    ).toBe(2);
    expect(metric(text, 'breakwater_requests_total', { route: 'api', code: '200' })).toBe(20);
    expect(metric(text, 'breakwater_requests_total', { route: 'api', code: '429' })).toBe(1);
    expect(metric(text, 'breakwater_request_duration_seconds_count', { route: 'templates' })).toBe(2);
    expect(metric(text, 'breakwater_cache_requests_total', { route: 'templates', result: 'miss' })).toBe(1);
    expect(metric(text, 'breakwater_cache_requests_total', { route: 'templates', result: 'hit' })).toBe(1);
    expect(
      metric(text, 'breakwater_rate_limited_total', { route: 'api', tier: 'free', mode: 'enforce' }),
    ).toBe(1);
    expect(
      metric(text, 'breakwater_upstream_requests_total', { upstream: 'analyzer', outcome: 'success' }),
    ).toBe(21);
    // A format Prometheus accepts (promtool is what CI scrapes with).
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error === undefined || process.env.CI === 'true') expect(promtool.status).toBe(0);
  });

  it('admin cache stats and purge', async () => {
    const gw = await boot();
    expect((await call(`${gw.adminUrl}/admin/cache`)).status).toBe(401);
    for (let i = 0; i < 3; i++) await call(`${gw.url}/api/templates`);
    await call(`${gw.url}/api/stats`);
    type CacheReport = { routes: ({ route: string } & Record<string, number | null>)[] };
    const routeOf = (report: CacheReport, route: string) => report.routes.find((r) => r.route === route);
    const stats = await admin(gw, '/admin/cache');
    expect(stats.status).toBe(200);
    const report = stats.json<CacheReport>();
    // Every cached route, in config order; the uncached ones are not there.
    expect(report.routes.map((r) => r.route)).toEqual([
      'analysis-results',
      'templates',
      'integrations',
      'stats',
    ]);
    expect(routeOf(report, 'templates')).toMatchObject({ entries: 1, hits: 2, misses: 1, stale: 0 });
    expect(routeOf(report, 'templates')!.bytes).toBeGreaterThan(1024);
    expect(routeOf(report, 'templates')!.hitRatio).toBeCloseTo(2 / 3, 3);
    expect(routeOf(report, 'stats')).toMatchObject({ entries: 1, hits: 0, misses: 1, hitRatio: 0 });
    expect(routeOf(report, 'integrations')).toMatchObject({ entries: 0, hits: 0, misses: 0, hitRatio: null });

    const purged = await admin(gw, '/admin/cache/purge?route=templates', 'POST');
    expect(purged.status).toBe(200);
    expect(purged.json()).toEqual({ route: 'templates', purged: 1 });
    const after = (await admin(gw, '/admin/cache')).json<CacheReport>();
    expect(routeOf(after, 'templates')).toMatchObject({ entries: 0, bytes: 0 });
    expect(routeOf(after, 'stats')).toMatchObject({ entries: 1 });
    expect((await call(`${gw.url}/api/templates`)).headers['cache-status']).toBe(
      'breakwater; fwd=miss; stored',
    );
    expect(app.hitsOf('GET /api/templates')).toBe(2);
  });

  redisIt(
    'Redis shared limits with a memory fallback: Redis killed, requests still served and limited locally, breakwater_redis_up 0',
    async () => {
      redis = await startRedis();
      const a = await boot({ REDIS_URL: redis.url });
      const b = await boot({ REDIS_URL: redis.url });
      await redisUp(a);
      await redisUp(b);
      // One count for both replicas: 10 + 10 spend the free tier's 20.
      expect(await burst(`${a.url}/api/workflows`, 10, key('free'))).toEqual(Array(10).fill(200));
      expect(await burst(`${b.url}/api/workflows`, 10, key('free'))).toEqual(Array(10).fill(200));
      expect((await call(`${a.url}/api/workflows`, { headers: key('free') })).status).toBe(429);
      expect((await call(`${b.url}/api/workflows`, { headers: key('free') })).status).toBe(429);
      expect((await redis.client().keys('bw:wfa:*')).length).toBeGreaterThan(0);

      await redis.kill();
      await waitFor(async () => metric(await metrics(a), 'breakwater_redis_up') === 0, 'redis_up 0', 10_000);
      // Served, and limited by this replica's own count (the full limit, locally).
      const statuses = await burst(`${a.url}/api/workflows`, 21, key('free'));
      expect(statuses).toEqual([...Array(20).fill(200), 429]);
      expect(app.hitsOf('GET /api/workflows')).toBe(40);
      expect(a.logs.find((l) => String(l.msg).startsWith('redis down'))).toMatchObject({ level: 'warn' });
    },
  );
});

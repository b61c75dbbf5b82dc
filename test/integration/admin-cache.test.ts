/**
 * `GET /admin/cache` against the real gateway: per cached route the entries and bytes in memory
 * and how requests were answered since start (hit, miss, stale, revalidated, bypass) with the
 * hit ratio, totals, the configured bound; the token is required; a purge empties the figures
 * it should (not the counts); the Redis tier's state (up, then down when redis-server dies); and
 * with `workers: 2` (the built CLI; `npm run build` first) the workers' figures summed per route.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { adminClient, listeners, type AdminClient } from '../helpers/admin';
import { startCli } from '../helpers/cli';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { get } from '../helpers/http';
import { redisTestsEnabled, startRedis, type TestRedis } from '../helpers/redis';
import { startUpstream, type Behaviour, type TestUpstream } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';

const TOKEN = 'cache-token';

interface Figures {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  stale: number;
  revalidated: number;
  bypass: number;
  hitRatio: number | null;
}
interface CacheAnswer {
  maxBytes: number;
  workers: number;
  redis: { status: string };
  totals: Figures;
  routes: Array<Figures & { route: string }>;
}

/** 200 with max-age=60 for most paths; /cached/s: stored stale (max-age=0), then 503. */
const catalog: Behaviour = (req, res) => {
  req.resume();
  const path = req.url!;
  if (path === '/cached/s' && sFetched++ > 0) {
    res.writeHead(503, { 'content-length': 4 });
    return void res.end('down');
  }
  const body = `catalog ${path}`;
  res.writeHead(200, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(body),
    'cache-control': path === '/cached/s' ? 'max-age=0' : 'max-age=60',
  });
  res.end(body);
};
let sFetched = 0;

const server = (extra = '') =>
  `${listeners(TOKEN, '  overload: { maxEventLoopDelay: 0 }\n  cache: { maxSize: 10mb }\n')}${extra}`;

describe('GET /admin/cache', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let admin: AdminClient;

  beforeAll(async () => {
    up = await startUpstream(catalog);
    gw = await startGateway(`${server()}
upstreams:
  app: { targets: ["${up.url}"] }
routes:
  - name: cached
    match: { pathPrefix: /cached }
    upstream: app
    cache: { ttl: 30s, staleIfError: 10m }
  - name: other-cached
    match: { pathPrefix: /other }
    upstream: app
    cache: { ttl: 30s }
  - name: plain
    upstream: app
`);
    admin = adminClient(gw.adminUrl, TOKEN);
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  const read = async () => (await admin.get('/admin/cache')).json<CacheAnswer>();
  const route = (answer: CacheAnswer, name: string) => answer.routes.find((r) => r.route === name)!;

  it('needs the token', async () => {
    const res = await get(`${gw.adminUrl}/admin/cache`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('starts empty, listing only the cached routes', async () => {
    const answer = await read();
    expect(answer).toMatchObject({ maxBytes: 10 * 1024 * 1024, workers: 1, redis: { status: 'disabled' } });
    expect(answer.routes.map((r) => r.route)).toEqual(['cached', 'other-cached']);
    const empty = {
      entries: 0,
      bytes: 0,
      hits: 0,
      misses: 0,
      stale: 0,
      revalidated: 0,
      bypass: 0,
      hitRatio: null,
    };
    expect(route(answer, 'cached')).toEqual({ route: 'cached', ...empty });
    expect(answer.totals).toEqual(empty);
  });

  it('counts hits, misses, stale and bypass answers and what memory holds', async () => {
    const texts = [];
    texts.push((await get(`${gw.url}/cached/a`)).headers['cache-status']); // miss, stored
    texts.push((await get(`${gw.url}/cached/a`)).headers['cache-status']); // hit
    texts.push((await get(`${gw.url}/cached/a`)).headers['cache-status']); // hit
    texts.push((await get(`${gw.url}/cached/b`)).headers['cache-status']); // miss, stored
    texts.push((await get(`${gw.url}/cached/a`, { 'cache-control': 'no-store' })).headers['cache-status']);
    texts.push((await get(`${gw.url}/cached/s`)).headers['cache-status']); // miss, stored stale
    texts.push((await get(`${gw.url}/cached/s`)).headers['cache-status']); // 503 → stale
    expect(texts).toEqual([
      'breakwater; fwd=miss; stored',
      expect.stringMatching(/^breakwater; hit; ttl=/),
      expect.stringMatching(/^breakwater; hit; ttl=/),
      'breakwater; fwd=miss; stored',
      'breakwater; fwd=bypass',
      'breakwater; fwd=miss; stored',
      expect.stringMatching(/detail=stale-if-error/),
    ]);
    await get(`${gw.url}/plain`);

    const answer = await read();
    const cached = route(answer, 'cached');
    expect(cached).toMatchObject({ entries: 3, hits: 2, misses: 3, stale: 1, revalidated: 0, bypass: 1 });
    expect(cached.hitRatio).toBe(0.5);
    expect(cached.bytes).toBeGreaterThan(3 * 'catalog /cached/a'.length);
    expect(route(answer, 'other-cached')).toMatchObject({ entries: 0, misses: 0, hitRatio: null });
    expect(answer.totals).toMatchObject({ entries: 3, bytes: cached.bytes, hits: 2, misses: 3, bypass: 1 });
    // The same bytes the gauge reports.
    const metrics = (await get(`${gw.adminUrl}/metrics`)).text;
    expect(metrics).toContain(`breakwater_cache_bytes ${cached.bytes}\n`);
  });

  it('reflects a purge in entries and bytes, and keeps the counts since start', async () => {
    await get(`${gw.url}/other/x`);
    expect(route(await read(), 'other-cached').entries).toBe(1);
    expect((await admin.post('/admin/cache/purge?route=cached')).json()).toEqual({
      route: 'cached',
      purged: 3,
    });
    const answer = await read();
    expect(route(answer, 'cached')).toMatchObject({ entries: 0, bytes: 0, hits: 2, misses: 3, stale: 1 });
    expect(route(answer, 'other-cached')).toMatchObject({ entries: 1, misses: 1 });
    expect(answer.totals.entries).toBe(1);
    await admin.post('/admin/cache/purge');
    expect((await read()).totals).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await admin.get('/admin/openapi.json')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toContain('/admin/cache');
  });
});

const describeRedis = redisTestsEnabled() ? describe : describe.skip;

describeRedis('GET /admin/cache with the Redis tier', () => {
  let redis: TestRedis;
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    [redis, up] = await Promise.all([startRedis(), startUpstream(catalog)]);
    gw = await startGateway(`${server(`redis: { url: "${redis.url}", keyPrefix: "bwadmincache:" }\n`)}
upstreams:
  app: { targets: ["${up.url}"] }
routes:
  - { name: cached, upstream: app, cache: { ttl: 30s } }
`);
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([up.close(), redis.close()]);
  });

  it('says whether Redis is up', async () => {
    const admin = adminClient(gw.adminUrl, TOKEN);
    const status = async () => (await admin.get('/admin/cache')).json<CacheAnswer>().redis.status;
    await waitFor(async () => (await status()) === 'up', 'redis up');
    await redis.kill();
    await waitFor(async () => (await status()) === 'down', 'redis down', 10_000);
  });
});

describe('GET /admin/cache with two workers', () => {
  it('sums the workers’ figures per route', async () => {
    const upstream = await startUpstream(catalog);
    const file = join(mkdtempSync(join(tmpdir(), 'bw-admin-cache-')), 'gateway.yaml');
    writeFileSync(
      file,
      `${listeners(TOKEN, '  workers: 2\n  cache: { maxSize: 1mb }\n')}
upstreams:
  app: { targets: ["${upstream.url}"] }
routes:
  - { name: cached, upstream: app, cache: { ttl: 30s } }
`,
    );
    const gw = await startCli(file);
    try {
      // A new connection each time, so the primary spreads them over both workers.
      for (let i = 0; i < 20; i++) {
        const res = await request(`http://127.0.0.1:${gw.proxyPort}/c/1`, { reset: true });
        await res.body.dump();
      }
      const answer = (
        await adminClient(`http://127.0.0.1:${gw.adminPort}`, TOKEN).get('/admin/cache')
      ).json<CacheAnswer>();
      expect(answer.workers).toBe(2);
      expect(answer.maxBytes).toBe(1024 * 1024);
      // Each worker stored the URL once (its own memory): two misses, two entries, the rest hits.
      expect(upstream.hits).toBe(2);
      expect(answer.routes).toEqual([
        expect.objectContaining({ route: 'cached', entries: 2, misses: 2, hits: 18, hitRatio: 0.9 }),
      ]);
      expect(answer.totals).toMatchObject({ entries: 2, misses: 2, hits: 18 });
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
      await upstream.close();
    }
  });
});

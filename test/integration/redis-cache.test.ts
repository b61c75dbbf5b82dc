/**
 * The response cache's Redis tier against a real redis-server: an entry stored by one gateway
 * is served by another (binary body intact, one upstream request); invalidation and purge reach
 * Redis; with Redis killed both gateways keep answering from memory with no failed request.
 * Skipped only where redis-server is missing outside CI (CI=true makes that a failure).
 */
import { NO_EVENTS } from '../../src/observability/events';
import { createLogger } from '../../src/observability/logger';
import { CacheStore } from '../../src/policies/cache';
import { cacheKey } from '../../src/policies/cache/key';
import { testEntry } from '../../src/policies/cache/test-entries';
import { SharedState } from '../../src/state/shared-state';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { get, sleep } from '../helpers/http';
import { redisTestsEnabled, startRedis, type TestRedis } from '../helpers/redis';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { Writable } from 'node:stream';
import { request } from 'undici';

const enabled = redisTestsEnabled();
if (!enabled)
  console.warn('redis-cache.test: redis-server not installed; skipping (CI=true makes this a failure)');
const describeRedis = enabled ? describe : describe.skip;

const PREFIX = 'bwcache:';
/** Every byte value, so the frame is shown to be binary-safe. */
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

async function waitFor(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Replicas behind one load balancer see the same Host; the cache key includes it. */
const HOST = 'api.example.com';

async function getBytes(url: string, method = 'GET') {
  const res = await request(url, { method: method as 'GET', headers: { host: HOST } });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

describeRedis('response cache shared through Redis', () => {
  let redis: TestRedis;
  let up: TestUpstream;
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    redis = await startRedis();
    up = await startUpstream((req, res) => {
      req.resume();
      if (req.method === 'POST') {
        res.writeHead(204);
        return void res.end();
      }
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': BINARY.length,
        'cache-control': 'max-age=60',
      });
      res.end(BINARY);
    });
    const yaml = `
redis: { url: "${redis.url}", keyPrefix: "${PREFIX}" }
upstreams:
  app: { targets: ["${up.url}"] }
routes:
  - name: shared
    match: { pathPrefix: / }
    upstream: app
    cache: { ttl: 30s, staleIfError: 10m }
`;
    [a, b] = await Promise.all([startGateway(yaml), startGateway(yaml)]);
    await waitFor(async () => (await Promise.all([a, b].map(redisUp))).every((v) => v === 1), 'redis up');
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await Promise.all([redis?.close(), up?.close()]);
  });

  const redisUp = async (gw: TestGateway) =>
    Number(/^breakwater_redis_up (\d)/m.exec((await get(`${gw.adminUrl}/metrics`)).text)?.[1]);
  const cacheKeys = () => redis.client().keys(`${PREFIX}cache:*`);
  const hitsOf = (path: string) => up.seen.filter((s) => s.url === path && s.method === 'GET').length;

  it('serves from one gateway what the other stored, binary-safe', async () => {
    const first = await getBytes(`${a.url}/doc`);
    expect(first.headers['cache-status']).toBe('breakwater; fwd=miss; stored');
    await waitFor(async () => (await cacheKeys()).length === 1, 'the entry in Redis');
    const second = await getBytes(`${b.url}/doc`);
    expect(second.status).toBe(200);
    expect(second.body.equals(BINARY)).toBe(true);
    expect(second.headers['cache-status']).toMatch(/^breakwater; hit; ttl=\d+$/);
    expect(second.headers['content-type']).toBe('application/octet-stream');
    expect(hitsOf('/doc')).toBe(1);
    // B now holds it in memory too.
    expect((await getBytes(`${b.url}/doc`)).headers['cache-status']).toMatch(/hit/);
    expect(hitsOf('/doc')).toBe(1);
  });

  it('deletes the Redis copy when an unsafe request invalidates the URL', async () => {
    await getBytes(`${a.url}/inv`);
    await waitFor(async () => (await cacheKeys()).length === 2, 'the second entry in Redis');
    expect((await getBytes(`${a.url}/inv`, 'POST')).status).toBe(204);
    await waitFor(async () => (await cacheKeys()).length === 1, 'the invalidated entry gone from Redis');
    expect((await getBytes(`${b.url}/inv`)).headers['cache-status']).toBe('breakwater; fwd=miss; stored');
  });

  it('keeps serving from memory with no failure while Redis is down', async () => {
    await getBytes(`${a.url}/before`);
    await getBytes(`${b.url}/before`);
    await redis.kill();
    const results = [];
    for (const gw of [a, b]) {
      results.push(await getBytes(`${gw.url}/doc`));
      results.push(await getBytes(`${gw.url}/before`));
      results.push(await getBytes(`${gw.url}/after-${gw.port}`));
      results.push(await getBytes(`${gw.url}/after-${gw.port}`));
    }
    for (const res of results) {
      expect(res.status).toBe(200);
      expect(res.body.equals(BINARY)).toBe(true);
    }
    expect(results.map((r) => String(r.headers['cache-status']).split(';')[1]!.trim())).toEqual([
      'hit',
      'hit',
      'fwd=miss',
      'hit',
      'hit',
      'hit',
      'fwd=miss',
      'hit',
    ]);
    await waitFor(async () => (await Promise.all([a, b].map(redisUp))).every((v) => v === 0), 'redis_up 0');
    // Once known down, Redis is not even asked: a miss is as fast as without it.
    const miss = await getBytes(`${a.url}/while-down`);
    expect(miss.status).toBe(200);
    await redis.restart();
  });
});

describeRedis('RedisTier purge against a real redis-server', () => {
  let redis: TestRedis;
  let shared: SharedState;

  beforeAll(async () => {
    redis = await startRedis();
    const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
    shared = new SharedState({
      url: redis.url,
      keyPrefix: 'bwpurge:',
      log: createLogger({ stream: sink }).logger,
    });
    await waitFor(() => shared.up, 'the connection');
  });

  afterAll(async () => {
    await shared?.close();
    await redis?.close();
  });

  it('purges one route, then everything, in memory and Redis', async () => {
    const store = new CacheStore(1024 * 1024, NO_EVENTS);
    store.attach('one', shared);
    store.attach('two', shared);
    for (const [route, path] of [
      ['one', '/a'],
      ['one', '/b'],
      ['two', '/a'],
    ] as const) {
      expect(store.put(cacheKey(route, 'h', path), testEntry(), 60_000, 0)).toBe(true);
    }
    const keys = () => redis.client().keys('bwpurge:cache:*');
    await waitFor(async () => (await keys()).length === 3, 'three entries in Redis');
    expect(store.purge('one')).toBe(2);
    await waitFor(async () => (await keys()).length === 1, 'route one purged');
    expect((await keys())[0]).toMatch(/^bwpurge:cache:two:/);
    expect(store.purge()).toBe(1);
    await waitFor(async () => (await keys()).length === 0, 'everything purged');
  });

  it('reads back what it wrote, with its time to live', async () => {
    const store = new CacheStore(1024 * 1024, NO_EVENTS);
    store.attach('three', shared);
    const key = cacheKey('three', 'h', '/x');
    store.put(key, testEntry({ body: BINARY }), 5_000, 0);
    await waitFor(async () => (await redis.client().keys('bwpurge:cache:three:*')).length === 1, 'the write');
    const [redisKey] = await redis.client().keys('bwpurge:cache:three:*');
    const ttl = await redis.client().pttl(redisKey!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
    const other = new CacheStore(1024 * 1024, NO_EVENTS);
    other.attach('three', shared);
    const found = await other.findShared(key, {}, () => 5_000);
    expect(found?.body.equals(BINARY)).toBe(true);
    expect(other.find(key, {})?.body.equals(BINARY)).toBe(true);
  });
});

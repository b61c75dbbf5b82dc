/**
 * Redis killed under load: rate limits and the cache fall back to memory, no request fails,
 * /health says redis down, and everything is back (and no descriptor leaked) after a restart.
 */
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { redisTestsEnabled, startRedis, type TestRedis } from '../helpers/redis';
import { waitFor } from '../helpers/wait';
import { fdCount, fdKinds, fdsBackTo } from './helpers';

const suite = redisTestsEnabled() ? describe : describe.skip;

suite('faults: Redis killed under load', () => {
  let redis: TestRedis;
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    redis = await startRedis();
    up = await startUpstream();
    gw = await startGateway(`
redis: { url: "${redis.url}" }
upstreams:
  up: { targets: ["${up.url}"] }
routes:
  - name: api
    upstream: up
    rateLimit: { key: ip, limit: 100000, window: 1m }
    cache: { ttl: 30s }
`);
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
    await redis.close();
  });

  const redisStatus = async () => {
    const res = await request(`${gw.adminUrl}/health`);
    return ((await res.body.json()) as { redis: { status: string } }).redis.status;
  };

  it('200 requests while Redis dies: no 5xx; /health says down, then up after a restart', async () => {
    await waitFor(async () => (await redisStatus()) === 'up', 'redis up');
    // Warm both keep-alive pools (test client → gateway → upstream) with the same load, so the
    // baseline counts their sockets; the slack below covers a few more pooled connections
    // (two descriptors each, both ends being in this process), a leak of one per request would not fit.
    const load = async (count: number, onStart?: (i: number) => void) => {
      const statuses: number[] = [];
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const i = next++;
          onStart?.(i);
          const res = await request(`${gw.url}/item/${i % 40}`);
          await res.body.dump();
          statuses.push(res.statusCode);
        }
      };
      await Promise.all(Array.from({ length: 10 }, worker));
      return statuses;
    };
    await load(200);
    const baseline = fdCount();
    const kindsBefore = fdKinds();
    let killed: Promise<void> | undefined;
    const statuses = await load(200, (i) => {
      if (i === 50) killed = redis.kill();
    });
    await killed;
    expect(statuses).toHaveLength(200);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(new Set(statuses)).toEqual(new Set([200]));
    await waitFor(async () => (await redisStatus()) === 'down', '/health redis down', 10_000);
    // Still serving with Redis gone.
    const during = await request(`${gw.url}/during`);
    await during.body.dump();
    expect(during.statusCode).toBe(200);
    await redis.restart();
    await waitFor(async () => (await redisStatus()) === 'up', '/health redis up again', 20_000, 100);
    const after = await request(`${gw.url}/after`);
    await after.body.dump();
    expect(after.statusCode).toBe(200);
    await fdsBackTo(baseline, 'self', 12).catch((err: Error) => {
      throw new Error(`${err.message}; before: ${kindsBefore}`);
    });
  });
});

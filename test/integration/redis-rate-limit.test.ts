/**
 * Two gateway *processes* (the built CLI) sharing rate limits through a real redis-server:
 * exact across replicas (a `sharedLimits` entry too, across two routes); Redis killed mid-run → both keep serving on local limits (no 5xx, no
 * failed request), `breakwater_redis_up 0`; Redis back → `breakwater_redis_up 1` and shared
 * limits again. Each phase counts a different `x-client` value, so one phase's counts (shared or
 * local) cannot leak into the next. Skipped only where redis-server is missing outside CI.
 */
import { startCli, writeTemp, type RunningGateway } from '../helpers/cli';
import { get } from '../helpers/http';
import { redisTestsEnabled, startRedis, type TestRedis } from '../helpers/redis';
import { startUpstream, type TestUpstream } from '../helpers/upstream';

const enabled = redisTestsEnabled();
if (!enabled)
  console.warn('redis-rate-limit.test: redis-server not installed; skipping (CI=true makes this a failure)');
const describeRedis = enabled ? describe : describe.skip;

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeRedis('rate limits shared through Redis by two gateway processes', () => {
  let redis: TestRedis;
  let up: TestUpstream;
  const gateways: RunningGateway[] = [];

  beforeAll(async () => {
    [redis, up] = await Promise.all([startRedis(), startUpstream()]);
    const file = writeTemp(
      'rl-redis.yaml',
      `version: 1
server: { listen: 127.0.0.1:0, admin: { listen: 127.0.0.1:0 } }
redis: { url: "${redis.url}", keyPrefix: "bwtest:" }
upstreams:
  api: { targets: ["${up.url}"] }
sharedLimits:
  both: { key: "header:x-client", limit: 10, window: 10m }
routes:
  - name: a
    match: { pathPrefix: /a }
    upstream: api
    rateLimit: { shared: both }
  - name: b
    match: { pathPrefix: /b }
    upstream: api
    rateLimit: { shared: both }
  - name: r
    upstream: api
    rateLimit: { key: "header:x-client", limit: 10, window: 10m }
`,
    );
    gateways.push(...(await Promise.all([startCli(file), startCli(file)])));
    await waitFor(async () => (await redisUp()).every((v) => v === 1));
  });

  afterAll(async () => {
    for (const gw of gateways) gw.child.kill('SIGTERM');
    await Promise.all(gateways.map((gw) => gw.exited));
    await Promise.all([redis?.close(), up?.close()]);
  });

  const redisUp = () =>
    Promise.all(
      gateways.map(async (gw) => {
        const text = (await get(`http://127.0.0.1:${gw.adminPort}/metrics`)).text;
        return Number(/^breakwater_redis_up (\d)/m.exec(text)?.[1]);
      }),
    );

  /** `count` requests alternating between the gateways; a failed request throws (fails the test). */
  async function spread(client: string, count: number): Promise<number[][]> {
    const byGateway: number[][] = gateways.map(() => []);
    for (let i = 0; i < count; i++) {
      const g = i % gateways.length;
      const res = await get(`http://127.0.0.1:${gateways[g]!.proxyPort}/x`, { 'x-client': client });
      byGateway[g]!.push(res.status);
    }
    return byGateway;
  }

  const passed = (statuses: number[]) => statuses.filter((s) => s === 200).length;

  it('counts once for both replicas: 10 of 20 pass', async () => {
    const byGateway = await spread('phase-1', 20);
    expect(passed(byGateway.flat())).toBe(10);
    expect(byGateway.flat().filter((s) => s === 429)).toHaveLength(10);
  });

  it('a shared limit counts once for both routes and both replicas: 10 of 20 pass', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      // Gateway 0, 1, 0, 1, … and route a, a, b, b, …: every (gateway, route) pair takes 5.
      const port = gateways[i % 2]!.proxyPort;
      const path = i % 4 < 2 ? '/a' : '/b';
      statuses.push((await get(`http://127.0.0.1:${port}${path}`, { 'x-client': 'shared-1' })).status);
    }
    expect(passed(statuses)).toBe(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it('Redis down: every request is answered (200 or 429, no 5xx), each replica limits locally', async () => {
    await redis.kill();
    // Right after the kill, before either gateway has noticed.
    const during = (await spread('phase-2', 8)).flat();
    expect(during.every((s) => s === 200 || s === 429)).toBe(true);
    await waitFor(async () => (await redisUp()).every((v) => v === 0));
    const byGateway = await spread('phase-3', 24);
    expect(byGateway.map(passed)).toEqual([10, 10]);
    expect(byGateway.flat().every((s) => s === 200 || s === 429)).toBe(true);
  });

  it('Redis back: redis_up 1 and one shared count again', async () => {
    await redis.restart();
    await waitFor(async () => (await redisUp()).every((v) => v === 1));
    const byGateway = await spread('phase-4', 20);
    expect(passed(byGateway.flat())).toBe(10);
  });
});

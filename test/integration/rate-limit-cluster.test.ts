/**
 * `server.workers: 2` without Redis: both workers count in the primary (RateLimiterCluster →
 * RateLimiterClusterMaster), so a limit of 10 lets exactly 10 requests through however the
 * connections are spread, and a `sharedLimits` entry named by two routes counts once for both. Runs the built CLI (`npm run build` first) as a real process tree.
 */
import { request } from 'undici';
import { startCli, writeTemp, type RunningGateway } from '../helpers/cli';
import { get } from '../helpers/http';
import { startUpstream, type TestUpstream } from '../helpers/upstream';

let up: TestUpstream;
let gw: RunningGateway | undefined;

beforeAll(async () => {
  up = await startUpstream();
});
afterAll(() => up.close());
afterEach(async () => {
  gw?.child.kill('SIGTERM');
  await gw?.exited;
  gw = undefined;
});

/** One request on a fresh connection (Connection: close), so the primary deals it to the next worker. */
async function status(base: string): Promise<number> {
  const res = await request(`${base}/x`, { reset: true });
  await res.body.dump();
  return res.statusCode;
}

describe('rate limits with server.workers: 2', () => {
  it('are exact across workers: 10 of 20 pass, sequential, concurrent or shared by two routes', async () => {
    gw = await startCli(
      writeTemp(
        'rl-cluster.yaml',
        `version: 1
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  workers: 2
upstreams:
  api: { targets: ["${up.url}"] }
sharedLimits:
  both: { key: route, limit: 10, window: 10m }
routes:
  - name: seq
    match: { pathPrefix: /seq }
    upstream: api
    rateLimit: { key: route, limit: 10, window: 10m }
  - name: par
    match: { pathPrefix: /par }
    upstream: api
    rateLimit: { key: route, limit: 10, window: 10m }
  - name: sa
    match: { pathPrefix: /sa }
    upstream: api
    rateLimit: { shared: both }
  - name: sb
    match: { pathPrefix: /sb }
    upstream: api
    rateLimit: { shared: both }
`,
      ),
    );
    const base = `http://127.0.0.1:${gw.proxyPort}`;
    const connectionsBefore = up.connections;
    const sequential: number[] = [];
    for (let i = 0; i < 20; i++) sequential.push(await status(`${base}/seq`));
    expect(sequential.filter((s) => s === 200)).toHaveLength(10);
    expect(sequential.filter((s) => s === 429)).toHaveLength(10);
    // Each worker forwards over its own keep-alive pool: two upstream connections = both served.
    expect(up.connections - connectionsBefore).toBeGreaterThanOrEqual(2);
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => status(`${base}/par`)));
    expect(concurrent.filter((s) => s === 200)).toHaveLength(10);
    expect(concurrent.filter((s) => s === 429)).toHaveLength(10);
    // Both routes count into one counter in the primary, whichever worker serves them.
    const shared = await Promise.all(
      Array.from({ length: 20 }, (_, i) => status(`${base}/${i % 2 ? 'sa' : 'sb'}`)),
    );
    expect(shared.filter((s) => s === 200)).toHaveLength(10);
    expect(shared.filter((s) => s === 429)).toHaveLength(10);
    // The primary sums the workers' metrics: every refusal is counted once.
    const metrics = (await get(`http://127.0.0.1:${gw.adminPort}/metrics`)).text;
    expect(metrics).toMatch(/breakwater_rate_limited_total\{route="seq",tier="",mode="enforce"\} 10/);
    expect(metrics).toMatch(/breakwater_rate_limited_total\{route="par",tier="",mode="enforce"\} 10/);
    expect(gw.lines.filter((l) => l.msg === 'worker started')).toHaveLength(2);
  });
});

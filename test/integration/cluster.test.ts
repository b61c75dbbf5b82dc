/**
 * `server.workers: 2`: two gateway processes on one port, admin answered once by the primary
 * with metrics summed over the workers and health merged, SIGTERM draining them all.
 */
import { request } from 'undici';
import { startCli, writeTemp } from '../helpers/cli';
import { startUpstream, echo, type TestUpstream } from '../helpers/upstream';
import { get } from '../helpers/http';

describe('cluster mode', () => {
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream(echo());
  });
  afterAll(() => up.close());

  it('serves from two workers, aggregates /metrics and /health, and drains on SIGTERM', async () => {
    const gw = await startCli(
      writeTemp(
        'cluster.yaml',
        `version: 1
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  workers: 2
upstreams:
  api: { targets: ["${up.url}"] }
routes:
  - { name: api, upstream: api }
`,
      ),
    );
    try {
      const base = `http://127.0.0.1:${gw.proxyPort}`;
      // Separate connections so the kernel spreads them over both workers.
      for (let i = 0; i < 40; i++) await (await request(base, { reset: true })).body.dump();
      const metrics = (await get(`http://127.0.0.1:${gw.adminPort}/metrics`)).text;
      expect(metrics).toMatch(/breakwater_requests_total\{route="api",method="GET",code="200"\} 40/);
      const health = await get(`http://127.0.0.1:${gw.adminPort}/health`);
      expect(health.json()).toMatchObject({
        status: 'ok',
        upstreams: { api: { status: 'ok', inflight: 0 } },
      });
      expect((await get(`http://127.0.0.1:${gw.adminPort}/health/ready`)).status).toBe(200);
      expect(gw.lines.filter((l) => l.msg === 'worker started')).toHaveLength(2);
    } finally {
      gw.child.kill('SIGTERM');
    }
    expect(await gw.exited).toBe(0);
  });
});

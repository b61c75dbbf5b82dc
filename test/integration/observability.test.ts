/**
 * Access lines, /metrics (checked by promtool when it is installed; required in CI) and the
 * health endpoints on the admin listener.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, respond, refusedPort, type TestUpstream } from '../helpers/upstream';
import { get } from '../helpers/http';

function promtoolAvailable(): boolean {
  return spawnSync('promtool', ['--version']).status === 0;
}

describe('observability', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let dead: number;

  beforeAll(async () => {
    up = await startUpstream(respond(201, 'made', { 'content-type': 'text/plain' }));
    dead = await refusedPort();
    gw = await startGateway(`
upstreams:
  api: { targets: ["${up.url}"] }
  spare:
    targets: ["http://127.0.0.1:${dead}"]
    critical: false
routes:
  - { name: api, match: { pathPrefix: /api }, upstream: api }
  - { name: spare, match: { pathPrefix: /spare }, upstream: spare }
`);
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('writes one flat access line per request, path without the query, secrets absent', async () => {
    const res = await get(`${gw.url}/api/items?token=s3cret`, {
      authorization: 'Bearer top-secret',
      cookie: 'sid=abc',
    });
    const lines = gw.accessLines().filter((l) => l.reqId === res.headers['x-request-id']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({
      level: 'info',
      time: expect.any(String),
      reqId: res.headers['x-request-id'],
      method: 'GET',
      path: '/api/items',
      route: 'api',
      upstream: 'api',
      target: up.url,
      status: 201,
      duration_ms: expect.any(Number),
      attempts: 1,
      bytes: 4,
    });
    const everything = JSON.stringify(gw.logs);
    expect(everything).not.toContain('top-secret');
    expect(everything).not.toContain('sid=abc');
    expect(everything).not.toContain('s3cret');
  });

  it('exposes the request metrics with bounded labels', async () => {
    await get(`${gw.url}/api/x`);
    await get(`${gw.url}/nowhere/${Math.random()}`);
    const text = (await get(`${gw.adminUrl}/metrics`)).text;
    expect(text).toMatch(/breakwater_requests_total\{route="api",method="GET",code="201"\} \d+/);
    expect(text).toMatch(/breakwater_requests_total\{route="_unmatched",method="GET",code="404"\} \d+/);
    expect(text).toMatch(/breakwater_request_duration_seconds_bucket\{le="0.005",route="api"\} \d+/);
    expect(text).toMatch(
      /breakwater_upstream_requests_total\{upstream="api",target="[^"]+",outcome="success"\} \d+/,
    );
    expect(text).toMatch(/breakwater_upstream_duration_seconds_count\{upstream="api"\} \d+/);
    expect(text).toMatch(/breakwater_inflight_requests\{route="api"\} 0/);
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).not.toContain('/nowhere');
  });

  it('counts upstream outcomes', async () => {
    await get(`${gw.url}/spare`);
    const text = (await get(`${gw.adminUrl}/metrics`)).text;
    expect(text).toMatch(
      /breakwater_upstream_requests_total\{upstream="spare",target="[^"]+",outcome="connect_error"\} 1/,
    );
  });

  it('passes promtool check metrics', async () => {
    if (!promtoolAvailable()) {
      if (process.env.CI) throw new Error('promtool is required in CI (Debian package prometheus)');
      return;
    }
    const text = (await get(`${gw.adminUrl}/metrics`)).text;
    const file = join(mkdtempSync(join(tmpdir(), 'bw-metrics-')), 'metrics.txt');
    writeFileSync(file, text);
    const result = spawnSync('sh', ['-c', `promtool check metrics < ${file}`], { encoding: 'utf8' });
    expect(result.stderr + result.stdout).not.toMatch(/error/i);
    expect(result.status).toBe(0);
  });

  it('answers the health endpoints', async () => {
    expect((await get(`${gw.adminUrl}/health/live`)).status).toBe(200);
    expect((await get(`${gw.adminUrl}/health/ready`)).json()).toEqual({ status: 'ready' });
    const health = await get(`${gw.adminUrl}/health`);
    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({
      status: 'ok',
      version: expect.stringMatching(/^[0-9a-f]{12}$/),
      uptimeSeconds: expect.any(Number),
      redis: { status: 'disabled' },
      upstreams: {
        api: {
          status: 'ok',
          inflight: 0,
          breakers: {},
          targets: [
            { url: up.url, healthy: true, ejected: false, draining: false, lastCheck: null, reason: null },
          ],
        },
      },
    });
  });

  it('answers unknown admin paths with a JSON 404 and non-GET with 405', async () => {
    expect((await get(`${gw.adminUrl}/nope`)).status).toBe(404);
    expect((await get(`${gw.adminUrl}/metrics`, {}, 'POST')).status).toBe(405);
  });

  it('writes access lines of 5xx answers at warn, others at info', async () => {
    const failed = await get(`${gw.url}/spare/x`);
    const fine = await get(`${gw.url}/api/y`);
    const levelOf = (reqId: unknown) => gw.accessLines().find((l) => l.reqId === reqId)?.level;
    expect(failed.status).toBe(502);
    expect(levelOf(failed.headers['x-request-id'])).toBe('warn');
    expect(levelOf(fine.headers['x-request-id'])).toBe('info');
  });
});

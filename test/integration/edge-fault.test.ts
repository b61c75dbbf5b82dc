/**
 * fault: an abort at 100% answers the configured status without reaching the upstream, looks
 * like an upstream failure to the stale cache and the static fallback, and is counted; a delay
 * holds requests back by about its duration (never past the route timeout); server defaults.
 */
import { parseConfig } from '../../src/config/load';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { echo, startUpstream, type TestUpstream } from '../helpers/upstream';
import { get, sleep } from '../helpers/http';

describe('fault', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  const yaml = (cachedFault: string) => `
version: 1
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  overload: { maxEventLoopDelay: 0 }   # a cold jest worker lags at start; shedding is not under test
  fault: { abort: { status: 503, percent: 100 } }
upstreams:
  app: { targets: ["${up.url}"] }
routes:
  - name: aborted
    match: { pathPrefix: /aborted }
    upstream: app
  - name: replaced
    match: { pathPrefix: /replaced }
    upstream: app
    fault: { abort: { status: 500, percent: 100 } }
    fallback: { status: 200, body: "fallback", on: [5xx] }
  - name: cached
    match: { pathPrefix: /cached }
    upstream: app
    cache: { ttl: 1s, staleIfError: 10m }
    fault: ${cachedFault}
  - name: delayed
    match: { pathPrefix: /delayed }
    upstream: app
    fault: { delay: { duration: 200ms, percent: 100 } }
  - name: deadline
    match: { pathPrefix: /deadline }
    upstream: app
    timeout: 100ms
    fault: { delay: { duration: 1s, percent: 100 } }
  - name: healthy
    match: { pathPrefix: /healthy }
    upstream: app
    fault: false
`;

  beforeAll(async () => {
    up = await startUpstream(echo());
    gw = await startGateway(yaml('false'));
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  const line = (res: { headers: Record<string, unknown> }) =>
    gw.accessLines().find((l) => l.reqId === res.headers['x-request-id']);

  it('aborts with the configured status, without reaching the upstream (server default)', async () => {
    const hits = up.hits;
    const res = await get(`${gw.url}/aborted/x`);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      error: { code: 'FAULT_INJECTED', message: expect.any(String), requestId: res.headers['x-request-id'] },
    });
    expect(up.hits).toBe(hits);
    expect(line(res)).toMatchObject({ route: 'aborted', status: 503, reason: 'fault_abort' });
  });

  it('lets the static fallback replace an injected 5xx', async () => {
    const res = await get(`${gw.url}/replaced/x`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('fallback');
  });

  it('is answered by the stale cache (stale-if-error), like an upstream failure', async () => {
    const fresh = await get(`${gw.url}/cached/item`);
    expect(fresh.status).toBe(200);
    const stored = fresh.text;
    // Turn the drill on for this route; the cache store carries over the reload.
    gw.gateway.reload(parseConfig(yaml('{ abort: { status: 503, percent: 100 } }'), 'test.yaml', {}));
    await sleep(1100);
    const hits = up.hits;
    const stale = await get(`${gw.url}/cached/item`);
    expect(stale.status).toBe(200);
    expect(stale.text).toBe(stored);
    expect(stale.headers['cache-status']).toMatch(/fwd=stale; fwd-status=503; detail=stale-if-error/);
    expect(up.hits).toBe(hits);
    // Nothing stored for this one: the drill's 503 comes through.
    expect((await get(`${gw.url}/cached/other`)).status).toBe(503);
  });

  it('delays by about its duration', async () => {
    const started = performance.now();
    const res = await get(`${gw.url}/delayed/x`);
    const tookMs = performance.now() - started;
    expect(res.status).toBe(200);
    expect(tookMs).toBeGreaterThanOrEqual(190);
    expect(tookMs).toBeLessThan(200 + 400);
    expect(line(res)).toMatchObject({ reason: 'fault_delay' });
  });

  it('never delays past the route timeout', async () => {
    const started = performance.now();
    const res = await get(`${gw.url}/deadline/x`);
    expect(res.status).toBe(504);
    expect(performance.now() - started).toBeLessThan(600);
  });

  it('is off on a route that says fault: false', async () => {
    expect((await get(`${gw.url}/healthy/x`)).status).toBe(200);
  });

  it('counts every injection', async () => {
    const text = (await get(`${gw.adminUrl}/metrics`)).text;
    expect(text).toMatch(/breakwater_faults_injected_total\{route="aborted",kind="abort"\} 1/);
    expect(text).toMatch(/breakwater_faults_injected_total\{route="delayed",kind="delay"\} 1/);
    expect(text).toMatch(/breakwater_faults_injected_total\{route="cached",kind="abort"\} 2/);
  });
});

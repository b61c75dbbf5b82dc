/**
 * Target health against real loopback upstreams: active health checks pull a target out and put
 * it back, outlier detection ejects one after consecutive 5xx and restores it on a timer, and
 * /health, /health/ready and /metrics say so.
 */
import { parseConfig } from '../../src/config/load';
import { NO_EVENTS, type GatewayEvents } from '../../src/observability/events';
import { Upstream } from '../../src/upstream/upstream';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { delay, hang, refusedPort, respond, startUpstream, type TestUpstream } from '../helpers/upstream';
import { get, sleep } from '../helpers/http';

/** An upstream whose /healthz and other paths answer what the test currently sets. */
interface Switchable {
  readonly up: TestUpstream;
  readonly url: string;
  /** /healthz status and delay. */
  health: { status: number; delayMs: number };
  /** Status for every other path. */
  apiStatus: number;
  /** Requests that were not health probes. */
  apiHits(): number;
  probes(): number;
}

async function startSwitchable(name: string): Promise<Switchable> {
  const sw = {
    health: { status: 200, delayMs: 0 },
    apiStatus: 200,
  } as Switchable;
  const up = await startUpstream((req, res, hit) => {
    if (req.url !== '/healthz') return respond(sw.apiStatus, name)(req, res, hit);
    const answer = respond(sw.health.status, 'hc');
    return sw.health.delayMs > 0 ? delay(sw.health.delayMs, answer)(req, res, hit) : answer(req, res, hit);
  });
  return Object.assign(sw, {
    up,
    url: up.url,
    apiHits: () => up.seen.filter((s) => s.url !== '/healthz').length,
    probes: () => up.seen.filter((s) => s.url === '/healthz').length,
  });
}

async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 5000,
): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
  return Date.now() - started;
}

interface TargetReport {
  url: string;
  healthy: boolean;
  ejected: boolean;
  lastCheck: string | null;
  reason: string | null;
}

async function targetsOf(gw: TestGateway, upstream: string): Promise<TargetReport[]> {
  const report = (await get(`${gw.adminUrl}/health`)).json<{
    upstreams: Record<string, { status: string; targets: TargetReport[] }>;
  }>();
  return report.upstreams[upstream]!.targets;
}

async function targetOf(gw: TestGateway, upstream: string, url: string): Promise<TargetReport> {
  return (await targetsOf(gw, upstream)).find((t) => t.url === url)!;
}

/** The value of breakwater_upstream_target_healthy for one target, or undefined when absent. */
async function healthGauge(gw: TestGateway, upstream: string, url: string): Promise<number | undefined> {
  const text = (await get(`${gw.adminUrl}/metrics`)).text;
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('breakwater_upstream_target_healthy{') &&
        l.includes(`upstream="${upstream}"`) &&
        l.includes(`target="${url}"`),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Sends `count` sequential requests and returns the statuses and bodies. */
async function send(url: string, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await get(url);
    out.push(
      `${res.status} ${res.text.startsWith('{') ? (res.json<{ error: { code: string } }>().error.code ?? '') : res.text}`,
    );
  }
  return out;
}

const CHECK =
  '{ path: /healthz, interval: 100ms, timeout: 250ms, healthyThreshold: 2, unhealthyThreshold: 2 }';

describe('active health checks', () => {
  let a: Switchable;
  let b: Switchable;
  let solo: Switchable;
  let slow: Switchable;
  let deadUrl: string;
  let gw: TestGateway;

  beforeAll(async () => {
    [a, b, solo, slow] = await Promise.all([
      startSwitchable('a'),
      startSwitchable('b'),
      startSwitchable('solo'),
      startSwitchable('slow'),
    ]);
    slow.health.delayMs = 1000;
    deadUrl = `http://127.0.0.1:${await refusedPort()}`;
    gw = await startGateway(`
upstreams:
  pair: { targets: ["${a.url}", "${b.url}"], healthCheck: ${CHECK} }
  solo: { targets: ["${solo.url}"], healthCheck: ${CHECK} }
  slow: { targets: ["${slow.url}"], healthCheck: ${CHECK}, critical: false }
  dead: { targets: ["${deadUrl}"], healthCheck: ${CHECK}, critical: false }
routes:
  - { name: pair, match: { pathPrefix: /pair }, upstream: pair }
  - { name: solo, match: { pathPrefix: /solo }, upstream: solo }
`);
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([a, b, solo, slow].map((s) => s.up.close()));
  });

  it('pulls a failing target out of rotation and puts it back after it recovers', async () => {
    await waitFor('first probes of a', () => a.probes() >= 1);
    expect((await send(`${gw.url}/pair`, 4)).sort()).toEqual(['200 a', '200 a', '200 b', '200 b']);

    a.health.status = 503;
    const outMs = await waitFor('a unhealthy', async () => !(await targetOf(gw, 'pair', a.url)).healthy);
    const report = await targetOf(gw, 'pair', a.url);
    expect(report).toMatchObject({ healthy: false, ejected: false, reason: 'health check: status 503' });
    expect(Date.now() - Date.parse(report.lastCheck!)).toBeLessThan(2000);
    expect(await healthGauge(gw, 'pair', a.url)).toBe(0);
    expect(await healthGauge(gw, 'pair', b.url)).toBe(1);

    const aHits = a.apiHits();
    expect(await send(`${gw.url}/pair`, 6)).toEqual(Array(6).fill('200 b'));
    expect(a.apiHits()).toBe(aHits);

    a.health.status = 200;
    const backMs = await waitFor('a healthy', async () => (await targetOf(gw, 'pair', a.url)).healthy);
    expect((await targetOf(gw, 'pair', a.url)).reason).toBeNull();
    expect(await healthGauge(gw, 'pair', a.url)).toBe(1);
    expect((await send(`${gw.url}/pair`, 4)).filter((r) => r === '200 a')).toHaveLength(2);
    // Two probes at ~100ms ±10% apart, each answered in a few ms: well under a second each way.
    expect(outMs).toBeLessThan(2000);
    expect(backMs).toBeLessThan(2000);
  });

  it('/health/ready is 503 while the only target of a critical upstream is unhealthy, 200 after', async () => {
    expect((await get(`${gw.adminUrl}/health/ready`)).status).toBe(200);
    solo.health.status = 500;
    await waitFor('not ready', async () => (await get(`${gw.adminUrl}/health/ready`)).status === 503);
    const ready = await get(`${gw.adminUrl}/health/ready`);
    expect(ready.text).toContain('upstream solo has no healthy target');
    const hits = solo.apiHits();
    const res = await get(`${gw.url}/solo`);
    expect(res.status).toBe(503);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('NO_HEALTHY_UPSTREAM');
    expect(solo.apiHits()).toBe(hits);
    const health = (await get(`${gw.adminUrl}/health`)).json<{ status: string }>();
    expect(health.status).toBe('down');

    solo.health.status = 200;
    await waitFor('ready again', async () => (await get(`${gw.adminUrl}/health/ready`)).status === 200);
    expect((await get(`${gw.url}/solo`)).text).toBe('solo');
  });

  it('counts a probe answered after the timeout as a failure', async () => {
    await waitFor('slow unhealthy', async () => !(await targetOf(gw, 'slow', slow.url)).healthy);
    expect((await targetOf(gw, 'slow', slow.url)).reason).toBe('health check: timeout');
    expect(await healthGauge(gw, 'slow', slow.url)).toBe(0);
  });

  it('reports a refused connection', async () => {
    await waitFor('dead unhealthy', async () => !(await targetOf(gw, 'dead', deadUrl)).healthy);
    expect((await targetOf(gw, 'dead', deadUrl)).reason).toBe('health check: connect refused');
  });
});

describe('outlier detection', () => {
  let a: Switchable;
  let b: Switchable;
  let c: Switchable;
  let d: Switchable;
  let gw: TestGateway;

  beforeAll(async () => {
    [a, b, c, d] = await Promise.all([
      startSwitchable('a'),
      startSwitchable('b'),
      startSwitchable('c'),
      startSwitchable('d'),
    ]);
    gw = await startGateway(`
upstreams:
  flaky:
    targets: ["${a.url}", "${b.url}"]
    outlierDetection: { consecutiveFailures: 3, ejectFor: 1500ms, maxEjectedPercent: 50 }
  both:
    targets: ["${c.url}", "${d.url}"]
    outlierDetection: { consecutiveFailures: 3, ejectFor: 10s, maxEjectedPercent: 50 }
    critical: false
routes:
  - { name: flaky, match: { pathPrefix: /flaky }, upstream: flaky }
  - { name: both, match: { pathPrefix: /both }, upstream: both }
`);
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([a, b, c, d].map((s) => s.up.close()));
  });

  it('ejects a target after 3 consecutive 5xx, sends traffic to the other and restores it without traffic', async () => {
    a.apiStatus = 503;
    // Round robin alternates: a fails on requests 1, 3 and 5 and is ejected by the third.
    expect(await send(`${gw.url}/flaky`, 6)).toEqual(['503 a', '200 b', '503 a', '200 b', '503 a', '200 b']);
    const ejectedAt = Date.now();
    expect(await targetOf(gw, 'flaky', a.url)).toMatchObject({
      healthy: true,
      ejected: true,
      reason: 'ejected: 3 consecutive failures',
    });
    expect(await healthGauge(gw, 'flaky', a.url)).toBe(0);
    expect(await send(`${gw.url}/flaky`, 5)).toEqual(Array(5).fill('200 b'));
    expect(a.apiHits()).toBe(3);

    a.apiStatus = 200;
    await waitFor('gauge back to 1', async () => (await healthGauge(gw, 'flaky', a.url)) === 1);
    const recoveredMs = Date.now() - ejectedAt;
    expect(a.apiHits()).toBe(3); // recovered on the timer, with no request in between
    // ejectFor 1.5 s: long enough for the five requests above on a loaded machine, and the timer
    // (not a request) brings it back, within 3x slack.
    expect(recoveredMs).toBeGreaterThanOrEqual(1000);
    expect(recoveredMs).toBeLessThan(4500);
    expect(await targetOf(gw, 'flaky', a.url)).toMatchObject({ ejected: false, reason: null });
    expect((await send(`${gw.url}/flaky`, 4)).sort()).toEqual(['200 a', '200 a', '200 b', '200 b']);
  });

  it('never ejects more than maxEjectedPercent (2 targets at 50%: one), even when both fail', async () => {
    c.apiStatus = 503;
    d.apiStatus = 503;
    const results = await send(`${gw.url}/both`, 20);
    // Every answer is the upstream's own 503; the gateway never runs out of targets.
    expect(results.every((r) => r === '503 c' || r === '503 d')).toBe(true);
    const targets = await targetsOf(gw, 'both');
    expect(targets.filter((t) => t.ejected).map((t) => t.url)).toEqual([c.url]);
    expect(c.apiHits()).toBe(3);
    expect(d.apiHits()).toBe(17);
    expect(await healthGauge(gw, 'both', d.url)).toBe(1);
  });
});

describe('health checker lifecycle', () => {
  function upstreamFrom(url: string, events: GatewayEvents, interval = '50ms', timeout = '5s'): Upstream {
    const config = parseConfig(
      `
version: 1
server: { listen: 127.0.0.1:0, admin: { listen: 127.0.0.1:0 } }
upstreams:
  u: { targets: ["${url}"], healthCheck: { path: /healthz, interval: ${interval}, timeout: ${timeout} } }
routes:
  - { name: r, match: { pathPrefix: / }, upstream: u }
`,
      'test.yaml',
      {},
    );
    return new Upstream(config.upstreams.u!, events);
  }

  it('stop() aborts the probe in flight and no probe runs afterwards', async () => {
    let closedAt = 0;
    const hanging = await startUpstream(hang(() => (closedAt = Date.now())));
    const results: string[] = [];
    const upstream = upstreamFrom(hanging.url, { ...NO_EVENTS, healthCheck: (_u, _t, r) => results.push(r) });
    upstream.start();
    await waitFor('a probe in flight', () => hanging.hits === 1);
    const stoppedAt = Date.now();
    await upstream.close();
    await waitFor('the probe aborted', () => closedAt > 0, 2000);
    expect(closedAt - stoppedAt).toBeLessThan(500);
    await sleep(300); // six intervals
    expect(hanging.hits).toBe(1);
    expect(results).toEqual([]);
    await hanging.close();
  });

  it('probes each target about once per interval, first at a random offset, and start() is idempotent', async () => {
    const up = await startUpstream(respond(200, 'ok'));
    const results: string[] = [];
    const upstream = upstreamFrom(
      up.url,
      { ...NO_EVENTS, healthCheck: (_u, _t, r) => results.push(r) },
      '100ms',
    );
    upstream.start();
    upstream.start();
    await sleep(1050);
    await upstream.close();
    const probes = up.hits;
    // A first probe somewhere in the first 100ms, then one per 100ms ±10%: about 10 (timers
    // that fire late on a loaded machine only lower the count).
    expect(probes).toBeGreaterThanOrEqual(7);
    expect(probes).toBeLessThanOrEqual(12);
    expect(results).toEqual(Array(probes).fill('success'));
    // One kept-alive connection serves the probes.
    expect(up.connections).toBe(1);
    await sleep(250);
    expect(up.hits).toBe(probes);
    await up.close();
  });
});

describe('targets out of service on purpose', () => {
  let live: TestUpstream;
  let standby: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    [live, standby] = await Promise.all([
      startUpstream(respond(200, 'live')),
      startUpstream(respond(200, 'standby')),
    ]);
    gw = await startGateway(`
upstreams:
  app:
    targets: [{ url: "${live.url}", weight: 1 }, { url: "${standby.url}", weight: 0 }]
routes:
  - { name: app, match: { pathPrefix: / }, upstream: app }
`);
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([live.close(), standby.close()]);
  });

  const appHealth = async () =>
    (await get(`${gw.adminUrl}/health`)).json<{ upstreams: { app: { status: string } } }>().upstreams.app
      .status;

  it('a weight-0 standby (blue-green) leaves the upstream ok, a drained live target leaves it down', async () => {
    expect(await appHealth()).toBe('ok');
    const drain = await get(
      `${gw.adminUrl}/admin/upstreams/app/targets/${encodeURIComponent(live.url)}/drain`,
      {},
      'POST',
    );
    expect(drain.status).toBe(200);
    expect(await appHealth()).toBe('down');
  });
});

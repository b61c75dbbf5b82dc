/**
 * Circuit breakers through the real gateway and a real loopback upstream: when they open, how
 * fast an open one answers, the half-open trial, scope route vs upstream, what never counts,
 * what /health and /metrics show, and what a config reload keeps.
 */
import { parseConfig } from '../../src/config/load';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, respond, type TestUpstream } from '../helpers/upstream';
import { get, sleep, type SimpleResponse } from '../helpers/http';

/** What the upstream answers, switchable mid-test: a status per path, and an optional delay. */
interface UpstreamMode {
  status: (path: string) => number;
  delayMs: number;
}

let up: TestUpstream;
let gw: TestGateway | undefined;
const mode: UpstreamMode = { status: () => 200, delayMs: 0 };

beforeAll(async () => {
  up = await startUpstream((req, res, hit) => {
    const status = mode.status(req.url ?? '/');
    const answer = () =>
      respond(status, `upstream said ${status} (#${hit})`, { 'x-upstream': 'yes' })(req, res, hit);
    if (mode.delayMs > 0) setTimeout(answer, mode.delayMs);
    else answer();
  });
});
afterAll(() => up.close());
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  mode.status = () => 200;
  mode.delayMs = 0;
});

function yaml(breaker: string): string {
  return `version: 1
server: { listen: 127.0.0.1:0, admin: { listen: 127.0.0.1:0 } }
upstreams:
  api:
    targets: ["${up.url}"]
    circuitBreaker: ${breaker}
routes:
  - { name: a, match: { pathPrefix: /a }, upstream: api }
  - { name: b, match: { pathPrefix: /b }, upstream: api }
`;
}

async function boot(breaker: string): Promise<TestGateway> {
  gw = await startGateway(yaml(breaker));
  return gw;
}

async function breakers(g: TestGateway): Promise<Record<string, string>> {
  const res = await get(`${g.adminUrl}/health`);
  return res.json<{ upstreams: { api: { breakers: Record<string, string> } } }>().upstreams.api.breakers;
}

async function waitForBreaker(g: TestGateway, route: string, state: string): Promise<void> {
  const until = Date.now() + 5000;
  while ((await breakers(g))[route] !== state) {
    if (Date.now() > until) throw new Error(`breaker ${route} never became ${state}`);
    await sleep(20);
  }
}

async function send(g: TestGateway, path: string, times: number): Promise<SimpleResponse[]> {
  const responses: SimpleResponse[] = [];
  for (let i = 0; i < times; i++) responses.push(await get(`${g.url}${path}`));
  return responses;
}

function expectCircuitOpen(res: SimpleResponse): void {
  expect(res.status).toBe(503);
  expect(res.json<{ error: { code: string } }>().error.code).toBe('CIRCUIT_OPEN');
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
}

const OPENS_AFTER_5 = '{ volumeThreshold: 5, window: 10s, resetTimeout: 300ms }';

describe('circuit breaker', () => {
  it('opens after volumeThreshold failures, returning every 5xx unchanged until then', async () => {
    const g = await boot('{ volumeThreshold: 5, window: 10s, resetTimeout: 5s }');
    mode.status = () => 500;
    const hitsBefore = up.hits;
    for (const res of await send(g, '/a', 5)) {
      expect(res.status).toBe(500);
      expect(res.text).toMatch(/^upstream said 500 \(#\d+\)$/);
      expect(res.headers['x-upstream']).toBe('yes');
    }
    const refused = await send(g, '/a', 3);
    for (const res of refused) expectCircuitOpen(res);
    expect(Number(refused[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(4);
    expect(Number(refused[0]!.headers['retry-after'])).toBeLessThanOrEqual(5);
    expect(up.hits - hitsBefore).toBe(5);
    const lines = g.accessLines();
    expect(lines.slice(0, 5).map((l) => l.breaker)).toEqual(Array(5).fill('closed'));
    expect(lines.at(-1)).toMatchObject({ status: 503, breaker: 'open', reason: 'circuit_open' });
  });

  it('fails fast while open: no upstream hit and no wait for a slow upstream', async () => {
    const g = await boot('{ volumeThreshold: 5, window: 10s, resetTimeout: 30s }');
    // Each failure takes 100ms: 200 requests at the upstream's pace would take 20s.
    mode.status = () => 502;
    mode.delayMs = 100;
    await send(g, '/a', 5);
    const hitsBefore = up.hits;
    const n = 200;
    const started = performance.now();
    const responses = await send(g, '/a', n);
    const elapsedMs = performance.now() - started;
    for (const res of responses) expect(res.status).toBe(503);
    expect(up.hits).toBe(hitsBefore);
    console.log(
      `${n} refused requests in ${elapsedMs.toFixed(1)} ms (${((elapsedMs * 1000) / n).toFixed(0)} µs each, client round trip included)`,
    );
    expect(elapsedMs).toBeLessThan(3000);
  });

  it('half-opens after resetTimeout, lets one trial through and closes when it succeeds', async () => {
    const g = await boot(OPENS_AFTER_5);
    mode.status = () => 500;
    await send(g, '/a', 5);
    expectCircuitOpen((await send(g, '/a', 1))[0]!);
    mode.status = () => 200;
    await waitForBreaker(g, 'a', 'half-open');
    // The trial is slow, so the requests sent meanwhile meet a half-open breaker with its trial out.
    mode.delayMs = 300;
    const hitsBefore = up.hits;
    const trial = get(`${g.url}/a`);
    await sleep(50);
    const during = await Promise.all([get(`${g.url}/a`), get(`${g.url}/a`), get(`${g.url}/a`)]);
    for (const res of during) {
      expectCircuitOpen(res);
      expect(res.headers['retry-after']).toBe('1');
    }
    expect((await trial).status).toBe(200);
    expect(up.hits - hitsBefore).toBe(1);
    mode.delayMs = 0;
    for (const res of await send(g, '/a', 10)) expect(res.status).toBe(200);
    expect(up.hits - hitsBefore).toBe(11);
    expect((await breakers(g)).a).toBe('closed');
  });

  it('re-opens when the trial fails', async () => {
    const g = await boot(OPENS_AFTER_5);
    mode.status = () => 503;
    await send(g, '/a', 5);
    await waitForBreaker(g, 'a', 'half-open');
    const hitsBefore = up.hits;
    const trial = await get(`${g.url}/a`);
    expect(trial.status).toBe(503);
    expect(trial.text).toMatch(/^upstream said 503/);
    expect((await breakers(g)).a).toBe('open');
    expectCircuitOpen((await send(g, '/a', 1))[0]!);
    expect(up.hits - hitsBefore).toBe(1);
  });

  it('with scope route, one route’s failures leave the other routes of the upstream alone', async () => {
    const g = await boot(OPENS_AFTER_5);
    mode.status = (path) => (path.startsWith('/a') ? 500 : 200);
    await send(g, '/a', 5);
    expectCircuitOpen((await send(g, '/a', 1))[0]!);
    const hitsBefore = up.hits;
    for (const res of await send(g, '/b', 5)) expect(res.status).toBe(200);
    expect(up.hits - hitsBefore).toBe(5);
    expect(await breakers(g)).toEqual({ a: 'open', b: 'closed' });
  });

  it('with scope upstream, one route’s failures open the breaker for every route', async () => {
    const g = await boot('{ scope: upstream, volumeThreshold: 5, window: 10s, resetTimeout: 5s }');
    mode.status = (path) => (path.startsWith('/a') ? 500 : 200);
    await send(g, '/a', 5);
    const hitsBefore = up.hits;
    expectCircuitOpen((await send(g, '/b', 1))[0]!);
    expect(up.hits).toBe(hitsBefore);
    expect(await breakers(g)).toEqual({ '*': 'open' });
  });

  it('never opens on 4xx', async () => {
    const g = await boot(OPENS_AFTER_5);
    mode.status = () => 404;
    const hitsBefore = up.hits;
    for (const res of await send(g, '/a', 30)) {
      expect(res.status).toBe(404);
      expect(res.text).toMatch(/^upstream said 404/);
    }
    expect(up.hits - hitsBefore).toBe(30);
    expect((await breakers(g)).a).toBe('closed');
  });

  it('shows state and transitions in /metrics', async () => {
    const g = await boot(OPENS_AFTER_5);
    const metric = async (name: string, labels: string): Promise<number | undefined> => {
      const text = (await get(`${g.adminUrl}/metrics`)).text;
      const line = text.split('\n').find((l) => l.startsWith(`breakwater_${name}{${labels}}`));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    expect(await metric('circuit_state', 'upstream="api",route="a"')).toBe(0);
    mode.status = () => 500;
    await send(g, '/a', 5);
    expect(await metric('circuit_state', 'upstream="api",route="a"')).toBe(2);
    mode.status = () => 200;
    await waitForBreaker(g, 'a', 'half-open');
    expect(await metric('circuit_state', 'upstream="api",route="a"')).toBe(1);
    await send(g, '/a', 1);
    expect(await metric('circuit_state', 'upstream="api",route="a"')).toBe(0);
    for (const to of ['open', 'half-open', 'closed'])
      expect(await metric('circuit_transitions_total', `upstream="api",route="a",to="${to}"`)).toBe(1);
    expect(await metric('circuit_state', 'upstream="api",route="b"')).toBe(0);
  });

  it('keeps an open breaker across a reload with unchanged settings, and starts fresh when they change', async () => {
    const settings = '{ volumeThreshold: 5, window: 10s, resetTimeout: 30s }';
    const g = await boot(settings);
    mode.status = () => 500;
    await send(g, '/a', 5);
    const hitsBefore = up.hits;
    g.gateway.reload(parseConfig(yaml(settings), 'test.yaml', {}));
    expectCircuitOpen((await send(g, '/a', 1))[0]!);
    expect(up.hits).toBe(hitsBefore);
    expect((await breakers(g)).a).toBe('open');

    g.gateway.reload(
      parseConfig(yaml(settings.replace('volumeThreshold: 5', 'volumeThreshold: 6')), 'test.yaml', {}),
    );
    expect(await breakers(g)).toEqual({ a: 'closed', b: 'closed' });
    expect((await send(g, '/a', 1))[0]!.status).toBe(500);
    expect(up.hits).toBe(hitsBefore + 1);
  });
});

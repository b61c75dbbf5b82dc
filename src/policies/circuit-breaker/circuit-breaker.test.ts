/**
 * The breaker stage on its own: what counts, when it opens, the half-open trial, the Retry-After
 * it reports, what survives a rebuild, and the cost of a refusal. `next` is a plain function
 * here (no sockets); the real gateway is exercised in test/integration/circuit-breaker.test.ts.
 */
import { parseConfig } from '../../config/load';
import type { GatewayConfig } from '../../config/types';
import {
  CircuitOpenError,
  NoHealthyUpstreamError,
  UpstreamUnavailableError,
  isGatewayError,
} from '../../errors';
import { NO_EVENTS, type BreakerState, type GatewayEvents } from '../../observability/events';
import { createStage } from '../../pipeline/build';
import type { StageDeps } from '../../pipeline/stage';
import type { Exchange } from '../../pipeline/exchange';
import type { Next, Reply, Stage } from '../../pipeline/stage';
import { StateStore } from '../../pipeline/state-store';
import { Upstream } from '../../upstream/upstream';
import { bucketClockCount } from './bucket-clock';
import { circuitBreaker, resetBreakers } from './index';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(5);
  }
}

function configOf(breaker: string, routeBlocks: [string, string] = ['', '']): GatewayConfig {
  return parseConfig(
    `version: 1
server: { listen: 127.0.0.1:0, admin: { listen: 127.0.0.1:0 } }
upstreams:
  api:
    targets: ["http://127.0.0.1:1"]
    ${breaker}
routes:
  - { name: a, match: { pathPrefix: /a }, upstream: api ${routeBlocks[0]} }
  - { name: b, match: { pathPrefix: /b }, upstream: api ${routeBlocks[1]} }
`,
    'test.yaml',
    {},
  );
}

const BREAKER = 'circuitBreaker: { volumeThreshold: 4, window: 10s, resetTimeout: 100ms }';

interface Recorded {
  upstream: string;
  route: string;
  state: BreakerState;
  transition: boolean;
}

interface Built {
  upstream: Upstream;
  a: Stage;
  b: Stage;
  state: StateStore;
  events: Recorded[];
}

const upstreams: Upstream[] = [];
const stores: StateStore[] = [];

function build(config: GatewayConfig, previous?: Built, upstream?: Upstream): Built {
  const events: Recorded[] = previous?.events ?? [];
  const recording: GatewayEvents = {
    ...NO_EVENTS,
    breakerState: (u, route, state, transition) => events.push({ upstream: u, route, state, transition }),
  };
  const up = upstream ?? new Upstream(config.upstreams.api!, NO_EVENTS);
  upstreams.push(up);
  const state = new StateStore(previous?.state);
  stores.push(state);
  const deps = {
    events: recording,
    state,
    server: config.server,
    upstreams: new Map([[up.name, up]]),
  } as unknown as StageDeps;
  const stage = (i: number): Stage => createStage(circuitBreaker, config.routes[i]!, up, deps)!;
  return { upstream: up, a: stage(0), b: stage(1), state, events };
}

afterEach(async () => {
  for (const store of stores.splice(0)) store.disposeAll();
  await Promise.all(upstreams.splice(0).map((u) => u.destroy()));
});

function exchange(): Exchange {
  return { breaker: '', reason: '', clientGone: false } as unknown as Exchange;
}

function reply(status: number): Reply {
  return {
    status,
    headers: { 'x-from': 'upstream' },
    source: 'upstream',
    body: { sendTo() {}, discard() {} },
  };
}

/** A `next` that answers with `outcome` (a status or an error) and counts its calls. */
function upstreamNext(outcome: () => number | Error): Next & { calls: number } {
  const next = Object.assign(
    (_ex: Exchange): Promise<Reply> => {
      next.calls++;
      const result = outcome();
      return typeof result === 'number' ? Promise.resolve(reply(result)) : Promise.reject(result);
    },
    { calls: 0 },
  );
  return next;
}

async function run(stage: Stage, next: Next, ex = exchange()): Promise<Reply | unknown> {
  try {
    return await stage(ex, next);
  } catch (err) {
    return err;
  }
}

async function openIt(stage: Stage): Promise<void> {
  const failing = upstreamNext(() => 500);
  for (let i = 0; i < 4; i++) await run(stage, failing);
}

describe('circuit-breaker stage', () => {
  it('is absent when neither the upstream nor the route has a breaker', () => {
    const config = configOf('');
    const up = new Upstream(config.upstreams.api!, NO_EVENTS);
    upstreams.push(up);
    const deps = { events: NO_EVENTS, state: new StateStore(), upstreams: new Map() } as unknown as StageDeps;
    expect(createStage(circuitBreaker, config.routes[0]!, up, deps)).toBeUndefined();
    expect(up.breakers.size).toBe(0);
  });

  it('returns failure replies unchanged while counting them, then refuses without calling next', async () => {
    const { a, upstream } = build(configOf(BREAKER));
    const next = upstreamNext(() => 503);
    for (let i = 0; i < 4; i++) {
      const ex = exchange();
      const res = (await a(ex, next)) as Reply;
      expect(res).toMatchObject({ status: 503, headers: { 'x-from': 'upstream' } });
      expect(ex.breaker).toBe('closed');
    }
    expect(upstream.breakers.get('a')!()).toBe('open');
    const ex = exchange();
    const err = await run(a, next, ex);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect((err as CircuitOpenError).retryAfterSeconds).toBe(1);
    expect(ex).toMatchObject({ breaker: 'open', reason: 'circuit_open' });
    expect(next.calls).toBe(4);
  });

  it('never counts 4xx, and stays closed below errorThresholdPercentage', async () => {
    const { a, upstream } = build(configOf(BREAKER));
    const notFound = upstreamNext(() => 404);
    for (let i = 0; i < 50; i++) expect(await run(a, notFound)).toMatchObject({ status: 404 });
    // 50% failures is not above the 50% threshold.
    let n = 0;
    const half = upstreamNext(() => (n++ % 2 ? 500 : 200));
    for (let i = 0; i < 40; i++) await run(a, half);
    expect(upstream.breakers.get('a')!()).toBe('closed');
  });

  it('counts transport errors and rethrows them; ignores the gateway’s own refusals and gone clients', async () => {
    const { a, b, upstream } = build(configOf(BREAKER));
    const noTarget = upstreamNext(() => new NoHealthyUpstreamError());
    for (let i = 0; i < 20; i++) expect(await run(a, noTarget)).toBeInstanceOf(NoHealthyUpstreamError);
    const gone = upstreamNext(() => new UpstreamUnavailableError('reset'));
    for (let i = 0; i < 20; i++) {
      const ex = exchange();
      ex.clientGone = true;
      await run(a, gone, ex);
    }
    expect(upstream.breakers.get('a')!()).toBe('closed');
    const refused = upstreamNext(() => new UpstreamUnavailableError('connect_error'));
    for (let i = 0; i < 4; i++) expect(await run(b, refused)).toBeInstanceOf(UpstreamUnavailableError);
    expect(upstream.breakers.get('b')!()).toBe('open');
  });

  it('reports Retry-After as the time left until half-open, rounded up', async () => {
    const { a } = build(configOf('circuitBreaker: { volumeThreshold: 1, resetTimeout: 2500ms }'));
    await run(
      a,
      upstreamNext(() => 500),
    );
    const err = (await run(
      a,
      upstreamNext(() => 200),
    )) as CircuitOpenError;
    expect(err.retryAfterSeconds).toBe(3);
    expect(isGatewayError(err) && err.status).toBe(503);
  });

  it('half-opens after resetTimeout, lets exactly one trial through and closes on its success', async () => {
    const { a, upstream, events } = build(configOf(BREAKER));
    await openIt(a);
    await waitFor(() => upstream.breakers.get('a')!() === 'half-open');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const next = Object.assign(
      async (): Promise<Reply> => {
        next.calls++;
        await gate;
        return reply(200);
      },
      { calls: 0 },
    );
    const trialEx = exchange();
    const trial = a(trialEx, next);
    const others = await Promise.all([run(a, next), run(a, next), run(a, next)]);
    for (const err of others) expect((err as CircuitOpenError).retryAfterSeconds).toBe(1);
    expect(next.calls).toBe(1);
    release();
    expect(await trial).toMatchObject({ status: 200 });
    expect(trialEx.breaker).toBe('half-open');
    expect(upstream.breakers.get('a')!()).toBe('closed');
    expect(await run(a, next)).toMatchObject({ status: 200 });
    expect(events.filter((e) => e.route === 'a').map((e) => [e.state, e.transition])).toEqual([
      ['closed', false],
      ['open', true],
      ['half-open', true],
      ['closed', true],
    ]);
  });

  it.each([
    ['a failure status', () => 502],
    ['a transport error', () => new UpstreamUnavailableError('reset')],
    ['no evidence (no healthy target)', () => new NoHealthyUpstreamError()],
  ])('re-opens when the trial ends with %s', async (_name, outcome) => {
    const { a, upstream } = build(configOf(BREAKER));
    await openIt(a);
    await waitFor(() => upstream.breakers.get('a')!() === 'half-open');
    const next = upstreamNext(outcome);
    await run(a, next);
    expect(upstream.breakers.get('a')!()).toBe('open');
    expect(await run(a, next)).toBeInstanceOf(CircuitOpenError);
    expect(next.calls).toBe(1);
  });

  it('starts a closed breaker from an empty window, so one failure after recovery does not re-open it', async () => {
    const { a, upstream } = build(configOf(BREAKER));
    await openIt(a);
    await waitFor(() => upstream.breakers.get('a')!() === 'half-open');
    await run(
      a,
      upstreamNext(() => 200),
    );
    await run(
      a,
      upstreamNext(() => 500),
    );
    expect(upstream.breakers.get('a')!()).toBe('closed');
  });

  it('keeps one breaker per route with scope route, one shared "*" with scope upstream', async () => {
    const perRoute = build(configOf(BREAKER));
    await openIt(perRoute.a);
    expect([...perRoute.upstream.breakers.keys()]).toEqual(['a', 'b']);
    expect(
      await run(
        perRoute.b,
        upstreamNext(() => 200),
      ),
    ).toMatchObject({ status: 200 });

    const shared = build(configOf(BREAKER.replace('{', '{ scope: upstream,')));
    await openIt(shared.a);
    expect([...shared.upstream.breakers.keys()]).toEqual(['*']);
    expect(
      await run(
        shared.b,
        upstreamNext(() => 200),
      ),
    ).toBeInstanceOf(CircuitOpenError);
    expect(shared.events.filter((e) => e.route === '*' && !e.transition)).toHaveLength(1);
  });

  it('takes a route override, or turns a breaker on for one route only', async () => {
    const override = build(configOf(BREAKER, [', circuitBreaker: { volumeThreshold: 1 }', '']));
    await run(
      override.a,
      upstreamNext(() => 500),
    );
    expect(override.upstream.breakers.get('a')!()).toBe('open');
    await run(
      override.b,
      upstreamNext(() => 500),
    );
    expect(override.upstream.breakers.get('b')!()).toBe('closed');

    const onlyA = build(configOf('', [', circuitBreaker: { volumeThreshold: 1 }', '']));
    expect([...onlyA.upstream.breakers.keys()]).toEqual(['a']);
  });

  it('keeps an open breaker across a rebuild with the same settings, and starts fresh when they change', async () => {
    const first = build(configOf(BREAKER));
    await openIt(first.a);
    // Same settings, new Upstream object (e.g. its targets changed): same breaker, re-registered.
    const second = build(configOf(BREAKER), first);
    second.state.retirePrevious();
    expect(second.upstream).not.toBe(first.upstream);
    expect(second.upstream.breakers.get('a')!()).toBe('open');
    expect(
      await run(
        second.a,
        upstreamNext(() => 200),
      ),
    ).toBeInstanceOf(CircuitOpenError);

    // Route a's override changes its settings; the upstream's config does not change.
    const third = build(
      configOf(BREAKER, [', circuitBreaker: { volumeThreshold: 5 }', '']),
      second,
      second.upstream,
    );
    third.state.retirePrevious();
    expect(third.upstream.breakers.get('a')!()).toBe('closed');
    expect(
      await run(
        third.a,
        upstreamNext(() => 200),
      ),
    ).toMatchObject({ status: 200 });
    // A disposed breaker still reachable from an old table steps aside instead of refusing.
    expect(
      await run(
        second.a,
        upstreamNext(() => 200),
      ),
    ).toMatchObject({ status: 200 });
    expect(third.events.filter((e) => e.route === 'a' && !e.transition)).toHaveLength(2);
    expect(third.events.filter((e) => e.route === 'b' && !e.transition)).toHaveLength(1);
  });

  it('unregisters from /health when a route drops its breaker', async () => {
    const override = ', circuitBreaker: { volumeThreshold: 1 }';
    const first = build(configOf('', [override, override]));
    await run(
      first.a,
      upstreamNext(() => 500),
    );
    const second = build(configOf('', [override, '']), first, first.upstream);
    second.state.retirePrevious();
    expect([...first.upstream.breakers.entries()].map(([route, state]) => [route, state()])).toEqual([
      ['a', 'open'],
    ]);
  });

  it('resetBreakers closes every breaker of the upstream with a fresh window', async () => {
    const { a, b, upstream } = build(configOf(BREAKER));
    await openIt(a);
    await openIt(b);
    expect(resetBreakers(upstream)).toBe(2);
    expect([...upstream.breakers.values()].map((s) => s())).toEqual(['closed', 'closed']);
    await run(
      a,
      upstreamNext(() => 500),
    );
    expect(upstream.breakers.get('a')!()).toBe('closed');
    expect(
      await run(
        b,
        upstreamNext(() => 200),
      ),
    ).toMatchObject({ status: 200 });
  });

  it('shares one rotation timer per window length and stops it with the last breaker', () => {
    const before = bucketClockCount();
    const first = build(configOf(BREAKER.replace('10s', '7s')));
    build(configOf(BREAKER.replace('10s', '7s')));
    expect(bucketClockCount()).toBe(before + 1);
    first.state.disposeAll();
    expect(bucketClockCount()).toBe(before + 1);
    for (const store of stores) store.disposeAll();
    expect(bucketClockCount()).toBe(before);
  });

  it('refuses an open circuit in well under a millisecond', async () => {
    const { a } = build(configOf(BREAKER));
    await openIt(a);
    const next = upstreamNext(() => 200);
    const n = 20_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) await run(a, next);
    const refusedUs = ((performance.now() - started) * 1000) / n;

    const { b } = build(configOf(BREAKER));
    const startedClosed = performance.now();
    for (let i = 0; i < n; i++) await run(b, next);
    const closedUs = ((performance.now() - startedClosed) * 1000) / n;
    console.log(
      `refusal ${refusedUs.toFixed(2)} µs/request, closed pass-through ${closedUs.toFixed(2)} µs/request`,
    );
    expect(next.calls).toBe(n);
    expect(refusedUs).toBeLessThan(500);
  });
});

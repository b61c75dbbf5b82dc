/**
 * The slowDown stage on its own (in-memory counts, real timers): who waits, how long, the cap,
 * the route deadline, a client that leaves while held back, and the events it reports.
 */
import { parseConfig } from '../../config/load';
import { ClientGoneError } from '../../errors';
import { NO_EVENTS, type GatewayEvents } from '../../observability/events';
import type { Exchange } from '../../pipeline/exchange';
import { StaticBody } from '../../pipeline/static-body';
import type { Next, Reply, Stage, StageDeps } from '../../pipeline/stage';
import { StateStore } from '../../pipeline/state-store';
import { slowDown } from './slow-down';

const stores: StateStore[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.disposeAll()));

function build(block: string): { stage: Stage; delays: number[] } {
  const config = parseConfig(
    `version: 1
server: { listen: 127.0.0.1:0, admin: { listen: 127.0.0.1:0 } }
upstreams: { api: { targets: ["http://127.0.0.1:1"] } }
routes:
  - { name: r, match: { pathPrefix: / }, upstream: api, slowDown: ${block} }
`,
    'test.yaml',
    {},
  );
  const delays: number[] = [];
  const events: GatewayEvents = { ...NO_EVENTS, slowedDown: (_route, seconds) => delays.push(seconds) };
  const state = new StateStore();
  stores.push(state);
  const deps = { events, state, shared: undefined, clustered: false } as unknown as StageDeps;
  const slice = slowDown.select(config.routes[0]!, config.upstreams.api!, config.server)!;
  return { stage: slowDown.create(slice, deps, { route: 'r', upstream: 'api' })!, delays };
}

function exchange(ip = '10.0.0.1', deadlineInMs = 10_000): Exchange {
  const req = { method: 'GET', headers: {}, complete: true };
  return {
    req,
    clientIp: ip,
    clientGone: false,
    deadlineAt: performance.now() + deadlineInMs,
  } as unknown as Exchange;
}

const next: Next = () =>
  Promise.resolve({
    status: 200,
    headers: {},
    body: new StaticBody(Buffer.alloc(0)),
    source: 'upstream',
  } as Reply);

/** How long each of `count` sequential requests took, in ms. */
async function timings(stage: Stage, count: number, ip?: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await stage(exchange(ip), next);
    out.push(performance.now() - start);
  }
  return out;
}

describe('slowDown stage', () => {
  it('is absent without a slowDown block', () => {
    const config = parseConfig(
      'version: 1\nupstreams: { api: { targets: ["http://127.0.0.1:1"] } }\nroutes: [{ name: r, match: { pathPrefix: / }, upstream: api }]\n',
      'test.yaml',
      {},
    );
    expect(slowDown.select(config.routes[0]!, config.upstreams.api!, config.server)).toBeUndefined();
  });

  it('past `after`, request n waits (n - after) × delay, capped at maxDelay', async () => {
    const { stage, delays } = build('{ after: 2, delay: 40ms, maxDelay: 100ms, window: 1m }');
    const took = await timings(stage, 5);
    // The first two were not held back at all (no event); the rest by their share.
    expect(took[2]).toBeGreaterThanOrEqual(38);
    expect(took[3]).toBeGreaterThanOrEqual(78);
    expect(took[4]).toBeGreaterThanOrEqual(98);
    expect(took[4]).toBeLessThan(300);
    expect(delays).toEqual([0.04, 0.08, 0.1]);
  });

  it('counts each key on its own', async () => {
    const { stage, delays } = build('{ after: 1, delay: 30ms, window: 1m }');
    await timings(stage, 1, '10.0.0.1');
    await timings(stage, 1, '10.0.0.2');
    expect(delays).toEqual([]);
  });

  it('never waits past the route deadline', async () => {
    const { stage, delays } = build('{ after: 0, delay: 2s, maxDelay: 2s, window: 1m }');
    const start = performance.now();
    const reply = await stage(exchange('10.0.0.1', 50), next);
    const took = performance.now() - start;
    expect(reply.status).toBe(200);
    expect(took).toBeGreaterThanOrEqual(45);
    expect(took).toBeLessThan(150);
    expect(delays[0]).toBeLessThanOrEqual(0.05);
  });

  it('does not forward for a client that left while it waited', async () => {
    const { stage } = build('{ after: 0, delay: 30ms, window: 1m }');
    const ex = exchange();
    let forwarded = 0;
    const pending = stage(ex, () => {
      forwarded++;
      return next(ex);
    });
    ex.clientGone = true;
    await expect(pending).rejects.toBeInstanceOf(ClientGoneError);
    expect(forwarded).toBe(0);
  });
});

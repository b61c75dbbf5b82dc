/**
 * Bulkheads (maxConcurrent per upstream and per route) and event-loop shedding: excess requests
 * get 503 OVERLOADED with Retry-After at once, and the upstream never sees them.
 */
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, delay, type TestUpstream } from '../helpers/upstream';
import { get, sleep } from '../helpers/http';

async function flood(url: string, count: number) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const res = await request(url);
      const text = await res.body.text();
      return { status: res.statusCode, retryAfter: res.headers['retry-after'], text };
    }),
  );
}

describe('bulkhead and shedding', () => {
  let slow: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    slow = await startUpstream(delay(300));
    gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  overload: { maxEventLoopDelay: 150ms }
upstreams:
  capped: { targets: ["${slow.url}"], maxConcurrent: 5 }
  open: { targets: ["${slow.url}"] }
routes:
  - { name: capped, match: { pathPrefix: /capped }, upstream: capped }
  - { name: route-capped, match: { pathPrefix: /route }, upstream: open, maxConcurrent: 3 }
  - { name: free, match: { pathPrefix: /free }, upstream: open }
`);
  });
  afterAll(async () => {
    await gw.close();
    await slow.close();
  });

  it('answers 503 OVERLOADED beyond the upstream maxConcurrent, without reaching the upstream', async () => {
    const before = slow.hits;
    const results = await flood(`${gw.url}/capped`, 30);
    const ok = results.filter((r) => r.status === 200);
    const shed = results.filter((r) => r.status === 503);
    expect(ok).toHaveLength(5);
    expect(shed).toHaveLength(25);
    expect(shed[0]!.retryAfter).toBe('1');
    expect(JSON.parse(shed[0]!.text).error.code).toBe('OVERLOADED');
    expect(slow.hits - before).toBe(5);
  });

  it('gives slots back when responses finish', async () => {
    const results = await flood(`${gw.url}/capped`, 5);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(gw.gateway.table.upstreams.get('capped')!.admitted).toBe(0);
  });

  it('caps a route with its own maxConcurrent', async () => {
    const results = await flood(`${gw.url}/route`, 10);
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(results.filter((r) => r.status === 503)).toHaveLength(7);
  });

  it('counts shed requests in shed_total and the access line', async () => {
    const metrics = (await get(`${gw.adminUrl}/metrics`)).text;
    expect(metrics).toMatch(/breakwater_shed_total\{route="capped",reason="bulkhead"\} 25/);
    expect(metrics).toMatch(/breakwater_shed_total\{route="route-capped",reason="bulkhead"\} 7/);
    expect(gw.accessLines().filter((l) => l.route === 'capped' && l.reason === 'overloaded')).toHaveLength(
      25,
    );
  });

  it('sheds while the event loop lags past maxEventLoopDelay, and recovers', async () => {
    const pending = request(`${gw.url}/free/lagged`);
    const until = performance.now() + 400;
    while (performance.now() < until) {
      // Block the event loop the gateway shares with this test, as a CPU-bound hiccup would.
    }
    const res = await pending;
    await res.body.dump();
    expect(res.statusCode).toBe(503);
    expect(gw.accessLines().some((l) => l.reason === 'event_loop_lag')).toBe(true);
    await sleep(200);
    const after = await get(`${gw.url}/free/fine`);
    expect(after.status).toBe(200);
  });
});

/**
 * Per-route live stats with an injected clock: windows, rates, error share, percentiles, merge
 * across workers, and the most-failing-then-slowest order.
 */
import { mergeSnapshots, RequestStats, summarize } from './stats';

function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('RequestStats', () => {
  it('reports rate, error rate and percentiles per window', () => {
    const time = clock();
    const stats = new RequestStats(time.now);
    time.advance(120_000);
    for (let i = 0; i < 90; i++) stats.record('api', 200, 0.01);
    for (let i = 0; i < 10; i++) stats.record('api', 503, 0.5);
    const report = summarize(stats.snapshot(), ['api']);
    const minute = report.routes[0]!.windows['1m'];
    expect(minute.requests).toBe(100);
    expect(minute.errorRate).toBe(0.1);
    expect(minute.p50Ms).toBeGreaterThan(9);
    expect(minute.p50Ms).toBeLessThan(11);
    expect(minute.p99Ms).toBeGreaterThan(470);
    expect(minute.p99Ms).toBeLessThan(530);
    // 100 requests over the ~50-60 s the 1m window covers here.
    expect(minute.rate).toBeGreaterThan(1.5);
    expect(minute.rate).toBeLessThan(2.1);
  });

  it('lets requests age out of the shorter windows', () => {
    const time = clock();
    const stats = new RequestStats(time.now);
    stats.record('api', 200, 0.001);
    time.advance(3 * 60_000);
    stats.record('api', 200, 0.001);
    const windows = summarize(stats.snapshot()).routes[0]!.windows;
    expect(windows['1m'].requests).toBe(1);
    expect(windows['5m'].requests).toBe(2);
    time.advance(16 * 60_000);
    expect(summarize(stats.snapshot()).routes[0]!.windows['15m'].requests).toBe(0);
  });

  it('counts rate-limit refusals and cache results', () => {
    const stats = new RequestStats();
    stats.rateLimited('api');
    stats.cacheResult('api', 'hit');
    stats.cacheResult('api', 'hit');
    stats.cacheResult('api', 'miss');
    const minute = summarize(stats.snapshot()).routes[0]!.windows['1m'];
    expect(minute.rateLimited).toBe(1);
    expect(minute.cache).toMatchObject({ hit: 2, miss: 1, stale: 0 });
  });

  it('merges workers before reading percentiles', () => {
    const time = clock();
    const a = new RequestStats(time.now);
    const b = new RequestStats(time.now);
    for (let i = 0; i < 50; i++) a.record('api', 200, 0.002);
    for (let i = 0; i < 50; i++) b.record('api', 500, 0.2);
    const merged = summarize(mergeSnapshots([a.snapshot(), b.snapshot()]));
    const minute = merged.routes[0]!.windows['1m'];
    expect(minute.requests).toBe(100);
    expect(minute.errorRate).toBe(0.5);
    expect(minute.p95Ms).toBeGreaterThan(180);
  });

  it('orders routes most failing first, then slowest; idle and removed routes as asked', () => {
    const stats = new RequestStats();
    stats.record('fast', 200, 0.001);
    stats.record('slow', 200, 2);
    stats.record('failing', 502, 0.001);
    stats.record('removed', 200, 0.001);
    stats.forgetExcept((route) => route !== 'removed');
    const report = summarize(stats.snapshot(), ['fast', 'slow', 'failing', 'idle']);
    expect(report.routes.map((r) => r.route)).toEqual(['failing', 'slow', 'fast', 'idle']);
    expect(report.slowest[0]).toBe('slow');
    expect(report.mostFailing).toEqual(['failing']);
    expect(report.routes[3]!.windows['5m']).toMatchObject({ requests: 0, p50Ms: null, errorRate: 0 });
  });
});

import { cacheStats, hitRatio, mergeCacheStats } from './cache-stats';

const one = (redis: 'up' | 'down' | 'disabled', hits: number, entries: number) =>
  cacheStats({
    maxBytes: 1000,
    routes: ['a', 'b'],
    usage: new Map([
      ['a', { entries, bytes: entries * 10 }],
      ['gone', { entries: 1, bytes: 5 }],
    ]),
    counts: [
      { route: 'a', result: 'hit', value: hits },
      { route: 'a', result: 'miss', value: 1 },
      { route: 'a', result: 'bypass', value: 4 },
      { route: 'b', result: 'stale', value: 1 },
      { route: 'b', result: 'revalidated', value: 1 },
      { route: 'a', result: 'something-new', value: 9 },
    ],
    redis,
  });

describe('cache stats', () => {
  it('fills each cached route and the totals (which include memory of removed routes)', () => {
    const stats = one('disabled', 3, 2);
    expect(stats.routes).toEqual([
      {
        route: 'a',
        entries: 2,
        bytes: 20,
        hits: 3,
        misses: 1,
        stale: 0,
        revalidated: 0,
        bypass: 4,
        hitRatio: 0.75,
      },
      {
        route: 'b',
        entries: 0,
        bytes: 0,
        hits: 0,
        misses: 0,
        stale: 1,
        revalidated: 1,
        bypass: 0,
        hitRatio: 1,
      },
    ]);
    expect(stats.totals).toEqual({
      entries: 3,
      bytes: 25,
      hits: 3,
      misses: 1,
      stale: 1,
      revalidated: 1,
      bypass: 4,
      hitRatio: 0.8333,
    });
  });

  it('has no hit ratio before a lookup, bypasses aside', () => {
    expect(hitRatio({ hits: 0, misses: 0, stale: 0, revalidated: 0, bypass: 7 })).toBeNull();
  });

  it('sums workers per route, recomputes ratios and reports the worst Redis state', () => {
    const merged = mergeCacheStats([one('up', 3, 2), one('down', 1, 1), one('up', 0, 0)]);
    expect(merged.workers).toBe(3);
    expect(merged.maxBytes).toBe(1000);
    expect(merged.redis.status).toBe('down');
    expect(merged.routes[0]).toEqual({
      route: 'a',
      entries: 3,
      bytes: 30,
      hits: 4,
      misses: 3,
      stale: 0,
      revalidated: 0,
      bypass: 12,
      hitRatio: 0.5714,
    });
    expect(merged.totals.entries).toBe(6);
  });
});

import { createBackoff, retryAfterMs } from './backoff';

describe('createBackoff (full jitter)', () => {
  it.each([
    // retry, base, max, ceiling
    [1, 25, 1000, 25],
    [2, 25, 1000, 50],
    [3, 25, 1000, 100],
    [6, 25, 1000, 800],
    [7, 25, 1000, 1000],
    [40, 25, 1000, 1000],
  ])('retry %i with base %i and max %i sleeps in [0, %i)', (retry, base, max, ceiling) => {
    expect(createBackoff(base, max, () => 0)(retry)).toBe(0);
    expect(createBackoff(base, max, () => 0.5)(retry)).toBe(ceiling / 2);
    const top = createBackoff(base, max, () => 0.999999)(retry);
    expect(top).toBeLessThan(ceiling);
    expect(top).toBeGreaterThan(ceiling * 0.999);
  });

  it('spreads sleeps over the whole interval (jitter), never past the cap', () => {
    // A small LCG: deterministic, but not a constant.
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const backoff = createBackoff(100, 300, random);
    const sleeps = Array.from({ length: 1000 }, () => backoff(5));
    expect(Math.max(...sleeps)).toBeLessThan(300);
    expect(Math.min(...sleeps)).toBeGreaterThanOrEqual(0);
    const buckets = [0, 0, 0];
    for (const ms of sleeps) buckets[Math.floor(ms / 100)]!++;
    for (const count of buckets) expect(count).toBeGreaterThan(250);
  });

  it('uses Math.random by default', () => {
    const spy = jest.spyOn(Math, 'random').mockReturnValue(0.25);
    try {
      expect(createBackoff(40, 1000)(2)).toBe(20);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each<[string | string[] | undefined, number | undefined]>([
    ['1', 1000],
    [' 120 ', 120_000],
    ['0', 0],
    [['2', '7'], 2000],
    ['Wed, 01 Jan 2025 00:00:03 GMT', 3000],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
    [undefined, undefined],
    ['soon', undefined],
    ['-1', undefined],
    ['1.5', undefined],
  ])('%j → %j', (value, expected) => {
    expect(retryAfterMs(value, now)).toBe(expected);
  });
});

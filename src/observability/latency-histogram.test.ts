/**
 * The log-linear buckets: contiguous, monotonic, at most 12.5% wide, and quantiles read from
 * them within the bucket's half width of the truth.
 */
import { BUCKET_COUNT, bucketBounds, bucketOf, quantile } from './latency-histogram';

describe('latency histogram', () => {
  it('maps durations to contiguous buckets no wider than 12.5%', () => {
    for (let index = 0; index < BUCKET_COUNT - 1; index++) {
      const [lower, upper] = bucketBounds(index);
      expect(bucketBounds(index + 1)[0]).toBeCloseTo(upper, 12);
      if (index >= 8) expect((upper - lower) / lower).toBeLessThanOrEqual(0.125 + 1e-12);
    }
  });

  it.each([0, 1e-6, 7e-6, 8e-6, 0.000123, 0.0042, 0.25, 1, 37.5, 1800])(
    'puts %p s inside its bucket',
    (seconds) => {
      const [lower, upper] = bucketBounds(bucketOf(seconds));
      const micros = Math.floor(seconds * 1e6) / 1e6;
      expect(micros).toBeGreaterThanOrEqual(lower - 1e-12);
      expect(micros).toBeLessThan(upper);
    },
  );

  it('clamps very long durations into the last bucket', () => {
    expect(bucketOf(1e9)).toBe(BUCKET_COUNT - 1);
    expect(bucketOf(-1)).toBe(0);
  });

  it('reads quantiles within the bucket resolution', () => {
    const counts = new Map<number, number>();
    for (let ms = 1; ms <= 1000; ms++) {
      const index = bucketOf(ms / 1000);
      counts.set(index, (counts.get(index) ?? 0) + 1);
    }
    for (const [q, truth] of [
      [0.5, 0.5],
      [0.95, 0.95],
      [0.99, 0.99],
    ] as const) {
      const value = quantile(counts, 1000, q)!;
      expect(Math.abs(value - truth) / truth).toBeLessThan(0.07);
    }
    expect(quantile(new Map(), 0, 0.5)).toBeNull();
  });
});

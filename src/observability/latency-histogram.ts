/**
 * @module observability/latency-histogram
 * A log-linear latency histogram (HdrHistogram's layout, coarse): every power of two of
 * microseconds is split into 8 equal buckets, so a bucket is at most 12.5% wide and a
 * percentile read from its midpoint is within ~6% of the truth, from 1 µs to 35 min, in 232
 * counters. Recording is one clz32 and an increment, no allocation and no sorting; that is what
 * `observability/stats.ts` feeds from every finished request.
 */

/** Sub-buckets per power of two (a power of two itself). */
const SUB_BUCKETS = 8;
const SUB_BITS = 3;
/** Largest recordable value in µs; longer requests land in the last bucket. */
const MAX_MICROS = 2 ** 31 - 1;

/** Counters needed to cover 1 µs .. MAX_MICROS. */
export const BUCKET_COUNT = (31 - SUB_BITS + 1) * SUB_BUCKETS;

/** The bucket a duration in seconds falls into. */
export function bucketOf(seconds: number): number {
  const micros = seconds >= MAX_MICROS / 1e6 ? MAX_MICROS : Math.max(0, Math.floor(seconds * 1e6));
  if (micros < SUB_BUCKETS) return micros;
  const exponent = 31 - Math.clz32(micros);
  const sub = (micros >>> (exponent - SUB_BITS)) & (SUB_BUCKETS - 1);
  return (exponent - SUB_BITS + 1) * SUB_BUCKETS + sub;
}

/** The [lower, upper) bounds of a bucket, in seconds. */
export function bucketBounds(index: number): [number, number] {
  if (index < SUB_BUCKETS) return [index / 1e6, (index + 1) / 1e6];
  const exponent = Math.floor(index / SUB_BUCKETS) + SUB_BITS - 1;
  const width = 2 ** (exponent - SUB_BITS);
  const lower = (SUB_BUCKETS + (index % SUB_BUCKETS)) * width;
  return [lower / 1e6, (lower + width) / 1e6];
}

/**
 * The `q`-quantile (0..1) of a histogram given as bucket index → count, in seconds (the
 * midpoint of the bucket it falls in); null when the histogram is empty.
 */
export function quantile(counts: ReadonlyMap<number, number>, total: number, q: number): number | null {
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const index of [...counts.keys()].sort((a, b) => a - b)) {
    seen += counts.get(index)!;
    if (seen >= rank) {
      const [lower, upper] = bucketBounds(index);
      return (lower + upper) / 2;
    }
  }
  return null;
}

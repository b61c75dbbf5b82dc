/**
 * @module policies/retry/backoff
 * How long the retry stage waits before the next attempt: exponential backoff with full jitter
 * (AWS Architecture Blog, "Exponential Backoff And Jitter"), or the upstream's own `Retry-After`
 * on a 503/429 when it is short enough to honour. Pure functions of their inputs (the random
 * source is injected), so the unit tests need no timers.
 */

/** Returns a number in [0, 1), like Math.random. */
export type RandomSource = () => number;

/** The sleep before retry number `retry` (1 = the first retry), in milliseconds. */
export type Backoff = (retry: number) => number;

/**
 * Full jitter: random(0, min(maxMs, baseMs × 2^(retry−1))). Spreading retries over the whole
 * interval, rather than around its end, keeps clients that failed together from retrying together.
 */
export function createBackoff(baseMs: number, maxMs: number, random: RandomSource = Math.random): Backoff {
  return (retry) => {
    // 2^30 × any base already passes every accepted max; the cap keeps the power finite.
    const ceilingMs = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(retry - 1, 0), 30));
    return random() * ceilingMs;
  };
}

const DELAY_SECONDS = /^\s*(\d+)\s*$/;
/** Every HTTP-date form (IMF-fixdate, RFC 850, asctime) starts with a day name; Date.parse takes far more. */
const STARTS_WITH_DAY = /^\s*[A-Za-z]{3}/;

/**
 * The wait a `Retry-After` value asks for (RFC 9110 §10.2.3: delay-seconds or an HTTP-date),
 * in milliseconds, or undefined when it is absent or unreadable. A date in the past means 0.
 */
export function retryAfterMs(value: string | string[] | undefined, nowEpochMs: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const seconds = DELAY_SECONDS.exec(text);
  if (seconds) return Number(seconds[1]) * 1000;
  if (!STARTS_WITH_DAY.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowEpochMs);
}

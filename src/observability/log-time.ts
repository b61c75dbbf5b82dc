/**
 * @module observability/log-time
 * The `,"time":"<ISO 8601>"` field of every log line (pino's and the access log's): the text up
 * to the seconds is formatted once per second, the milliseconds are appended once per
 * millisecond, and every line within a millisecond shares the same string.
 */
let lastMs = NaN;
let lastField = '';
let lastSecond = NaN;
/** `,"time":"2026-11-30T04:40:00.` for `lastSecond`. */
let secondPrefix = '';

const MS_DIGITS = Array.from({ length: 1000 }, (_, ms) => String(ms).padStart(3, '0'));

export function isoTimeField(): string {
  const now = Date.now();
  if (now === lastMs) return lastField;
  lastMs = now;
  const second = Math.floor(now / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    secondPrefix = `,"time":"${new Date(second * 1000).toISOString().slice(0, 20)}`;
  }
  lastField = `${secondPrefix}${MS_DIGITS[now - second * 1000]!}Z"`;
  return lastField;
}

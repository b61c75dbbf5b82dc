/**
 * @module observability/log-time
 * The `,"time":"<ISO 8601>"` field of every log line (pino's and the access log's), formatted
 * once per millisecond rather than once per line.
 */
let lastMs = NaN;
let lastField = '';

export function isoTimeField(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastField = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastField;
}

/**
 * @module observability/logger
 * pino to stdout: one JSON access line per request plus operational events. Writes are
 * asynchronous and batched (LIBRARIES.md §6) and flushed on a short timer and at shutdown.
 */
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Header and field names whose values never reach a log line. */
const REDACTED_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["x-api-key"]',
  'headers["proxy-authorization"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'token',
  'admin.token',
];

const FLUSH_INTERVAL_MS = 250;

export interface LoggerHandle {
  readonly logger: Logger;
  /** Write out what is buffered; safe to call at any time. */
  flush(): void;
  /** Final synchronous flush for exit paths. */
  close(): void;
}

export interface LoggerOptions {
  level?: string;
  /** File descriptor or path; default stdout. */
  destination?: number | string;
  /** Buffer writes (true in production; tests read lines as they come). */
  buffered?: boolean;
  /** Write to this stream instead (tests collect lines). */
  stream?: NodeJS.WritableStream;
}

/** Creates the process logger. `LOG_LEVEL` sets the level (default info). */
export function createLogger(options: LoggerOptions = {}): LoggerHandle {
  if (options.stream) {
    const logger = pino(loggerOptions(options.level), options.stream);
    return { logger, flush: () => undefined, close: () => undefined };
  }
  const buffered = options.buffered ?? true;
  const destination = pino.destination({
    dest: options.destination ?? 1,
    sync: !buffered,
    minLength: buffered ? 4096 : 0,
  });
  const logger = pino(loggerOptions(options.level), destination);
  // minLength batches lines; the timer bounds how long a quiet gateway holds them back.
  const timer = buffered ? setInterval(() => safeFlush(destination), FLUSH_INTERVAL_MS) : undefined;
  timer?.unref();
  return {
    logger,
    flush: () => safeFlush(destination),
    close() {
      if (timer) clearInterval(timer);
      safeFlush(destination);
    },
  };
}

function loggerOptions(level: string | undefined): pino.LoggerOptions {
  return {
    level: level ?? process.env.LOG_LEVEL ?? 'info',
    base: undefined,
    timestamp: isoTimeCached,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
}

let lastMs = NaN;
let lastTime = '';

/** pino's isoTime, formatted once per millisecond rather than once per line. */
function isoTimeCached(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

function safeFlush(destination: pino.DestinationStream & { flushSync?: () => void }): void {
  try {
    destination.flushSync?.();
  } catch {
    // "sonic boom is not ready yet": nothing has been written, so there is nothing to flush.
  }
}

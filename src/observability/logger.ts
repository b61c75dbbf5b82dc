/**
 * @module observability/logger
 * pino to stdout: one JSON access line per request plus operational events, through a LineSink
 * (asynchronous batched writes, flushed every 100 ms and at shutdown, lines dropped and counted
 * rather than traffic stopped when the sink goes away).
 */
import pino, { type Logger } from 'pino';
import { LineSink } from './line-sink';
import { isoTimeField } from './log-time';

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

export interface LoggerHandle {
  readonly logger: Logger;
  /** Write out what is buffered; safe to call at any time. */
  flush(): void;
  /** Final flush for exit paths: synchronous, bounded, never hangs on a dead sink. */
  close(): void;
  /** Clean exit: every held line written, in order (bounded wait); then nothing more is written. */
  end(): Promise<void>;
  /** Lines the sink could not take (closed pipe, full disk): `log_lines_dropped_total`. */
  dropped(): number;
  /** Writes one line serialised elsewhere (the access log), newline included, to the same sink. */
  writeLine(line: string): void;
}

export interface LoggerOptions {
  level?: string;
  /** File descriptor; default stdout. */
  destination?: number;
  /** Write to this stream instead (tests collect lines). */
  stream?: NodeJS.WritableStream;
}

/** Creates the process logger. `LOG_LEVEL` sets the level (default info). */
export function createLogger(options: LoggerOptions = {}): LoggerHandle {
  if (options.stream) {
    const stream = options.stream;
    const logger = pino(loggerOptions(options.level), stream);
    return {
      logger,
      flush: () => undefined,
      close: () => undefined,
      end: () => Promise.resolve(),
      dropped: () => 0,
      writeLine: (line) => void stream.write(line),
    };
  }
  const sink = new LineSink(options.destination ?? 1);
  const logger = pino(loggerOptions(options.level), sink);
  return {
    logger,
    flush: () => sink.flush(),
    close: () => sink.flushSync(),
    end: () => sink.end(),
    dropped: () => sink.dropped,
    writeLine: (line) => void sink.write(line),
  };
}

function loggerOptions(level: string | undefined): pino.LoggerOptions {
  return {
    level: level ?? process.env.LOG_LEVEL ?? 'info',
    base: undefined,
    timestamp: isoTimeField,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
}

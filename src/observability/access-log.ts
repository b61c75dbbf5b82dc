/**
 * @module observability/access-log
 * The one JSON access line per request (DESIGN.md "Logs"), serialised here field by field and
 * handed to the log sink as text. Its fields are known and flat, and none carries a header
 * value or a query string, so pino's object walk and redaction checks buy nothing here: they
 * cost a quarter of the gateway's throughput with the log on (issue 10). Operational lines keep
 * going through pino. The text is the same as pino's: level label, time, then the fields.
 */
import type { Logger } from 'pino';
import { isoTimeField } from './log-time';

/** Fields of a line in their order; optional ones are left out when empty. */
export interface AccessFields {
  reqId: string;
  method: string | undefined;
  path: string;
  route: string;
  upstream?: string;
  target?: string;
  status: number;
  duration_ms: number;
  attempts?: number;
  bytes: number;
  cache?: string;
  breaker?: string;
  reason?: string;
}

/** pino's numeric levels. */
const INFO = 30;
const WARN = 40;

/** Characters a JSON string must escape (and lone surrogates, which JSON.stringify repairs). */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;

function str(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

export class AccessLog {
  constructor(
    private readonly logger: Logger,
    /** The logger's destination: one serialised line, newline included. */
    private readonly writeLine: (line: string) => void,
  ) {}

  /**
   * The level of a request's line: warn when the gateway answered 5xx or the request was slow
   * (`slowRequest`), info otherwise; 0 when the logger's level hides it (then build no line).
   */
  levelOf(status: number, slow: boolean): number {
    const level = status >= 500 || slow ? WARN : INFO;
    return this.logger.levelVal > level ? 0 : level;
  }

  /** Writes one request's line at `level` (from `levelOf`); a slow one gets `"slow":true`. */
  write(level: number, f: AccessFields, slow = false): void {
    if (level === 0) return;
    let line = `{"level":"${level === WARN ? 'warn' : 'info'}"${isoTimeField()},"reqId":${str(f.reqId)}`;
    if (f.method !== undefined) line += `,"method":${str(f.method)}`;
    line += `,"path":${str(f.path)},"route":${str(f.route)}`;
    if (f.upstream !== undefined) line += `,"upstream":${str(f.upstream)},"target":${str(f.target ?? '')}`;
    line += `,"status":${f.status},"duration_ms":${f.duration_ms}`;
    if (f.attempts !== undefined) line += `,"attempts":${f.attempts}`;
    line += `,"bytes":${f.bytes}`;
    if (f.cache) line += `,"cache":${str(f.cache)}`;
    if (f.breaker) line += `,"breaker":${str(f.breaker)}`;
    if (f.reason) line += `,"reason":${str(f.reason)}`;
    if (slow) line += ',"slow":true';
    this.writeLine(`${line}}\n`);
  }
}

/**
 * @module http/access-line
 * The fields of the one JSON access line per request (DESIGN.md "Logs"): flat, the path
 * without its query string (queries carry secrets), no headers.
 */
import type { Exchange } from '../pipeline/exchange';

export interface AccessLine {
  reqId: string;
  method: string | undefined;
  path: string;
  route: string;
  upstream: string;
  target: string;
  status: number;
  duration_ms: number;
  attempts: number;
  bytes: number;
  cache?: string;
  breaker?: string;
  reason?: string;
}

export function accessLine(ex: Exchange, durationMs: number): AccessLine {
  const line: AccessLine = {
    reqId: ex.reqId,
    method: ex.req.method,
    path: ex.path,
    route: ex.route.name,
    upstream: ex.route.upstream.name,
    target: ex.target,
    status: ex.status,
    duration_ms: Math.round(durationMs * 100) / 100,
    attempts: ex.attempt,
    bytes: ex.bytes,
  };
  if (ex.cache) line.cache = ex.cache;
  if (ex.breaker) line.breaker = ex.breaker;
  if (ex.reason) line.reason = ex.reason;
  return line;
}

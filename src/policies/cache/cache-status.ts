/**
 * @module policies/cache/cache-status
 * The Cache-Status field (RFC 9211) this cache adds to every response on a cached route, as an
 * entry named `breakwater` appended after any an upstream cache sent. The forms:
 *
 * | situation                                   | Cache-Status                                                  | result      |
 * |---------------------------------------------|---------------------------------------------------------------|-------------|
 * | fresh entry                                 | `breakwater; hit; ttl=N`                                      | hit         |
 * | stale entry, refreshed in the background    | `breakwater; hit; ttl=-N; detail=stale-while-revalidate`      | stale       |
 * | stale entry answering a failure             | `breakwater; hit; fwd=stale; fwd-status=S; detail=stale-if-error` | stale   |
 * | forwarded, stored                           | `breakwater; fwd=miss; stored` (`fwd=stale` / `fwd=request`)  | miss        |
 * | forwarded, not stored (or an error)         | `breakwater; fwd=miss` (`fwd=stale` / `fwd=request`)          | miss        |
 * | validated with a 304                        | `breakwater; fwd=stale; fwd-status=304` (or `fwd=request`)    | revalidated |
 * | waited for another request's fetch          | `breakwater; fwd=miss; collapsed`                             | miss        |
 * | not cacheable (unsafe method, Range, no-store request) | `breakwater; fwd=bypass`                           | bypass      |
 *
 * `fwd=stale`: a stored response existed but was stale (or must be validated); `fwd=request`:
 * a fresh one existed but the request (`no-cache`, `max-age=0`) asked for validation.
 */
import type { ReplyHeaders } from '../../pipeline/stage';

const NAME = 'breakwater';

/** Why the request went upstream (RFC 9211 `fwd`). */
export type Forward = 'miss' | 'stale' | 'request' | 'bypass';

export const BYPASS = `${NAME}; fwd=bypass`;

export function hitStatus(ttlSeconds: number): string {
  return `${NAME}; hit; ttl=${ttlSeconds}`;
}

export function staleWhileRevalidateStatus(ttlSeconds: number): string {
  return `${NAME}; hit; ttl=${ttlSeconds}; detail=stale-while-revalidate`;
}

export function staleIfErrorStatus(upstreamStatus: number): string {
  return `${NAME}; hit; fwd=stale; fwd-status=${upstreamStatus}; detail=stale-if-error`;
}

export function forwardStatus(fwd: Forward, stored: boolean): string {
  return stored ? `${NAME}; fwd=${fwd}; stored` : `${NAME}; fwd=${fwd}`;
}

export function revalidatedStatus(fwd: Forward): string {
  return `${NAME}; fwd=${fwd}; fwd-status=304`;
}

export const COLLAPSED = `${NAME}; fwd=miss; collapsed`;

/** Adds this cache's entry after any an upstream cache put in the response. */
export function setCacheStatus(headers: ReplyHeaders, value: string): void {
  const upstream = headers['cache-status'];
  if (upstream === undefined) headers['cache-status'] = value;
  else headers['cache-status'] = `${Array.isArray(upstream) ? upstream.join(', ') : upstream}, ${value}`;
}

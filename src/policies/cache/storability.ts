/**
 * @module policies/cache/storability
 * Whether a response may be stored by a shared cache (RFC 9111 §3, §3.5), with this gateway's
 * deliberately stricter choices spelled out where they differ, because a shared cache that
 * errs serves one user's data to another:
 * - `Set-Cookie` responses are never stored, even when marked public (the cookie would go to
 *   everyone who gets the entry).
 * - Responses to requests with `Authorization` only with `public` or `s-maxage` (the RFC also
 *   admits `must-revalidate`; we do not).
 * - Responses to requests with `Cookie` need the response's own word (`public`, `s-maxage`,
 *   `max-age` or `Expires`): the route's `ttl` heuristic alone never caches a personalised page.
 * - 5xx (other than 501) are never stored: this cache exists to answer failures with the last
 *   good response, not to remember the failure.
 * - 206 and 304 are never stored; `Vary: *` never matches, so it is not stored either.
 */
import type { ReplyHeaders } from '../../pipeline/stage';
import type { ResponseDirectives } from './cache-control';
import { hasExplicitFreshness } from './freshness';
import { isVaryStar } from './vary';

/** RFC 9110 §15.1: statuses a cache may store on heuristic freshness (here the route's `ttl`). */
const HEURISTICALLY_CACHEABLE = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

/** Why a response was not stored (tests and debugging), or undefined when it may be. */
export type NotStorable =
  | 'status'
  | 'no-store'
  | 'private'
  | 'set-cookie'
  | 'authorization'
  | 'cookie'
  | 'vary-star'
  | 'no-freshness';

/** What the storability check looks at. */
export interface StorableInput {
  readonly status: number;
  readonly headers: ReplyHeaders;
  readonly cc: ResponseDirectives;
  /** The request carried `Authorization`. */
  readonly authorization: boolean;
  /** The request carried `Cookie`. */
  readonly cookie: boolean;
}

export function whyNotStorable(input: StorableInput): NotStorable | undefined {
  const { status, headers, cc } = input;
  if (status < 200 || status === 206 || status === 304 || (status >= 500 && status !== 501)) return 'status';
  if (cc.noStore) return 'no-store';
  if (cc.private) return 'private';
  if (headers['set-cookie'] !== undefined) return 'set-cookie';
  if (input.authorization && !cc.public && cc.sMaxAgeS === undefined) return 'authorization';
  if (isVaryStar(headers.vary)) return 'vary-star';
  const explicit = hasExplicitFreshness(cc, headers);
  if (!explicit && !cc.public && !HEURISTICALLY_CACHEABLE.has(status)) return 'no-freshness';
  if (input.cookie && !explicit && !cc.public) return 'cookie';
  return undefined;
}

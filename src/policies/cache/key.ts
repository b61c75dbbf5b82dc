/**
 * @module policies/cache/key
 * The primary cache key of a request: route name, lower-cased Host and the path the upstream
 * receives (after rewrite, query included). The method is not part of it: only GET responses
 * are stored, and HEAD is answered from them. Variants under one key are told apart by Vary.
 */

export interface CacheKey {
  readonly route: string;
  /** Lower-cased Host header, port included ('' for an HTTP/1.0 request without one). */
  readonly host: string;
  /** `ex.upstreamPath`: rewritten path plus query. */
  readonly path: string;
  /** The memory store's key. */
  readonly id: string;
}

export function cacheKey(route: string, host: string, path: string): CacheKey {
  return { route, host, path, id: `${route}\n${host}\n${path}` };
}

/** The lower-cased Host of a request. */
export function hostOf(host: string | undefined): string {
  return host === undefined ? '' : host.toLowerCase();
}

/**
 * @module policies/cache/invalidate
 * RFC 9111 §4.4: a successful unsafe request (POST, PUT, PATCH, DELETE) invalidates the stored
 * answers for its URL and for the same-host URLs in its Location / Content-Location. Cached
 * routes do it in their cache stage; `cacheInvalidation` gives every other route of a gateway
 * that caches anything an invalidate-only stage, so a write matched by its own route (a common
 * split: `GET` cached on one route, writes on another) still reaches the cached copy.
 */
import type { GatewayConfig } from '../../config/types';
import type { Exchange } from '../../pipeline/exchange';
import { settle } from '../../pipeline/settle';
import type { Reply, StageFactory } from '../../pipeline/stage';
import { hostOf } from './key';
import { cacheStore, type CacheStore } from './store';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The path of a Location / Content-Location on the request's own host, else undefined (§4.4). */
function sameHostPath(value: string, host: string, base: string): string | undefined {
  if (host === '') return undefined;
  try {
    const url = new URL(value, `http://${host}${base}`);
    return url.host.toLowerCase() === host ? url.pathname + url.search : undefined;
  } catch {
    return undefined;
  }
}

/** Drops what a successful unsafe request may have changed. */
export function invalidateAfter(store: CacheStore, ex: Exchange, reply: Reply): void {
  const host = hostOf(ex.req.headers.host);
  store.invalidate(host, ex.upstreamPath);
  for (const name of ['location', 'content-location']) {
    const value = reply.headers[name];
    const path = typeof value === 'string' ? sameHostPath(value, host, ex.upstreamPath) : undefined;
    if (path !== undefined && path !== ex.upstreamPath) store.invalidate(host, path);
  }
}

/**
 * Invalidate-only stage for the routes without `cache:` of a gateway where some route caches.
 * Keys hold the path the upstream receives, so it reaches a cached route's entries when both
 * routes send the same path upstream (same or no rewrite).
 */
export function cacheInvalidation(config: GatewayConfig): StageFactory<true> {
  const anyCached = config.routes.some((r) => r.cache !== undefined);
  return {
    kind: 'cache-invalidate',
    select: (route) => (anyCached && route.cache === undefined ? true : undefined),
    create(_on, deps) {
      const store = cacheStore(deps.state, deps.server.cache.maxBytes, deps.events);
      return async (ex, next) => {
        if (!UNSAFE.has(ex.req.method!)) return next(ex);
        const reply = await settle(next, ex);
        if (reply.source === 'upstream' && reply.status >= 200 && reply.status < 400)
          invalidateAfter(store, ex, reply);
        return reply;
      };
    },
  };
}

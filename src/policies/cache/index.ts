/**
 * @module policies/cache
 * Pipeline position: inside the static fallback, outside the bulkhead (DESIGN.md "Request
 * pipeline"): a fresh hit skips everything below, and on failure a stale entry answers before
 * the fallback's static body would. A route without `cache:` has no cache stage at all. Every
 * cached route of the gateway shares one store sized by `server.cache.maxSize`, kept across
 * reloads while that size is unchanged.
 */
import type { CacheConfig, StatusRange } from '../../config/types';
import type { StageFactory } from '../../pipeline/stage';
import { CachePolicy } from './policy';
import { cacheStore } from './store';

/** The failure statuses of an upstream we cannot find (never the case in a validated config). */
const SERVER_ERRORS: readonly StatusRange[] = [{ from: 500, to: 599 }];

export { cacheStore } from './store';

export const cache: StageFactory<CacheConfig> = {
  kind: 'cache',
  select: (route) => route.cache,
  create(config, deps, ctx) {
    const maxBytes = deps.server.cache.maxBytes;
    // `maxSize: 0` turns caching off everywhere.
    if (maxBytes < 1) return undefined;
    const store = cacheStore(deps.state, maxBytes, deps.events);
    store.attach(ctx.route, deps.shared);
    const failureStatuses = deps.upstreams.get(ctx.upstream)?.config.failureStatuses ?? SERVER_ERRORS;
    return new CachePolicy(ctx.route, config, store, deps.events, deps.clock, failureStatuses).stage;
  },
};

export { CacheStore } from './store';

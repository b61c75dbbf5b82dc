/**
 * @module policies/cache/config
 * The response cache's options as written in gateway.yaml (a route's `cache:` block and
 * `server.cache`) and their normalised form. `config/` assembles them.
 */
import type { Static } from '@sinclair/typebox';
import * as D from '../../config/defaults';
import { Duration, OptObj, PositiveDuration, Size } from '../../config/schema-kit';
import type * as T from '../../config/types';
import { parseDuration, parseSize, unwrap } from '../../config/units';

export const CacheSchema = OptObj('Response cache for GET/HEAD (RFC 9111 shared cache); absent = off.', {
  ttl: PositiveDuration(D.DEFAULT_CACHE.ttl, 'Freshness when the response gives none (Cache-Control wins).'),
  staleIfError: Duration(
    D.DEFAULT_CACHE.staleIfError,
    'How long past freshness a stored response answers upstream failures.',
  ),
  staleWhileRevalidate: Duration(
    D.DEFAULT_CACHE.staleWhileRevalidate,
    'How long past freshness a stored response answers while it is refreshed in the background.',
  ),
});

export const ServerCacheSchema = OptObj('The response cache shared by every cached route.', {
  maxSize: Size(D.DEFAULT_CACHE_MAX_SIZE, 'Memory bound of stored responses (bodies and headers).'),
});

export type RawCache = NonNullable<Static<typeof CacheSchema>>;
export type RawServerCache = NonNullable<Static<typeof ServerCacheSchema>>;

const ms = (value: unknown): number => unwrap(parseDuration(value));

export function normalizeCache(raw: RawCache | undefined): T.CacheConfig | undefined {
  if (raw === undefined) return undefined;
  const C = D.DEFAULT_CACHE;
  return {
    ttlMs: ms(raw.ttl ?? C.ttl),
    staleIfErrorMs: ms(raw.staleIfError ?? C.staleIfError),
    staleWhileRevalidateMs: ms(raw.staleWhileRevalidate ?? C.staleWhileRevalidate),
  };
}

export function normalizeServerCache(raw: RawServerCache | undefined): T.ServerConfig['cache'] {
  return { maxBytes: unwrap(parseSize(raw?.maxSize ?? D.DEFAULT_CACHE_MAX_SIZE)) };
}

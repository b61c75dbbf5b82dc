/**
 * @module state/config
 * The `redis:` block as written in gateway.yaml and its normalised form.
 */
import { Type, type Static } from '@sinclair/typebox';
import * as D from '../config/defaults';
import { Opt, OptObj } from '../config/schema-kit';
import type * as T from '../config/types';

export const RedisSchema = OptObj(
  'Redis shared by replicas for rate limits and the cache; absent or empty url = memory.',
  {
    url: Opt(
      Type.String({
        pattern: '^(rediss?://\\S*)?$',
        description: 'redis://[user:password@]host:port[/db] or rediss:// (TLS); empty = off.',
      }),
    ),
    keyPrefix: Opt(
      Type.String({
        description: 'Prefix of every key breakwater writes.',
        default: D.DEFAULT_REDIS_KEY_PREFIX,
      }),
    ),
  },
);

export type RawRedis = NonNullable<Static<typeof RedisSchema>>;

export function normalizeRedis(raw: RawRedis | undefined): T.RedisConfig | undefined {
  if (!raw?.url) return undefined;
  return { url: raw.url, keyPrefix: raw.keyPrefix ?? D.DEFAULT_REDIS_KEY_PREFIX };
}

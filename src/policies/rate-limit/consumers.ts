/**
 * @module policies/rate-limit/consumers
 * `key: consumer`: which tier a request belongs to and what it is counted by. The API key from
 * the `consumers.header` header is hashed with sha256 and looked up among the configured
 * `sha256:<hex>` keys; a known key is counted by its hash (the raw key is never stored, logged
 * or used as a counter key). A request without a key, or with one nobody configured, falls into
 * `defaultTier` and is counted by client IP, so unknown keys cannot mint fresh counters.
 */
import { hash } from 'node:crypto';
import type { ConsumersConfig } from '../../config/types';
import type { Exchange } from '../../pipeline/exchange';

/** The tier-specific value (a counter and its settings) a request resolves to, and its key. */
export interface Resolved<T> {
  readonly tier: T;
  readonly key: string;
}

/** Resolves requests to tiers; built once per rule with one value per tier. */
export class ConsumerResolver<T> {
  private readonly byHash = new Map<string, T>();
  private readonly header: string;

  constructor(
    consumers: ConsumersConfig,
    /** The value of each tier, by tier name (every tier the config names must be present). */
    tiers: ReadonlyMap<string, T>,
    private readonly fallback: T,
  ) {
    this.header = consumers.header;
    for (const [hex, name] of Object.entries(consumers.keys)) {
      const tier = tiers.get(name);
      if (tier !== undefined) this.byHash.set(hex, tier);
    }
  }

  resolve(ex: Exchange): Resolved<T> {
    const value = ex.req.headers[this.header];
    if (typeof value === 'string' && value !== '') {
      const hex = hash('sha256', value, 'hex');
      const tier = this.byHash.get(hex);
      if (tier !== undefined) return { tier, key: `k:${hex}` };
    }
    return { tier: this.fallback, key: ex.clientIp };
  }
}

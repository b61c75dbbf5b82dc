/**
 * @module policies/rate-limit/key-sharing
 * Pipeline position: right before the rate limit, on every route when
 * `consumers.maxIpsPerKey` is set (an API key is the consumer's wherever it is sent), so a
 * refused request spends no rate-limit points and never goes upstream.
 *
 * For each known consumer key (by its sha256; the raw key is never kept) it remembers the
 * distinct client addresses (`ex.clientIp`, after trustProxy) seen in the current fixed window,
 * up to `ips` of them. A key's window starts with its first request and lasts `window`; the
 * next request after that starts a new one (windows anchored per key, not to the clock, so keys
 * do not all reset at once). The first request of a window from one address more is a leaked or
 * shared key: one warn line ("consumer key used from many IPs", with the key's fingerprint, the
 * first 12 hex digits of its sha256) and `breakwater_consumer_key_suspicious_total{tier}` + 1.
 * With `action: refuse` that request, and every later one in the window from an address beyond
 * the first `ips`, is answered 403 KEY_SHARED; the first `ips` addresses keep working.
 *
 * Memory is bounded: only configured keys are tracked (an unknown key is never a map entry), at
 * most `ips` addresses each (those beyond are refused or ignored, not stored), and at most
 * `maxTrackedKeys(ips)` keys, the least recently seen dropped first. Counts are per process
 * (per worker with `workers` > 1), not shared through Redis.
 */
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ConsumersConfig, MaxIpsPerKeyConfig } from '../../config/types';
import { GatewayError } from '../../errors';
import type { GatewayEvents } from '../../observability/events';
import type { Logger } from '../../observability/logger';
import type { Exchange } from '../../pipeline/exchange';
import { errorReply } from '../../pipeline/settle';
import type { Clock, StageFactory } from '../../pipeline/stage';

/** Keys tracked at most, however many the config lists. */
export const MAX_TRACKED_KEYS = 10_000;
/** Addresses held in all (keys × ips) at most: with a large `ips`, fewer keys are tracked. */
export const MAX_TRACKED_ADDRESSES = 250_000;

/** How many keys a tracker with `ips` addresses per key may hold. */
export function maxTrackedKeys(ips: number): number {
  return Math.max(1, Math.min(MAX_TRACKED_KEYS, Math.floor(MAX_TRACKED_ADDRESSES / ips)));
}

/** A request refused because its key is in use from more addresses than allowed. */
export class KeySharedError extends GatewayError {
  constructor(retryAfterSeconds: number) {
    super(
      'KEY_SHARED',
      403,
      'This API key is in use from too many addresses; requests from new addresses are refused for now',
      { retryAfterSeconds },
    );
  }
}

/** One key's window: its start and the first `ips` addresses seen in it. */
interface KeyWindow {
  start: number;
  readonly addresses: Set<string>;
  /** Whether this window already reported the key. */
  flagged: boolean;
}

/** What one request from one address means for its key. */
export type Sighting =
  | { readonly kind: 'known' }
  /** An address beyond the first `ips`; `first` on the first such request of the window. */
  | { readonly kind: 'over'; readonly first: boolean; readonly seen: number; readonly windowEndsAt: number };

const KNOWN: Sighting = { kind: 'known' };

/** Distinct addresses per key and fixed window, bounded in memory. */
export class KeySharingTracker {
  private readonly windows: LRUCache<string, KeyWindow>;

  constructor(
    readonly ips: number,
    readonly windowMs: number,
    maxKeys = maxTrackedKeys(ips),
  ) {
    this.windows = new LRUCache<string, KeyWindow>({ max: maxKeys });
  }

  /** Records `address` for key `hex` at wall-clock `now`. */
  see(hex: string, address: string, now: number): Sighting {
    let window = this.windows.get(hex);
    if (window === undefined) {
      window = { start: now, addresses: new Set(), flagged: false };
      this.windows.set(hex, window);
    } else if (now - window.start >= this.windowMs) {
      window.start = now;
      window.addresses.clear();
      window.flagged = false;
    }
    const start = window.start;
    const { addresses } = window;
    if (addresses.has(address)) return KNOWN;
    if (addresses.size < this.ips) {
      addresses.add(address);
      return KNOWN;
    }
    const first = !window.flagged;
    window.flagged = true;
    return { kind: 'over', first, seen: addresses.size + 1, windowEndsAt: start + this.windowMs };
  }

  /** Keys tracked now. */
  get size(): number {
    return this.windows.size;
  }
}

/** `1h`, `15m`, `90s`, `250ms`: a window as an operator writes it. */
export function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * The stage factory; consumers live at the top of gateway.yaml, so the builder passes them in
 * (and the logger for the warn line). Off, and absent from every chain, without `maxIpsPerKey`.
 */
export function keySharingFactory(
  consumers: ConsumersConfig | undefined,
  log?: Logger,
): StageFactory<MaxIpsPerKeyConfig> {
  return {
    kind: 'key-sharing',
    select: () => consumers?.maxIpsPerKey,
    create(config, deps, { route }) {
      const { header, keys } = consumers!;
      const tiers = new Map(Object.entries(keys));
      if (tiers.size === 0) return undefined;
      const tracker = deps.state.keep(
        `key-sharing:${config.ips}:${config.windowMs}`,
        () => new KeySharingTracker(config.ips, config.windowMs),
      );
      const check: Check = {
        header,
        tiers,
        tracker,
        config,
        route,
        clock: deps.clock,
        events: deps.events,
        log,
      };
      return async function keySharing(ex, next) {
        const refusal = inspect(check, ex);
        return refusal === undefined ? next(ex) : errorReply(ex, refusal);
      };
    },
  };
}

interface Check {
  readonly header: string;
  /** sha256 hex → tier name. */
  readonly tiers: ReadonlyMap<string, string>;
  readonly tracker: KeySharingTracker;
  readonly config: MaxIpsPerKeyConfig;
  readonly route: string;
  readonly clock: Clock;
  readonly events: GatewayEvents;
  readonly log: Logger | undefined;
}

/** Records the request; returns the error to answer with when it is to be refused. */
function inspect(check: Check, ex: Exchange): KeySharedError | undefined {
  const value = ex.req.headers[check.header];
  if (typeof value !== 'string' || value === '') return undefined;
  const hex = hash('sha256', value, 'hex');
  const tier = check.tiers.get(hex);
  if (tier === undefined) return undefined;
  const now = check.clock.now();
  const sighting = check.tracker.see(hex, ex.clientIp, now);
  if (sighting.kind === 'known') return undefined;
  const { config } = check;
  if (sighting.first) {
    check.events.consumerKeyShared(tier);
    check.log?.warn(
      {
        event: 'consumer_key_shared',
        reqId: ex.reqId,
        route: check.route,
        key: hex.slice(0, 12),
        tier,
        ips: sighting.seen,
        limit: config.ips,
        window: formatWindow(config.windowMs),
        action: config.action,
        clientIp: ex.clientIp,
      },
      'consumer key used from many IPs',
    );
  }
  if (config.action !== 'refuse') return undefined;
  return new KeySharedError(Math.max(1, Math.ceil((sighting.windowEndsAt - now) / 1000)));
}

/**
 * @module state/shared-state
 * The optional Redis connection (`redis.url`) that replicas and workers share rate-limit counts
 * and cache entries through. Built so that an outage never fails a request: no offline queue
 * (commands fail at once while disconnected), an `error` listener (no unhandled-error crash),
 * reconnect with capped backoff, and an `up` flag callers check before paying a round trip.
 * State changes are reported once each (`redis_up`, a warn line when it goes, info when back).
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger';

/** Longest pause between reconnect attempts. */
const MAX_RECONNECT_DELAY_MS = 2000;
/** A command slower than this counts as failed: Redis must never add more than a few ms. */
export const REDIS_COMMAND_TIMEOUT_MS = 250;

export interface SharedStateOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly log: Logger;
  /** Called on every up/down change (metrics, /health). */
  readonly onChange?: (up: boolean) => void;
}

export class SharedState {
  readonly client: Redis;
  readonly keyPrefix: string;
  private isUp = false;
  private closed = false;
  private readonly listeners = new Set<(up: boolean) => void>();

  constructor(private readonly options: SharedStateOptions) {
    this.keyPrefix = options.keyPrefix;
    const redisOptions: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      connectTimeout: 1000,
      // After disconnect() ioredis waits this long for the stream's 'close' before destroying it,
      // on a timer that nothing clears when the stream had already closed (Redis down): the
      // default 2 s held a drained gateway's exit that long.
      disconnectTimeout: 200,
      lazyConnect: false,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), MAX_RECONNECT_DELAY_MS),
    };
    // Sentinel and Cluster URLs need no extra code here: ioredis reads redis:// and rediss://
    // URLs, including user, password and db; see README "Redis".
    this.client = new Redis(options.url, redisOptions);
    if (options.onChange) this.listeners.add(options.onChange);
    this.client.on('ready', () => this.set(true));
    this.client.on('end', () => this.set(false));
    this.client.on('close', () => this.set(false));
    // Without a listener ioredis reports every failed reconnect as an unhandled error.
    this.client.on('error', (err: Error) => {
      if (this.isUp) options.log.warn({ err: err.message }, 'redis error');
    });
  }

  /** Whether Redis is connected and ready; while false, callers use local state. */
  get up(): boolean {
    return this.isUp;
  }

  /** Listens for up/down changes; returns the function that stops listening. */
  onChange(listener: (up: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A key in this gateway's namespace (`redis.keyPrefix`). */
  key(name: string): string {
    return this.keyPrefix + name;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    // QUIT (flushes pending replies) only on a live connection; otherwise just drop it.
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
        return;
      } catch {
        // fall through: drop the connection
      }
    }
    this.client.disconnect();
  }

  private set(up: boolean): void {
    if (up === this.isUp || this.closed) return;
    this.isUp = up;
    const log = this.options.log;
    if (up) log.info({ redis: redactUrl(this.options.url) }, 'redis up: shared limits and cache restored');
    else
      log.warn(
        { redis: redactUrl(this.options.url) },
        'redis down: limits and cache fall back to local memory',
      );
    for (const listener of this.listeners) listener(up);
  }
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis';
  }
}

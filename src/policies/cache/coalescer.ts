/**
 * @module policies/cache/coalescer
 * Request collapsing for the response cache: the first miss for a key becomes the fill and goes
 * upstream; later misses for the same key wait for it to finish (its body stored, or known not
 * to be storable, or failed), each bounded by its own deadline, and then look in the store again.
 * A waiter never receives the fill's Reply itself, only what the store holds afterwards, so Vary
 * and storability decide what it may see exactly as for any later request.
 */

import { LRUCache } from 'lru-cache';

/** How a wait ended. */
export type WaitOutcome = 'filled' | 'timeout';

type Waiter = (outcome: WaitOutcome) => void;

/** One upstream request in flight on behalf of every request for its key. */
export class Fill {
  private waiters: Waiter[] | undefined = [];

  constructor(private readonly onFinish?: () => void) {}

  /** Whether the fill has finished (waiters were released). */
  get done(): boolean {
    return this.waiters === undefined;
  }

  /** Resolves when the fill finishes, or with 'timeout' at `deadlineAt` (performance.now() clock). */
  wait(deadlineAt: number): Promise<WaitOutcome> {
    const waiters = this.waiters;
    if (waiters === undefined) return Promise.resolve('filled');
    return new Promise<WaitOutcome>((resolve) => {
      const timer = setTimeout(
        () => {
          const index = waiters.indexOf(release);
          if (index >= 0) waiters.splice(index, 1);
          resolve('timeout');
        },
        Math.max(0, deadlineAt - performance.now()),
      );
      const release: Waiter = (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      waiters.push(release);
    });
  }

  /** Releases every waiter; safe to call more than once. */
  finish(): void {
    const waiters = this.waiters;
    if (waiters === undefined) return;
    this.waiters = undefined;
    this.onFinish?.();
    for (const release of waiters) release('filled');
  }
}

/** How long a URL whose answer could not be stored skips coalescing (Varnish's hit-for-miss). */
const PASS_MS = 30_000;
/** URLs remembered as not storable, at most (least recently used forgotten first). */
const PASS_ENTRIES = 10_000;

export class Coalescer {
  private readonly fills = new Map<string, Fill>();
  /**
   * Keys whose last answer was not storable: concurrent misses for them go upstream at once
   * instead of queueing behind a fill that will store nothing (a no-store API on a cached route
   * would otherwise pay a round trip of waiting on every concurrent request).
   */
  private readonly passing = new LRUCache<string, true>({ max: PASS_ENTRIES, ttl: PASS_MS });

  /** Whether misses for `key` go upstream on their own (its last answer was not storable). */
  passes(key: string): boolean {
    return this.passing.has(key);
  }

  /** Records whether `key`'s latest answer could be stored. */
  storable(key: string, stored: boolean): void {
    if (stored) this.passing.delete(key);
    else this.passing.set(key, true);
  }

  /** The fill in flight for `key`, if any. */
  pending(key: string): Fill | undefined {
    return this.fills.get(key);
  }

  /** Starts the fill for `key`; finishing it releases its waiters and frees the key. */
  begin(key: string): Fill {
    const fill: Fill = new Fill(() => {
      if (this.fills.get(key) === fill) this.fills.delete(key);
    });
    this.fills.set(key, fill);
    return fill;
  }

  /** Fills in flight (tests, purge). */
  get size(): number {
    return this.fills.size;
  }
}

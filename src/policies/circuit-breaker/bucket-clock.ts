/**
 * @module policies/circuit-breaker/bucket-clock
 * One shared timer per bucket length that rotates the rolling windows of every breaker using
 * that length (opossum's `rotateBucketController`). Without it each opossum breaker keeps its
 * own `setInterval`, so a config with hundreds of (route, upstream) breakers would hold hundreds
 * of timers that all tick at the same rate.
 */
import { EventEmitter } from 'node:events';

/** The event name opossum's Status listens for on a rotateBucketController. */
const ROTATE = 'rotate';

interface Clock {
  readonly emitter: EventEmitter;
  readonly timer: NodeJS.Timeout;
  users: number;
}

const clocks = new Map<number, Clock>();

/** The shared emitter that ticks every `bucketMs`; pair each call with `releaseBucketClock`. */
export function acquireBucketClock(bucketMs: number): EventEmitter {
  let clock = clocks.get(bucketMs);
  if (!clock) {
    const emitter = new EventEmitter();
    // One listener per breaker on this bucket length: hundreds are expected, not a leak.
    emitter.setMaxListeners(0);
    const timer = setInterval(() => emitter.emit(ROTATE), bucketMs);
    timer.unref();
    clock = { emitter, timer, users: 0 };
    clocks.set(bucketMs, clock);
  }
  clock.users++;
  return clock.emitter;
}

/** Drops one user of the clock; the timer stops with the last one. */
export function releaseBucketClock(bucketMs: number): void {
  const clock = clocks.get(bucketMs);
  if (!clock || --clock.users > 0) return;
  clearInterval(clock.timer);
  clocks.delete(bucketMs);
}

/** Number of timers currently running (for tests). */
export function bucketClockCount(): number {
  return clocks.size;
}

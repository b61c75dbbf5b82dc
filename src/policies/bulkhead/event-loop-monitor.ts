/**
 * @module policies/bulkhead/event-loop-monitor
 * Notices when the event loop lags (CPU saturated, a long GC, a blocking call) so the bulkhead
 * can shed new requests instead of queueing more work behind the lag. A timer that should tick
 * every SAMPLE_MS measures how late it runs; one late tick past the limit sets `overloaded`
 * until a tick comes in time again.
 */
import type { Disposable } from '../../pipeline/state-store';

const SAMPLE_MS = 50;

export class EventLoopMonitor implements Disposable {
  overloaded = false;
  private expectedAt = performance.now() + SAMPLE_MS;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly maxDelayMs: number) {
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  private sample(): void {
    const now = performance.now();
    this.overloaded = now - this.expectedAt > this.maxDelayMs;
    this.expectedAt = now + SAMPLE_MS;
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}

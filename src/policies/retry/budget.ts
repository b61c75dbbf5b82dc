/**
 * @module policies/retry/budget
 * A route's retry budget (Finagle's RetryBudget, Linkerd's retry budgets): retries may add at
 * most `ratio` × the requests of the last 10 s, plus `minPerSecond` retries per second, so that
 * retries cannot multiply the load on a backend that is already failing. The retry stage
 * deposits on every first attempt and withdraws one token per retry; it is kept across config
 * reloads (state-store) while its settings are unchanged.
 */

/** Tokens expire after this many seconds (Finagle's and Linkerd's default TTL). */
export const BUDGET_WINDOW_SECONDS = 10;

/** Fixed-point tokens, so that 5 × 0.2 is exactly one retry (Finagle scales the same way). */
const SCALE = 1000;

export interface RetryBudgetSettings {
  readonly ratio: number;
  readonly minPerSecond: number;
}

/**
 * Deposits live in a sliding window of per-second buckets holding net tokens (deposits minus
 * withdrawals), as in Finagle. The `minPerSecond` reserve is different: Finagle hands out
 * `minPerSecond × TTL` reserve tokens at once, which lets an outage that starts after a quiet
 * spell draw 10 s worth of reserve retries in its first instant, exactly when the backend is
 * weakest. Here the reserve is a token bucket refilled at `minPerSecond` per second and holding
 * at most one second's worth, so over any T seconds it funds at most minPerSecond × (T + 1)
 * retries on top of `ratio` × the requests.
 */
export class RetryBudget {
  private readonly depositTokens: number;
  private readonly net = new Float64Array(BUDGET_WINDOW_SECONDS);
  private readonly secondOf = new Float64Array(BUDGET_WINDOW_SECONDS).fill(-1);
  /** Reserve tokens as of `reserveAtMs`; starts full. */
  private reserve: number;
  private reserveAtMs = -Infinity;

  constructor(private readonly settings: RetryBudgetSettings) {
    this.depositTokens = Math.round(settings.ratio * SCALE);
    this.reserve = settings.minPerSecond;
  }

  /** A first attempt was made at `nowMs` (a monotonic clock such as performance.now()). */
  deposit(nowMs: number): void {
    if (this.depositTokens === 0) return;
    const index = this.slot(Math.floor(nowMs / 1000));
    this.net[index] = this.net[index]! + this.depositTokens;
  }

  /** Takes one retry's worth of tokens, or returns false when the budget is spent. */
  tryWithdraw(nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    if (this.balance(second) >= SCALE) {
      const index = this.slot(second);
      this.net[index] = this.net[index]! - SCALE;
      return true;
    }
    return this.takeReserve(nowMs);
  }

  private takeReserve(nowMs: number): boolean {
    const { minPerSecond } = this.settings;
    if (nowMs > this.reserveAtMs) {
      const refill = this.reserveAtMs === -Infinity ? 0 : ((nowMs - this.reserveAtMs) * minPerSecond) / 1000;
      this.reserve = Math.min(minPerSecond, this.reserve + refill);
      this.reserveAtMs = nowMs;
    }
    if (this.reserve < 1) return false;
    this.reserve -= 1;
    return true;
  }

  /** Net deposited tokens still inside the window (fixed-point). */
  private balance(second: number): number {
    let sum = 0;
    for (let i = 0; i < BUDGET_WINDOW_SECONDS; i++) {
      if (this.secondOf[i]! > second - BUDGET_WINDOW_SECONDS) sum += this.net[i]!;
    }
    return sum;
  }

  /** The bucket of `second`, emptied first when it still holds an expired second. */
  private slot(second: number): number {
    const index = second % BUDGET_WINDOW_SECONDS;
    if (this.secondOf[index] !== second) {
      this.secondOf[index] = second;
      this.net[index] = 0;
    }
    return index;
  }
}

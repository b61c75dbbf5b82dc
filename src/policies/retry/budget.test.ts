import { RetryBudget } from './budget';

/** Withdraws until refused; returns how many retries were allowed. */
function drain(budget: RetryBudget, nowMs: number, max = 10_000): number {
  let allowed = 0;
  while (allowed < max && budget.tryWithdraw(nowMs)) allowed++;
  return allowed;
}

describe('RetryBudget', () => {
  it('allows ratio × requests, exactly, in fixed point', () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0 });
    for (let i = 0; i < 100; i++) budget.deposit(1000 + i);
    expect(drain(budget, 1500)).toBe(20);
  });

  it('refills the reserve at minPerSecond per second, holding at most one second of it', () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 10 });
    expect(drain(budget, 0)).toBe(10);
    expect(drain(budget, 50)).toBe(0);
    expect(drain(budget, 550)).toBe(5);
    expect(drain(budget, 1550)).toBe(10);
    // Idle seconds add nothing beyond one second's worth: the reserve is a rate, not a pile.
    expect(drain(budget, 60_000)).toBe(10);
  });

  it('funds at most minPerSecond × (T + 1) reserve retries over any T seconds', () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 10 });
    let allowed = 0;
    for (let ms = 3700; ms <= 5200; ms += 7) allowed += drain(budget, ms);
    expect(allowed).toBeLessThanOrEqual(10 * (1.5 + 1));
    expect(allowed).toBeGreaterThanOrEqual(24);
  });

  it('expires deposits after the 10 s window', () => {
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0 });
    for (let i = 0; i < 10; i++) budget.deposit(2000);
    expect(drain(budget, 11_999, 2)).toBe(2);
    expect(drain(budget, 12_000)).toBe(0);
  });

  it('counts withdrawals against the window (they expire with it)', () => {
    const budget = new RetryBudget({ ratio: 1, minPerSecond: 0 });
    for (let i = 0; i < 5; i++) budget.deposit(0);
    expect(drain(budget, 500)).toBe(5);
    for (let i = 0; i < 5; i++) budget.deposit(3000);
    expect(drain(budget, 3000)).toBe(5);
  });

  it('bounds retries under a storm to ratio × requests + minPerSecond per second', () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 10 });
    let requests = 0;
    let retries = 0;
    // 200 requests/s for 30 s, each wanting 2 retries.
    for (let ms = 0; ms < 30_000; ms += 5) {
      budget.deposit(ms);
      requests++;
      for (let r = 0; r < 2; r++) if (budget.tryWithdraw(ms)) retries++;
    }
    expect(retries).toBeLessThanOrEqual(0.2 * requests + 10 * (30 + 1));
    expect(retries).toBeGreaterThan(0.2 * requests);
  });

  it('with ratio 0 and minPerSecond 0, allows nothing', () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0 });
    budget.deposit(0);
    expect(budget.tryWithdraw(0)).toBe(false);
  });
});

import type { OutlierDetectionConfig } from '../config/types';
import { NO_EVENTS, type GatewayEvents } from '../observability/events';
import { createOutlierDetector, decayLevel, ejectionMs, maxEjected } from './outlier';
import type { Target } from './target';
import type { Upstream } from './upstream';

const CONFIG: OutlierDetectionConfig = {
  consecutiveFailures: 3,
  ejectForMs: 1000,
  maxEjectForMs: 5000,
  maxEjectedPercent: 50,
};

describe('ejectionMs', () => {
  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 5000],
    [60, 5000],
  ])('level %d → %d ms (doubling, capped at maxEjectFor)', (level, expected) => {
    expect(ejectionMs(CONFIG, level)).toBe(expected);
  });
});

describe('maxEjected', () => {
  it.each([
    [1, 50, 0],
    [1, 99, 0],
    [1, 100, 1],
    [2, 50, 1],
    [2, 10, 1],
    [3, 10, 1],
    [4, 50, 2],
    [10, 35, 3],
    [5, 0, 0],
    [5, 100, 5],
  ])('%d targets at %d%% → %d', (targets, percent, expected) => {
    expect(maxEjected(targets, percent)).toBe(expected);
  });
});

describe('decayLevel', () => {
  it.each([
    // [level, ms in service since the last ejection ended, level after]
    [0, 1e9, 0],
    [1, 999, 1],
    [1, 1000, 0],
    [2, 1999, 2],
    [2, 2000, 1],
    [2, 2999, 1],
    [2, 3000, 0],
    [3, 4000 + 2000, 1],
  ])('level %d after %d ms in service → %d', (level, inService, expected) => {
    const state = { level, returnedAt: 10_000 };
    decayLevel(state, CONFIG, 10_000 + inService);
    expect(state.level).toBe(expected);
  });
});

describe('createOutlierDetector', () => {
  function fixture(targetCount: number, config: OutlierDetectionConfig = CONFIG) {
    const targets = Array.from(
      { length: targetCount },
      (_, i) => ({ url: `http://t${i}`, healthy: true, ejectedUntil: 0, reason: null }) as unknown as Target,
    );
    const upstream = { name: 'users', targets } as unknown as Upstream;
    const log: string[] = [];
    const events: GatewayEvents = {
      ...NO_EVENTS,
      ejection: (_u, t) => log.push(`eject ${t}`),
      targetHealth: (_u, t, healthy) => log.push(`${healthy ? 'up' : 'down'} ${t}`),
    };
    const detector = createOutlierDetector(config, upstream, events);
    const fail = (target: Target, times: number) => {
      for (let i = 0; i < times; i++) detector.record(target, true, performance.now());
    };
    return { targets, detector, log, fail };
  }

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('ejects after N consecutive failures; a success resets the count', () => {
    const { targets, detector, log, fail } = fixture(2);
    const t0 = targets[0]!;
    fail(t0, 2);
    detector.record(t0, false, performance.now());
    fail(t0, 2);
    expect(t0.ejectedUntil).toBe(0);
    fail(t0, 1);
    expect(t0.ejectedUntil).toBe(performance.now() + 1000);
    expect(t0.reason).toBe('ejected: 3 consecutive failures');
    expect(log).toEqual(['eject http://t0', 'down http://t0']);
  });

  it('recovers on a timer, without traffic, and counts failures from zero afterwards', () => {
    const { targets, log, fail } = fixture(2);
    const t0 = targets[0]!;
    fail(t0, 3);
    jest.advanceTimersByTime(999);
    expect(log).toEqual(['eject http://t0', 'down http://t0']);
    jest.advanceTimersByTime(1);
    expect(log).toEqual(['eject http://t0', 'down http://t0', 'up http://t0']);
    expect(t0.reason).toBeNull();
    fail(t0, 2);
    expect(t0.ejectedUntil).toBeLessThanOrEqual(performance.now());
  });

  it('ignores outcomes reported while the target is ejected', () => {
    const { targets, detector, fail } = fixture(2);
    const t0 = targets[0]!;
    fail(t0, 3);
    const until = t0.ejectedUntil;
    fail(t0, 10);
    detector.record(t0, false, performance.now());
    expect(t0.ejectedUntil).toBe(until);
  });

  it('doubles the ejection for a repeat offender, capped, and decays after time in service', () => {
    const { targets, fail } = fixture(2);
    const t0 = targets[0]!;
    const durations: number[] = [];
    const ejectAndWait = () => {
      const before = performance.now();
      fail(t0, 3);
      durations.push(t0.ejectedUntil - before);
      jest.advanceTimersByTime(t0.ejectedUntil - before);
    };
    for (let i = 0; i < 5; i++) ejectAndWait();
    expect(durations).toEqual([1000, 2000, 4000, 5000, 5000]);
    // 5000 ms in service forgives one level (level 4 = 5000 ms); the next ejection stays at 5000.
    jest.advanceTimersByTime(5000);
    ejectAndWait();
    // 5000 + 4000 + 2000 ms forgive three levels: the next one is 2000 ms.
    jest.advanceTimersByTime(11_000);
    ejectAndWait();
    expect(durations.slice(5)).toEqual([5000, 2000]);
  });

  it('never ejects more than maxEjectedPercent; the blocked target goes on its next failure once another is back', () => {
    const { targets, log, fail } = fixture(2);
    const [t0, t1] = targets as [Target, Target];
    fail(t0, 3);
    fail(t1, 5);
    expect(t1.ejectedUntil).toBe(0);
    jest.advanceTimersByTime(1000);
    fail(t1, 1);
    expect(t1.ejectedUntil).toBeGreaterThan(performance.now());
    expect(t1.reason).toBe('ejected: 6 consecutive failures');
    expect(log.filter((l) => l.startsWith('eject'))).toEqual(['eject http://t0', 'eject http://t1']);
  });

  it.each([
    [50, false],
    [100, true],
  ])('a lone target at maxEjectedPercent %d: ejected=%s', (maxEjectedPercent, ejected) => {
    const { targets, fail } = fixture(1, { ...CONFIG, maxEjectedPercent });
    fail(targets[0]!, 10);
    expect(targets[0]!.ejectedUntil > performance.now()).toBe(ejected);
  });

  it('stop() cancels the pending recovery and ignores later outcomes', () => {
    const { targets, detector, log, fail } = fixture(2);
    fail(targets[0]!, 3);
    detector.stop();
    expect(jest.getTimerCount()).toBe(0);
    fail(targets[1]!, 3);
    jest.advanceTimersByTime(10_000);
    expect(log).toEqual(['eject http://t0', 'down http://t0']);
  });
});
